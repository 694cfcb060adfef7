import * as mediasoup from 'mediasoup';
import type { TransportListenInfo, WebRtcServer, Worker } from 'mediasoup/types';
import type { Logger } from '../log';
import { MAX_WORKER_RESTART_DELAY_MS, type ResolvedMediaOptions } from './options';
import { ResourceTracker } from './resource-tracker';
import { TypedEmitter } from './typed-emitter';

/** Bound on waiting for a worker process to exit when the pool closes. */
const EXIT_TIMEOUT_MS = 3_000;
/** Deaths of a slot's workers within this window count towards the restart back-off. */
const DEATH_WINDOW_MS = 60_000;

/**
 * One worker position. The slot outlives its worker: a replacement takes the same index and the
 * same WebRtcServer ports, so what firewalls and load balancers know stays true.
 */
export interface WorkerSlot {
  readonly index: number;
  state: 'starting' | 'ready' | 'dead' | 'closed';
  worker: Worker | null;
  webRtcServer: WebRtcServer | null;
  tracker: ResourceTracker | null;
  /** Requested ports; 0 until the OS chose them (option `webRtcServerPort: 0`), then kept. */
  udpPort: number;
  tcpPort: number;
  /** Consecutive failed starts, for the restart back-off. */
  failures: number;
  deaths: number;
  /** When this slot's recent workers died (epoch ms, within DEATH_WINDOW_MS), for the restart back-off. */
  recentDeaths: number[];
  lastError: string | null;
  restartTimer: NodeJS.Timeout | null;
}

export interface WorkerPoolEvents {
  workerReady: { slot: WorkerSlot; worker: Worker };
  workerDied: { slot: WorkerSlot; worker: Worker; error: Error; restartDelayMs: number };
  workerStartFailed: { slot: WorkerSlot; error: string };
}

/** Why a worker did not start, in words an operator can act on. */
export function describeStartFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // mediasoup reports an exited child as "[pid:…, code:…, signal:…]"; 127 is the dynamic loader.
  if (/code:127\b/.test(message)) return `mediasoup-worker exited (${message}): missing shared libraries? (check ldd)`;
  if (/EADDRINUSE|address already in use/i.test(message)) return `WebRtcServer port in use: ${message}`;
  return `mediasoup-worker failed to start: ${message}`;
}

/**
 * Runs `numWorkers` mediasoup workers, each with a WebRtcServer on its own port, and replaces any
 * that dies. It knows nothing of rooms: the media plane listens to its events.
 */
export class WorkerPool {
  readonly slots: WorkerSlot[];
  readonly events: TypedEmitter<WorkerPoolEvents>;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly starting = new Set<Promise<void>>();

  constructor(
    private readonly options: ResolvedMediaOptions,
    private readonly log: Logger,
  ) {
    this.events = new TypedEmitter((err, event) => log.error({ err, event }, 'media worker pool listener failed'));
    const base = options.webRtcServerPort;
    this.slots = Array.from({ length: options.numWorkers }, (_, index) => ({
      index,
      state: 'dead' as const,
      worker: null,
      webRtcServer: null,
      tracker: null,
      udpPort: base ? base + index : 0,
      tcpPort: base ? base + index : 0,
      failures: 0,
      deaths: 0,
      recentDeaths: [],
      lastError: null,
      restartTimer: null,
    }));
  }

  /** Tries every slot once, concurrently. Failed slots are retried in the background. */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.startSlot(slot)));
  }

  ready(): WorkerSlot[] {
    return this.slots.filter((s) => s.state === 'ready');
  }

  private startSlot(slot: WorkerSlot): Promise<void> {
    const run = this.spawn(slot).finally(() => this.starting.delete(run));
    this.starting.add(run);
    return run;
  }

  private async spawn(slot: WorkerSlot): Promise<void> {
    if (this.closed) return;
    slot.state = 'starting';
    slot.restartTimer = null;
    let worker: Worker | undefined;
    try {
      worker = await mediasoup.createWorker({
        logLevel: this.options.workerLogLevel,
        logTags: this.options.workerLogTags,
        appData: { index: slot.index },
      });
      const spawned = worker;
      // Registered before anything else can fail, so a death during start-up is not missed.
      spawned.on('died', (error) => this.onDied(slot, spawned, error));
      const tracker = new ResourceTracker(spawned);
      if (this.closed) throw new Error('the pool closed while the worker started');
      const webRtcServer = await spawned.createWebRtcServer({ listenInfos: this.listenInfos(slot) });
      const dump = await webRtcServer.dump();
      if (this.closed) throw new Error('the pool closed while the worker started');
      slot.udpPort = dump.udpSockets[0]?.port ?? slot.udpPort;
      slot.tcpPort = dump.tcpServers[0]?.port ?? slot.tcpPort;
      Object.assign(slot, { worker: spawned, webRtcServer, tracker, state: 'ready', failures: 0, lastError: null });
      this.log.info(
        { worker: slot.index, pid: spawned.pid, udpPort: slot.udpPort, tcpPort: slot.tcpPort },
        'media worker ready',
      );
      this.events.emit('workerReady', { slot, worker: spawned });
    } catch (err) {
      if (worker && !worker.closed) {
        const exited = waitForExit(worker);
        worker.close();
        await exited;
      }
      if (this.closed) return;
      slot.state = 'dead';
      slot.failures++;
      slot.lastError = describeStartFailure(err);
      this.log.error({ worker: slot.index, err, failures: slot.failures }, 'media worker failed to start');
      this.events.emit('workerStartFailed', { slot, error: slot.lastError });
      this.scheduleStart(slot);
    }
  }

  private listenInfos(slot: WorkerSlot): TransportListenInfo[] {
    const { listenIp: ip, announcedAddress, enableTcp } = this.options;
    const infos: TransportListenInfo[] = [{ protocol: 'udp', ip, announcedAddress, port: slot.udpPort }];
    if (enableTcp) infos.push({ protocol: 'tcp', ip, announcedAddress, port: slot.tcpPort });
    return infos;
  }

  private onDied(slot: WorkerSlot, worker: Worker, error: Error): void {
    // A worker dying during its own start-up is handled by spawn()'s failure path.
    if (slot.worker !== worker || this.closed) return;
    slot.deaths++;
    const now = Date.now();
    slot.recentDeaths = [...slot.recentDeaths.filter((t) => now - t < DEATH_WINDOW_MS), now];
    slot.state = 'dead';
    slot.worker = null;
    slot.webRtcServer = null;
    slot.tracker = null;
    slot.lastError = `media worker ${slot.index} died: ${error.message}`;
    const restartDelayMs = this.restartDelay(slot);
    this.log.error(
      { worker: slot.index, pid: worker.pid, err: error, restartDelayMs, recentDeaths: slot.recentDeaths.length },
      'media worker died; replacing it',
    );
    this.events.emit('workerDied', { slot, worker, error, restartDelayMs });
    // The dead process released its ports when it exited, so the replacement can bind them now.
    this.scheduleStart(slot);
  }

  /**
   * At once after a first death (a replacement is what the rooms wait for); with exponential
   * back-off after each further death within DEATH_WINDOW_MS and each failed start, so a worker
   * that crashes on whatever it is sent does not restart in a tight loop.
   */
  private restartDelay(slot: WorkerSlot): number {
    const strikes = slot.failures + Math.max(0, slot.recentDeaths.length - 1);
    if (strikes === 0) return 0;
    return Math.min(this.options.workerRestartDelayMs * 2 ** (strikes - 1), MAX_WORKER_RESTART_DELAY_MS);
  }

  private scheduleStart(slot: WorkerSlot): void {
    if (this.closed || slot.restartTimer) return;
    slot.restartTimer = setTimeout(() => void this.startSlot(slot), this.restartDelay(slot));
    slot.restartTimer.unref();
  }

  /** Stops every worker and waits (bounded) for the processes to exit. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
    }
    // Let starts in flight finish: each closes its own worker once it sees the pool closed.
    await Promise.allSettled([...this.starting]);
    const exits: Promise<void>[] = [];
    for (const slot of this.slots) {
      const worker = slot.worker;
      Object.assign(slot, { state: 'closed', worker: null, webRtcServer: null, tracker: null });
      if (!worker || worker.closed) continue;
      exits.push(waitForExit(worker));
      worker.close();
    }
    await Promise.all(exits);
    this.events.removeAllListeners();
  }
}

function waitForExit(worker: Worker): Promise<void> {
  if (worker.subprocessClosed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, EXIT_TIMEOUT_MS);
    timer.unref();
    worker.once('subprocessclose', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
