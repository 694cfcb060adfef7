import path from 'node:path';
import { isArrayBuffer } from 'node:util/types';
import { Worker } from 'node:worker_threads';
import { type LiveLearnFrom, type LiveLearnResult, type LiveStep, LiveStepper } from '../live/scorer';
import type { TrainingExample } from '../model';
import { type Offer, TrainerCore, type TrainerCoreOptions, type TrainerCoreStats } from './trainer-core';

export interface InitialModel {
  version: string;
  checkpoint: Uint8Array;
}

export interface RetrainData {
  examples: TrainingExample[];
  heldOut: TrainingExample[];
}

export interface RetrainBudget {
  epochs: number;
  maxSeconds: number;
}

/**
 * Where training runs. `worker`: a worker thread, so a training step or a full retrain never
 * holds up the gateway's event loop. `inline`: on the calling thread, yielding between batches
 * (debugging, tests, tiny deployments). Both wrap the same `TrainerCore`.
 */
export interface TrainerHost {
  readonly kind: 'worker' | 'inline';
  /** Trains on new examples and keeps the held-out ones for validation. */
  train(examples: TrainingExample[], heldOut: TrainingExample[]): Promise<void>;
  offerIncremental(): Promise<Offer | null>;
  retrain(data: RetrainData, budget: RetrainBudget): Promise<Offer | null>;
  /** The answer to an offer: the version it was promoted as, or undefined. */
  commit(offerId: number, version: string | undefined): Promise<void>;
  /**
   * Steps of the live ranker ("Live now for you", `live/ranker.ts`), prepared on the main thread:
   * applied in order to a `LiveScorer` kept here (`LiveStepper`: created at the first call from
   * `from`, its weights set to `from.weights` before each batch). Answers the new weights and the
   * mean loss. The worker host transfers the steps' buffers: the caller's `x` arrays are detached.
   */
  learnLive(steps: LiveStep[], from?: LiveLearnFrom): Promise<LiveLearnResult>;
  /** The latest counters (updated with every answer). */
  stats(): TrainerCoreStats | undefined;
  /** Called once if the host dies (the worker crashed); it is unusable afterwards. */
  onFailure(listener: (err: Error) => void): void;
  close(): Promise<void>;
}

export function createTrainerHost(
  kind: 'worker' | 'inline',
  options: Partial<TrainerCoreOptions>,
  initial?: InitialModel,
): TrainerHost {
  return kind === 'worker' ? new WorkerTrainerHost(options, initial) : new InlineTrainerHost(options, initial);
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

class InlineTrainerHost implements TrainerHost {
  readonly kind = 'inline';
  private readonly core: TrainerCore;
  private readonly live = new LiveStepper();
  private closed = false;
  // Calls run one at a time, like messages to a worker.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: Partial<TrainerCoreOptions>, initial?: InitialModel) {
    this.core = new TrainerCore(options, initial);
  }

  private run<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(async () => {
      if (this.closed) throw new Error('trainer is closed');
      return fn();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  train(examples: TrainingExample[], heldOut: TrainingExample[]): Promise<void> {
    return this.run(async () => {
      this.core.addHeldOut(heldOut);
      const step = 64;
      for (let i = 0; i < examples.length; i += step) {
        this.core.train(examples.slice(i, i + step));
        await yieldToLoop();
      }
    });
  }

  offerIncremental(): Promise<Offer | null> {
    return this.run(() => this.core.offerIncremental());
  }

  retrain(data: RetrainData, budget: RetrainBudget): Promise<Offer | null> {
    return this.run(() => this.core.retrain(data, budget));
  }

  commit(offerId: number, version: string | undefined): Promise<void> {
    return this.run(() => this.core.commit(offerId, version));
  }

  learnLive(steps: LiveStep[], from?: LiveLearnFrom): Promise<LiveLearnResult> {
    return this.run(() => this.live.apply(steps, from));
  }

  stats(): TrainerCoreStats {
    return this.core.stats;
  }

  onFailure(): void {}

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }
}

/** Messages to the worker (`trainer-worker.ts`) and its answers. */
export type WorkerRequest =
  | { id: number; type: 'train'; examples: TrainingExample[]; heldOut: TrainingExample[] }
  | { id: number; type: 'offer' }
  | { id: number; type: 'stage'; examples: TrainingExample[]; heldOut: TrainingExample[] }
  | { id: number; type: 'retrain'; budget: RetrainBudget }
  | { id: number; type: 'commit'; offerId: number; version: string | undefined }
  | { id: number; type: 'liveLearn'; steps: LiveStep[]; from?: LiveLearnFrom }
  | { id: number; type: 'close' };

/** `Omit` of each member of a union (plain `Omit` would merge them). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export type WorkerReply =
  | { id: number; ok: true; result: unknown; stats: TrainerCoreStats }
  | { id: number; ok: false; error: string; stats?: TrainerCoreStats };

export interface WorkerInit {
  options: Partial<TrainerCoreOptions>;
  initial?: InitialModel;
}

/**
 * The worker's entry file, next to this one: `.ts` when running from sources (tsx, jest), `.js`
 * from the compiled output. A `.ts` worker is started through tsx's CommonJS register hook
 * (`node --import tsx` does not reach a worker's entry module on Node 20).
 */
function spawn(init: WorkerInit): Worker {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `trainer-worker${ext}`);
  if (ext === '.ts') {
    const tsx = require.resolve('tsx/cjs/api');
    const code = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(file)});`;
    return new Worker(code, { eval: true, workerData: init });
  }
  return new Worker(file, { workerData: init });
}

class WorkerTrainerHost implements TrainerHost {
  readonly kind = 'worker';
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private latest: TrainerCoreStats | undefined;
  private failure: Error | undefined;
  private readonly failureListeners: ((err: Error) => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(options: Partial<TrainerCoreOptions>, initial?: InitialModel) {
    this.worker = spawn({ options, initial });
    this.worker.on('message', (reply: WorkerReply) => {
      if (reply.stats) this.latest = reply.stats;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.result);
      else p.reject(new Error(reply.error));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`trainer worker exited with code ${code}`)));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (!this.closing) for (const listener of this.failureListeners) listener(err);
  }

  private call<T>(request: WithoutId<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  train(examples: TrainingExample[], heldOut: TrainingExample[]): Promise<void> {
    return this.call({ type: 'train', examples, heldOut });
  }

  async offerIncremental(): Promise<Offer | null> {
    return this.call<Offer | null>({ type: 'offer' });
  }

  /**
   * The data goes over in chunks: copying a hundred thousand examples into the worker in one
   * message would hold this thread for the whole structured clone.
   */
  async retrain(data: RetrainData, budget: RetrainBudget): Promise<Offer | null> {
    const chunk = 2000;
    for (let i = 0; i < Math.max(data.examples.length, data.heldOut.length); i += chunk) {
      await this.call({
        type: 'stage',
        examples: data.examples.slice(i, i + chunk),
        heldOut: data.heldOut.slice(i, i + chunk),
      });
    }
    return this.call<Offer | null>({ type: 'retrain', budget });
  }

  commit(offerId: number, version: string | undefined): Promise<void> {
    return this.call({ type: 'commit', offerId, version });
  }

  /** The features go over without a copy: each step's buffer is transferred (when `x` spans all of it). */
  learnLive(steps: LiveStep[], from?: LiveLearnFrom): Promise<LiveLearnResult> {
    const transfer = new Set<ArrayBuffer>();
    for (const { x } of steps) {
      const buffer = x.buffer;
      // Not `instanceof`: under jest the array may come from another realm. A SharedArrayBuffer is not transferable.
      if (isArrayBuffer(buffer) && x.byteOffset === 0 && x.byteLength === buffer.byteLength) {
        transfer.add(buffer as ArrayBuffer);
      }
    }
    return this.call<LiveLearnResult>({ type: 'liveLearn', steps, from }, [...transfer]);
  }

  stats(): TrainerCoreStats | undefined {
    return this.latest;
  }

  onFailure(listener: (err: Error) => void): void {
    this.failureListeners.push(listener);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.failure) {
        // Let the work in flight finish, then stop; a stuck worker is terminated after a while.
        const done = this.call({ type: 'close' }).catch(() => undefined);
        const timeout = new Promise((resolve) => setTimeout(resolve, 10_000).unref());
        await Promise.race([done, timeout]);
      }
      await this.worker.terminate();
    })();
    return this.closing;
  }
}
