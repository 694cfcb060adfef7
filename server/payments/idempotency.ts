import { createHash } from 'node:crypto';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { ErrorBody } from '../../protocol';
import type { DB } from '../db';
import { AppError, conflict, httpStatusOf } from '../errors';
import type { Trx } from './ledger';

export interface IdempotentRequest {
  userId: string;
  key: string;
  /** What the key promises to mean: the operation and its parameters. */
  scope: string;
  params: unknown;
}

export type Outcome<T> =
  | { ok: true; status: number; data: T; replayed: boolean }
  | { ok: false; status: number; error: ErrorBody; replayed: boolean };

/** The body stored with a key once its operation is done: its answer, success or refusal. */
export const answerBody = (outcome: Outcome<unknown>): string =>
  JSON.stringify(outcome.ok ? { data: outcome.data } : { error: outcome.error });

/** A stored answer given back to a retry. */
export function replayOf<T>(status: number, body: unknown): Outcome<T> {
  const { data, error } = body as { data?: T; error?: ErrorBody };
  return error ? { ok: false, status, error, replayed: true } : { ok: true, status, data: data as T, replayed: true };
}

export const keyReused = () => conflict('this Idempotency-Key was already used with different parameters');

/** JSON with sorted object keys, so equal parameters hash equally whatever their order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const requestHash = (scope: string, params: unknown) =>
  createHash('sha256')
    .update(`${scope}\n${canonical(params)}`)
    .digest('hex');

/**
 * The key a payment provider gets for the charge of a request. Providers scope keys to our
 * merchant account, where two users' raw keys would collide, so it is derived from (user, scope,
 * key); being stable, a retry after a crash still reaches the provider with the same key.
 */
export const providerIdempotencyKey = (userId: string, scope: string, key: string) =>
  createHash('sha256').update(`${userId}\n${scope}\n${key}`).digest('hex');

/**
 * The advisory lock of a (user, key) for the rest of the transaction: whoever holds it decides
 * whether the key is new and stores its answer before letting go. A money batch takes the same
 * locks (the first trip in batch.ts), before any other, in hash order.
 */
export const KEY_LOCK_SPACE = 0x4c4b; // "LK"
/** The lock's number for a (user, key): the same text hashed on both paths. */
export const keyLockHash = (userId: RawBuilder<unknown>, key: RawBuilder<unknown>) =>
  sql<number>`hashtext(${userId}::uuid::text || ' ' || ${key})`;

async function lockKey(trx: Kysely<DB>, userId: string, key: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${KEY_LOCK_SPACE}, ${keyLockHash(sql`${userId}`, sql`${key}`)})`.execute(trx);
}

/**
 * Runs a money operation at most once per (user, key), with Stripe's semantics:
 *  - the first request runs; its response, success or domain error, is stored with the key in
 *    the same database transaction as the money it moved, so a crash leaves neither;
 *  - a retry with the same parameters gets the stored response back and moves nothing;
 *  - the same key with different parameters is refused with CONFLICT;
 *  - a concurrent duplicate waits for the first to finish, then gets its response;
 *  - unexpected errors (bugs, lost connections) store nothing, so a retry runs again.
 * Keys expire after `ttlHours`; an expired key is treated as new.
 */
export async function idempotent<T>(
  db: Kysely<DB>,
  request: IdempotentRequest,
  ttlHours: number,
  operation: (trx: Trx) => Promise<{ status: number; data: T }>,
): Promise<Outcome<T>> {
  const hash = requestHash(request.scope, request.params);
  const expiredBefore = new Date(Date.now() - ttlHours * 3600_000);
  return db.transaction().execute(async (trx) => {
    // A concurrent holder of the key, on this path or in a batch, makes this wait until it
    // commits or rolls back. Then the key is claimed.
    await lockKey(trx, request.userId, request.key);
    const claimed = await trx
      .insertInto('idempotency_keys')
      .values({ user_id: request.userId, key: request.key, request_hash: hash })
      .onConflict((oc) =>
        oc
          .columns(['user_id', 'key'])
          .doUpdateSet({ request_hash: hash, response_status: null, response_body: null, created_at: sql`now()` })
          .where('idempotency_keys.created_at', '<', expiredBefore),
      )
      .returning('key')
      .executeTakeFirst();

    if (!claimed) {
      const stored = await trx
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'response_status', 'response_body'])
        .where('user_id', '=', request.userId)
        .where('key', '=', request.key)
        .executeTakeFirstOrThrow();
      if (stored.request_hash !== hash) throw keyReused();
      return replayOf<T>(stored.response_status ?? 500, stored.response_body);
    }

    await sql`SAVEPOINT idempotent_operation`.execute(trx);
    let outcome: Outcome<T>;
    try {
      const { status, data } = await operation(trx);
      outcome = { ok: true, status, data, replayed: false };
    } catch (err) {
      if (!(err instanceof AppError) || err.code === 'INTERNAL' || err.code === 'UNAVAILABLE') throw err;
      // A domain refusal is an answer too: undo what the operation wrote, keep the answer.
      await sql`ROLLBACK TO SAVEPOINT idempotent_operation`.execute(trx);
      outcome = { ok: false, status: httpStatusOf[err.code], error: err.toBody(), replayed: false };
    }
    await trx
      .updateTable('idempotency_keys')
      .set({ response_status: outcome.status, response_body: answerBody(outcome) })
      .where('user_id', '=', request.userId)
      .where('key', '=', request.key)
      .execute();
    return outcome;
  });
}

/**
 * The stored answer of a completed operation under this key, or null when there is none (never
 * used, expired, or its first attempt not committed yet). Callers that check things before the
 * operation (membership, access) ask this first: a retry must get the first answer back
 * whatever changed since — the room ended, the viewer was banned, the price moved.
 */
export async function storedOutcome<T>(
  db: Kysely<DB>,
  request: IdempotentRequest,
  ttlHours: number,
): Promise<Outcome<T> | null> {
  const stored = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response_status', 'response_body', 'created_at'])
    .where('user_id', '=', request.userId)
    .where('key', '=', request.key)
    .executeTakeFirst();
  if (!stored || stored.response_status === null) return null;
  if (stored.created_at.getTime() < Date.now() - ttlHours * 3600_000) return null;
  if (stored.request_hash !== requestHash(request.scope, request.params)) throw keyReused();
  return replayOf<T>(stored.response_status, stored.response_body);
}

/** Deletes keys past their retention; returns how many. */
export async function sweepIdempotencyKeys(db: Kysely<DB>, ttlHours: number): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', new Date(Date.now() - ttlHours * 3600_000))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
