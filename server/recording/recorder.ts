import type { Logger } from '../log';
import type { MediaPlane, MediaSource, ProducerInfo, RecordingConsumerParams, RecordingTap } from '../media';
import type { RecorderMetrics } from './metrics';
import { type PartEnd, type PartTimings, RecordingPart } from './part';
import type { PortAllocator } from './ports';
import { canRecordCodec } from './sdp';
import type { RecordingSink } from './sink';

/** Stream order in a part's file: videos first, the studio's big picture (screen) before the camera. */
const SOURCE_ORDER: Record<MediaSource, number> = { screen: 0, camera: 1, microphone: 2, screenAudio: 3 };

export interface RecorderTimings extends PartTimings {
  /** Quiet time after a change of tracks before the current part is cut. */
  debounceMs: number;
  /** Backoff after an ffmpeg death: initial, doubled per recent death, capped. */
  restartInitialMs: number;
  restartMaxMs: number;
  /** Deaths within `deathWindowMs` after which the room's recording is given up. */
  maxDeaths: number;
  deathWindowMs: number;
  /** Retry after the sink failed (database down) deciding whether the room is recorded. */
  sinkRetryMs: number;
}

/** What every room's recorder shares. */
export interface RecorderCore {
  readonly plane: MediaPlane;
  readonly sink: RecordingSink;
  readonly ports: PortAllocator;
  readonly ffmpegPath: string;
  readonly workDir: string;
  readonly log: Logger;
  readonly timings: RecorderTimings;
  readonly metrics: RecorderMetrics;
  isAvailable(): boolean;
  /** ffmpeg vanished from the node (spawn ENOENT): stop recording everywhere. */
  ffmpegMissing(reason: string): void;
}

const IDLE_RETRY_MAX_MS = 15_000;

const sameIds = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * The recording of one room on this node. Whenever the room's active tracks (unpaused producers)
 * change, and stay so for `debounceMs`, the current part ends and the next one starts with the
 * new set; a part ends when its ffmpeg dies too, and the next one starts after a backoff.
 * Changes are handled one at a time (`reconcile`), so parts of a room never overlap.
 */
export class RoomRecorder {
  private part: RecordingPart | null = null;
  private tap: RecordingTap | null = null;
  /** The sink's answer: the asset parts go to; null when the room is not recorded (asked again on the next change). */
  private assetId: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private deaths: number[] = [];
  private notBefore = 0;
  /** Parts in a row that ended because no media came. */
  private idleStreak = 0;
  private gaveUp = false;
  /** Producers that cannot be recorded (a codec Matroska does not take as is). */
  private readonly unrecordable = new Set<string>();
  private closing: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(
    readonly roomId: string,
    private readonly core: RecorderCore,
  ) {
    this.log = core.log.child({ roomId });
  }

  get activePart(): RecordingPart | null {
    return this.part && this.part.state !== 'ended' ? this.part : null;
  }

  /** Looks at the room again after `delayMs` (later calls postpone it: the debounce). */
  schedule(delayMs = this.core.timings.debounceMs): void {
    if (this.closing) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.enqueue();
    }, delayMs);
  }

  /** Asks the sink again whether the room is recorded, and starts over after giving up. */
  refresh(): void {
    this.assetId = null;
    this.gaveUp = false;
    this.deaths = [];
    this.notBefore = 0;
    this.schedule(0);
  }

  private enqueue(): void {
    this.chain = this.chain
      .then(() => this.reconcile())
      .catch((err) => this.log.error({ err }, 'recorder failed to update a room’s recording'));
  }

  private wantedProducers(): ProducerInfo[] {
    if (this.gaveUp || !this.core.isAvailable()) return [];
    let producers: ProducerInfo[];
    try {
      producers = this.core.plane.listProducers(this.roomId);
    } catch {
      return []; // the room's media is closed (or media unavailable): nothing to record
    }
    return producers
      .filter((p) => !p.paused && !this.unrecordable.has(p.producerId))
      .sort((a, b) => SOURCE_ORDER[a.source] - SOURCE_ORDER[b.source]);
  }

  private async reconcile(): Promise<void> {
    if (this.closing) return;
    const wanted = this.wantedProducers();
    const wantedIds = wanted.map((p) => p.producerId);
    const current = this.activePart;
    if (current && sameIds(current.producerIds, wantedIds)) return;
    if (this.part) {
      const part = this.part;
      this.part = null;
      await part.stop();
    }
    if (!wanted.length || this.closing) return;
    const wait = this.notBefore - Date.now();
    if (wait > 0) return this.schedule(wait);

    const assetId = await this.openRecording();
    if (!assetId || this.closing) return;
    const tap = await this.openTap();
    if (!tap || this.closing) return;

    const streams: RecordingConsumerParams[] = [];
    for (const producer of wanted) {
      try {
        const params = await tap.consume(producer.producerId);
        const codec = params.rtpParameters.codecs[0]?.mimeType ?? 'none';
        if (canRecordCodec(codec)) {
          streams.push(params);
          continue;
        }
        tap.closeConsumer(params.id);
        this.log.warn({ source: producer.source, codec }, 'a track with this codec cannot be recorded; left out');
      } catch (err) {
        // Closed meanwhile (its producerClosed brings us back here), or not consumable at all.
        this.log.debug({ err, producerId: producer.producerId }, 'could not consume a track for recording');
      }
      this.unrecordable.add(producer.producerId);
    }
    if (!streams.length) return;
    if (this.closing || tap.closed) {
      for (const s of streams) tap.closeConsumer(s.id);
      return;
    }
    let part: RecordingPart;
    try {
      const ports = await this.core.ports.allocate(streams.length);
      part = await RecordingPart.start(
        {
          tap,
          sink: this.core.sink,
          ports: this.core.ports,
          ffmpegPath: this.core.ffmpegPath,
          workDir: this.core.workDir,
          log: this.log.child({ assetId }),
          timings: this.core.timings,
        },
        this.roomId,
        assetId,
        streams.map((params, i) => ({ params, ports: ports[i] })),
      );
    } catch (err) {
      for (const s of streams) tap.closeConsumer(s.id);
      this.log.warn({ err }, 'could not start a recording part');
      this.died({
        kind: 'died',
        cause: 'crash',
        reason: `could not start a part: ${(err as Error).message}`,
        stderr: [],
      });
      return;
    }
    this.part = part;
    this.core.metrics.partsStarted.inc();
    void part.done.then((end) => {
      this.core.metrics.partsEnded.inc({ end: end.kind === 'stopped' ? 'stopped' : end.cause });
      if (end.kind === 'died' && this.part === part) {
        this.part = null;
        this.died(end);
      }
    });
    if (this.closing) await part.stop();
  }

  private async openRecording(): Promise<string | null> {
    if (this.assetId) return this.assetId;
    try {
      this.assetId = (await this.core.sink.openRecording(this.roomId))?.assetId ?? null;
    } catch (err) {
      this.log.warn({ err }, 'could not tell whether the room is recorded; asking again soon');
      this.schedule(this.core.timings.sinkRetryMs);
      return null;
    }
    if (!this.assetId) this.log.debug('room not recorded');
    return this.assetId;
  }

  private async openTap(): Promise<RecordingTap | null> {
    if (this.tap && !this.tap.closed) return this.tap;
    try {
      this.tap = await this.core.plane.openRecordingTap(this.roomId);
      return this.tap;
    } catch (err) {
      this.log.debug({ err }, 'no media to tap for recording');
      return null;
    }
  }

  /** ffmpeg died (or a part could not start): start a new part after a backoff, or give up. */
  private died(end: Extract<PartEnd, { kind: 'died' }>): void {
    if (this.closing) return;
    if (end.spawnError === 'ENOENT' || end.spawnError === 'EACCES') {
      this.core.ffmpegMissing(end.reason);
      return;
    }
    if (end.cause === 'interrupted') {
      this.schedule(); // a track went away while the part started: the next part goes without it
      return;
    }
    if (end.cause === 'idle') {
      // The publisher sent nothing for a while: not ffmpeg's fault, so no death; try again,
      // less often while it stays silent (each try costs an empty part).
      const delay = Math.min(this.core.timings.restartInitialMs * 2 ** this.idleStreak++, IDLE_RETRY_MAX_MS);
      this.notBefore = Date.now() + delay;
      this.log.info({ retryInMs: delay }, 'recording part ended: no media arrived for a while');
      this.schedule(delay);
      return;
    }
    this.idleStreak = 0;
    const now = Date.now();
    this.deaths = this.deaths.filter((t) => now - t < this.core.timings.deathWindowMs);
    this.deaths.push(now);
    const { maxDeaths, restartInitialMs, restartMaxMs } = this.core.timings;
    if (this.deaths.length >= maxDeaths) {
      this.gaveUp = true;
      this.core.metrics.failures.inc();
      this.log.error(
        { reason: end.reason, deaths: this.deaths.length, stderr: end.stderr.slice(-10) },
        'recording given up: its ffmpeg keeps dying',
      );
      this.tap?.close();
      this.tap = null;
      return;
    }
    this.core.metrics.restarts.inc();
    const delay = Math.min(restartInitialMs * 2 ** (this.deaths.length - 1), restartMaxMs);
    this.notBefore = now + delay;
    this.log.warn(
      { reason: end.reason, stderr: end.stderr.slice(-5), restartInMs: delay },
      'recorder ffmpeg died; recording goes on in a new part',
    );
    this.schedule(delay);
  }

  /** Stops the current part gracefully, then releases the tap. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      // SIGINT right away (the room's media is about to go), then wait for whatever was in flight.
      const stopping = this.part?.stop();
      await this.chain;
      await stopping;
      await this.part?.stop();
      this.part = null;
      this.tap?.close();
      this.tap = null;
    })();
    return this.closing;
  }
}
