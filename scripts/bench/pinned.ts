/**
 * Plumbing of the benchmarks that run the server as its own process pinned to CPU 0 while the
 * load runs on CPU 1 (fanout, likes, memory): spawning Lectern or a baseline, reading a process's
 * CPU time and memory from /proc, and a keep-alive HTTP client for setting up accounts and rooms.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { freePort, ROOT, spawnServer } from '../../tests/helpers/process';
import { adminQuery, createMigratedDatabase, databaseUrl } from './harness';
import { WireClient } from './wire-client';

/** Server on CPU 0, load on CPU 1 (BENCH_PIN=0: the scheduler decides). */
export const PINNED = availableParallelism() >= 2 && process.env.BENCH_PIN !== '0';
export const SERVER_CPUS = PINNED ? '0' : undefined;

/** BENCH_CPU_PROF_DIR=dir: spawned servers write a V8 CPU profile there when they stop. */
export const profileFlags = process.env.BENCH_CPU_PROF_DIR
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
  : [];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wall-clock milliseconds with sub-millisecond precision, comparable across worker threads. */
export const now = () => performance.timeOrigin + performance.now();
export const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Moves this process (every thread of it) to CPU 1; the servers it spawns are put on CPU 0. */
export function pinLoad(): void {
  if (PINNED) execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
}

/**
 * Lets the scheduler place this process (every thread of it) on any CPU again, after `pinLoad`
 * (an earlier suite of the same run); the servers it spawns unpinned inherit that.
 */
export function unpinLoad(): void {
  // Every CPU of the machine: `availableParallelism` counts only those this process may use now.
  const count = cpus().length;
  if (count >= 2) execFileSync('taskset', ['-a', '-cp', `0-${count - 1}`, String(process.pid)], { stdio: 'ignore' });
}

/**
 * A process's or thread's name and CPU seconds from its `/proc/.../stat`: user + system, and
 * those of its children it has reaped (`cutime` + `cstime`).
 */
function readStat(path: string): { name: string; cpu: number; reapedCpu: number } {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    cpu: (Number(fields[11]) + Number(fields[12])) / 100,
    reapedCpu: (Number(fields[13]) + Number(fields[14])) / 100,
  };
}

/** CPU seconds (user + system, all threads) process `pid` has used. */
export function cpuSeconds(pid: number): number {
  return readStat(`/proc/${pid}/stat`).cpu;
}

/** CPU seconds each thread of process `pid` has used, by thread name (`comm`: node's main thread is `node`, V8's GC helpers `V8 Worker`, libuv's pool `libuv-worker`). */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { name, cpu } = readStat(`/proc/${pid}/task/${tid}/stat`);
      byName.set(name, (byName.get(name) ?? 0) + cpu);
    } catch {
      // the thread ended meanwhile
    }
  }
  return byName;
}

/**
 * CPU seconds used so far by every process named `postgres` on this machine (backends, WAL
 * writer, checkpointer, autovacuum), with those that ended: the postmaster's reaped children.
 * What the database spent, beside the server's own CPU.
 */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const { name, cpu, reapedCpu } = readStat(`/proc/${pid}/stat`);
      if (name === 'postgres') total += cpu + reapedCpu;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** Resident memory of process `pid`, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** The load process's own CPU seconds so far (all threads). */
export function loadCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface Spawned {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** Runs a baseline server (scripts/bench/baselines/<name>.ts) pinned to the server CPU. */
export function spawnBaseline(name: string, timeoutMs = 30_000): Promise<Spawned> {
  const node = [
    process.execPath,
    ...profileFlags,
    '--import',
    'tsx',
    path.join('scripts/bench/baselines', `${name}.ts`),
  ];
  const [command, ...args] = SERVER_CPUS ? ['taskset', '-c', SERVER_CPUS, ...node] : node;
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (http:\S+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        pid: child.pid!,
        url: match[1],
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before serving:\n${out}`));
    });
  });
}

/** Settings of a benchmarked Lectern: limits out of the way of one load generator's address. */
export const LECTERN_BENCH_ENV: Record<string, string> = {
  JWT_SECRET: 'pinned-bench-secret-pinned-bench-secret-000',
  // info: the start-up line says where it serves (spawnServer waits for it). Nothing is logged per request.
  LOG_LEVEL: 'info',
  MIGRATE_ON_START: 'false',
  MEDIA_ENABLED: 'false',
  RECOMMENDER_ENABLED: 'false',
  AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
  MAX_CONNECTIONS_PER_IP: '100000',
  SOCKET_EVENTS_PER_SECOND: '10000',
  CHAT_MESSAGES_PER_SECOND: '100',
  CHAT_BURST: '100',
};

/** Lectern as `npm start` runs it (server/main.ts), over a database of its own, pinned to the server CPU. */
export async function spawnLectern(env: Record<string, string> = {}): Promise<Spawned> {
  const db = `lectern_pinned_${randomBytes(4).toString('hex')}`;
  await createMigratedDatabase(db);
  try {
    const port = await freePort();
    const server = await spawnServer(
      {
        ...LECTERN_BENCH_ENV,
        DATABASE_URL: databaseUrl(db),
        PORT: String(port),
        DATA_DIR: `/tmp/${db}`,
        ...env,
      },
      60_000,
      SERVER_CPUS,
      profileFlags,
    );
    return {
      pid: server.child.pid!,
      url: server.url,
      stop: async () => {
        await server.stop().catch(() => undefined);
        await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      },
    };
  } catch (err) {
    await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    throw err;
  }
}

// --- HTTP set-up ---------------------------------------------------------------------------------

/** Keep-alive connections: the load generator's HTTP must cost less than the server's. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

/** POSTs JSON; `key` is sent as the `Idempotency-Key`. */
export function postJson<T>(
  url: string,
  body: unknown,
  token?: string,
  key?: string,
): Promise<{ status: number; body: T }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(key ? { 'idempotency-key': key } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as T });
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function register(url: string, role = 'viewer'): Promise<{ token: string; id: string; username: string }> {
  const username = `b_${randomUUID().slice(0, 12)}`;
  const { status, body } = await postJson<{ token: string; user: { id: string } }>(`${url}/api/auth/register`, {
    username,
    password: 'pinned-bench-password',
    role,
  });
  if (status !== 201) throw new Error(`register: ${status} ${JSON.stringify(body)}`);
  return { token: body.token, id: body.user.id, username };
}

/** A free room, started. */
export async function liveRoom(url: string, token: string): Promise<string> {
  const { body } = await postJson<{ room: { id: string } }>(
    `${url}/api/rooms`,
    { title: 'bench', access: 'free' },
    token,
  );
  const started = await postJson(`${url}/api/rooms/${body.room.id}/start`, {}, token);
  if (started.status !== 200) throw new Error(`room start: ${started.status} ${JSON.stringify(started.body)}`);
  return body.room.id;
}

/** Runs `fn` for 0..count-1, `concurrency` at a time. */
export async function inParallel<R>(count: number, concurrency: number, fn: (i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** A Socket.IO wire client joined to a Lectern room (`room:join`), retrying a refused connect once. */
export async function joinedClient(
  url: string,
  roomId: string,
  token?: string,
  auth: Record<string, unknown> = {},
): Promise<WireClient> {
  let client: WireClient;
  try {
    client = await WireClient.connect(url, token, 20_000, auth);
  } catch {
    await sleep(200);
    client = await WireClient.connect(url, token, 20_000, auth);
  }
  const joined = await client.emit('room:join', { roomId }, 30_000);
  if (!joined.ok) throw new Error(`room:join: ${joined.error.code}`);
  return client;
}
