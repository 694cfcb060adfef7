/**
 * Shared by the media tests (not shipped behaviour): a quiet logger, options that never collide
 * with a running server, DTLS parameters of a pretend browser, and an RTP sender for ingest.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import pino from 'pino';
import type { MediaPlaneOptions } from './options';
import type { MediaPlane, MediaPlaneEventName, MediaPlaneEvents, RtpParameters } from './types';

export const testLog = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Two workers on OS-chosen ports (other test files run in parallel), quiet workers. */
export const testOptions = (overrides: MediaPlaneOptions = {}): MediaPlaneOptions => ({
  numWorkers: 2,
  webRtcServerPort: 0,
  workerLogLevel: 'error',
  ...overrides,
});

/** What a browser sends to connect(): the server never checks it until a DTLS handshake. */
export const fakeDtlsParameters = () => ({
  role: 'client' as const,
  fingerprints: [
    {
      algorithm: 'sha-256' as const,
      value: [...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':'),
    },
  ],
});

export const VP8_PAYLOAD_TYPE = 101;
export const SIMULCAST_SSRCS = [11110001, 11110002, 11110003] as const;
export const OPUS_PAYLOAD_TYPE = 100;

/** A VP8 producer with three simulcast encodings, as ffmpeg/GStreamer would declare it. */
export const vp8SimulcastRtpParameters = (): RtpParameters => ({
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: VP8_PAYLOAD_TYPE,
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
    },
  ],
  encodings: SIMULCAST_SSRCS.map((ssrc) => ({ ssrc })),
});

export const opusRtpParameters = (): RtpParameters => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PAYLOAD_TYPE, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: 22220001 }],
});

/**
 * An RTP packet carrying a VP8 key frame: a payload descriptor with picture id, TL0PICIDX and
 * temporal index (what simulcast forwarding reads), then a key-frame header (inverse key-frame
 * bit 0, start code 9d 01 2a, 640x480).
 */
export function vp8KeyFramePacket(ssrc: number, seq: number, timestamp: number, pictureId: number): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80; // version 2
  header[1] = 0x80 | VP8_PAYLOAD_TYPE; // marker: one packet per frame
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  const descriptor = Buffer.from([
    0x90,
    0xe0,
    0x80 | ((pictureId >> 8) & 0x7f),
    pictureId & 0xff,
    pictureId & 0xff,
    0x00,
  ]);
  const frame = Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
  return Buffer.concat([header, descriptor, frame, Buffer.alloc(200, 0xaa)]);
}

/** Sends `frames` key frames on every simulcast SSRC to an ingest transport. */
export async function sendVp8Frames(ip: string, port: number, frames: number, startFrame = 0): Promise<number> {
  const socket = createSocket('udp4');
  let bytes = 0;
  try {
    for (let f = startFrame; f < startFrame + frames; f++) {
      for (const ssrc of SIMULCAST_SSRCS) {
        const packet = vp8KeyFramePacket(ssrc, f, f * 3000, f);
        await new Promise<void>((resolve, reject) => socket.send(packet, port, ip, (e) => (e ? reject(e) : resolve())));
        bytes += packet.length;
      }
    }
  } finally {
    socket.close();
  }
  return bytes;
}

/** Resolves with the first event that matches; bounded so a missing event fails the test, not the run. */
export function nextEvent<K extends MediaPlaneEventName>(
  plane: MediaPlane,
  event: K,
  matches: (payload: MediaPlaneEvents[K]) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<MediaPlaneEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = plane.on(event, (payload) => {
      if (!matches(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** Polls until `probe` returns a value, a bounded number of times (a wait, not a timing assertion). */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, attempts = 100): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}

/** The error code of a rejected promise / throwing call, for `expect(...).toBe('FORBIDDEN')`. */
export async function codeOf(call: () => unknown): Promise<string> {
  try {
    await call();
  } catch (err) {
    return (err as { code?: string }).code ?? `not an AppError: ${String(err)}`;
  }
  return 'no error';
}
