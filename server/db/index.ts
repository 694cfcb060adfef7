import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config';
import type { Logger } from '../log';
import { startEmbeddedPostgres } from './embedded';
import { migrateToLatest } from './migrate';
import { createKysely } from './pool';
import type { DB } from './schema';

export { migrateDown, migrateToLatest, migrateToZero, migrateUp, migrationStatus } from './migrate';
export { isConstraintViolation, isUnavailable, isUniqueViolation } from './pg-errors';
export type { DB } from './schema';
export * from './schema';

export interface Database {
  readonly db: Kysely<DB>;
  /** The pool under `db`, for round trips of several statements (`server/db/round-trip.ts`). */
  readonly pool: pg.Pool;
  /** Where it is: the money thread opens connections of its own (`DB_MONEY_CONNECTIONS`). */
  readonly url: string;
  /** `embedded`: our own Postgres from the npm binaries; `external`: DATABASE_URL. */
  readonly mode: 'embedded' | 'external';
  ping(): Promise<boolean>;
  /** Closes the pool and stops an embedded server. Safe to call twice. */
  close(): Promise<void>;
}

export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'embeddedPgPort' | 'dbPoolMax' | 'migrateOnStart'>,
  log: Logger,
): Promise<Database> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, log });
  const url = config.databaseUrl ?? embedded?.url;
  if (!url) throw new Error('no database URL');
  const { db, pool } = createKysely(url, config.dbPoolMax);
  try {
    await sql`SELECT 1`.execute(db);
    if (config.migrateOnStart) {
      const applied = await migrateToLatest(db);
      if (applied.length) log.info({ applied }, 'migrations applied');
    }
  } catch (err) {
    await db.destroy().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    db,
    pool,
    url,
    mode: embedded ? 'embedded' : 'external',
    async ping() {
      try {
        await sql`SELECT 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close() {
      closing ??= (async () => {
        await db.destroy();
        await embedded?.stop();
      })();
      return closing;
    },
  };
}
