import type { SparseHistogram } from './histogram';

/** Events per simulated viewer per second. */
export interface Rates {
  chat: number;
  like: number;
  tip: number;
  vote: number;
}

export interface ViewerSpec {
  /** Global number of the viewer (its chat messages carry it, so it skips its own echoes). */
  gid: number;
  token: string;
  roomId: string;
}

/** What a worker thread is started with. */
export interface WorkerSetup {
  index: number;
  url: string;
  viewers: ViewerSpec[];
  /** This worker's share of the ramp (connections per second). */
  rampPerSecond: number;
  rates: Rates;
  tipAmount: number;
  pollOptions: number;
  /** Extra characters appended to each chat message. */
  chatPadding: number;
  ackTimeoutMs: number;
  connectTimeoutMs: number;
  /** Connections a worker may have in progress at once. */
  maxConnecting: number;
}

export type ToWorker =
  | { type: 'start'; t0: number }
  | { type: 'polls'; polls: Record<string, string> }
  | { type: 'snap'; seq: number }
  | { type: 'stop' }
  | { type: 'close' };

/** A worker's counts since its previous snapshot (gauges: as they are now). */
export interface Snapshot {
  worker: number;
  seq: number;
  /** Gauges. */
  connected: number;
  connecting: number;
  /** Viewers whose connection was attempted so far, and those that failed for good. */
  attempted: number;
  failed: number;
  pendingAcks: number;
  /** Deltas. */
  counters: Record<string, number>;
  acks: Record<string, number>;
  /** `"<event> <code>"` → count; event `connect`, `room:join`, `connection` (a drop) or a client event. */
  errors: Record<string, number>;
  hists: Record<string, SparseHistogram>;
}

export type FromWorker =
  | { type: 'ready'; worker: number }
  /** Every viewer of this worker is in its room or failed for good. */
  | { type: 'ramped'; worker: number }
  | ({ type: 'snap' } & Snapshot)
  | ({ type: 'final' } & Snapshot);
