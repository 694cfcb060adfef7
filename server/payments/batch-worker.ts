import { parentPort, workerData } from 'node:worker_threads';
import { Kysely, PostgresDialect } from 'kysely';
import type { DB } from '../db';
import { createPool } from '../db/pool';
import type { Logger } from '../log';
import { MONEY_CONNECTION_OPTIONS, MoneyBatcher } from './batch';
import { type BatchWorkerData, type FromWorker, fromWire, Outgoing, type ToWorker, toWire } from './batch-wire';
import { Accounts } from './ledger';
import type { ChargeRequest } from './provider';

/**
 * The money thread (see batch-thread.ts): the batcher and its own database connections, on an
 * event loop of its own, so a batch's next round trip is sent as soon as Postgres answers
 * instead of after whatever HTTP and socket work the main thread has queued.
 */
if (!parentPort) throw new Error('batch-worker.ts runs as a worker thread');
const port = parentPort;
const data = workerData as BatchWorkerData;
const outgoing = new Outgoing<FromWorker>((messages) => port.postMessage(messages));
const say = (message: FromWorker) => outgoing.send(message);

const pool = createPool(data.databaseUrl, data.connections, MONEY_CONNECTION_OPTIONS);
const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });

// Top-ups are charged by the provider the main thread holds.
const charges = new Map<number, { resolve: (r: { reference: string }) => void; reject: (e: unknown) => void }>();
let nextCharge = 0;
const provider = {
  name: data.providerName,
  charge: (request: ChargeRequest) =>
    new Promise<{ reference: string }>((resolve, reject) => {
      const id = nextCharge++;
      charges.set(id, { resolve, reject });
      say({ type: 'charge', id, request });
    }),
};

const log = {
  warn: (obj: { err?: unknown }, message: string) =>
    say({ type: 'warn', message, err: obj.err === undefined ? undefined : String(obj.err) }),
} as unknown as Logger;

const batcher = new MoneyBatcher({
  db,
  pool,
  config: data.config,
  provider,
  accounts: new Accounts(),
  log,
  concurrency: data.connections,
  maxBatch: data.maxBatch,
  committed: (done) => say({ type: 'committed', done }),
  observe: (operations, seconds) => say({ type: 'observed', operations, seconds }),
});

port.on('message', (messages: ToWorker[]) => {
  for (const message of messages) heard(message);
});

function heard(message: ToWorker) {
  switch (message.type) {
    case 'submit': {
      const { id } = message;
      batcher.submit(message.userId, message.key, message.op).then(
        (outcome) => say({ type: 'answer', id, outcome }),
        (err) => say({ type: 'answer', id, error: toWire(err) }),
      );
      return;
    }
    case 'charged': {
      const waiting = charges.get(message.id);
      charges.delete(message.id);
      if (message.error) waiting?.reject(fromWire(message.error));
      else if (message.result) waiting?.resolve(message.result);
      return;
    }
    case 'close':
      void batcher
        .drain()
        .then(() => pool.end())
        .finally(() => port.close());
  }
}
