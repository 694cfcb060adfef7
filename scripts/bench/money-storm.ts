/**
 * Money at gift-storm scale (docs/money.md#throughput): tips into one live room from many
 * tippers, purchases of one creator's contents from many buyers, top-ups from many users — each
 * measured at its highest rate (clients sending as fast as answers return) and at half of
 * pgbench's TPS on the same Postgres (an open loop: requests sent on a schedule, latency counted
 * from when each was due), with p50/p99. Then the same storm with the server killed (SIGKILL)
 * mid-run and restarted while clients retry with their keys: operations acknowledged, lost and
 * doubled. The server runs as its own process; the scheduler places it, Postgres and the load on
 * the machine's cores, as it places pgbench and Postgres (BENCH_MONEY_PIN=1: the server on CPU 0
 * and the load on CPU 1, as the other suites run).
 *
 * `npx tsx scripts/bench/money-storm.ts` runs it alone; `npm run bench -- --only moneyStorm`.
 * BENCH_MONEY_CLIENTS (200), BENCH_MONEY_SECONDS (8), BENCH_MONEY_RATE (the open loop's rate;
 * half pgbench's TPS), BENCH_MONEY_SIGKILL (0 skips the SIGKILL storm), BENCH_MONEY_ONLY (a
 * comma-separated subset of tips, purchases, topUps: the others are not measured).
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import pg from 'pg';
import { Capabilities } from '../../protocol';
import { DRIFTED_TIP_TOTALS } from '../../tests/helpers/ledger';
import { freePort, type ServerProcess, spawnServer } from '../../tests/helpers/process';
import { adminQuery, createMigratedDatabase, databaseUrl, percentiles } from './harness';
import {
  cpuSeconds,
  inParallel,
  LECTERN_BENCH_ENV,
  PINNED,
  pinLoad,
  postgresCpuSeconds,
  postJson,
  profileFlags,
  register,
  SERVER_CPUS,
  sleep,
  unpinLoad,
} from './pinned';
import { WireClient } from './wire-client';
import { WireHttp } from './wire-http';

const run = promisify(execFile);
const CLIENTS = Number(process.env.BENCH_MONEY_CLIENTS ?? 200);
const SECONDS = Number(process.env.BENCH_MONEY_SECONDS ?? 8);
/**
 * The creator's lessons. Each buyer buys them in turn, and a second purchase of one is refused
 * ("already purchased", no money moved), so there must be more than a buyer buys in both loops: 50
 * per second of measurement is 25 purchases a second per buyer in each, 5,000/s for 200 buyers.
 * With 400 for any length, a 40-second storm's open loop was nearly all refusals.
 */
const LESSONS = 50 * SECONDS;
/** An open loop this far behind its schedule gives up (the rate is out of reach). */
const MAX_LAG_MS = 5000;
/**
 * The server is several threads meant to run side by side — the main thread, the money batches'
 * own thread (server/payments/batch-thread.ts), V8's helpers — and pgbench's Postgres has every
 * core: pinned to one core, the server's threads took turns on it (docs/money.md#throughput).
 */
const PINNED_STORM = PINNED && process.env.BENCH_MONEY_PIN === '1';
/** What the SDK asks for, as the viewers (and the studio) of a real room do. */
const VIEWER_CAPABILITIES = [Capabilities.chatBatch, Capabilities.tipSummary];

// --- pgbench --------------------------------------------------------------------------------------

/** TPC-B-like pgbench on the same Postgres: 8 clients, 2 threads, scale 10, `seconds` long. */
export async function pgbenchTps(seconds = 10): Promise<number> {
  const name = `lectern_pgbench_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  try {
    const url = databaseUrl(name);
    await run('pgbench', ['-i', '-q', '-s', '10', url], { maxBuffer: 16 * 1024 * 1024 });
    const { stdout } = await run('pgbench', ['-c', '8', '-j', '2', '-T', String(seconds), url], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const tps = /tps = ([\d.]+)/.exec(stdout)?.[1];
    if (!tps) throw new Error(`no tps in pgbench output:\n${stdout}`);
    return Math.round(Number(tps));
  } finally {
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

// --- the server ------------------------------------------------------------------------------------

interface Storm {
  server: ServerProcess;
  url: string;
  port: number;
  db: string;
  cpus: string | undefined;
  env: Record<string, string>;
}

async function startServer(): Promise<Storm> {
  const db = `lectern_storm_${randomBytes(4).toString('hex')}`;
  await createMigratedDatabase(db);
  const port = await freePort();
  const env = {
    ...LECTERN_BENCH_ENV,
    DATABASE_URL: databaseUrl(db),
    PORT: String(port),
    DATA_DIR: `/tmp/${db}`,
    // Passed through, to compare how many batches the server writes at once.
    ...(process.env.DB_MONEY_CONNECTIONS ? { DB_MONEY_CONNECTIONS: process.env.DB_MONEY_CONNECTIONS } : {}),
  };
  const cpus = PINNED_STORM ? SERVER_CPUS : undefined;
  const server = await spawnServer(env, 60_000, cpus, profileFlags);
  return { server, url: server.url, port, db, cpus, env };
}

async function restart(storm: Storm): Promise<void> {
  storm.server = await spawnServer(storm.env, 60_000, storm.cpus, profileFlags);
}

// --- clients ---------------------------------------------------------------------------------------

type BatchStats = {
  batches: number;
  operations: number;
  seconds: number;
  /** The main thread's event-loop delay since the previous scrape (prom-client resets it on each). */
  eventLoopP99: number;
  eventLoopMax: number;
  gcSeconds: number;
};

/**
 * The server's money batches so far (`lectern_money_batch_*` on /metrics), and what delays
 * every answer on the main thread: its event loop's delay and garbage collection.
 */
async function batchStats(url: string): Promise<BatchStats> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
  const gc = [...text.matchAll(/^lectern_nodejs_gc_duration_seconds_sum\{[^}]*\} ([\d.e+-]+)$/gm)];
  return {
    batches: value('lectern_money_batch_operations_count'),
    operations: value('lectern_money_batch_operations_sum'),
    seconds: value('lectern_money_batch_seconds_sum'),
    eventLoopP99: value('lectern_nodejs_eventloop_lag_p99_seconds'),
    eventLoopMax: value('lectern_nodejs_eventloop_lag_max_seconds'),
    gcSeconds: gc.reduce((sum, m) => sum + Number(m[1]), 0),
  };
}

const ms = (seconds: number) => Math.round(seconds * 10000) / 10;

function diffStats(after: BatchStats, before: BatchStats) {
  const batches = after.batches - before.batches;
  return {
    batches,
    operationsPerBatch: batches ? Math.round(((after.operations - before.operations) / batches) * 10) / 10 : 0,
    msPerBatch: batches ? ms((after.seconds - before.seconds) / batches) : 0,
    mainThread: {
      eventLoopDelayMs: { p99: ms(after.eventLoopP99), max: ms(after.eventLoopMax) },
      gcMs: ms(after.gcSeconds - before.gcSeconds),
    },
  };
}

async function settleBatches<T extends { batches: Promise<unknown> }>(m: T) {
  return { ...m, batches: await m.batches };
}

/** One operation of one client: resolves with an error code, or null when it succeeded. */
type Op = (client: number) => Promise<string | null>;

interface Measured {
  operations: number;
  perSecond: number;
  latencyMs: ReturnType<typeof percentiles>;
  errors: Record<string, number>;
  serverCpuPercent: number;
  /**
   * CPU time per operation, of the server and of Postgres (all its processes): what a change
   * saves, steadier from run to run than the rates on a machine whose two cores are both full;
   * and of this load generator, which shares a core with Postgres.
   */
  cpuMsPerOperation: { server: number; postgres: number; load: number };
}

/** The server's, Postgres's and this load generator's CPU seconds so far. */
const cpuNow = (storm: Storm) => {
  const load = process.cpuUsage();
  return {
    server: cpuSeconds(storm.server.child.pid!),
    postgres: postgresCpuSeconds(),
    load: (load.user + load.system) / 1e6,
  };
};

/** Each client sends its next operation as soon as the previous one is answered. */
async function closedLoop(storm: Storm, clients: number, seconds: number, op: Op): Promise<Measured> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const cpu0 = cpuNow(storm);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const code = await op(c).catch((err) => `EXCEPTION ${err?.code ?? err?.message ?? err}`);
        latencies.push(performance.now() - t);
        if (code) errors[code] = (errors[code] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return summary(latencies, errors, elapsed, cpu0, cpuNow(storm));
}

/**
 * Operations due on a fixed schedule (`rate` a second, spread over the clients); a client still
 * busy sends late, and the latency counts from when it was due, so a server that cannot keep up
 * shows it.
 */
async function openLoop(
  storm: Storm,
  clients: number,
  seconds: number,
  rate: number,
  op: Op,
): Promise<Measured & { loadEventLoopDelayMs: { p99: number; max: number } }> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  // The load's own delays count in the latencies (each from when it was due): how much is shown.
  const loadDelay = monitorEventLoopDelay({ resolution: 1 });
  loadDelay.enable();
  const cpu0 = cpuNow(storm);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let j = c; j < total; j += clients) {
        const due = started + j * interval;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        // Far behind schedule: the server cannot keep this rate; stop rather than queue for minutes.
        if (-wait > MAX_LAG_MS) {
          errors.BEHIND = (errors.BEHIND ?? 0) + Math.ceil((total - j) / clients);
          break;
        }
        const code = await op(c).catch((err) => `EXCEPTION ${err?.code ?? err?.message ?? err}`);
        latencies.push(performance.now() - due);
        if (code) errors[code] = (errors[code] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  loadDelay.disable();
  return {
    ...summary(latencies, errors, elapsed, cpu0, cpuNow(storm)),
    loadEventLoopDelayMs: { p99: ms(loadDelay.percentile(99) / 1e9), max: ms(loadDelay.max / 1e9) },
  };
}

function summary(
  latencies: number[],
  errors: Record<string, number>,
  elapsed: number,
  cpu0: ReturnType<typeof cpuNow>,
  cpu1: ReturnType<typeof cpuNow>,
): Measured {
  const failed = Object.entries(errors).reduce((a, [code, n]) => a + (code === 'BEHIND' ? 0 : n), 0);
  const operations = latencies.length - failed;
  const msPerOperation = (seconds: number) => (operations ? Math.round((seconds / operations) * 100_000) / 100 : 0);
  return {
    operations,
    perSecond: Math.round(operations / elapsed),
    latencyMs: percentiles(latencies),
    errors,
    serverCpuPercent: Math.round(((cpu1.server - cpu0.server) / elapsed) * 100),
    cpuMsPerOperation: {
      server: msPerOperation(cpu1.server - cpu0.server),
      postgres: msPerOperation(cpu1.postgres - cpu0.postgres),
      load: msPerOperation(cpu1.load - cpu0.load),
    },
  };
}

// --- the storms ------------------------------------------------------------------------------------

interface Setup {
  creator: { token: string; id: string };
  roomId: string;
  contents: string[];
  users: { token: string; id: string }[];
  /** Each user's connection, joined to the room: a lean wire client (the tips' broadcasts are only counted). */
  sockets: WireClient[];
  /** Each user's HTTP connection, as lean (purchases and top-ups). */
  http: WireHttp[];
  /** The creator's studio, live in the room and following its sales feed, as the SDK connects it. */
  studio: WireClient;
}

async function setUp(storm: Storm, contents: number, clients = CLIENTS): Promise<Setup> {
  const { url } = storm;
  const creator = await register(url, 'creator');
  const { body } = await postJson<{ room: { id: string } }>(
    `${url}/api/rooms`,
    { title: 'Gift storm', access: 'free' },
    creator.token,
  );
  await postJson(`${url}/api/rooms/${body.room.id}/start`, {}, creator.token);
  const ids = await inParallel(contents, 20, async (i) => {
    const res = await postJson<{ content: { id: string } }>(
      `${url}/api/contents`,
      { title: `Lesson ${i}`, kind: 'lesson', price: 100 },
      creator.token,
    );
    return res.body.content.id;
  });
  const users = await inParallel(clients, 20, () => register(url));
  await inParallel(users.length, 20, (i) =>
    postJson(`${url}/api/wallet/topup`, { amount: 100_000 }, users[i].token, randomUUID()),
  );
  // Viewers connect as the SDK does: a gift storm's small tips come summed past TIP_LIST_MAX a delivery.
  const sockets = await inParallel(users.length, 20, async (i) => {
    const socket = await WireClient.connect(url, users[i].token, undefined, { capabilities: VIEWER_CAPABILITIES });
    await socket.emit('room:join', { roomId: body.room.id });
    return socket;
  });
  const studio = await WireClient.connect(url, creator.token, undefined, {
    capabilities: [...VIEWER_CAPABILITIES, Capabilities.saleBatch],
  });
  await studio.emit('room:join', { roomId: body.room.id });
  return {
    creator,
    studio,
    roomId: body.room.id,
    contents: ids,
    users,
    sockets,
    http: users.map(() => new WireHttp(new URL(url))),
  };
}

export async function moneyStorm() {
  // BENCH_MONEY_PIN=1: the load on CPU 1 (every thread of it), the server on CPU 0 (Postgres may
  // use both). Otherwise everything where the scheduler puts it, whatever an earlier suite pinned.
  if (PINNED_STORM) pinLoad();
  else unpinLoad();
  const pgbench = await pgbenchTps();
  // BENCH_MONEY_RATE fixes the open loop's rate (changes compared at one rate, whatever pgbench gave).
  const target = Number(process.env.BENCH_MONEY_RATE) || Math.round(pgbench / 2);
  const storm = await startServer();
  try {
    const s = await setUp(storm, LESSONS);
    const { url } = storm;
    const tip: Op = async (c) => {
      const res = await s.sockets[c].emit('tip:send', { roomId: s.roomId, amount: 1, idempotencyKey: randomUUID() });
      return res.ok ? null : res.error.code;
    };
    const next = s.users.map(() => 0);
    const purchase: Op = async (c) => {
      const contentId = s.contents[next[c]++ % s.contents.length];
      const res = await s.http[c].post<{ error?: { code: string } }>(
        '/api/purchases',
        { contentId },
        s.users[c].token,
        randomUUID(),
      );
      return res.status === 201 ? null : (res.body.error?.code ?? String(res.status));
    };
    const topUp: Op = async (c) => {
      const res = await s.http[c].post<{ error?: { code: string } }>(
        '/api/wallet/topup',
        { amount: 100 },
        s.users[c].token,
        randomUUID(),
      );
      return res.status === 200 ? null : (res.body.error?.code ?? String(res.status));
    };
    const measure = async (op: Op) => {
      const max = await closedLoop(storm, CLIENTS, SECONDS, op);
      const batches0 = await batchStats(url);
      const atHalfPgbench = await openLoop(storm, CLIENTS, SECONDS, target, op);
      return { max, atHalfPgbench, batches: batchStats(url).then((b) => diffStats(b, batches0)) };
    };
    const only = process.env.BENCH_MONEY_ONLY?.split(',');
    const storms = { tips: tip, purchases: purchase, topUps: topUp };
    const measured: Partial<
      Record<keyof typeof storms, Awaited<ReturnType<typeof measure>> & { ratioToPgbench: number }>
    > = {};
    for (const [name, op] of Object.entries(storms) as [keyof typeof storms, Op][]) {
      if (only && !only.includes(name)) continue;
      const m = await settleBatches(await measure(op));
      measured[name] = { ...m, ratioToPgbench: Math.round((m.max.perSecond / pgbench) * 100) / 100 };
    }
    for (const socket of [...s.sockets, s.studio]) socket.close();
    for (const client of s.http) client.close();
    const crash = process.env.BENCH_MONEY_SIGKILL === '0' ? null : await killedMidStorm(storm);
    return {
      clients: CLIENTS,
      seconds: SECONDS,
      placement: PINNED_STORM ? 'server on CPU 0, load on CPU 1' : 'the scheduler',
      pgbench: { tps: pgbench, clients: 8, scale: 10 },
      targetPerSecond: target,
      ...measured,
      sigkill: crash,
    };
  } finally {
    await storm.server.stop().catch(() => undefined);
    await adminQuery(`DROP DATABASE IF EXISTS ${storm.db} WITH (FORCE)`);
  }
}

/**
 * Tips and purchases from many clients; the server is killed with SIGKILL mid-storm and started
 * again; every client retries what was not answered with the same key until it is. Then the
 * database is asked: each acknowledged operation must be there exactly once.
 */
async function killedMidStorm(storm: Storm, clientCount = CLIENTS) {
  const s = await setUp(storm, 50, clientCount);
  const { url } = storm;
  type Sent = { key: string; kind: 'tip' | 'purchase'; user: number; id?: string; code?: string };
  const sent: Sent[] = [];
  const connected = s.sockets;
  // A connection lost with the server is opened again (and the room joined) before the retry.
  const reconnect = async (c: number) => {
    connected[c].close();
    connected[c] = await WireClient.connect(url, s.users[c].token, 2_000);
    const joined = await connected[c].emit('room:join', { roomId: s.roomId }, 5_000);
    if (!joined.ok) throw new Error(joined.error.code);
  };
  const broken = new Set<number>();
  const nextContent = s.users.map(() => 0);
  let stop = false;
  let killed = 0;

  async function attempt(op: Sent): Promise<boolean> {
    try {
      if (op.kind === 'tip') {
        if (broken.has(op.user)) {
          await reconnect(op.user);
          broken.delete(op.user);
        }
        const res = await connected[op.user]
          .emit<{ tip: { id: string } }>('tip:send', { roomId: s.roomId, amount: 1, idempotencyKey: op.key }, 3_000)
          .catch((err) => {
            broken.add(op.user);
            throw err;
          });
        if (res.ok) op.id = res.data.tip.id;
        else if (res.error.code === 'UNAVAILABLE' || res.error.code === 'INTERNAL') return false;
        else op.code = res.error.code;
        return true;
      }
      const res = await postJson<{ purchase?: { id: string }; error?: { code: string } }>(
        `${url}/api/purchases`,
        { contentId: s.contents[nextContent[op.user] % s.contents.length] },
        s.users[op.user].token,
        op.key,
      );
      if (res.status === 201) op.id = res.body.purchase!.id;
      else if (res.status >= 500) return false;
      else op.code = res.body.error?.code ?? String(res.status);
      return true;
    } catch {
      return false; // no answer (the server is down): the same key again
    }
  }

  const started = performance.now();
  const clients = s.users.map(async (_, c) => {
    while (!stop) {
      const kind = c % 2 === 0 ? 'tip' : 'purchase';
      const op: Sent = { key: randomUUID(), kind, user: c };
      sent.push(op);
      while (!(await attempt(op))) await sleep(100);
      if (kind === 'purchase') nextContent[c]++;
    }
  });
  await sleep(2500);
  storm.server.child.kill('SIGKILL');
  killed++;
  await sleep(500);
  await restart(storm);
  await sleep(3000);
  stop = true;
  await Promise.all(clients);
  const elapsed = (performance.now() - started) / 1000;
  for (const socket of [...connected, s.studio]) socket.close();

  const db = new pg.Client({ connectionString: databaseUrl(storm.db) });
  await db.connect();
  try {
    const tips = (await db.query<{ id: string }>('SELECT id FROM tips WHERE room_id = $1', [s.roomId])).rows.map(
      (r) => r.id,
    );
    const purchases = (
      await db.query<{ id: string }>("SELECT id FROM purchases WHERE creator_id = $1 AND kind = 'content'", [
        s.creator.id,
      ])
    ).rows.map((r) => r.id);
    const inLedger = new Set([...tips, ...purchases]);
    const acknowledged = sent.filter((op) => op.id);
    const ackedIds = new Set(acknowledged.map((op) => op.id!));
    const lost = acknowledged.filter((op) => !inLedger.has(op.id!)).length;
    // A row nobody was told about, or one op answered with two ids, would be a double.
    const doubled = [...inLedger].filter((id) => !ackedIds.has(id)).length + (acknowledged.length - ackedIds.size);
    const invariants = await db.query<{ unbalanced: string; drifted: string; negative: string; tipTotals: string }>(`
      SELECT
        (SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0) t) AS unbalanced,
        (SELECT count(*) FROM account_balances b WHERE b.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_entries e WHERE e.account_id = b.id)) AS drifted,
        (SELECT count(*) FROM account_balances WHERE kind = 'wallet' AND balance < 0) AS negative,
        (${DRIFTED_TIP_TOTALS}) AS "tipTotals"
    `);
    return {
      seconds: Math.round(elapsed * 10) / 10,
      killed,
      operations: sent.length,
      acknowledged: acknowledged.length,
      refused: sent.filter((op) => op.code).length,
      lost,
      doubled,
      unbalancedTransactions: Number(invariants.rows[0].unbalanced),
      driftedAccounts: Number(invariants.rows[0].drifted),
      negativeWallets: Number(invariants.rows[0].negative),
      driftedTipTotals: Number(invariants.rows[0].tipTotals),
    };
  } finally {
    await db.end();
  }
}

/**
 * The SIGKILL storm on its own server (the fault suite, tests/faults): `clientCount` tippers and
 * buyers, the server killed mid-storm and started again, everyone retrying with their keys.
 */
export async function crashDuringStorm(clientCount: number) {
  const storm = await startServer();
  try {
    return await killedMidStorm(storm, clientCount);
  } finally {
    await storm.server.stop().catch(() => undefined);
    await adminQuery(`DROP DATABASE IF EXISTS ${storm.db} WITH (FORCE)`);
  }
}

if (require.main === module) {
  moneyStorm()
    .then((result) => {
      console.log(JSON.stringify({ moneyStorm: result }));
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
