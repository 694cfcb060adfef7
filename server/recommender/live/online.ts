import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../../config';
import type { DB } from '../../db';
import type { EngagementEvent } from '../../events';
import type { Logger } from '../../log';
import { loadCandidates, loadViewerContext } from './candidates';
import type { OnlineLiveRanker } from './ranker';
import type { LiveLearnFrom, LiveLearnResult, LiveStep } from './scorer';
import type { LiveCandidate, ViewerContext } from './types';

/**
 * Online learning of the live ranker from the engagement stream: every time a signed-in viewer
 * joins a live room (`room.joined`) and stays (`minWatchMs`, 30 s by default: a viewer who leaves
 * at once was looking, not choosing — the watch time qualifies the join, as a platform counts a
 * view), that is a choice among the rooms live at that moment, and the ranker takes one step of
 * its conditional logit on it, with the viewer's history as it was just before the join.
 *
 * Off the request path: `observe` only queues (bounded; a full queue drops the join and counts
 * it), and one background loop reads Postgres (the viewer's history; the live rooms, shared by
 * the joins of a couple of seconds) and prepares each choice's features on this thread
 * (`OnlineLiveRanker.choice`: they need the co-watch statistics, which live here). The steps
 * themselves run in the recommender's trainer worker thread when there is one (`remote`, the
 * recommender with a trainer): the prepared choices go over in batches (up to `batchSize`, their
 * buffers transferred), the worker's `LiveScorer` takes the AdaGrad steps, and the weights it
 * answers are served from then on (`setWeights`). Without a recommender trainer, or when the worker
 * fails or does not answer in time, the steps are taken here (`OnlineLiveRanker.learn`), as the
 * fallback. `lectern_live_learn_seconds` measures, per step, this thread's preparation plus its
 * share of the batch's round trip to the worker (or the inline `learn` call). Errors are logged,
 * never thrown.
 */
export interface LiveLearner {
  /** Hands an engagement event over (only `room.joined` of a signed-in viewer is used). Never throws. */
  observe(event: EngagementEvent): void;
  /** Resolves once every join queued so far is processed (tests, shutdown). */
  idle(): Promise<void>;
  stats(): LiveLearnerStats;
  /** Stops: queued joins are dropped, nothing more is learned. */
  close(): void;
}

export interface LiveLearnerStats {
  queued: number;
  /** Steps taken. */
  learned: number;
  /** Joins with nothing to learn: a rejoin, one's own room, the only room live, a room gone. */
  skipped: number;
  /** Joins dropped because the queue (or the joins waiting out `minWatchMs`) was full. */
  dropped: number;
  /** Joins left before `minWatchMs`: not choices. */
  short: number;
  failed: number;
  /**
   * Time of a step (ms), the mean and the slowest: inline, the `learn` call; in the worker, the
   * preparation of its features here plus its share of the batch's round trip.
   */
  learnMsMean: number;
  learnMsMax: number;
  /** Batches learned in the trainer's worker (`remote`): how many, their steps, failures (then learned inline), round trips (ms). */
  worker: { batches: number; steps: number; failed: number; roundTripMsMean: number; roundTripMsMax: number };
}

/** Where steps can be taken off this thread: the recommender (`Recommender.learnLive`). */
export interface LiveStepRunner {
  /** Null: no host to take them now (learned inline). */
  learnLive(steps: LiveStep[], from?: LiveLearnFrom): Promise<LiveLearnResult> | null;
}

export interface LiveLearnerDeps {
  ranker: OnlineLiveRanker;
  db: Kysely<DB>;
  config: Pick<Config, 'mediaPublicBaseUrl'>;
  log: Logger;
  /** Viewers of live rooms now (the gateway's presence). */
  viewerCounts: (roomIds: string[]) => Promise<Map<string, number>>;
  registry?: Registry;
  /** Joins waiting at most; more are dropped (default 1000). */
  maxQueue?: number;
  /** The live rooms are read again after this long (ms, default 2000). */
  candidatesTtlMs?: number;
  /** A viewer joining the same room again within this long (ms) is not a new choice (default 30 min). */
  rejoinWindowMs?: number;
  /** A join counts as a choice once the viewer has stayed this long (ms, default 30,000; 0: at once). */
  minWatchMs?: number;
  /** At most this many live rooms are candidates (the most recently started; default 500). */
  maxLive?: number;
  /**
   * A step looks at the chosen room and at most this many others (default 100): the busiest half
   * and a random sample of the rest, so that its cost does not grow with the rooms live.
   */
  maxOthers?: number;
  /**
   * The recommender, if this node runs one: its trainer host (a worker thread) takes the steps.
   * Read at each batch (the recommender is built after the learner, and its worker may restart).
   */
  remote?: () => LiveStepRunner | undefined;
  /** Prepared steps sent to the worker in one message at most (default 32). */
  batchSize?: number;
  /** A batch the worker has not answered in this long (ms) is learned inline (default 5000); the worker gets no more until it answers. */
  remoteTimeoutMs?: number;
  /** Stand-ins for the Postgres reads (unit tests): the live rooms, and a viewer's history before a join. */
  loadLive?: () => Promise<LiveCandidate[]>;
  loadContext?: (viewerId: string, asOf: { roomId: string; at: Date }) => Promise<ViewerContext>;
}

interface Choice {
  viewer: ViewerContext;
  candidates: LiveCandidate[];
  roomId: string;
  now: Date;
}

/** A choice with its features, waiting to go to the worker. */
interface Prepared {
  choice: Choice;
  step: LiveStep;
  prepareMs: number;
}

interface Join {
  viewerId: string;
  roomId: string;
  creatorId: string | undefined;
  at: number;
}

/** Viewer-and-room pairs remembered for the rejoin window. */
const RECENT_MAX = 20_000;

export function createLiveLearner(deps: LiveLearnerDeps): LiveLearner {
  const { ranker, db, config, log } = deps;
  const maxQueue = deps.maxQueue ?? 1000;
  const ttlMs = deps.candidatesTtlMs ?? 2000;
  const rejoinMs = deps.rejoinWindowMs ?? 30 * 60_000;
  const maxLive = deps.maxLive ?? 500;
  const maxOthers = deps.maxOthers ?? 100;
  const batchSize = Math.max(1, deps.batchSize ?? 32);
  const remoteTimeoutMs = deps.remoteTimeoutMs ?? 5000;

  const loadLive =
    deps.loadLive ??
    (async () =>
      (await loadCandidates(db, config, null, { upcomingDays: 0, maxLive, maxUpcoming: 0 })).map((c) => c.candidate));
  const loadContext = deps.loadContext ?? ((viewerId, asOf) => loadViewerContext(db, viewerId, asOf));

  const queue: Join[] = [];
  const recent = new Map<string, number>();
  let running: Promise<void> | undefined;
  let closed = false;
  const minWatchMs = deps.minWatchMs ?? 30_000;
  /** Joins waiting out `minWatchMs`, by viewer and room: a leave before then cancels them. */
  const staying = new Map<string, NodeJS.Timeout>();
  const counts = { learned: 0, skipped: 0, dropped: 0, short: 0, failed: 0 };
  let learnMsTotal = 0;
  let learnMsMax = 0;
  const worker = { batches: 0, steps: 0, failed: 0, roundTripMsTotal: 0, roundTripMsMax: 0 };
  /** A batch is with the worker (possibly past its timeout): the next ones are learned inline until it answers. */
  let remoteBusy = false;

  const metrics = deps.registry
    ? {
        outcomes: new Counter({
          name: 'lectern_live_learn_total',
          help: 'Joins the live ranker learned from online, by outcome (learned, skipped, dropped, short: left too soon, failed)',
          labelNames: ['outcome'],
          registers: [deps.registry],
        }),
        seconds: new Histogram({
          name: 'lectern_live_learn_seconds',
          help: 'Time of one online learning step of the live ranker: in the worker, its feature preparation (main thread) plus its share of the batch round trip; inline, the learn call',
          buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025],
          registers: [deps.registry],
        }),
        remote: new Counter({
          name: 'lectern_live_learn_batches_total',
          help: "Batches of live ranker steps sent to the recommender's trainer worker, by outcome (ok; failed: learned inline)",
          labelNames: ['outcome'],
          registers: [deps.registry],
        }),
        queue: new Gauge({
          name: 'lectern_live_learn_queue',
          help: 'Joins waiting for the live ranker to learn from them',
          registers: [deps.registry],
          collect() {
            this.set(queue.length);
          },
        }),
      }
    : undefined;
  const count = (outcome: keyof typeof counts) => {
    counts[outcome]++;
    metrics?.outcomes.inc({ outcome });
  };

  /** The live rooms and their viewer counts, shared by the joins of `ttlMs`. */
  let live: { at: number; rooms: Promise<LiveCandidate[]> } | undefined;
  const liveRooms = (fresh: boolean): Promise<LiveCandidate[]> => {
    const now = Date.now();
    if (!live || fresh || now - live.at >= ttlMs) {
      const rooms = (async () => {
        const list = (await loadLive()).filter((c) => c.status === 'live');
        const viewers = list.length ? await deps.viewerCounts(list.map((c) => c.roomId)) : new Map<string, number>();
        for (const c of list) c.viewers = viewers.get(c.roomId) ?? 0;
        return list;
      })();
      live = { at: now, rooms };
      rooms.catch(() => {
        if (live?.rooms === rooms) live = undefined;
      });
    }
    return live.rooms;
  };

  /** What a join is a choice among, as the viewer saw it; null when it is none (the room is gone). */
  async function choiceOf(join: Join): Promise<Choice | null> {
    let rooms = await liveRooms(false);
    // A room that went live after the list was read: read it again, once.
    if (!rooms.some((r) => r.roomId === join.roomId) && live && Date.now() - live.at > 50) {
      rooms = await liveRooms(true);
    }
    if (!rooms.some((r) => r.roomId === join.roomId)) return null;
    const viewer = await loadContext(join.viewerId, { roomId: join.roomId, at: new Date(join.at) });
    // The rooms as the viewer saw them: without themselves in the room they chose.
    const chosen = rooms.find((r) => r.roomId === join.roomId)!;
    const candidates = [
      { ...chosen, viewers: Math.max(0, chosen.viewers - 1) },
      ...sampleOthers(
        rooms.filter((r) => r !== chosen && r.creatorId !== join.viewerId),
        maxOthers,
      ),
    ];
    return { viewer, candidates, roomId: join.roomId, now: new Date(join.at) };
  }

  const learnedStep = (ms: number) => {
    learnMsTotal += ms;
    learnMsMax = Math.max(learnMsMax, ms);
    metrics?.seconds.observe(ms / 1000);
    count('learned');
  };

  /** One step on this thread (`ranker.learn`): no worker, or the worker failed. */
  function learnInline(c: Choice): void {
    const started = performance.now();
    const loss = ranker.learn(c.viewer, c.candidates, c.roomId, c.now);
    const ms = performance.now() - started;
    if (loss === null) count('skipped');
    else learnedStep(ms);
  }

  /** Where the steps go now: the recommender's trainer host, unless there is none or it still owes an answer. */
  const remoteNow = (): LiveStepRunner | undefined => (remoteBusy ? undefined : deps.remote?.());

  /**
   * A batch of prepared steps to the trainer host; the weights it answers are served from then on.
   * If it fails, does not answer in time, or has no host now, the batch is learned on this thread.
   */
  async function flush(batch: Prepared[]): Promise<void> {
    if (batch.length === 0) return;
    const started = performance.now();
    let result: LiveLearnResult | null = null;
    const runner = remoteNow();
    let call: Promise<LiveLearnResult> | null = null;
    try {
      call =
        runner?.learnLive(
          batch.map((p) => p.step),
          ranker.learningState(),
        ) ?? null;
    } catch (err) {
      call = Promise.reject(err);
    }
    if (call) {
      remoteBusy = true;
      const settled = call.then(
        () => undefined,
        () => undefined,
      );
      void settled.then(() => {
        remoteBusy = false;
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), remoteTimeoutMs);
        timer.unref?.();
      });
      try {
        const answer = await Promise.race([call, timeout]);
        if (answer === 'timeout') throw new Error(`no answer from the trainer host in ${remoteTimeoutMs} ms`);
        ranker.setWeights(answer.weights);
        result = answer;
      } catch (err) {
        worker.failed++;
        metrics?.remote.inc({ outcome: 'failed' });
        log.warn({ err, steps: batch.length }, 'the live ranker could not learn in the trainer host; learning inline');
      } finally {
        clearTimeout(timer);
      }
    }
    if (!result) {
      // The steps' buffers may be gone (transferred): the choices are prepared again here.
      for (const p of batch) {
        try {
          learnInline(p.choice);
        } catch (err) {
          count('failed');
          log.warn({ err, roomId: p.choice.roomId }, 'the live ranker could not learn from a join');
        }
      }
      return;
    }
    const roundTripMs = performance.now() - started;
    worker.batches++;
    worker.steps += batch.length;
    worker.roundTripMsTotal += roundTripMs;
    worker.roundTripMsMax = Math.max(worker.roundTripMsMax, roundTripMs);
    metrics?.remote.inc({ outcome: 'ok' });
    // Each step: its features, prepared here, and its share of the round trip.
    for (const p of batch) learnedStep(p.prepareMs + roundTripMs / batch.length);
  }

  async function drain(): Promise<void> {
    let batch: Prepared[] = [];
    while (queue.length > 0 && !closed) {
      const join = queue.shift()!;
      try {
        const c = await choiceOf(join);
        if (!c) count('skipped');
        else if (!remoteNow()) learnInline(c);
        else {
          const started = performance.now();
          const step = ranker.choice(c.viewer, c.candidates, c.roomId, c.now);
          const prepareMs = performance.now() - started;
          if (!step) count('skipped');
          else batch.push({ choice: c, step, prepareMs });
        }
      } catch (err) {
        count('failed');
        log.warn({ err, roomId: join.roomId }, 'the live ranker could not learn from a join');
      }
      if (closed) return; // what is prepared is dropped with the queue
      if (batch.length >= batchSize || (batch.length > 0 && queue.length === 0)) {
        await flush(batch);
        batch = [];
      }
    }
  }

  const kick = () => {
    running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain).finally(() => {
      running = undefined;
      if (queue.length > 0 && !closed) kick();
    });
  };

  function enqueue(join: Join): void {
    if (closed) return;
    if (queue.length >= maxQueue) {
      count('dropped');
      return;
    }
    queue.push(join);
    kick();
  }

  return {
    observe(event) {
      try {
        if (closed || !event.userId) return;
        const key = `${event.userId}:${event.roomId}`;
        if (event.type === 'room.left') {
          const timer = staying.get(key);
          if (timer === undefined) return;
          clearTimeout(timer);
          staying.delete(key);
          return count('short');
        }
        if (event.type !== 'room.joined') return;
        // Owners opening their own room, and viewers with no access (a paid room's card), chose nothing.
        if (event.creatorId === event.userId || event.data.access === 'none') return;
        const last = recent.get(key);
        recent.delete(key);
        recent.set(key, event.at);
        if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
        if (last !== undefined && event.at - last < rejoinMs) return count('skipped');
        const join = { viewerId: event.userId, roomId: event.roomId, creatorId: event.creatorId, at: event.at };
        if (minWatchMs === 0) return enqueue(join);
        if (staying.size >= RECENT_MAX) return count('dropped');
        const timer = setTimeout(() => {
          staying.delete(key);
          enqueue(join);
        }, minWatchMs);
        timer.unref();
        staying.set(key, timer);
      } catch (err) {
        log.warn({ err }, 'the live learner could not queue a join');
      }
    },
    async idle() {
      while (running) await running;
    },
    stats: () => ({
      queued: queue.length,
      ...counts,
      learnMsMean: counts.learned ? learnMsTotal / counts.learned : 0,
      learnMsMax,
      worker: {
        batches: worker.batches,
        steps: worker.steps,
        failed: worker.failed,
        roundTripMsMean: worker.batches ? worker.roundTripMsTotal / worker.batches : 0,
        roundTripMsMax: worker.roundTripMsMax,
      },
    }),
    close() {
      closed = true;
      queue.length = 0;
      for (const timer of staying.values()) clearTimeout(timer);
      staying.clear();
    },
  };
}

/** At most `max` of `rooms`: the busiest half of them, and a uniform sample of the rest. */
export function sampleOthers(rooms: LiveCandidate[], max: number, random = Math.random): LiveCandidate[] {
  if (rooms.length <= max) return rooms;
  const byViewers = [...rooms].sort((a, b) => b.viewers - a.viewers);
  const busiest = Math.ceil(max / 2);
  const picked = byViewers.slice(0, busiest);
  const rest = byViewers.slice(busiest);
  // A partial Fisher–Yates shuffle: the first `max - busiest` of `rest` are a uniform sample.
  for (let i = 0; i < max - busiest; i++) {
    const j = i + Math.floor(random() * (rest.length - i));
    [rest[i], rest[j]] = [rest[j], rest[i]];
    picked.push(rest[i]);
  }
  return picked;
}
