import { type CoWatchOptions, CoWatchStats } from './cowatch';
import {
  type CandidateInput,
  FEATURE_NAMES,
  FEATURES,
  type HistoryInput,
  historyNorms,
  writeFeatures,
} from './features';
import {
  DEFAULT_LIVE_WEIGHTS,
  type LiveLearnFrom,
  LiveScorer,
  type LiveStep,
  type LiveWeights,
  type TrainOptions,
} from './scorer';
import type { LiveCandidate, LiveRanker, LiveReason, RankedRoom, ViewerContext } from './types';

/**
 * "Live now for you": ranks the rooms that can be watched now (and upcoming ones) for one viewer,
 * repeat-aware and availability-aware. It scores only the candidates it is given, so an ended
 * room, absent from them, is never returned. See docs/recommender.md, "Live now for you".
 */
export interface LiveRankerOptions {
  /** The scoring weights (default: `DEFAULT_LIVE_WEIGHTS`, a shipped constant). */
  weights: LiveWeights;
  /** Co-watch statistics to use (shared with another ranker), or options for new ones. */
  stats: CoWatchStats;
  cowatch: Partial<CoWatchOptions>;
  /** How `learn` updates the weights online. */
  training: Partial<TrainOptions>;
  /** At most this many of the viewer's creators (most recent first) are looked at. */
  maxHistory: number;
}

export interface OnlineLiveRanker extends LiveRanker {
  /** `rank`, synchronously. */
  rankNow(viewer: ViewerContext, candidates: readonly LiveCandidate[], now: Date): RankedRoom[];
  /**
   * The engagement stream: viewer `viewerId` started watching a room of `creatorId` at `at`.
   * Updates the co-watch statistics (bounded work and memory, see `CoWatchStats`).
   */
  observeWatch(viewerId: string, creatorId: string, at: Date | number): void;
  /**
   * Online learning: with these rooms available (`viewer` as it was just before), the viewer
   * opened `chosenRoomId`. One AdaGrad step of the conditional logit; returns its loss, or null
   * when the room was not among the candidates (or there was no choice to make).
   */
  learn(viewer: ViewerContext, candidates: readonly LiveCandidate[], chosenRoomId: string, now: Date): number | null;
  /**
   * The features of one choice, for a step taken elsewhere (`LiveStepper`, in the recommender's
   * worker thread): what `learn` prepares on this thread, without the step. Null when `learn`
   * would return null. The array is the caller's (it may be transferred to a worker).
   */
  choice(viewer: ViewerContext, candidates: readonly LiveCandidate[], chosenRoomId: string, now: Date): LiveStep | null;
  /** Serves weights learned elsewhere from now on (the AdaGrad state of this ranker's own `learn` is kept). */
  setWeights(weights: LiveWeights): void;
  /** What a step taken elsewhere starts from: the weights now, the prior and the training options. */
  learningState(): Required<LiveLearnFrom>;
  weights(): LiveWeights;
  readonly stats: CoWatchStats;
}

const F: number = FEATURES;
const REPEAT_END = FEATURE_NAMES.indexOf('knn');
const COWATCH_END = FEATURE_NAMES.indexOf('logPopularity');
const GROUPS: { code: LiveReason; from: number; to: number }[] = [
  { code: 'watched_before', from: 0, to: REPEAT_END },
  { code: 'similar_viewers', from: REPEAT_END, to: COWATCH_END },
  { code: 'popular_now', from: COWATCH_END, to: COWATCH_END + 1 },
  { code: 'following', from: FEATURE_NAMES.indexOf('following'), to: FEATURE_NAMES.indexOf('following') + 1 },
  { code: 'subscribed', from: FEATURE_NAMES.indexOf('subscribed'), to: FEATURE_NAMES.indexOf('subscribed') + 1 },
  { code: 'tags', from: FEATURE_NAMES.indexOf('tags'), to: FEATURE_NAMES.indexOf('tags') + 1 },
];

export const REASON_TEXT: Record<LiveReason, string> = {
  watched_before: 'You have watched this creator before',
  following: 'You follow this creator',
  subscribed: 'You subscribe to this creator',
  similar_viewers: 'Viewers who watch what you watch are here',
  tags: 'Matches your interests',
  popular_now: 'Popular right now',
  upcoming: 'Starting soon',
};

interface Prepared {
  rooms: LiveCandidate[];
  x: Float32Array;
}

export function createLiveRanker(options: Partial<LiveRankerOptions> = {}): OnlineLiveRanker {
  const stats = options.stats ?? new CoWatchStats(options.cowatch);
  const prior = options.weights ?? DEFAULT_LIVE_WEIGHTS;
  const scorer = new LiveScorer(prior, options.training);
  const maxHistory = options.maxHistory ?? 100;

  const prepare = (viewer: ViewerContext, candidates: readonly LiveCandidate[], now: Date): Prepared => {
    const nowSeconds = now.getTime() / 1000;
    // The viewer's creators, merged by id, most recent first (ties keep the given order).
    const own = new Map<string, { count: number; lastAt: number }>();
    for (const w of viewer.watched) {
      if (!(w.count > 0) || !Number.isFinite(w.count) || !Number.isFinite(w.lastAt)) continue; // bad input: ignored
      const seen = own.get(w.creatorId);
      if (seen) {
        seen.count += w.count;
        seen.lastAt = Math.max(seen.lastAt, w.lastAt);
      } else own.set(w.creatorId, { count: w.count, lastAt: w.lastAt });
    }
    const recent = [...own.entries()].sort((a, b) => b[1].lastAt - a[1].lastAt).slice(0, maxHistory);
    let total = 0;
    for (const w of own.values()) total += w.count;
    const lastCreator = recent.length > 0 ? recent[0][0] : null;
    const history: HistoryInput = {
      ids: recent.map(([creatorId]) => stats.id(creatorId)),
      lastAt: recent.map(([, w]) => w.lastAt / 1000),
      lastId: lastCreator === null ? -1 : stats.id(lastCreator),
      total,
    };
    const norms = historyNorms(history, stats);
    const follows = new Set(viewer.follows);
    const subscriptions = new Set(viewer.subscriptions);
    let tagNorm = 0;
    for (const v of Object.values(viewer.tags)) if (v > 0 && Number.isFinite(v)) tagNorm += v * v;
    tagNorm = Math.sqrt(tagNorm);

    const seenRooms = new Set<string>();
    const rooms = candidates.filter((c) => !seenRooms.has(c.roomId) && seenRooms.add(c.roomId));
    const x = new Float32Array(rooms.length * F);
    rooms.forEach((room, i) => {
      const mine = own.get(room.creatorId);
      let tagAffinity = 0;
      if (tagNorm > 0 && room.tags.length > 0) {
        let dot = 0;
        for (const t of new Set(room.tags)) {
          const w = viewer.tags[t];
          if (w > 0 && Number.isFinite(w)) dot += w;
        }
        tagAffinity = Math.min(1, dot / (tagNorm * Math.sqrt(new Set(room.tags).size)));
      }
      const candidate: CandidateInput = {
        id: stats.id(room.creatorId),
        count: mine?.count ?? 0,
        lastAt: (mine?.lastAt ?? 0) / 1000,
        isLast: room.creatorId === lastCreator,
        popularity: popularity(room),
        following: follows.has(room.creatorId),
        subscribed: subscriptions.has(room.creatorId),
        tagAffinity,
        upcoming: room.status === 'scheduled',
      };
      writeFeatures(history, norms, candidate, stats, nowSeconds, x, i * F);
    });
    return { rooms, x };
  };

  const reasonOf = (room: LiveCandidate, x: Float32Array, offset: number): LiveReason => {
    if (room.status === 'scheduled') return 'upcoming';
    let best: LiveReason = 'popular_now';
    let bestValue = 0;
    for (const g of GROUPS) {
      let v = 0;
      for (let f = g.from; f < g.to; f++) v += scorer.w[f] * x[offset + f];
      if (v > bestValue + 1e-9) {
        best = g.code;
        bestValue = v;
      }
    }
    return best;
  };

  const rankNow = (viewer: ViewerContext, candidates: readonly LiveCandidate[], now: Date): RankedRoom[] => {
    const { rooms, x } = prepare(viewer, candidates, now);
    const scores = scorer.score(x, rooms.length);
    const order = rooms.map((_, i) => i);
    // Higher score first; ties (a cold start has nothing but popularity) by viewers now, then id.
    order.sort(
      (a, b) =>
        scores[b] - scores[a] ||
        popularity(rooms[b]) - popularity(rooms[a]) ||
        (rooms[a].roomId < rooms[b].roomId ? -1 : rooms[a].roomId > rooms[b].roomId ? 1 : 0),
    );
    return order.map((i) => {
      const code = reasonOf(rooms[i], x, i * F);
      return { roomId: rooms[i].roomId, score: scores[i], reason: { code, text: REASON_TEXT[code] } };
    });
  };

  const choice = (
    viewer: ViewerContext,
    candidates: readonly LiveCandidate[],
    chosenRoomId: string,
    now: Date,
  ): LiveStep | null => {
    const { rooms, x } = prepare(viewer, candidates, now);
    const positive = rooms.findIndex((r) => r.roomId === chosenRoomId);
    if (positive < 0 || rooms.length < 2) return null;
    return { x, n: rooms.length, positive };
  };

  return {
    stats,
    rankNow,
    rank: async (viewer, candidates, now) => rankNow(viewer, candidates, now),
    observeWatch(viewerId, creatorId) {
      stats.observe(viewerId, creatorId);
    },
    learn(viewer, candidates, chosenRoomId, now) {
      const step = choice(viewer, candidates, chosenRoomId, now);
      return step && scorer.update(step.x, step.n, step.positive);
    },
    choice,
    setWeights: (weights) => scorer.setWeights(weights),
    learningState: () => ({ weights: scorer.weights(), prior: { w: [...prior.w] }, training: { ...scorer.options } }),
    weights: () => scorer.weights(),
  };
}

/** Viewers now of a live room (0 for a scheduled one, or a count that is not a number). */
const popularity = (room: LiveCandidate) =>
  room.status === 'live' && Number.isFinite(room.viewers) ? Math.max(0, room.viewers) : 0;
