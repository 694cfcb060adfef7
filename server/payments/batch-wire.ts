import type { ErrorCode } from '../../protocol';
import { isUnavailable } from '../db/pg-errors';
import { AppError, databaseUnavailable } from '../errors';
import type { BatchOp, Done } from './batch';
import type { Outcome } from './idempotency';
import type { ChargeRequest } from './provider';

/**
 * What the server's main thread and the money thread (batch-thread.ts, batch-worker.ts) say to
 * each other. Everything here is plain data (structured clone); errors travel as `WireError`.
 */
export interface BatchWorkerData {
  databaseUrl: string;
  connections: number;
  maxBatch?: number;
  providerName: string;
  config: {
    currency: string;
    platformFeeBps: number;
    idempotencyTtlHours: number;
    payoutHoldHours: number;
  };
}

export type ToWorker =
  | { type: 'submit'; id: number; userId: string; key: string; op: BatchOp }
  | { type: 'charged'; id: number; result?: { reference: string }; error?: WireError }
  | { type: 'close' };

export type FromWorker =
  /** Sent before the answers of the same batch, as the in-thread batcher announces before it resumes callers. */
  | { type: 'committed'; done: Done[] }
  | { type: 'answer'; id: number; outcome?: Outcome<unknown>; error?: WireError }
  | { type: 'charge'; id: number; request: ChargeRequest }
  | { type: 'observed'; operations: number; seconds: number }
  | { type: 'warn'; message: string; err?: string };

/**
 * Messages between the threads go in bulk: one `postMessage` (a structured clone and a wake-up of
 * the other thread) per turn of the event loop, not one per operation — in a storm that was
 * a tenth of the main thread's time. Order is kept.
 */
export class Outgoing<M> {
  private queue: M[] = [];

  constructor(private readonly post: (messages: M[]) => void) {}

  send(message: M): void {
    if (this.queue.push(message) > 1) return;
    setImmediate(() => {
      const messages = this.queue;
      this.queue = [];
      this.post(messages);
    });
  }
}

export type WireError = { code?: ErrorCode; message: string; details?: Record<string, unknown> };

export function toWire(err: unknown): WireError {
  if (err instanceof AppError) return { code: err.code, message: err.message, details: err.details };
  if (isUnavailable(err)) return toWire(databaseUnavailable());
  return { message: err instanceof Error ? err.message : String(err) };
}

export function fromWire(err: WireError): Error {
  return err.code ? new AppError(err.code, err.message, { details: err.details }) : new Error(err.message);
}
