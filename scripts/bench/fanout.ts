/**
 * Chat fan-out against baselines, in one run on one machine: the server under test runs as its
 * own process pinned to CPU 0, the load (thousands of lean WebSocket clients) on CPU 1.
 *
 *   lectern   Lectern's full path: `npm start`'s server/main.ts over its own database; viewers are
 *             guests joined with `room:join`, talkers signed-in users sending `chat:send` (checks,
 *             rate limits, group-committed persistence, the event log, then the broadcast).
 *   batched   the same server, viewers opting in to batched chat (`auth.capabilities: ['chat:batch']`).
 *   socketio  a bare Socket.IO server (baselines/socketio-server.ts): `io.to(room).emit` per message.
 *   ws        a plain `ws` server (baselines/ws-server.ts): each message relayed to the room's sockets.
 *
 * Every target gets the same viewers and the same message rate (open loop: messages are sent on
 * a schedule, not when the previous one is answered); payloads are the same shape and size. The
 * measure: chat messages delivered to viewers per second of the server process's CPU (user +
 * system, from /proc/<pid>/stat, over the measured window until the last delivery), and the
 * latency from send to each delivery (the send time rides in the message text), sampled on every
 * `SAMPLE_EVERY`th viewer. A warm-up at the same rate comes first.
 *
 *   npx tsx scripts/bench/fanout.ts        or  npm run bench -- --only fanout
 *
 * The servers run side by side (idle but for the one measured) and are measured in turn,
 * `BENCH_FANOUT_ROUNDS` times each, so a busier moment of a shared machine is shared out; then
 * a busy room (`BENCH_FANOUT_BUSY_RATE` msg/s) once: Lectern plain, Lectern batched, Socket.IO.
 *
 * Each server's CPU with its viewers connected and nobody talking is measured too
 * (`idleCpuPercent`), and deliveries per CPU-second beyond it (`deliveriesPerMarginalCpuSec`).
 *
 * BENCH_FANOUT_VIEWERS (5000; a list like 5000,2000 runs each), BENCH_FANOUT_RATE (5 msg/s),
 * BENCH_FANOUT_SECONDS (8 per window), BENCH_FANOUT_ROUNDS (2), BENCH_FANOUT_BUSY_RATE (40; 0
 * skips it), BENCH_FANOUT_BUSY_SECONDS (6), BENCH_FANOUT_IDLE_SECONDS (6; 0 skips it),
 * BENCH_FANOUT_TARGETS (lectern,batched,socketio,ws), BENCH_CPU_PROF_DIR (the servers write CPU
 * profiles there; each window's span on the monotonic clock is in the output).
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { percentiles } from './harness';
import {
  cpuSeconds,
  inParallel,
  joinedClient,
  liveRoom,
  loadCpuSeconds,
  now,
  PINNED,
  pinLoad,
  profileFlags,
  register,
  round,
  type Spawned,
  sleep,
  spawnBaseline,
  spawnLectern,
  threadCpuSeconds,
} from './pinned';
import { WireClient } from './wire-client';

const VIEWERS = (process.env.BENCH_FANOUT_VIEWERS ?? '5000').split(',').map(Number);
const RATE = Number(process.env.BENCH_FANOUT_RATE ?? 5);
const SECONDS = Number(process.env.BENCH_FANOUT_SECONDS ?? 8);
const BUSY_RATE = Number(process.env.BENCH_FANOUT_BUSY_RATE ?? 40);
const BUSY_SECONDS = Number(process.env.BENCH_FANOUT_BUSY_SECONDS ?? 6);
/** Seconds each server is watched with its viewers and no messages (its idle CPU); 0 skips it. */
const IDLE_SECONDS = Number(process.env.BENCH_FANOUT_IDLE_SECONDS ?? 6);
/** Each server is measured this many times at the steady rate, in turn with the others. */
const ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS ?? 2);
const WARMUP_SECONDS = 2;
const TALKERS = 5;
/** Every this many viewers, one records each delivery's latency (the rest only count). */
const SAMPLE_EVERY = 10;
/** Connections opened at once while setting up. */
const CONNECT_CONCURRENCY = 200;
/** Message text after the timestamp: chat-sized. */
const PADDING = 'x'.repeat(40);

type Kind = 'lectern' | 'batched' | 'socketio' | 'ws';
const TARGETS = (process.env.BENCH_FANOUT_TARGETS ?? 'lectern,batched,socketio,ws').split(',') as Kind[];

/** What the viewers saw, summed. */
class Tally {
  deliveries = 0;
  frames = 0;
  latencies: number[] = [];
  reset(): void {
    this.deliveries = 0;
    this.frames = 0;
    this.latencies = [];
  }
}

// `"text":"T<send time>|…`: every chat message carries its send time; counting the marker counts
// messages (one per `chat:message` frame, several per `chat:batch`).
const MARK = Buffer.from('"text":"T');
const PIPE = 124;

function scan(frame: Buffer, tally: Tally, sampled: boolean): void {
  const at = sampled ? now() : 0;
  let n = 0;
  for (let i = frame.indexOf(MARK); i !== -1; i = frame.indexOf(MARK, i + MARK.length)) {
    n++;
    if (sampled) {
      const start = i + MARK.length;
      tally.latencies.push(at - Number(frame.toString('latin1', start, frame.indexOf(PIPE, start))));
    }
  }
  if (n === 0) return;
  tally.deliveries += n;
  tally.frames++;
}

/** Counts Socket.IO broadcasts (`42…`) as bytes; everything else (pings, acks) goes on. */
function tapChat(client: WireClient, tally: Tally, sampled: boolean): WireClient {
  client.tap((frame) => {
    if (frame[0] !== 52 || frame[1] !== 50) return false; // not '42'
    scan(frame, tally, sampled);
    return true;
  });
  return client;
}

const text = () => `T${now().toFixed(2)}|${PADDING}`;

interface Running {
  server: Spawned;
  /** Sends message number `n` (from talker n % TALKERS); resolves when sent (or answered). */
  send(n: number): void;
  viewers: number;
  errors: Record<string, number>;
  close(): Promise<void>;
}

async function connectWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => {});
  return ws;
}

/** Starts the target and connects its viewers and talkers. */
async function start(kind: Kind, viewers: number, tally: Tally, server?: Spawned): Promise<Running> {
  const errors: Record<string, number> = {};
  const fail = (code: string) => {
    errors[code] = (errors[code] ?? 0) + 1;
  };
  if (kind === 'lectern' || kind === 'batched') {
    const s = server ?? (await spawnLectern());
    const owner = await register(s.url, 'creator');
    const roomId = await liveRoom(s.url, owner.token);
    const auth = kind === 'batched' ? { capabilities: ['chat:batch'] } : {};
    const clients = await inParallel(viewers, CONNECT_CONCURRENCY, async (i) =>
      tapChat(await joinedClient(s.url, roomId, undefined, auth), tally, i % SAMPLE_EVERY === 0),
    );
    const talkers = await inParallel(TALKERS, TALKERS, async () =>
      joinedClient(s.url, roomId, (await register(s.url)).token),
    );
    return {
      server: s,
      viewers,
      errors,
      send(n) {
        talkers[n % TALKERS]
          .emit('chat:send', { roomId, text: text() })
          .then((res) => !res.ok && fail(res.error.code))
          .catch(() => fail('NO_ANSWER'));
      },
      async close() {
        for (const c of [...clients, ...talkers]) c.close();
        if (!server) await s.stop();
      },
    };
  }
  const s = await spawnBaseline(kind === 'socketio' ? 'socketio-server' : 'ws-server');
  const roomId = randomUUID();
  const users = Array.from({ length: TALKERS }, (_, i) => ({ id: randomUUID(), username: `talker_${i}` }));
  // The same shape (and size) as Lectern's chat:message payload.
  const message = (n: number) => ({
    id: randomUUID(),
    roomId,
    user: users[n % TALKERS],
    text: text(),
    sentAt: new Date().toISOString(),
  });
  if (kind === 'socketio') {
    const clients = await inParallel(viewers, CONNECT_CONCURRENCY, async (i) =>
      tapChat(await WireClient.connect(s.url, undefined, 20_000, { room: roomId }), tally, i % SAMPLE_EVERY === 0),
    );
    const talkers = await inParallel(TALKERS, TALKERS, () =>
      WireClient.connect(s.url, undefined, 20_000, { room: roomId }),
    );
    return {
      server: s,
      viewers,
      errors,
      send: (n) => talkers[n % TALKERS].send('chat', message(n)),
      async close() {
        for (const c of [...clients, ...talkers]) c.close();
        await s.stop();
      },
    };
  }
  const wsUrl = `${s.url.replace(/^http/, 'ws')}/?room=${roomId}`;
  const clients = await inParallel(viewers, CONNECT_CONCURRENCY, async (i) => {
    const ws = await connectWs(wsUrl);
    const sampled = i % SAMPLE_EVERY === 0;
    ws.on('message', (data) => scan(data as Buffer, tally, sampled));
    return ws;
  });
  const talkers = await inParallel(TALKERS, TALKERS, () => connectWs(wsUrl));
  return {
    server: s,
    viewers,
    errors,
    send: (n) => talkers[n % TALKERS].send(JSON.stringify(message(n))),
    async close() {
      for (const c of [...clients, ...talkers]) c.terminate();
      await s.stop();
    },
  };
}

/** Sends `rate` messages a second for `seconds`, each on its schedule. Returns how many. */
async function sendFor(target: Running, rate: number, seconds: number): Promise<number> {
  const total = Math.round(rate * seconds);
  const started = now();
  for (let n = 0; n < total; n++) {
    const wait = started + (n * 1000) / rate - now();
    if (wait > 1) await sleep(wait);
    target.send(n);
  }
  return total;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/** Waits until nothing more arrives (what an earlier window left in flight), then starts afresh. */
async function quiet(tally: Tally): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let seen = -1; seen !== tally.deliveries && Date.now() < deadline; ) {
    seen = tally.deliveries;
    await sleep(300);
  }
  tally.reset();
}

interface Target extends Running {
  kind: Kind;
  tally: Tally;
}

/** One measured window: `rate` msg/s for `seconds`, until every delivery arrived (or `drainMs` after the last send). */
interface Window {
  messages: number;
  deliveries: number;
  expected: number;
  frames: number;
  seconds: number;
  cpu: number;
  load: number;
  latencies: number[];
  errors: Record<string, number>;
  /** CPU seconds by server thread name. */
  threads: Record<string, number>;
  profileWindowUs?: [string, string];
}

async function window(t: Target, rate: number, seconds: number, drainMs: number): Promise<Window> {
  await quiet(t.tally);
  for (const k of Object.keys(t.errors)) delete t.errors[k];
  const cpu0 = cpuSeconds(t.server.pid);
  const threads0 = threadCpuSeconds(t.server.pid);
  const load0 = loadCpuSeconds();
  const t0 = now();
  const mono0 = process.hrtime.bigint() / 1000n;
  const messages = await sendFor(t, rate, seconds);
  const expected = messages * t.viewers;
  await until(() => t.tally.deliveries >= expected, drainMs);
  const threads: Record<string, number> = {};
  for (const [name, cpu] of threadCpuSeconds(t.server.pid)) {
    const used = round(cpu - (threads0.get(name) ?? 0), 2);
    if (used > 0) threads[name] = used;
  }
  return {
    threads,
    messages,
    deliveries: t.tally.deliveries,
    expected,
    frames: t.tally.frames,
    seconds: (now() - t0) / 1000,
    cpu: cpuSeconds(t.server.pid) - cpu0,
    load: loadCpuSeconds() - load0,
    latencies: t.tally.latencies,
    errors: { ...t.errors },
    // The window on the monotonic clock (µs), which V8's CPU profiles use: to cut a profile to it.
    ...(profileFlags.length ? { profileWindowUs: [String(mono0), String(process.hrtime.bigint() / 1000n)] } : {}),
  };
}

export interface FanoutMeasure {
  viewers: number;
  messagesPerSecond: number;
  /** Measured windows (interleaved with the other servers'), summed below. */
  windows: number;
  messages: number;
  deliveries: number;
  /** Deliveries expected and not seen by the end of their window. */
  missing: number;
  framesPerViewer: number;
  seconds: number;
  serverCpuSeconds: number;
  serverCpuPercent: number;
  deliveriesPerCpuSec: number;
  /** Each window's deliveries per CPU-second: the spread between runs. */
  perWindow: number[];
  p50Ms: number;
  p99Ms: number;
  latencyMs: ReturnType<typeof percentiles>;
  /** The load generator's CPU: near 100 % would mean it, not the server, set the pace. */
  loadCpuPercent: number;
  /** Server CPU seconds by thread name (main JS thread `node`, GC helpers, libuv pool, …). */
  threads: Record<string, number>;
  /** The server's CPU with the same viewers and no messages (see `idleCpu`). */
  idleCpuPercent?: number;
  /** Deliveries per CPU-second beyond that idle share: what the messages themselves cost. */
  deliveriesPerMarginalCpuSec?: number;
  errors: Record<string, number>;
  profileWindowsUs?: [string, string][];
}

function summarize(t: Target, rate: number, windows: Window[]): FanoutMeasure {
  const sum = (f: (w: Window) => number) => windows.reduce((a, w) => a + f(w), 0);
  const seconds = sum((w) => w.seconds);
  const cpu = sum((w) => w.cpu);
  const deliveries = sum((w) => w.deliveries);
  const latency = percentiles(windows.flatMap((w) => w.latencies));
  const errors: Record<string, number> = {};
  for (const w of windows) for (const [k, n] of Object.entries(w.errors)) errors[k] = (errors[k] ?? 0) + n;
  const profiles = windows.flatMap((w) => (w.profileWindowUs ? [w.profileWindowUs] : []));
  const threads: Record<string, number> = {};
  for (const w of windows) for (const [k, n] of Object.entries(w.threads)) threads[k] = round((threads[k] ?? 0) + n, 2);
  return {
    viewers: t.viewers,
    messagesPerSecond: rate,
    windows: windows.length,
    messages: sum((w) => w.messages),
    deliveries,
    missing: sum((w) => Math.max(0, w.expected - w.deliveries)),
    framesPerViewer: round(sum((w) => w.frames) / t.viewers, 1),
    seconds: round(seconds, 2),
    serverCpuSeconds: round(cpu, 2),
    serverCpuPercent: Math.round((cpu / seconds) * 100),
    deliveriesPerCpuSec: Math.round(deliveries / Math.max(cpu, 0.01)),
    perWindow: windows.map((w) => Math.round(w.deliveries / Math.max(w.cpu, 0.01))),
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    latencyMs: latency,
    loadCpuPercent: Math.round((sum((w) => w.load) / seconds) * 100),
    threads,
    errors,
    ...(profiles.length ? { profileWindowsUs: profiles } : {}),
  };
}

/** Measures `targets` in turn, `rounds` times over, so that a busier moment of the machine is shared out. */
async function interleaved(
  targets: Target[],
  rate: number,
  seconds: number,
  rounds: number,
  drainMs: number,
): Promise<Record<string, FanoutMeasure>> {
  const windows = new Map<Target, Window[]>(targets.map((t) => [t, []]));
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) {
      const w = await window(t, rate, seconds, drainMs);
      windows.get(t)!.push(w);
      console.error(
        JSON.stringify({
          fanoutWindow: {
            kind: t.kind,
            rate,
            deliveriesPerCpuSec: Math.round(w.deliveries / Math.max(w.cpu, 0.01)),
            cpu: round(w.cpu, 2),
            missing: w.expected - w.deliveries,
            p99Ms: percentiles(w.latencies).p99,
            threads: w.threads,
          },
        }),
      );
    }
  }
  return Object.fromEntries(targets.map((t) => [t.kind, summarize(t, rate, windows.get(t)!)]));
}

const ratio = (a: { deliveriesPerCpuSec: number } | undefined, b: { deliveriesPerCpuSec: number } | undefined) =>
  a && b ? round(a.deliveriesPerCpuSec / b.deliveriesPerCpuSec, 2) : null;

function ratios(set: Record<string, FanoutMeasure>) {
  const marginal = (a?: FanoutMeasure, b?: FanoutMeasure) =>
    a?.deliveriesPerMarginalCpuSec && b?.deliveriesPerMarginalCpuSec
      ? round(a.deliveriesPerMarginalCpuSec / b.deliveriesPerMarginalCpuSec, 2)
      : null;
  return {
    'lectern/socketio': ratio(set.lectern, set.socketio),
    'lectern/ws': ratio(set.lectern, set.ws),
    'batched/socketio': ratio(set.batched, set.socketio),
    'batched/ws': ratio(set.batched, set.ws),
    ...(set.lectern?.deliveriesPerMarginalCpuSec
      ? {
          'lectern/socketio (idle CPU left out)': marginal(set.lectern, set.socketio),
          'batched/socketio (idle CPU left out)': marginal(set.batched, set.socketio),
        }
      : {}),
  };
}

/** The server's CPU share with its viewers connected and nobody talking (pings, timers, its own background work). */
async function idleCpu(t: Target, seconds: number): Promise<number> {
  await quiet(t.tally);
  const cpu0 = cpuSeconds(t.server.pid);
  const t0 = now();
  await sleep(seconds * 1000);
  return (cpuSeconds(t.server.pid) - cpu0) / ((now() - t0) / 1000);
}

/** A measure with the idle share, and deliveries per CPU-second beyond it (what the messages cost). */
function withIdle(m: FanoutMeasure, idle: number | undefined): FanoutMeasure {
  if (idle === undefined) return m;
  const talking = m.serverCpuSeconds - idle * m.seconds;
  return {
    ...m,
    idleCpuPercent: round(idle * 100, 1),
    deliveriesPerMarginalCpuSec: Math.round(m.deliveries / Math.max(0.01, talking)),
  };
}

/**
 * One viewer count: Lectern (plain viewers), Socket.IO and ws side by side, measured in turn;
 * then Lectern's viewers are replaced by batching ones (the same server process) and measured in
 * turn with the others again. Then the busy room, once each.
 */
async function atViewers(viewers: number) {
  const started = async (kind: Kind, server?: Spawned): Promise<Target> => {
    const tally = new Tally();
    const running = await start(kind, viewers, tally, server);
    // Warm-up at the measured rate (the JIT, the sockets' buffers): not counted.
    await sendFor(running, RATE, WARMUP_SECONDS);
    return Object.assign(running, { kind, tally });
  };
  const lecternServer = TARGETS.some((k) => k === 'lectern' || k === 'batched') ? await spawnLectern() : undefined;
  const open: Target[] = [];
  try {
    const baselines: Target[] = [];
    for (const kind of TARGETS.filter((k) => k === 'socketio' || k === 'ws')) {
      baselines.push(await started(kind));
      open.push(baselines.at(-1)!);
    }
    const steady: Record<string, FanoutMeasure> = {};
    const busy: Record<string, FanoutMeasure> = {};
    const idle: Record<string, number> = {};
    for (const kind of TARGETS.filter((k) => k === 'lectern' || k === 'batched')) {
      const lectern = await started(kind, lecternServer);
      open.push(lectern);
      // The second turn (batching viewers) against the bare Socket.IO server alone: ws has its windows.
      const others = kind === 'lectern' || !steady.lectern ? baselines : baselines.filter((b) => b.kind === 'socketio');
      const measured = ROUNDS > 0 ? await interleaved([lectern, ...others], RATE, SECONDS, ROUNDS, 5_000) : {};
      if (measured[kind]) steady[kind] = measured[kind];
      // A baseline measured in both turns: all its windows count.
      for (const b of others) if (measured[b.kind]) steady[b.kind] = merge(steady[b.kind], measured[b.kind]);
      if (IDLE_SECONDS > 0) {
        for (const t of [lectern, ...baselines.filter((b) => idle[b.kind] === undefined)]) {
          idle[t.kind] = await idleCpu(t, IDLE_SECONDS);
        }
      }
      if (BUSY_RATE > 0) {
        // The bare Socket.IO server once (it falls behind at this rate: its backlog takes a while).
        const reference = busy.socketio ? [] : baselines.filter((b) => b.kind === 'socketio');
        const hot = await interleaved([lectern, ...reference], BUSY_RATE, BUSY_SECONDS, 1, 20_000);
        Object.assign(busy, hot);
      }
      await lectern.close();
      open.splice(open.indexOf(lectern), 1);
      await sleep(1000);
    }
    for (const [kind, m] of Object.entries(steady)) steady[kind] = withIdle(m, idle[kind]);
    return { steady, busy };
  } finally {
    for (const t of open) await t.close();
    await lecternServer?.stop();
  }
}

/** Two summaries of the same target (windows from both turns), combined. */
function merge(a: FanoutMeasure | undefined, b: FanoutMeasure): FanoutMeasure {
  if (!a) return b;
  const windows = a.windows + b.windows;
  const cpu = a.serverCpuSeconds + b.serverCpuSeconds;
  const seconds = a.seconds + b.seconds;
  const deliveries = a.deliveries + b.deliveries;
  // Percentiles of the two, weighted by deliveries: close enough for two similar sets.
  const weighted = (f: (m: FanoutMeasure) => number) =>
    round((f(a) * a.deliveries + f(b) * b.deliveries) / Math.max(1, deliveries), 2);
  const latencyMs = {
    p50: weighted((m) => m.latencyMs.p50),
    p90: weighted((m) => m.latencyMs.p90),
    p99: weighted((m) => m.latencyMs.p99),
    max: Math.max(a.latencyMs.max, b.latencyMs.max),
  };
  const errors = { ...a.errors };
  for (const [k, n] of Object.entries(b.errors)) errors[k] = (errors[k] ?? 0) + n;
  const threads = { ...a.threads };
  for (const [k, n] of Object.entries(b.threads)) threads[k] = round((threads[k] ?? 0) + n, 2);
  return {
    ...a,
    windows,
    messages: a.messages + b.messages,
    deliveries,
    missing: a.missing + b.missing,
    framesPerViewer: round(a.framesPerViewer + b.framesPerViewer, 1),
    seconds: round(seconds, 2),
    serverCpuSeconds: round(cpu, 2),
    serverCpuPercent: Math.round((cpu / seconds) * 100),
    deliveriesPerCpuSec: Math.round(deliveries / Math.max(cpu, 0.01)),
    perWindow: [...a.perWindow, ...b.perWindow],
    p50Ms: latencyMs.p50,
    p99Ms: latencyMs.p99,
    latencyMs,
    loadCpuPercent: Math.round((a.loadCpuPercent * a.seconds + b.loadCpuPercent * b.seconds) / seconds),
    threads,
    errors,
    ...(a.profileWindowsUs || b.profileWindowsUs
      ? { profileWindowsUs: [...(a.profileWindowsUs ?? []), ...(b.profileWindowsUs ?? [])] }
      : {}),
  };
}

export async function fanout() {
  pinLoad();
  const runs: Record<string, Awaited<ReturnType<typeof atViewers>>> = {};
  for (const viewers of VIEWERS) runs[viewers] = await atViewers(viewers);
  const { steady, busy } = runs[VIEWERS[0]];
  return {
    pinned: PINNED,
    viewers: VIEWERS[0],
    messagesPerSecond: RATE,
    ...steady,
    ratios: ratios(steady),
    ...(BUSY_RATE > 0 ? { busy: { messagesPerSecond: BUSY_RATE, ...busy, ratios: ratios(busy) } } : {}),
    ...(VIEWERS.length > 1
      ? {
          others: Object.fromEntries(
            VIEWERS.slice(1).map((v) => [v, { ...runs[v].steady, ratios: ratios(runs[v].steady) }]),
          ),
        }
      : {}),
  };
}

if (require.main === module) {
  fanout()
    .then((result) => {
      console.log(JSON.stringify({ fanout: result }));
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
