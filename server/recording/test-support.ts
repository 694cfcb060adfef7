/**
 * Shared by the recorder tests and the recording benchmark (not shipped behaviour): an in-memory
 * sink, an ffmpeg "streamer" publishing lavfi test media into a room through the RTP ingest, and
 * ffprobe helpers.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { RecordingTrack } from '../db';
import type { MediaPlane, MediaSource, PeerRef, RtpParameters } from '../media';
import type { RecordingSink } from './sink';

export interface SinkPart {
  assetId: string;
  seq: number;
  tracks: RecordingTrack[];
  status: 'recording' | 'done' | 'failed';
  localPath?: string;
  error?: string;
  touches: number;
}

/** Records every room it is asked about (or those `record` allows); keeps the parts in memory. */
export class MemorySink implements RecordingSink {
  readonly assets = new Map<string, string>();
  readonly parts: SinkPart[] = [];
  readonly events = new EventEmitter();
  private nextSeq = new Map<string, number>();

  constructor(private readonly record: (roomId: string) => boolean = () => true) {}

  async openRecording(roomId: string): Promise<{ assetId: string } | null> {
    if (!this.record(roomId)) return null;
    let assetId = this.assets.get(roomId);
    if (!assetId) {
      assetId = `asset-${roomId}`;
      this.assets.set(roomId, assetId);
    }
    return { assetId };
  }

  async startPart(assetId: string, tracks: RecordingTrack[]): Promise<number> {
    const seq = (this.nextSeq.get(assetId) ?? 0) + 1;
    this.nextSeq.set(assetId, seq);
    this.parts.push({ assetId, seq, tracks, status: 'recording', touches: 0 });
    this.events.emit('change');
    return seq;
  }

  async touchPart(assetId: string, seq: number): Promise<void> {
    const part = this.part(assetId, seq);
    if (part) part.touches++;
  }

  async finishPart(assetId: string, seq: number, result: { localPath: string } | { error: string }): Promise<void> {
    const part = this.part(assetId, seq);
    if (!part) throw new Error(`unknown part ${assetId}/${seq}`);
    if (part.status !== 'recording') throw new Error(`part ${assetId}/${seq} finished twice`);
    if ('localPath' in result) {
      part.status = 'done';
      part.localPath = result.localPath;
    } else {
      part.status = 'failed';
      part.error = result.error;
    }
    this.events.emit('change');
  }

  partsOf(roomId: string): SinkPart[] {
    const assetId = this.assets.get(roomId);
    return this.parts.filter((p) => p.assetId === assetId);
  }

  private part(assetId: string, seq: number): SinkPart | undefined {
    return this.parts.find((p) => p.assetId === assetId && p.seq === seq);
  }
}

const VIDEO_PT = 101;
const AUDIO_PT = 100;

function streamParameters(source: MediaSource, ssrc: number): RtpParameters {
  if (source === 'microphone' || source === 'screenAudio') {
    return {
      codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc }],
    };
  }
  return {
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: VIDEO_PT,
        clockRate: 90000,
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
      },
    ],
    encodings: [{ ssrc }],
  };
}

export interface Streamer {
  producerIds: Record<string, string>;
  process: ChildProcess;
  stop(): Promise<void>;
}

let ssrcSeed = 30_000_000;

/**
 * Publishes test media as the room owner: one RTP ingest (PlainTransport) and producer per
 * source, fed by one ffmpeg that encodes lavfi's testsrc (VP8, a key frame every `gop` frames,
 * as browsers do not send them by themselves) and a sine (opus) in real time.
 */
export async function startStreamer(
  plane: MediaPlane,
  owner: PeerRef,
  sources: MediaSource[],
  options: {
    size?: string;
    fps?: number;
    videoBitrate?: string;
    gop?: number;
    ffmpegPath?: string;
    /** A VP8 + opus WebM (see `makeClip`) streamed in a loop as it is, instead of encoding live: costs next to no CPU. */
    clip?: string;
  } = {},
): Promise<Streamer> {
  const { size = '320x240', fps = 15, videoBitrate = '300k', gop = fps, ffmpegPath = 'ffmpeg', clip } = options;
  const inputs: string[] = clip ? ['-re', '-stream_loop', '-1', '-i', clip] : [];
  const outputs: string[] = [];
  const producerIds: Record<string, string> = {};
  for (const [i, source] of sources.entries()) {
    const ingest = await plane.createPlainTransport(owner);
    const ssrc = ssrcSeed++;
    const audio = source === 'microphone' || source === 'screenAudio';
    const producer = await plane.produce({
      ...owner,
      transportId: ingest.id,
      kind: audio ? 'audio' : 'video',
      source,
      rtpParameters: streamParameters(source, ssrc),
    });
    producerIds[source] = producer.producerId;
    if (clip) {
      outputs.push('-map', audio ? '0:a:0' : '0:v:0', '-c', 'copy');
    } else if (audio) {
      inputs.push('-re', '-f', 'lavfi', '-i', `sine=frequency=${440 + i * 110}:sample_rate=48000`);
      outputs.push('-map', `${i}:a`, '-c:a', 'libopus', '-ac', '2', '-b:a', '48k');
    } else {
      const pattern = source === 'screen' ? 'testsrc2' : 'testsrc';
      inputs.push('-re', '-f', 'lavfi', '-i', `${pattern}=size=${size}:rate=${fps}`);
      outputs.push(
        '-map',
        `${i}:v`,
        '-c:v',
        'libvpx',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-b:v',
        videoBitrate,
        '-g',
        String(gop),
        '-auto-alt-ref',
        '0',
      );
    }
    // No RTCP from the streamer: ffmpeg sends it from a socket of its own, and its first packet (a
    // sender report) would latch the comedia ingest onto that socket, ignoring the RTP.
    outputs.push(
      '-rtpflags',
      'skip_rtcp',
      '-payload_type',
      String(audio ? AUDIO_PT : VIDEO_PT),
      '-ssrc',
      String(ssrc),
      '-f',
      'rtp',
      `rtp://${ingest.ip}:${ingest.port}?rtcpport=${ingest.port}&pkt_size=1200`,
    );
  }
  const child = spawn(ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...inputs, ...outputs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    producerIds,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      if (stderr.trim() && process.env.TEST_LOG_LEVEL) console.error(`streamer: ${stderr}`);
    },
  };
}

const run = (file: string, args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} failed: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );

/** Encodes a looping test clip (VP8 + opus WebM) once, for streamers that must not spend CPU encoding. */
export async function makeClip(
  path: string,
  { size = '1280x720', fps = 30, seconds = 10, videoBitrate = '1500k' } = {},
): Promise<void> {
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    String(seconds),
    '-c:v',
    'libvpx',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-b:v',
    videoBitrate,
    '-g',
    String(fps * 2),
    '-auto-alt-ref',
    '0',
    '-c:a',
    'libopus',
    '-ac',
    '2',
    '-b:a',
    '64k',
    '-y',
    path,
  ]);
}

export interface ProbedFile {
  durationSeconds: number;
  streams: Array<{ index: number; codec_type: string; codec_name: string; width?: number; height?: number }>;
}

export async function ffprobe(path: string): Promise<ProbedFile> {
  const out = JSON.parse(
    await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=index,codec_type,codec_name,width,height:format=duration',
      '-of',
      'json',
      path,
    ]),
  );
  return { durationSeconds: Number(out.format?.duration ?? 0), streams: out.streams ?? [] };
}

/** Flags of the first packet of the selected streams (`v`, `a`, `0`…): `K_` for a key frame. */
export async function firstPacketFlags(path: string, streams: string): Promise<string> {
  const out = JSON.parse(
    await run('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      streams,
      '-show_entries',
      'packet=flags',
      '-read_intervals',
      '%+#1',
      '-of',
      'json',
      path,
    ]),
  );
  return out.packets?.[0]?.flags ?? '';
}

/** Packets of the (first) selected stream: how much media a file really holds. */
export async function packetCount(path: string, streams: string): Promise<number> {
  const out = JSON.parse(
    await run('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      streams,
      '-count_packets',
      '-show_entries',
      'stream=nb_read_packets',
      '-of',
      'json',
      path,
    ]),
  );
  return Number(out.streams?.[0]?.nb_read_packets ?? 0);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` returns a value (a bounded wait, not a timing assertion). */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}
