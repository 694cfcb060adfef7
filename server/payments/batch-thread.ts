import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Histogram, type Registry } from 'prom-client';
import { AppError } from '../errors';
import type { Logger } from '../log';
import type { BatchOp, Done } from './batch';
import { type BatchWorkerData, type FromWorker, fromWire, Outgoing, type ToWorker, toWire } from './batch-wire';
import type { Outcome } from './idempotency';
import type { PaymentProvider } from './provider';

/**
 * The money batcher (batch.ts) on a thread of its own (docs/money.md#throughput). A batch is two
 * round trips to Postgres; between them, on the main thread, its connection sat "idle in
 * transaction" until the event loop got through the HTTP requests and socket frames queued
 * before Postgres's answer — in a storm, most of a batch's time, with its wallet locks held. On
 * its own thread the batcher answers Postgres at once; callers here submit and await as before.
 *
 * If the thread dies, what it was doing fails with UNAVAILABLE (each batch is one transaction:
 * none of it is kept, and a retry with the same key is safe) and a new thread starts.
 */
export class MoneyBatchThread {
  private worker!: Worker;
  private outgoing!: Outgoing<ToWorker>;
  private readonly waiting = new Map<
    number,
    { resolve: (o: Outcome<unknown>) => void; reject: (e: unknown) => void }
  >();
  private nextId = 0;
  private closing?: Promise<void>;
  private readonly sizes?: Histogram;
  private readonly seconds?: Histogram;

  constructor(
    private readonly o: {
      data: BatchWorkerData;
      provider: Pick<PaymentProvider, 'charge'>;
      /** Called after a batch committed, with what each new (not replayed) operation did. */
      committed: (done: Done[]) => void;
      log?: Logger;
      registry?: Registry;
    },
  ) {
    if (o.registry) {
      this.sizes = new Histogram({
        name: 'lectern_money_batch_operations',
        help: 'Money operations (tips, top-ups, lesson and ticket purchases) written per database transaction',
        buckets: [1, 2, 5, 10, 20, 50, 100, 200],
        registers: [o.registry],
      });
      this.seconds = new Histogram({
        name: 'lectern_money_batch_seconds',
        help: 'Time to write one batch of money operations (one transaction)',
        buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
        registers: [o.registry],
      });
    }
    this.start();
  }

  submit<T>(userId: string, key: string, op: BatchOp): Promise<Outcome<T>> {
    if (this.closing) return Promise.reject(new AppError('UNAVAILABLE', 'the server is shutting down'));
    const id = this.nextId++;
    return new Promise<Outcome<T>>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (o: Outcome<unknown>) => void, reject });
      this.tell({ type: 'submit', id, userId, key, op });
    });
  }

  /** Lets the thread finish the batches it has, then ends it and its connections. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.tell({ type: 'close' });
      // A thread stuck on a dead database does not hold the shutdown up for ever.
      setTimeout(() => void this.worker.terminate(), 10_000).unref();
    });
    return this.closing;
  }

  private tell(message: ToWorker) {
    this.outgoing.send(message);
  }

  private start() {
    // From TypeScript sources (tests, `tsx`) the thread needs tsx's loader; built, it is plain JS.
    const file = path.join(__dirname, `batch-worker${path.extname(__filename)}`);
    const loader = file.endsWith('.ts') ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});` : '';
    const worker = new Worker(`${loader}require(${JSON.stringify(file)});`, { eval: true, workerData: this.o.data });
    this.worker = worker;
    this.outgoing = new Outgoing((messages) => worker.postMessage(messages));
    worker.on('message', (messages: FromWorker[]) => {
      for (const message of messages) this.heard(message);
    });
    worker.on('error', (err) => this.o.log?.error({ err }, 'the money thread failed'));
    worker.on('exit', (code) => {
      for (const w of this.waiting.values()) {
        w.reject(new AppError('UNAVAILABLE', 'the money thread stopped before answering; retry with the same key'));
      }
      this.waiting.clear();
      if (this.closing) return;
      this.o.log?.error({ code }, 'the money thread stopped; starting another');
      this.start();
    });
  }

  private heard(message: FromWorker) {
    switch (message.type) {
      case 'committed':
        try {
          this.o.committed(message.done);
        } catch (err) {
          this.o.log?.warn({ err }, 'money batch listeners failed');
        }
        return;
      case 'answer': {
        const w = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.error) w?.reject(fromWire(message.error));
        else w?.resolve(message.outcome as Outcome<unknown>);
        return;
      }
      case 'charge': {
        const { id } = message;
        this.o.provider.charge(message.request).then(
          (result) => this.tell({ type: 'charged', id, result }),
          (err) => this.tell({ type: 'charged', id, error: toWire(err) }),
        );
        return;
      }
      case 'observed':
        this.sizes?.observe(message.operations);
        this.seconds?.observe(message.seconds);
        return;
      case 'warn':
        this.o.log?.warn({ err: message.err }, message.message);
        return;
    }
  }
}
