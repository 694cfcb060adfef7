import type { MediaSource } from '../../../protocol';

/** What a viewer receives of one video track, from the browser's `inbound-rtp` statistics. */
export interface InboundVideoStats {
  producerId: string;
  source: MediaSource;
  /** Frames decoded so far; it grows while the picture moves. */
  framesDecoded: number;
  frameWidth: number | undefined;
  frameHeight: number | undefined;
  framesPerSecond: number | undefined;
  bytesReceived: number;
  packetsLost: number;
}

/** What the publisher sends of one video layer, from the browser's `outbound-rtp` statistics. */
export interface OutboundVideoStats {
  source: MediaSource;
  /** The simulcast layer's RTP stream id; undefined without simulcast. */
  rid: string | undefined;
  frameWidth: number | undefined;
  frameHeight: number | undefined;
  framesEncoded: number;
  bytesSent: number;
  /** Why the browser lowers the resolution, if it does: `cpu`, `bandwidth`, `none`, … */
  qualityLimitationReason: string | undefined;
}

// The DOM typings do not describe every stats field Chromium reports; read them loosely.
type StatsEntry = Record<string, unknown> & { type: string };

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function entries(report: RTCStatsReport): StatsEntry[] {
  const all: StatsEntry[] = [];
  report.forEach((entry) => {
    all.push(entry as StatsEntry);
  });
  return all;
}

export function inboundVideo(
  report: RTCStatsReport,
  producerId: string,
  source: MediaSource,
): InboundVideoStats | undefined {
  for (const entry of entries(report)) {
    if (entry.type !== 'inbound-rtp' || entry.kind !== 'video') continue;
    return {
      producerId,
      source,
      framesDecoded: num(entry.framesDecoded) ?? 0,
      frameWidth: num(entry.frameWidth),
      frameHeight: num(entry.frameHeight),
      framesPerSecond: num(entry.framesPerSecond),
      bytesReceived: num(entry.bytesReceived) ?? 0,
      packetsLost: num(entry.packetsLost) ?? 0,
    };
  }
  return undefined;
}

export function outboundVideo(report: RTCStatsReport, source: MediaSource): OutboundVideoStats[] {
  const layers: OutboundVideoStats[] = [];
  for (const entry of entries(report)) {
    if (entry.type !== 'outbound-rtp' || entry.kind !== 'video') continue;
    layers.push({
      source,
      rid: typeof entry.rid === 'string' ? entry.rid : undefined,
      frameWidth: num(entry.frameWidth),
      frameHeight: num(entry.frameHeight),
      framesEncoded: num(entry.framesEncoded) ?? 0,
      bytesSent: num(entry.bytesSent) ?? 0,
      qualityLimitationReason:
        typeof entry.qualityLimitationReason === 'string' ? entry.qualityLimitationReason : undefined,
    });
  }
  return layers.sort((a, b) => (a.frameWidth ?? 0) - (b.frameWidth ?? 0));
}
