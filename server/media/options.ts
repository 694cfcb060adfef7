import { availableParallelism } from 'node:os';
import type { RouterRtpCodecCapability, WorkerLogLevel, WorkerLogTag } from 'mediasoup/types';
import { DEFAULT_MEDIA_CODECS } from './codecs';

/** How the media plane runs. Every field is optional; the default is documented beside it. */
export interface MediaPlaneOptions {
  /** Run workers at all. `false` starts the plane unavailable (a chat-only node, most tests). Default `true`. */
  enabled?: boolean;
  /** mediasoup-worker processes to run, each on its own core. Default: one per core (`os.availableParallelism()`). */
  numWorkers?: number;
  /** Log level of the worker processes (their lines reach the Node process through mediasoup's logger). Default `'warn'`. */
  workerLogLevel?: WorkerLogLevel;
  /** mediasoup log tags for debugging (`'ice'`, `'dtls'`, `'rtp'`, …). Default none. */
  workerLogTags?: WorkerLogTag[];
  /** Local address every socket binds to. Default `'127.0.0.1'`; use a real interface (or `0.0.0.0` with `announcedAddress`) to serve other hosts. */
  listenIp?: string;
  /** Address (IP or hostname) announced to browsers in ICE candidates, for NAT / container deployments. Default: none (the listen IP). */
  announcedAddress?: string;
  /**
   * Port of worker 0's WebRtcServer; worker i listens on this + i, UDP and TCP alike, so a firewall
   * needs one port per worker rather than a range. A replacement worker reuses its predecessor's
   * port. `0` lets the OS choose (tests); the chosen ports are then kept for replacements. Default `40000`.
   */
  webRtcServerPort?: number;
  /** Also listen on TCP (for viewers behind UDP-blocking firewalls). Default `true`; UDP is always preferred. */
  enableTcp?: boolean;
  /** Lowest UDP port for transports that do not go through the WebRtcServer (worker-to-worker pipes, RTP ingest). Default `40100`. */
  rtcMinPort?: number;
  /** Highest such port. Default `49999`. Must not overlap the WebRtcServer ports. */
  rtcMaxPort?: number;
  /** Codecs every router offers. Default {@link DEFAULT_MEDIA_CODECS}: opus, VP8, VP9, H264. */
  mediaCodecs?: readonly RouterRtpCodecCapability[];
  /**
   * Consumers a router carries before new viewers of the room are served from a router on another
   * worker (fed by pipeToRouter). A viewer counts as the consumers it has or will have (one per
   * producer of the room, at least one). Default `500` (a mediasoup worker handles ~500 consumers per core).
   */
  maxConsumersPerRouter?: number;
  /** Bitrate (bps) a new transport assumes towards the browser before bandwidth estimation has a value. Default `1_000_000`. */
  initialAvailableOutgoingBitrate?: number;
  /** Cap (bps) on what a publisher may send over one transport; `0` for none. Default `5_000_000`. */
  maxIncomingBitrate?: number;
  /** Transports one peer may hold at once (a browser needs one send and one recv). Default `4`. */
  maxTransportsPerPeer?: number;
  /**
   * First delay (ms) before restarting a worker that failed to start, or died again within a minute
   * of a previous death; doubles with each repeat up to 30 s. A lone death restarts at once. Default `500`.
   */
  workerRestartDelayMs?: number;
}

export type ResolvedMediaOptions = Readonly<Required<Omit<MediaPlaneOptions, 'announcedAddress'>>> & {
  readonly announcedAddress: string | undefined;
};

export const MAX_WORKER_RESTART_DELAY_MS = 30_000;

const isPort = (n: number, allowZero = false) => Number.isInteger(n) && n >= (allowZero ? 0 : 1) && n <= 65535;
const isPositiveInt = (n: number) => Number.isInteger(n) && n > 0;

/**
 * Fills in defaults and refuses combinations that would fail later in a less obvious way. Options
 * come from the validated server config, so a bad value is a deployment bug: it throws.
 */
export function resolveMediaOptions(options: MediaPlaneOptions = {}): ResolvedMediaOptions {
  const o = {
    enabled: options.enabled ?? true,
    numWorkers: options.numWorkers ?? availableParallelism(),
    workerLogLevel: options.workerLogLevel ?? 'warn',
    workerLogTags: options.workerLogTags ?? [],
    listenIp: options.listenIp ?? '127.0.0.1',
    announcedAddress: options.announcedAddress || undefined,
    webRtcServerPort: options.webRtcServerPort ?? 40000,
    enableTcp: options.enableTcp ?? true,
    rtcMinPort: options.rtcMinPort ?? 40100,
    rtcMaxPort: options.rtcMaxPort ?? 49999,
    mediaCodecs: options.mediaCodecs ?? DEFAULT_MEDIA_CODECS,
    maxConsumersPerRouter: options.maxConsumersPerRouter ?? 500,
    initialAvailableOutgoingBitrate: options.initialAvailableOutgoingBitrate ?? 1_000_000,
    maxIncomingBitrate: options.maxIncomingBitrate ?? 5_000_000,
    maxTransportsPerPeer: options.maxTransportsPerPeer ?? 4,
    workerRestartDelayMs: options.workerRestartDelayMs ?? 500,
  };
  const fail = (message: string) => {
    throw new Error(`invalid media option: ${message}`);
  };
  if (!isPositiveInt(o.numWorkers)) fail('numWorkers must be a positive integer');
  if (!isPort(o.webRtcServerPort, true)) fail('webRtcServerPort must be 0 or a port number');
  if (o.webRtcServerPort && !isPort(o.webRtcServerPort + o.numWorkers - 1))
    fail('webRtcServerPort + numWorkers > 65535');
  if (!isPort(o.rtcMinPort) || !isPort(o.rtcMaxPort) || o.rtcMinPort > o.rtcMaxPort) {
    fail('rtcMinPort..rtcMaxPort must be a non-empty port range');
  }
  if (o.webRtcServerPort) {
    const last = o.webRtcServerPort + o.numWorkers - 1;
    // A pipe transport could otherwise take a WebRtcServer port while its worker is being replaced.
    if (o.webRtcServerPort <= o.rtcMaxPort && last >= o.rtcMinPort) {
      fail(`WebRtcServer ports ${o.webRtcServerPort}-${last} overlap rtcMinPort..rtcMaxPort`);
    }
  }
  if ((o.listenIp === '0.0.0.0' || o.listenIp === '::') && !o.announcedAddress) {
    fail('listening on all interfaces needs an announcedAddress for the ICE candidates');
  }
  if (!o.mediaCodecs.length) fail('mediaCodecs must not be empty');
  if (!isPositiveInt(o.maxConsumersPerRouter)) fail('maxConsumersPerRouter must be a positive integer');
  if (!isPositiveInt(o.initialAvailableOutgoingBitrate)) fail('initialAvailableOutgoingBitrate must be positive');
  if (!Number.isInteger(o.maxIncomingBitrate) || o.maxIncomingBitrate < 0) fail('maxIncomingBitrate must be >= 0');
  if (!isPositiveInt(o.maxTransportsPerPeer)) fail('maxTransportsPerPeer must be a positive integer');
  if (!Number.isInteger(o.workerRestartDelayMs) || o.workerRestartDelayMs < 0)
    fail('workerRestartDelayMs must be >= 0');
  return Object.freeze(o);
}
