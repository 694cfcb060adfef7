/**
 * `npm run loadtest` / `npx lectern-loadtest`: drives a running Lectern server with simulated
 * viewers spread over worker threads, and reports connect and delivery latencies, throughput,
 * acks and errors, and the server's CPU and memory (`--help` lists the options).
 *
 * The controller (this thread) prepares accounts, rooms, wallets and polls through the API,
 * starts the workers (worker.ts), gathers their counts once a second, prints progress on
 * stderr, and at the end one JSON line on stdout and an HTML report. Bounded in viewers, ramp
 * and duration; loopback only unless --allow-remote.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Api, pool, type ServerSample, SetupError } from './api';
import { Histogram, monoMs, type Percentiles } from './histogram';
import type { FromWorker, Snapshot, ToWorker, ViewerSpec, WorkerSetup } from './messages';
import { HELP, type Options, parseOptions, serverEnvFor, UsageError } from './options';
import { renderReport, type SecondPoint } from './report';
import { LoadSocket } from './wire';

const POLL_OPTIONS = ['yes', 'no', 'maybe'];

export async function main(argv: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`lectern-loadtest: ${err.message}\n(see --help)\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.serverEnv) {
    for (const [k, v] of Object.entries(serverEnvFor(opts))) process.stdout.write(`${k}=${v}\n`);
    return 0;
  }
  // Rooms this run opened: ended at the end, and also when the run fails part-way.
  const created: CreatedRoom[] = [];
  try {
    return await run(opts, argv, created);
  } catch (err) {
    if (created.length && !opts.keepRooms) {
      const api = new Api(opts.url);
      await pool(created, 8, ({ roomId, token }) => api.endRoom(token, roomId)).catch(() => {});
    }
    if (err instanceof SetupError) {
      process.stderr.write(`\nlectern-loadtest: ${err.message}\n`);
      if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
      return 1;
    }
    throw err;
  }
}

interface CreatedRoom {
  roomId: string;
  token: string;
}

/** Totals gathered from the workers. */
class Totals {
  readonly hists = new Map<string, Histogram>();
  readonly counters: Record<string, number> = {};
  readonly acks: Record<string, number> = {};
  readonly errors: Record<string, number> = {};

  add(s: Snapshot): void {
    for (const [k, v] of Object.entries(s.counters)) this.counters[k] = (this.counters[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.acks)) this.acks[k] = (this.acks[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.errors)) this.errors[k] = (this.errors[k] ?? 0) + v;
    for (const [k, h] of Object.entries(s.hists)) {
      if (h.buckets.length === 0) continue;
      let mine = this.hists.get(k);
      if (!mine) {
        mine = new Histogram();
        this.hists.set(k, mine);
      }
      mine.merge(h);
    }
  }

  hist(name: string): Histogram {
    return this.hists.get(name) ?? new Histogram();
  }

  errorCount(): number {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => round(bytes / 2 ** 20);

async function run(opts: Options, argv: string[], created: CreatedRoom[]): Promise<number> {
  const startedAt = new Date().toISOString();
  const say = (line: string) => {
    if (!opts.quiet) process.stderr.write(`${line}\n`);
  };
  const api = new Api(opts.url);
  const expectedRampSeconds = opts.viewers / opts.rampPerSecond;
  // Whatever happens (a server that stops answering), the run ends.
  // (Setting up: registration hashes a password per account, some tens of ms of server CPU each.)
  const setupSeconds = 120 + (opts.viewers / opts.connectionsPerAccount) * 0.1;
  const watchdogMs = (setupSeconds + expectedRampSeconds + 30 + opts.durationSeconds + opts.drainSeconds + 60) * 1000;
  const watchdog = setTimeout(() => {
    process.stderr.write('\nlectern-loadtest: the run went past its time bound; aborting\n');
    process.exit(3);
  }, watchdogMs);
  watchdog.unref();

  // Is anything there, and can we read its metrics?
  const health = await api.healthz();
  if (health.status !== 200) say(`warning: ${opts.url}/healthz answered ${health.status}`);
  const firstSample = await api.serverProcess(opts.metricsToken);
  if ('error' in firstSample) say(`warning: server CPU and memory unavailable (${firstSample.error})`);

  // Rooms: created (one creator each, free, live) or given.
  let roomIds = opts.roomIds;
  let owners: (string | undefined)[] = roomIds.map(() => opts.ownerToken);
  if (roomIds.length === 0) {
    say(`creating ${opts.rooms} live room(s)…`);
    const rooms = await pool(
      Array.from({ length: opts.rooms }, (_, i) => i),
      Math.min(opts.registerConcurrency, 16),
      async (i) => {
        const creator = await api.register('creator');
        const room = { roomId: await api.liveRoom(creator.token, `load test room ${i + 1}`), token: creator.token };
        created.push(room);
        return room;
      },
    );
    roomIds = rooms.map((r) => r.roomId);
    owners = rooms.map((r) => r.token);
  }
  const rates = { ...opts.rates };
  if (rates.vote > 0 && owners.some((t) => !t)) {
    say('warning: poll votes need the rooms’ owner (--owner-token with --rooms ids); no votes this run');
    rates.vote = 0;
  }

  // Accounts, in parallel batches (or some kept from an earlier run with --accounts-file).
  const accounts = Math.ceil(opts.viewers / opts.connectionsPerAccount);
  const kept = opts.accountsFile ? readAccounts(opts.accountsFile, opts.url) : [];
  const missing = Math.max(0, accounts - kept.length);
  let lastShown = 0;
  const registering = Date.now();
  const fresh = await pool(
    Array.from({ length: missing }, (_, i) => i),
    opts.registerConcurrency,
    async () => (await api.register('viewer')).token,
    (done) => {
      if (!opts.quiet && process.stderr.isTTY && (Date.now() - lastShown > 1000 || done === missing)) {
        lastShown = Date.now();
        process.stderr.write(`\r\x1b[Kregistering viewers ${done}/${missing}`);
      }
    },
  );
  if (!opts.quiet && process.stderr.isTTY && missing > 0) process.stderr.write('\n');
  const tokens = [...kept, ...fresh].slice(0, accounts);
  say(
    `${kept.length ? `${Math.min(kept.length, accounts)} viewer account(s) from ${opts.accountsFile}, ` : ''}` +
      `${missing} registered in ${round((Date.now() - registering) / 1000)} s`,
  );
  if (opts.accountsFile && missing > 0) writeAccounts(opts.accountsFile, opts.url, [...kept, ...fresh]);

  // Wallets, for tips: enough for the whole run at the tip rate, with a margin.
  if (rates.tip > 0) {
    const perAccount = Math.min(
      100_000,
      Math.ceil(
        rates.tip *
          opts.connectionsPerAccount *
          (expectedRampSeconds + opts.durationSeconds + 10) *
          opts.tipAmount *
          1.5,
      ) +
        opts.tipAmount * 5,
    );
    say(`topping up ${accounts} wallets with ${perAccount} each…`);
    await pool(tokens, opts.registerConcurrency, (token) => api.topUp(token, perAccount));
  }

  // Workers, each with its share of the viewers and of the ramp.
  const workerCount = Math.min(opts.workers, opts.viewers);
  const shares: ViewerSpec[][] = Array.from({ length: workerCount }, () => []);
  for (let i = 0; i < opts.viewers; i++) {
    shares[i % workerCount].push({ gid: i, token: tokens[i % accounts], roomId: roomIds[i % roomIds.length] });
  }
  const workers: Worker[] = [];
  const finals = new Map<number, Snapshot>();
  const rampedWorkers = new Set<number>();
  const latest = new Map<number, Snapshot>();
  const totals = new Totals();
  let pendingSeq = 0;
  /** Per-second intake: snapshots answering request `seq`. */
  const intake = new Map<number, Snapshot[]>();
  let workerFailure: Error | undefined;
  const ready = await Promise.all(
    shares.map(
      (viewers, index) =>
        new Promise<Worker>((resolve, reject) => {
          const setup: WorkerSetup = {
            index,
            url: opts.url,
            viewers,
            rampPerSecond: opts.rampPerSecond / workerCount,
            rates,
            tipAmount: opts.tipAmount,
            pollOptions: POLL_OPTIONS.length,
            chatPadding: opts.chatPadding,
            ackTimeoutMs: opts.ackTimeoutMs,
            connectTimeoutMs: 15_000,
            maxConnecting: 1000,
          };
          const w = spawnWorker(setup);
          w.on('message', (m: FromWorker) => {
            if (m.type === 'ready') resolve(w);
            else if (m.type === 'ramped') rampedWorkers.add(m.worker);
            else if (m.type === 'snap') {
              latest.set(m.worker, m);
              const list = intake.get(m.seq) ?? [];
              list.push(m);
              intake.set(m.seq, list);
            } else if (m.type === 'final') finals.set(m.worker, m);
          });
          w.on('error', (err) => {
            workerFailure ??= err;
            reject(err);
          });
        }),
    ),
  );
  workers.push(...ready);
  const tell = (m: ToWorker) => {
    for (const w of workers) w.postMessage(m);
  };

  // Polls: each room's owner opens one, and a new one every 1/rate seconds.
  const ownerSockets: LoadSocket[] = [];
  let pollTimer: NodeJS.Timeout | undefined;
  const openPolls = new Map<string, string[]>();
  let pollErrors = 0;
  if (rates.vote > 0) {
    say('opening polls…');
    await pool(
      roomIds.map((roomId, i) => ({ roomId, token: owners[i]! })),
      16,
      async ({ roomId, token }) => {
        const sock = await new Promise<LoadSocket>((resolve, reject) =>
          LoadSocket.connect(opts.url, { token }, {}, (err, s) =>
            err ? reject(new SetupError(err.message)) : resolve(s!),
          ),
        );
        ownerSockets.push(sock);
        await sock.request('room:join', { roomId });
        openPolls.set(roomId, []);
        await rotatePoll(sock, roomId);
      },
    );
    const period = Math.max(2, 1 / rates.vote) * 1000;
    pollTimer = setInterval(() => {
      roomIds.forEach((roomId, i) => {
        void rotatePoll(ownerSockets[i], roomId).catch(() => pollErrors++);
      });
    }, period);
  }
  async function rotatePoll(sock: LoadSocket, roomId: string): Promise<void> {
    const open = openPolls.get(roomId)!;
    // At most two open: the new one, and the previous one for votes still on their way.
    while (open.length >= 2) await sock.request('poll:close', { roomId, pollId: open.shift() });
    const { poll } = await sock.request<{ poll: { id: string } }>('poll:create', {
      roomId,
      question: 'Load test poll',
      options: POLL_OPTIONS,
    });
    open.push(poll.id);
    tell({ type: 'polls', polls: { [roomId]: poll.id } });
  }

  // The run: ramp, then load for `duration`, then drain.
  const t0 = monoMs();
  const cpuAtStart = process.cpuUsage();
  tell({ type: 'start', t0 });
  say(
    `${opts.viewers} viewers over ${roomIds.length} room(s), ${workerCount} worker(s), ramp ${opts.rampPerSecond}/s, ${opts.durationSeconds} s of load`,
  );

  type Phase = 'ramp' | 'load' | 'drain';
  let phase: Phase = 'ramp';
  const phaseOf = new Map<number, Phase>();
  const timeline: SecondPoint[] = [];
  const serverSamples: ServerSample[] = 'error' in firstSample ? [] : [firstSample];
  let lastCpu = process.cpuUsage();
  let lastCpuAt = monoMs();
  let peakConnected = 0;
  let rampEnd: number | undefined;
  let loadEnd: number | undefined;
  let loadStartAt = 0;
  /** The load window's ends: this process's CPU then, and the server's as /metrics said soon after. */
  type Mark = { at: number; cpu: NodeJS.CpuUsage; server?: ServerSample };
  const mark = async (): Promise<Mark> => ({ at: monoMs(), cpu: process.cpuUsage(), server: await sample() });
  const steady = { deliveries: 0, frames: 0, sent: 0 };
  /** The hint already printed while running, not printed again at the end. */
  let hinted: string | undefined;
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('\ninterrupted: stopping the load (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);

  const sample = async () => {
    const s = await api.serverProcess(opts.metricsToken, 5000);
    if ('error' in s) return undefined;
    serverSamples.push(s);
    return s;
  };

  /** Folds the snapshots answering request `seq` into the totals and the timeline. */
  const settleSecond = (seq: number) => {
    const snaps = intake.get(seq) ?? [];
    intake.delete(seq);
    const second = new Histogram();
    let deliveries = 0;
    let frames = 0;
    let sent = 0;
    let errors = 0;
    for (const s of snaps) {
      totals.add(s);
      if (s.hists.latency) second.merge(s.hists.latency);
      deliveries += s.counters.deliveries ?? 0;
      frames += s.counters.frames ?? 0;
      for (const [k, v] of Object.entries(s.counters)) if (k.startsWith('sent:')) sent += v;
      errors += Object.values(s.errors).reduce((a, b) => a + b, 0);
    }
    if (phaseOf.get(seq) === 'load') {
      steady.deliveries += deliveries;
      steady.frames += frames;
      steady.sent += sent;
    }
    phaseOf.delete(seq);
    const connected = [...latest.values()].reduce((a, s) => a + s.connected, 0);
    peakConnected = Math.max(peakConnected, connected);
    const now = monoMs();
    const cpu = process.cpuUsage();
    const genCpu = (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1e3 / (now - lastCpuAt);
    lastCpu = cpu;
    lastCpuAt = now;
    const t = round((now - t0) / 1000, 1);
    const server = serverSamples.at(-1);
    // Readings close together give a noisy rate: compare with one at least 1.5 s older.
    const before = server && [...serverSamples].reverse().find((x) => server.at - x.at >= 1500);
    const point: SecondPoint = {
      t,
      connected,
      deliveries,
      frames,
      sent,
      errors,
      p50: second.count ? round(second.quantile(0.5), 2) : undefined,
      p99: second.count ? round(second.quantile(0.99), 2) : undefined,
      generatorCpuPercent: round(genCpu * 100),
      serverCpuPercent:
        server && before && server.at > before.at
          ? round(((server.cpuSeconds - before.cpuSeconds) / ((server.at - before.at) / 1000)) * 100)
          : undefined,
      serverRssMb: server ? mb(server.rssBytes) : undefined,
    };
    timeline.push(point);
    return point;
  };

  const progress = (point: SecondPoint) => {
    if (opts.quiet) return;
    const elapsed = (monoMs() - t0) / 1000;
    const total = (rampEnd ?? expectedRampSeconds) + opts.durationSeconds + opts.drainSeconds;
    const frac = Math.min(1, elapsed / total);
    const bar = `${'#'.repeat(Math.round(frac * 20))}${'-'.repeat(20 - Math.round(frac * 20))}`;
    const latency = totals.hist('latency');
    const p99 = latency.count ? `${round(latency.quantile(0.99), 1)}ms` : '-';
    const line = `[${bar}] ${phase.padEnd(5)} ${Math.round(elapsed)}/${Math.round(total)}s  connected ${point.connected}/${opts.viewers}  deliveries/s ${point.deliveries}  p99 ${p99}  errors ${totals.errorCount()}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else if (timeline.length % 5 === 1) process.stderr.write(`${line}\n`);
  };

  const hintOnce = () => {
    if (hinted) return;
    const refused = Object.entries(totals.errors)
      .filter(([k]) => k.startsWith('connect '))
      .reduce((a, [, v]) => a + v, 0);
    if (refused > 0 && refused >= Math.max(5, opts.viewers * 0.05)) {
      hinted = connectHint(totals.errors) ?? 'many connections are failing';
      process.stderr.write(`\n${hinted}\n`);
    }
  };

  let secondTimer: NodeJS.Timeout | undefined;
  let metricsBusy = false;
  const tickSecond = () => {
    if (pendingSeq > 0) {
      const point = settleSecond(pendingSeq);
      progress(point);
      hintOnce();
    }
    pendingSeq++;
    phaseOf.set(pendingSeq, phase);
    tell({ type: 'snap', seq: pendingSeq });
    if (!metricsBusy && pendingSeq % 2 === 0) {
      metricsBusy = true;
      void sample().finally(() => {
        metricsBusy = false;
      });
    }
  };
  tickSecond();
  secondTimer = setInterval(tickSecond, 1000);

  const rampDeadline = t0 + (expectedRampSeconds + 30) * 1000;
  while (!interrupted && !workerFailure && rampedWorkers.size < workerCount && monoMs() < rampDeadline) await sleep(20);
  rampEnd = round((monoMs() - t0) / 1000, 1);
  loadStartAt = monoMs();
  phase = 'load';
  const steadyFrom = await mark();
  while (!interrupted && !workerFailure && monoMs() - loadStartAt < opts.durationSeconds * 1000) await sleep(100);
  tell({ type: 'stop' });
  const steadyTo = await mark();
  loadEnd = round((monoMs() - t0) / 1000, 1);
  phase = 'drain';
  if (pollTimer) clearInterval(pollTimer);
  await sleep(opts.drainSeconds * 1000);
  clearInterval(secondTimer);
  secondTimer = undefined;

  // The last counts, then the workers close their sockets and go.
  if (pendingSeq > 0) settleSecond(pendingSeq);
  tell({ type: 'close' });
  const finalDeadline = Date.now() + 10_000;
  while (finals.size < workers.length && Date.now() < finalDeadline && !workerFailure) await sleep(20);
  for (const f of finals.values()) totals.add(f);
  const unansweredAtEnd = [...finals.values()].reduce((a, f) => a + f.pendingAcks, 0);
  await Promise.all(workers.map((w) => w.terminate()));
  for (const s of ownerSockets) s.close();
  process.off('SIGINT', onSigint);
  if (workerFailure) throw workerFailure;

  const endSample = await sample();
  if (!opts.keepRooms && created.length) {
    await pool(created, 8, ({ roomId, token }) => api.endRoom(token, roomId)).catch((err: Error) =>
      say(`warning: rooms not ended: ${err.message}`),
    );
    created.length = 0;
  }

  // The result.
  const byCode: Record<string, number> = {};
  const byEvent: Record<string, Record<string, number>> = {};
  for (const [key, n] of Object.entries(totals.errors)) {
    const [event, code] = key.split(' ');
    byCode[code] = (byCode[code] ?? 0) + n;
    byEvent[event] ??= {};
    byEvent[event][code] = (byEvent[event][code] ?? 0) + n;
  }
  const loadSeconds = (steadyTo.at - steadyFrom.at) / 1000;
  const sent: Record<string, number> = {};
  for (const [k, v] of Object.entries(totals.counters)) if (k.startsWith('sent:')) sent[k.slice(5)] = v;
  const framesByEvent: Record<string, number> = {};
  for (const [k, v] of Object.entries(totals.counters)) if (k.startsWith('frames:')) framesByEvent[k.slice(7)] = v;
  const acks: Record<string, { ok: number } & Partial<Percentiles>> = {};
  for (const [event, ok] of Object.entries(totals.acks)) {
    const h = event === 'room:join' ? totals.hist('join') : totals.hist(`ack:${event}`);
    const { p50, p95, p99, max } = h.percentiles();
    acks[event] = { ok, p50, p95, p99, max };
  }
  const genCpuSeconds = (steadyTo.cpu.user + steadyTo.cpu.system - steadyFrom.cpu.user - steadyFrom.cpu.system) / 1e6;
  const genCpuShare = loadSeconds > 0 ? genCpuSeconds / loadSeconds : 0;
  // The server's CPU between the two /metrics readings (each taken just after its end of the window).
  const from = steadyFrom.server;
  const to = steadyTo.server;
  const serverCpuSeconds = from && to ? to.cpuSeconds - from.cpuSeconds : undefined;
  const serverCpuShare =
    from && to && serverCpuSeconds !== undefined && to.at > from.at
      ? serverCpuSeconds / ((to.at - from.at) / 1000)
      : undefined;
  const deliveriesPerSecond = loadSeconds > 0 ? steady.deliveries / loadSeconds : 0;
  const rss = serverSamples.map((s) => s.rssBytes);
  const whole = process.cpuUsage(cpuAtStart);
  const summary = {
    url: opts.url,
    startedAt,
    viewers: opts.viewers,
    rooms: roomIds.length,
    accounts,
    workers: workerCount,
    rates,
    rampSeconds: rampEnd,
    loadSeconds: round(loadSeconds),
    peakConnected,
    connectMs: totals.hist('connect').percentiles(),
    joinMs: totals.hist('join').percentiles(),
    deliveryLatencyMs: totals.hist('latency').percentiles(),
    deliveries: totals.counters.deliveries ?? 0,
    deliveriesPerSecond: Math.round(deliveriesPerSecond),
    framesPerSecond: loadSeconds > 0 ? Math.round(steady.frames / loadSeconds) : 0,
    eventsSentPerSecond: loadSeconds > 0 ? Math.round(steady.sent / loadSeconds) : 0,
    framesByEvent,
    sent,
    acks,
    errors: { total: totals.errorCount(), byCode, byEvent },
    unansweredAtEnd,
    pollErrors,
    server:
      serverCpuSeconds !== undefined && serverCpuShare !== undefined && endSample
        ? {
            cpuSeconds: round(serverCpuSeconds, 2),
            cpuPercent: round(serverCpuShare * 100),
            rssMb: mb(endSample.rssBytes),
            rssMaxMb: mb(Math.max(...rss)),
            eventLoopLagP99Ms:
              endSample.eventLoopLagP99Ms === undefined ? undefined : round(endSample.eventLoopLagP99Ms, 2),
          }
        : { error: 'error' in firstSample ? firstSample.error : 'no /metrics samples' },
    generator: {
      cpuSeconds: round(genCpuSeconds, 2),
      cpuPercent: round(genCpuShare * 100),
      cpuSecondsWholeRun: round((whole.user + whole.system) / 1e6, 2),
      rssMb: mb(process.memoryUsage().rss),
    },
    // The claim to check: the generator spends less CPU per delivery than the server (ratio < 1).
    generatorCpuPerServerCpu: serverCpuShare ? round(genCpuShare / serverCpuShare, 2) : undefined,
    deliveriesPerServerCpuSecond: serverCpuShare ? Math.round(deliveriesPerSecond / serverCpuShare) : undefined,
    deliveriesPerGeneratorCpuSecond: genCpuShare > 0 ? Math.round(deliveriesPerSecond / genCpuShare) : undefined,
    interrupted,
    report: null as string | null,
  };
  if (opts.report) {
    const html = renderReport({
      command: `lectern-loadtest ${argv.join(' ')}`,
      startedAt,
      summary,
      timeline,
      rampEnd,
      loadEnd,
    });
    summary.report = writeHtml(opts.report, html);
  }
  if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\n');
  const hint = connectHint(totals.errors) ?? eventHint(totals.errors);
  if (hint && hint !== hinted) process.stderr.write(`${hint}\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

/** Tokens kept by an earlier run against the same server (none if the file is absent or for another). */
function readAccounts(file: string, url: string): string[] {
  if (!existsSync(file)) return [];
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { url?: string; tokens?: unknown };
    if (saved.url !== url || !Array.isArray(saved.tokens)) return [];
    return saved.tokens.filter((t): t is string => typeof t === 'string');
  } catch {
    return [];
  }
}

function writeAccounts(file: string, url: string, tokens: string[]): void {
  // Bearer tokens: readable by this user only.
  writeFileSync(file, JSON.stringify({ url, savedAt: new Date().toISOString(), tokens }), { mode: 0o600 });
}

/** Writes the report where asked, or in the temp directory when that is not writable. */
function writeHtml(file: string, html: string): string | null {
  try {
    writeFileSync(file, html);
    return file;
  } catch {
    const fallback = path.join(tmpdir(), path.basename(file));
    try {
      writeFileSync(fallback, html);
      return fallback;
    } catch {
      return null;
    }
  }
}

function connectHint(errors: Record<string, number>): string | undefined {
  const has = (key: string) => (errors[key] ?? 0) > 0;
  if (has('connect RATE_LIMITED')) {
    return (
      'hint: the server refused connections with RATE_LIMITED: every simulated viewer comes from 127.0.0.1, so ' +
      'start the server with a raised MAX_CONNECTIONS_PER_IP (and MAX_CONNECTIONS_PER_USER with ' +
      '--connections-per-account); --server-env prints the settings for this load'
    );
  }
  if (has('connect EMFILE') || has('connect ENFILE')) {
    return 'hint: out of file descriptors: raise `ulimit -n` for the generator and the server';
  }
  if (has('connect EADDRNOTAVAIL')) {
    return 'hint: out of local ports: widen net.ipv4.ip_local_port_range or use fewer viewers';
  }
  if (has('connect ECONNREFUSED')) return 'hint: connections were refused: is the server still running?';
  if (has('connect UNAUTHENTICATED')) {
    return 'hint: the server refused the tokens: expired, or from another database (delete the --accounts-file)';
  }
  if (has('connect CONNECT_TIMEOUT') || has('connect ECONNRESET')) {
    return 'hint: connections time out or are reset: the server cannot keep up with this --ramp; lower it';
  }
  return undefined;
}

function eventHint(errors: Record<string, number>): string | undefined {
  const limited = Object.keys(errors).filter((k) => k.endsWith(' RATE_LIMITED'));
  if (limited.length === 0) return undefined;
  return (
    `hint: ${limited.join(', ')}: the server's per-connection or per-user limits are lower than this load ` +
    '(SOCKET_EVENTS_PER_SECOND, CHAT_MESSAGES_PER_SECOND, CHAT_BURST, LIKES_PER_SECOND); --server-env prints them'
  );
}

/**
 * A worker thread running worker.ts. Node cannot start a .ts file in a worker by itself, so the
 * worker first loads tsx's CommonJS hook (resolved from here, wherever the command runs).
 */
function spawnWorker(setup: WorkerSetup): Worker {
  const compiled = path.join(__dirname, 'worker.js');
  if (existsSync(compiled)) return new Worker(compiled, { workerData: setup });
  // (Under tsx's own `require`, resolved paths carry a `?namespace=` query: not a file name.)
  const tsx = require.resolve('tsx/cjs/api').replace(/\?.*$/, '');
  const file = path.join(__dirname, 'worker.ts');
  const from = __filename.replace(/\?.*$/, '');
  const bootstrap = `require(${JSON.stringify(tsx)}).require(${JSON.stringify(file)}, ${JSON.stringify(from)});`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`lectern-loadtest: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
