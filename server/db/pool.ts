import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './schema';

const INT8_OID = 20;

/**
 * int8 (bigint) columns hold money and counters. pg returns them as strings by default; we
 * return numbers, and refuse values beyond 2^53 instead of silently losing precision.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') {
      return (value: string) => {
        const n = Number(value);
        if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} exceeds 2^53`);
        return n;
      };
    }
    return pg.types.getTypeParser(oid, format);
  },
};

export function createPool(connectionString: string, max: number, options?: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, types: types as pg.CustomTypesConfig, options });
  // A connection cut by the server (a restart, a failover, pg_terminate_backend) must not crash
  // the process. The pool listens only while a client is idle in it; a client checked out with no
  // query running (a transaction awaiting other work) would emit an unhandled 'error'. So every
  // client listens for its whole life: its next query fails instead, and the pool drops it.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export function createKysely(connectionString: string, max: number): { db: Kysely<DB>; pool: pg.Pool } {
  const pool = createPool(connectionString, max);
  return { db: new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }), pool };
}
