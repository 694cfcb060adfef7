import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../../config';
import type { DB } from '../../db';
import type { EngagementEvent } from '../../events';
import type { Logger } from '../../log';
import { loadCandidates, loadViewerContext } from './candidates';
import type { OnlineLiveRanker } from './ranker';
import type { LiveCandidate, ViewerContext } from './types';

/**
 * Online learning of the live ranker from the engagement stream: every time a signed-in viewer
 * joins a live room (`room.joined`), that is a choice among the rooms live at that moment, and the
 * ranker takes one step of its conditional logit on it (`OnlineLiveRanker.learn`), with the
 * viewer's history as it was just before the join.
 *
 * Off the request path: `observe` only queues (bounded; a full queue drops the join and counts
 * it), and one background loop reads Postgres (the viewer's history; the live rooms, shared by
 * the joins of a couple of seconds) and learns, one join at a time. It runs on the main thread,
 * next to the ranker it updates, which scores pages there; a step is a few microseconds per live
 * room (`lectern_live_learn_seconds` measures it). Errors are logged, never thrown.
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
  /** Joins dropped because the queue was full. */
  dropped: number;
  failed: number;
  /** Time of the `learn` calls (ms): the mean and the slowest. */
  learnMsMean: number;
  learnMsMax: number;
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
  /** At most this many live rooms are candidates (the most recently started; default 500). */
  maxLive?: number;
  /**
   * A step looks at the chosen room and at most this many others (default 100): the busiest half
   * and a random sample of the rest, so that its cost does not grow with the rooms live.
   */
  maxOthers?: number;
  /** Stand-ins for the Postgres reads (unit tests): the live rooms, and a viewer's history before a join. */
  loadLive?: () => Promise<LiveCandidate[]>;
  loadContext?: (viewerId: string, asOf: { roomId: string; at: Date }) => Promise<ViewerContext>;
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

  const loadLive =
    deps.loadLive ??
    (async () =>
      (await loadCandidates(db, config, null, { upcomingDays: 0, maxLive, maxUpcoming: 0 })).map((c) => c.candidate));
  const loadContext = deps.loadContext ?? ((viewerId, asOf) => loadViewerContext(db, viewerId, asOf));

  const queue: Join[] = [];
  const recent = new Map<string, number>();
  let running: Promise<void> | undefined;
  let closed = false;
  const counts = { learned: 0, skipped: 0, dropped: 0, failed: 0 };
  let learnMsTotal = 0;
  let learnMsMax = 0;

  const metrics = deps.registry
    ? {
        outcomes: new Counter({
          name: 'lectern_live_learn_total',
          help: 'Joins the live ranker learned from online, by outcome (learned, skipped, dropped, failed)',
          labelNames: ['outcome'],
          registers: [deps.registry],
        }),
        seconds: new Histogram({
          name: 'lectern_live_learn_seconds',
          help: 'Time of one online learning step of the live ranker (the learn call, main thread)',
          buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025],
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

  async function learnFrom(join: Join): Promise<void> {
    let rooms = await liveRooms(false);
    // A room that went live after the list was read: read it again, once.
    if (!rooms.some((r) => r.roomId === join.roomId) && live && Date.now() - live.at > 50) {
      rooms = await liveRooms(true);
    }
    if (!rooms.some((r) => r.roomId === join.roomId)) return count('skipped');
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
    const started = performance.now();
    const loss = ranker.learn(viewer, candidates, join.roomId, new Date(join.at));
    const ms = performance.now() - started;
    if (loss === null) return count('skipped');
    learnMsTotal += ms;
    learnMsMax = Math.max(learnMsMax, ms);
    metrics?.seconds.observe(ms / 1000);
    count('learned');
  }

  async function drain(): Promise<void> {
    while (queue.length > 0 && !closed) {
      const join = queue.shift()!;
      try {
        await learnFrom(join);
      } catch (err) {
        count('failed');
        log.warn({ err, roomId: join.roomId }, 'the live ranker could not learn from a join');
      }
    }
  }

  const kick = () => {
    running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain).finally(() => {
      running = undefined;
      if (queue.length > 0 && !closed) kick();
    });
  };

  return {
    observe(event) {
      try {
        if (closed || event.type !== 'room.joined' || !event.userId) return;
        // Owners opening their own room, and viewers with no access (a paid room's card), chose nothing.
        if (event.creatorId === event.userId || event.data.access === 'none') return;
        const key = `${event.userId}:${event.roomId}`;
        const last = recent.get(key);
        recent.delete(key);
        recent.set(key, event.at);
        if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
        if (last !== undefined && event.at - last < rejoinMs) return count('skipped');
        if (queue.length >= maxQueue) return count('dropped');
        queue.push({ viewerId: event.userId, roomId: event.roomId, creatorId: event.creatorId, at: event.at });
        kick();
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
    }),
    close() {
      closed = true;
      queue.length = 0;
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
