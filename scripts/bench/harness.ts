/**
 * Benchmark plumbing: a real server (in process, port 0) over its own Postgres database, and
 * percentile helpers. Everything stays on loopback and every loop is bounded.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Lectern, startLectern } from '../../server/app';
import { loadConfig } from '../../server/config';
import { migrateToLatest } from '../../server/db';
import { createKysely } from '../../server/db/pool';

const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchServer {
  lectern: Lectern;
  close(): Promise<void>;
}

export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const name = `lectern_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const { db } = createKysely(url.toString(), 1);
  await migrateToLatest(db);
  await db.destroy();
  const lectern = await startLectern(
    loadConfig({
      DATABASE_URL: url.toString(),
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret-000',
      PORT: '0',
      LOG_LEVEL: 'warn',
      MIGRATE_ON_START: 'false',
      MEDIA_ENABLED: 'false',
      AUTH_RATE_LIMIT_PER_MINUTE: '100000',
      HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
      MAX_CONNECTIONS_PER_IP: '100000',
      SOCKET_EVENTS_PER_SECOND: '10000',
      CHAT_BURST: '100',
      CHAT_MESSAGES_PER_SECOND: '100',
      ...env,
    }),
  );
  return {
    lectern,
    async close() {
      await lectern.close();
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function percentiles(samples: number[]): { p50: number; p90: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (n: number) => Math.round(n * 100) / 100;
  return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
}

export async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
