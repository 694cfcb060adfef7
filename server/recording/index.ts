import type { Registry } from 'prom-client';
import type { RecordingTrack } from '../db';
import { checkFfmpeg } from '../ffmpeg';
import type { Logger } from '../log';
import type { MediaPlane } from '../media';
import { createRecorderMetrics } from './metrics';
import { PortAllocator } from './ports';
import { type RecorderCore, type RecorderTimings, RoomRecorder } from './recorder';
import type { RecordingSink } from './sink';

export type { RecordingSink } from './sink';

export interface RecorderOptions {
  /** Record at all on this node (`RECORDING_ENABLED`). */
  enabled: boolean;
  /** The ffmpeg binary (`FFMPEG_PATH`). */
  ffmpegPath: string;
  /** ffprobe (`FFPROBE_PATH`), checked with ffmpeg at start. Default `ffprobe`. */
  ffprobePath?: string;
  /** Where parts are written while live: `<workDir>/<assetId>/<seq>.mkv` (`RECORDING_DIR`). */
  workDir: string;
  /** This node, for the logs. */
  nodeId: string;
  /** Tuning for tests and benchmarks; every field has a production default. */
  timings?: Partial<RecorderTimings>;
}

export interface RecorderDeps {
  plane: MediaPlane;
  sink: RecordingSink;
  log: Logger;
  /** Where to register the `lectern_recorder*` metrics; none are exported without it. */
  registry?: Registry;
  options: RecorderOptions;
}

export interface RecorderStatus {
  /** Whether this node records (ffmpeg found and recording enabled). */
  available: boolean;
  /** Why not, for the log and `/healthz`; null while available. */
  reason: string | null;
  /** Parts being written right now (one ffmpeg each). */
  active: number;
}

export interface RecordingPartInfo {
  roomId: string;
  assetId: string;
  seq: number;
  /** The part's ffmpeg (null while it is being spawned). */
  pid: number | null;
  /** `starting` until ffmpeg listens and the streams are resumed. */
  state: 'starting' | 'running' | 'stopping';
  tracks: RecordingTrack[];
  startedAt: Date;
}

/**
 * Records live rooms while they are live: the media plane's producers → a recording tap → one
 * ffmpeg per part copying the streams into Matroska → the sink (server/vod), which keeps the
 * parts and turns them into the replay. Nothing it does can fail the media plane or the
 * gateway: its errors are logged, and without ffmpeg it only says so.
 */
export interface Recorder {
  status(): RecorderStatus;
  /** The parts being written (for operators and tests). */
  parts(): RecordingPartInfo[];
  /**
   * Asks the sink again whether the room is recorded and records accordingly: call it when a
   * room goes live or its creator turns recording on or off. Producer changes need no call.
   */
  refresh(roomId: string): void;
  /** Stops every ffmpeg gracefully and finishes its part with the sink. Safe to call twice. */
  close(): Promise<void>;
}

export const DEFAULT_RECORDER_TIMINGS: Readonly<RecorderTimings> = Object.freeze({
  debounceMs: 750,
  bindTimeoutMs: 5000,
  keyFrameRetryMs: [1000, 2000],
  stopTimeoutMs: 5000,
  touchIntervalMs: 30_000,
  restartInitialMs: 1000,
  restartMaxMs: 30_000,
  maxDeaths: 5,
  deathWindowMs: 60_000,
  sinkRetryMs: 5000,
});

/**
 * Starts the recorder: checks ffmpeg, then follows the media plane's producer events. Never
 * rejects because of ffmpeg: without it (or disabled) the recorder is unavailable, says why in
 * `status().reason` and in the log, and records nothing; streaming is unaffected.
 */
export async function createRecorder(deps: RecorderDeps): Promise<Recorder> {
  const { plane, sink, options } = deps;
  const log = deps.log.child({ subsystem: 'recorder', nodeId: options.nodeId });
  const timings: RecorderTimings = { ...DEFAULT_RECORDER_TIMINGS, ...options.timings };
  let reason = options.enabled
    ? (await checkFfmpeg({ ffmpegPath: options.ffmpegPath, ffprobePath: options.ffprobePath ?? 'ffprobe' })).reason
    : 'recording is disabled by configuration';
  const rooms = new Map<string, RoomRecorder>();
  const closingRooms = new Set<Promise<void>>();
  const offs: Array<() => void> = [];
  let closed: Promise<void> | null = null;

  const activeParts = () => [...rooms.values()].filter((r) => r.activePart?.state === 'running').length;
  const metrics = createRecorderMetrics(deps.registry, { available: () => reason === null, active: activeParts });

  const dropRoom = (roomId: string) => {
    const room = rooms.get(roomId);
    if (!room) return;
    rooms.delete(roomId);
    const closing = room.close();
    closingRooms.add(closing);
    void closing.finally(() => closingRooms.delete(closing));
  };

  const stopListening = () => {
    for (const off of offs.splice(0)) off();
  };

  const core: RecorderCore = {
    plane,
    sink,
    ports: new PortAllocator(),
    ffmpegPath: options.ffmpegPath,
    workDir: options.workDir,
    log,
    timings,
    metrics,
    isAvailable: () => reason === null && !closed,
    ffmpegMissing(why) {
      if (reason !== null) return;
      reason = why;
      log.error({ reason }, 'recording is unavailable: ffmpeg cannot be started');
      stopListening();
      for (const roomId of [...rooms.keys()]) dropRoom(roomId);
    },
  };

  const room = (roomId: string): RoomRecorder => {
    let r = rooms.get(roomId);
    if (!r) {
      r = new RoomRecorder(roomId, core);
      rooms.set(roomId, r);
    }
    return r;
  };

  if (reason === null) {
    const changed = ({ roomId }: { roomId: string }) => room(roomId).schedule();
    offs.push(
      plane.on('producerAdded', changed),
      plane.on('producerResumed', changed),
      plane.on('producerPaused', changed),
      plane.on('producerClosed', changed),
      plane.on('roomClosing', ({ roomId }) => dropRoom(roomId)),
      // roomClosing came first; this only makes sure nothing of the old media is kept.
      plane.on('roomMediaReset', ({ roomId }) => dropRoom(roomId)),
    );
    log.info({ workDir: options.workDir, ffmpeg: options.ffmpegPath }, 'recorder ready');
  } else if (options.enabled) {
    log.warn({ reason }, 'recording is unavailable; live rooms stream without being recorded');
  } else {
    log.info('recording is disabled by configuration');
  }

  return {
    status: () => ({
      available: reason === null && !closed,
      reason: closed ? 'the recorder is closed' : reason,
      active: activeParts(),
    }),
    parts() {
      const out: RecordingPartInfo[] = [];
      for (const r of rooms.values()) {
        const part = r.activePart;
        if (!part || part.state === 'ended') continue;
        const { roomId, assetId, seq, pid, state, tracks, startedAt } = part;
        out.push({ roomId, assetId, seq, pid, state, tracks, startedAt });
      }
      return out;
    },
    refresh(roomId) {
      if (reason !== null || closed || typeof roomId !== 'string' || !roomId) return;
      room(roomId).refresh();
    },
    close() {
      closed ??= (async () => {
        stopListening();
        for (const roomId of [...rooms.keys()]) dropRoom(roomId);
        await Promise.all([...closingRooms]);
        metrics.unregister();
        log.info('recorder closed');
      })();
      return closed;
    },
  };
}
