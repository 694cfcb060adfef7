/**
 * Platform figures beside the fan-out (scripts/bench/fanout.ts), each with the server as its own
 * process on CPU 0 and the load on CPU 1:
 *
 *   likes   likes ingested per second (signed-in tappers, each sending its next `like:send` as
 *           soon as the last is answered) and the `like:count` deliveries they cause to the room.
 *   events  engagement events appended per second through the project's event log (the
 *           publisher's batched, pipelined XADDs to Redis Streams), beside `redis-benchmark`'s
 *           pipelined XADD on the same Redis (a minimal entry, and one shaped like ours).
 *   memory  server memory per idle connection: RSS before and after 5,000 guest connections,
 *           divided; then per viewer joined to a room; with the bare Socket.IO and ws servers
 *           for comparison.
 *
 * `npm run bench -- --only likes,events,memory`.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { createEvents, ENGAGEMENT_STREAM, type EngagementEvent, newEvent } from '../../server/events';
import { deleteKeys, metricValue, TEST_REDIS_URL } from '../../server/events/testing';
import {
  cpuSeconds,
  inParallel,
  joinedClient,
  liveRoom,
  loadCpuSeconds,
  now,
  PINNED,
  pinLoad,
  register,
  round,
  rssBytes,
  type Spawned,
  sleep,
  spawnBaseline,
  spawnLectern,
} from './pinned';
import { WireClient } from './wire-client';

const run = promisify(execFile);

// --- likes ---------------------------------------------------------------------------------------

const LIKE_TAPPERS = Number(process.env.BENCH_LIKES_TAPPERS ?? 200);
const LIKE_LISTENERS = Number(process.env.BENCH_LIKES_LISTENERS ?? 1000);
const LIKE_SECONDS = Number(process.env.BENCH_LIKES_SECONDS ?? 8);
const LIKE_COUNT = Buffer.from('42["like:count"');

export async function likes() {
  pinLoad();
  // Per-user limits out of the way: this measures what the server ingests, not its refusals.
  const server = await spawnLectern({ LIKES_PER_SECOND: '1000' });
  try {
    const owner = await register(server.url, 'creator');
    const roomId = await liveRoom(server.url, owner.token);
    let deliveries = 0;
    let lastTotal = 0;
    const counting = (client: WireClient, watchTotal = false) => {
      client.tap((frame) => {
        if (!frame.subarray(0, LIKE_COUNT.length).equals(LIKE_COUNT)) return false;
        deliveries++;
        if (watchTotal) lastTotal = (JSON.parse(frame.toString().slice(2)) as [string, { total: number }])[1].total;
        return true;
      });
      return client;
    };
    const accounts = await inParallel(LIKE_TAPPERS, 20, () => register(server.url));
    const tappers = await inParallel(LIKE_TAPPERS, 50, async (i) =>
      counting(await joinedClient(server.url, roomId, accounts[i].token), i === 0),
    );
    const listeners = await inParallel(LIKE_LISTENERS, 200, async () =>
      counting(await joinedClient(server.url, roomId)),
    );
    await sleep(1000);
    deliveries = 0;
    let accepted = 0;
    let refused = 0;
    const cpu0 = cpuSeconds(server.pid);
    const load0 = loadCpuSeconds();
    const started = now();
    const deadline = started + LIKE_SECONDS * 1000;
    await Promise.all(
      tappers.map(async (t) => {
        while (now() < deadline) {
          const res = await t.emit<{ accepted: number }>('like:send', { roomId, count: 1 }).catch(() => undefined);
          if (res?.ok) accepted += res.data.accepted;
          else refused++;
        }
      }),
    );
    const elapsed = (now() - started) / 1000;
    const cpu = cpuSeconds(server.pid) - cpu0;
    const load = loadCpuSeconds() - load0;
    // Every accepted tap is in the stored total the room hears (at most one interval later).
    const until = Date.now() + 5000;
    while (lastTotal < accepted && Date.now() < until) await sleep(20);
    const members = LIKE_TAPPERS + LIKE_LISTENERS;
    for (const c of [...tappers, ...listeners]) c.close();
    return {
      tappers: LIKE_TAPPERS,
      listeners: LIKE_LISTENERS,
      seconds: round(elapsed, 2),
      taps: accepted,
      tapsPerSec: Math.round(accepted / elapsed),
      refused,
      totalCounted: lastTotal,
      /** `like:count` messages the room's members received while the taps went on. */
      deliveries,
      deliveriesPerMember: round(deliveries / members, 1),
      tapsPerDelivery: round(accepted / Math.max(1, deliveries), 1),
      serverCpuPercent: Math.round((cpu / elapsed) * 100),
      loadCpuPercent: Math.round((load / elapsed) * 100),
    };
  } finally {
    await server.stop();
  }
}

// --- events --------------------------------------------------------------------------------------

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);

/** `redis-benchmark … -P 64 -q XADD <stream> …`: requests per second. */
async function redisBenchmark(args: string[], requests: number): Promise<number> {
  const url = new URL(TEST_REDIS_URL);
  const { stdout } = await run(
    'redis-benchmark',
    ['-h', url.hostname, '-p', url.port || '6379', '-n', String(requests), '-P', '64', '-q', ...args],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const all = [...stdout.matchAll(/([\d.]+) requests per second/g)];
  if (all.length === 0) throw new Error(`no rate in redis-benchmark output:\n${stdout}`);
  return Math.round(Number(all.at(-1)![1]));
}

export async function events() {
  pinLoad();
  const keyPrefix = `lectern:bench:${randomBytes(4).toString('hex')}:`;
  const registry = new Registry();
  // The gateway's event log as the server builds it (server/app.ts), under a prefix of its own.
  const engagement = createEvents({
    redisUrl: TEST_REDIS_URL,
    redis: { keyPrefix: `${keyPrefix}events:`, maxLength: 1_000_000 },
    publisher: { bufferLimit: EVENTS * 2 },
    registry,
  });
  try {
    const roomId = randomUUID();
    const users = Array.from({ length: 1000 }, () => randomUUID());
    // What a busy room records: chat, likes, joins.
    const event = (i: number): EngagementEvent => {
      const userId = users[i % users.length];
      if (i % 3 === 0) return newEvent('chat.sent', { roomId, userId, data: { messageId: randomUUID(), length: 42 } });
      if (i % 3 === 1) return newEvent('likes.sent', { roomId, userId, data: { count: 3 } });
      return newEvent('room.joined', { roomId, userId, data: { access: 'full' } });
    };
    const appended = () => engagement.health().appended;
    const drain = async (target: number) => {
      while (appended() < target) await sleep(2);
    };
    // Warm-up: the same path, not measured.
    for (let i = 0; i < 20_000; i++) engagement.publish(event(i));
    await drain(20_000);
    const batches0 = (await metricValue(registry, 'lectern_events_append_batches_total')) ?? 0;

    const built = Array.from({ length: EVENTS }, (_, i) => event(i));
    const t0 = now();
    for (const e of built) engagement.publish(e);
    const published = now();
    await drain(20_000 + EVENTS);
    const done = now();
    const batches = ((await metricValue(registry, 'lectern_events_append_batches_total')) ?? 0) - batches0;
    const length = await engagement.log.length(ENGAGEMENT_STREAM);

    const entry = JSON.stringify(built[0]);
    const stream = `${keyPrefix}redis-benchmark`;
    const minimal = await redisBenchmark(['XADD', stream, '*', 'f', 'v'], 200_000);
    const likeOurs = await redisBenchmark(['XADD', stream, 'MAXLEN', '~', '1000000', '*', 'event', entry], 200_000);
    const appendsPerSec = Math.round(EVENTS / ((done - t0) / 1000));
    return {
      events: EVENTS,
      appendsPerSec,
      /** `publish` alone: validation and buffering, synchronous. */
      publishCallsPerSec: Math.round(EVENTS / ((published - t0) / 1000)),
      eventsPerRoundTrip: batches ? Math.round(EVENTS / batches) : null,
      entryBytes: Buffer.byteLength(entry),
      streamLength: length,
      redisBenchmarkPerSec: minimal,
      redisBenchmarkSameEntryPerSec: likeOurs,
      ratioToRedisBenchmark: round(appendsPerSec / minimal, 2),
      ratioToRedisBenchmarkSameEntry: round(appendsPerSec / likeOurs, 2),
      redisBenchmark: 'redis-benchmark -n 200000 -P 64 -q XADD <stream> * f v (50 clients)',
    };
  } finally {
    await engagement.close();
    await deleteKeys(TEST_REDIS_URL, keyPrefix);
  }
}

// --- memory --------------------------------------------------------------------------------------

const IDLE = Number(process.env.BENCH_MEMORY_CONNECTIONS ?? 5000);

/** RSS once it has settled: the median of a few readings after a pause. */
async function settledRss(pid: number): Promise<number> {
  await sleep(2000);
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(rssBytes(pid));
    await sleep(200);
  }
  return readings.sort((a, b) => a - b)[2];
}

async function perConnection<T extends { close(): void }>(server: Spawned, connect: () => Promise<T>) {
  const before = await settledRss(server.pid);
  const clients = await inParallel(IDLE, 200, connect);
  const after = await settledRss(server.pid);
  return { before, after, clients, bytes: Math.round((after - before) / IDLE) };
}

export async function memory() {
  pinLoad();
  const mb = (n: number) => round(n / 2 ** 20, 1);
  const lectern = await spawnLectern();
  let result: Record<string, unknown>;
  try {
    const owner = await register(lectern.url, 'creator');
    const roomId = await liveRoom(lectern.url, owner.token);
    // Idle: connected guests, in no room.
    const idle = await perConnection(lectern, () => WireClient.connect(lectern.url, undefined, 20_000));
    // The same connections joined to one room (presence, access, watch time, channels).
    await inParallel(IDLE, 200, async (i) => {
      const res = await idle.clients[i].emit('room:join', { roomId }, 30_000);
      if (!res.ok) throw new Error(`room:join: ${res.error.code}`);
    });
    const joined = await settledRss(lectern.pid);
    for (const c of idle.clients) c.close();
    result = {
      connections: IDLE,
      bytesPerIdleConnection: idle.bytes,
      /** What joining a room adds to an idle connection. */
      bytesPerJoin: Math.round((joined - idle.after) / IDLE),
      lecternRssMb: { before: mb(idle.before), idle: mb(idle.after), joined: mb(joined) },
    };
  } finally {
    await lectern.stop();
  }
  const baselines: Record<string, number> = {};
  for (const name of ['socketio', 'ws'] as const) {
    const server = await spawnBaseline(name === 'socketio' ? 'socketio-server' : 'ws-server');
    try {
      const wsUrl = `${server.url.replace(/^http/, 'ws')}/?room=idle`;
      const m = await perConnection(server, async () =>
        name === 'socketio'
          ? WireClient.connect(server.url, undefined, 20_000, { room: 'idle' })
          : await new Promise<WebSocket>((resolve, reject) => {
              const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
              ws.once('open', () => resolve(ws));
              ws.once('error', reject);
            }),
      );
      for (const c of m.clients) c.close();
      baselines[name] = m.bytes;
    } finally {
      await server.stop();
    }
  }
  return { pinned: PINNED, ...result, baselineBytesPerIdleConnection: baselines };
}
