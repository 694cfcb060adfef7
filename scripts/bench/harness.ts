/**
 * Benchmark plumbing: a real server (in process, port 0) over its own Postgres database, and
 * percentile helpers. Everything stays on loopback and every loop is bounded.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Socket } from 'socket.io-client';
import type { AckResponse } from '../../protocol';
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

/** Runs one statement as the Postgres admin (CREATE / DROP DATABASE). */
export async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The URL of database `name` on the benchmark Postgres. */
export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates database `name` and applies every migration. */
export async function createMigratedDatabase(name: string): Promise<void> {
  await adminQuery(`CREATE DATABASE ${name}`);
  const { db } = createKysely(databaseUrl(name), 1);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const name = `lectern_bench_${randomBytes(4).toString('hex')}`;
  await createMigratedDatabase(name);
  // Media store and recordings of this run alone, removed with it.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lectern-bench-'));
  const lectern = await startLectern(
    loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl(name),
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
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      rmSync(dataDir, { recursive: true, force: true });
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

/** A JSON request to the server, with a bearer token and an idempotency key when given. */
export function request(method: string, url: string, body: unknown, token?: string, key?: string): Promise<Response> {
  return fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  });
}

export const post = (url: string, body: unknown, token?: string, key?: string) =>
  request('POST', url, body, token, key);

/** Sends a client event and unwraps its ack; a refusal throws with the server's code. */
export async function call<T>(socket: Socket<any, any>, event: string, payload: unknown): Promise<T> {
  const res = (await socket.timeout(30_000).emitWithAck(event, payload)) as AckResponse<T>;
  if (!res.ok) throw new Error(`${event}: ${res.error.code}`);
  return res.data;
}
