import type { RecordingConsumerParams } from '../media';
import type { PortPair } from './ports';

/** Codecs Matroska takes as they come off RTP (`-c copy`). */
const COPYABLE = new Set(['video/vp8', 'video/vp9', 'video/h264', 'audio/opus']);

export function canRecordCodec(mimeType: string): boolean {
  return COPYABLE.has(mimeType.toLowerCase());
}

/**
 * The SDP ffmpeg reads to receive a part's streams: one media section per stream, in the
 * order of its output streams, on the ports the tap sends to (RTCP on port + 1, which is where
 * ffmpeg's RTP input listens for the sender reports that align the streams).
 */
export function recordingSdp(
  streams: ReadonlyArray<{ params: RecordingConsumerParams; ports: PortPair }>,
  sessionName: string,
): string {
  const lines = [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    `s=${sessionName.replace(/[\r\n]/g, ' ')}`,
    'c=IN IP4 127.0.0.1',
    't=0 0',
  ];
  for (const { params, ports } of streams) {
    const codec = params.rtpParameters.codecs[0];
    if (!codec) throw new Error(`stream ${params.id} has no codec`);
    const pt = codec.payloadType;
    const name = codec.mimeType.split('/')[1];
    const channels = params.kind === 'audio' && codec.channels && codec.channels > 1 ? `/${codec.channels}` : '';
    lines.push(`m=${params.kind} ${ports.rtpPort} RTP/AVP ${pt}`);
    lines.push(`a=rtcp:${ports.rtcpPort}`);
    lines.push(`a=rtpmap:${pt} ${name}/${codec.clockRate}${channels}`);
    const fmtp = Object.entries(codec.parameters ?? {})
      .filter(([key]) => !key.startsWith('x-google-'))
      .map(([key, value]) => `${key}=${value}`)
      .join(';');
    if (fmtp) lines.push(`a=fmtp:${pt} ${fmtp}`);
    lines.push('a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}
