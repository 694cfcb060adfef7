import { Random } from '../model/random';
import type { InteractionLog } from '../offline/csv';
import { CosineSimilarity } from '../offline/item-knn';
import { type Progress, silentProgress } from '../offline/progress';
import { CoWatchStats } from './cowatch';
import { buildChoiceExamples, type ChoiceExamples, TEST, TRAIN, VALIDATION } from './examples';
import { FEATURE_NAMES, FEATURES } from './features';
import {
  type LiveMetrics,
  type LiveSplit,
  liveBaselineRanks,
  liveMetrics,
  liveSplit,
  rankOf,
  trainingSets,
} from './protocol';
import { createLiveRanker } from './ranker';
import { DEFAULT_LIVE_WEIGHTS, LiveScorer, type LiveWeights } from './scorer';
import type { LiveCandidate, ViewerContext } from './types';

/**
 * `recsys:eval --task live`: the "which live room next" protocol (see protocol.ts), its three
 * baselines, and the live ranker with weights learned from the log's training rows.
 */
export interface LiveEvaluationOptions {
  /** Availability window, seconds. */
  window: number;
  seed: number;
  /** Most training epochs; the count is chosen on validation (each viewer's last training row). */
  epochs: number;
  learningRate: number;
  progress: Progress;
}

export const DEFAULT_LIVE_EVALUATION: LiveEvaluationOptions = {
  window: 7200,
  seed: 42,
  epochs: 6,
  learningRate: 0.1,
  progress: silentProgress,
};

/**
 * Not learned from a log: popularity now (the log's availability makes it biased, see
 * `buildChoiceExamples`; it stays the tie-break, as in the baselines) and what the log lacks.
 */
export const OFFLINE_FROZEN = ['logPopularity', 'following', 'subscribed', 'tags', 'upcoming'] as const;

export interface LiveEvaluationReport {
  model: LiveMetrics;
  popNow: LiveMetrics;
  repeat: LiveMetrics;
  itemKnn: LiveMetrics;
  details: {
    users: number;
    items: number;
    rows: number;
    testUsers: number;
    window: number;
    candidatesMedian: number;
    /** Share of test targets the viewer had watched before. */
    repeatShare: number;
    /** Share of test targets nobody else started in the window (candidates only as the answer). */
    hiddenTargetShare: number;
    /** The same metrics on the other test users only: no availability artifact there. */
    visibleTargets: {
      users: number;
      model: LiveMetrics;
      popNow: LiveMetrics;
      repeat: LiveMetrics;
      itemKnn: LiveMetrics;
    };
    /** The ranker with the shipped default weights, and the model with popularity learned too. */
    defaults: LiveMetrics & { visibleTargets: LiveMetrics };
    withPopularity: LiveMetrics & { visibleTargets: LiveMetrics; popularityWeight: number };
    trainingChoices: number;
    validationChoices: number;
    epochs: number;
    /** Validation NDCG@10 after each epoch. */
    validation: number[];
    weights: Record<string, number>;
    /** Largest difference between the test scores of the online ranker and of the offline features. */
    rankerVsOffline: number;
    /** Mean time of one `rank` call on a test viewer, milliseconds. */
    rankMillis: number;
    seconds: { baselines: number; examples: number; training: number; test: number; total: number };
  };
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
const roundMetrics = (m: LiveMetrics): LiveMetrics => ({
  hr1: round4(m.hr1),
  hr10: round4(m.hr10),
  ndcg10: round4(m.ndcg10),
});

/** Trains a conditional logit on the chosen events, `epochs` passes in a seeded random order. */
function fitChoices(
  ex: ChoiceExamples,
  events: number[],
  epochs: number,
  options: { learningRate: number; frozen: readonly string[]; seed: number },
  onEpoch?: (epoch: number, scorer: LiveScorer) => void,
): LiveScorer {
  const zero: LiveWeights = { w: DEFAULT_LIVE_WEIGHTS.w.map(() => 0) };
  const scorer = new LiveScorer(zero, { learningRate: options.learningRate, l2: 0, frozen: options.frozen });
  const order = events.slice();
  const rng = new Random(options.seed);
  const F = FEATURES;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    rng.shuffle(order);
    for (const e of order) {
      const a = ex.offsets[e];
      scorer.update(ex.x.subarray(a * F, ex.offsets[e + 1] * F), ex.offsets[e + 1] - a, ex.positive[e]);
    }
    onEpoch?.(epoch, scorer);
  }
  return scorer;
}

/** Ranks of the targets of the events of one kind under a scorer, from the offline features. */
function offlineRanks(split: LiveSplit, ex: ChoiceExamples, kind: number, scorer: LiveScorer): number[] {
  const ranks: number[] = [];
  for (let e = 0; e < ex.kind.length; e++) {
    if (ex.kind[e] !== kind) continue;
    const a = ex.offsets[e];
    const scores = scorer.score(ex.x.subarray(a * FEATURES), ex.offsets[e + 1] - a);
    ranks.push(rankOf(ex.available[e].items, scores, ex.available[e].popNow, ex.target[e], split.nameRank));
  }
  return ranks;
}

/** A test viewer as the online ranker sees them: their training rows as watched creators. */
function viewerContext(split: LiveSplit, u: number): ViewerContext {
  const { log } = split;
  const rows = split.rows.subarray(split.offsets[u], split.offsets[u + 1] - 1); // the test row is last
  const byCreator = new Map<string, { creatorId: string; count: number; lastAt: number; order: number }>();
  rows.forEach((r, k) => {
    const creatorId = log.itemIds[log.item[r]];
    const w = byCreator.get(creatorId) ?? { creatorId, count: 0, lastAt: 0, order: 0 };
    w.count++;
    w.lastAt = log.timestamp[r] * 1000;
    w.order = k;
    byCreator.set(creatorId, w);
  });
  const watched = [...byCreator.values()]
    .sort((a, b) => b.lastAt - a.lastAt || b.order - a.order)
    .map(({ creatorId, count, lastAt }) => ({ creatorId, count, lastAt }));
  return { viewerId: log.userIds[u], watched, follows: [], subscriptions: [], tags: {} };
}

export function evaluateLive(log: InteractionLog, options: Partial<LiveEvaluationOptions> = {}): LiveEvaluationReport {
  const o = { ...DEFAULT_LIVE_EVALUATION, ...options };
  const started = performance.now();
  const clock = () => (performance.now() - started) / 1000;
  const split = liveSplit(log);
  const testUsers = Array.from(split.testUsers);

  o.progress.update('baselines', 0);
  const cosine = new CosineSimilarity(split.nItems, trainingSets(split));
  const baselines = liveBaselineRanks(split, o.window, cosine);
  const tBaselines = clock();

  o.progress.update('choice examples', 0);
  const ex = buildChoiceExamples(split, o.window, { visibleTrainingOnly: true });
  const tExamples = clock();
  /** Events of some kinds; training uses only those whose target someone else started too. */
  const eventsOf = (kinds: number[], visibleOnly: boolean) => {
    const events: number[] = [];
    for (let e = 0; e < ex.kind.length; e++) {
      if (kinds.includes(ex.kind[e]) && (!visibleOnly || ex.visible[e])) events.push(e);
    }
    return events;
  };
  const trainEvents = eventsOf([TRAIN], true);
  const refitEvents = eventsOf([TRAIN, VALIDATION], true);

  // Epochs chosen on validation (all validation choices, as the protocol ranks them), then a
  // refit on training + validation for that many epochs.
  const validation: number[] = [];
  let bestEpochs = 1;
  let best = -1;
  const fit = { learningRate: o.learningRate, frozen: OFFLINE_FROZEN, seed: o.seed };
  fitChoices(ex, trainEvents, o.epochs, fit, (epoch, scorer) => {
    const ndcg = liveMetrics(offlineRanks(split, ex, VALIDATION, scorer)).ndcg10;
    validation.push(round4(ndcg));
    if (ndcg > best) {
      best = ndcg;
      bestEpochs = epoch;
    }
    o.progress.update('model: choosing epochs', epoch / o.epochs, `validation NDCG@10 ${ndcg.toFixed(4)}`);
  });
  o.progress.update('model: refit', 0);
  const scorer = fitChoices(ex, refitEvents, bestEpochs, fit);
  const withPop = fitChoices(ex, refitEvents, bestEpochs, { ...fit, frozen: OFFLINE_FROZEN.slice(1) });
  const tTraining = clock();

  // The test: the online ranker itself, fed the training rows as its engagement stream.
  o.progress.update('model: test', 0);
  const stats = new CoWatchStats({ maxCreators: Math.max(split.nItems, 1), maxViewers: Math.max(split.nUsers, 1) });
  for (let i = 0; i < split.startRow.length; i++) {
    const r = split.startRow[i];
    if (!split.isTest[r]) stats.observe(log.userIds[log.user[r]], log.itemIds[log.item[r]]);
  }
  const rankers = {
    model: createLiveRanker({ stats, weights: scorer.weights() }),
    defaults: createLiveRanker({ stats, weights: DEFAULT_LIVE_WEIGHTS }),
    withPopularity: createLiveRanker({ stats, weights: withPop.weights() }),
  };
  const ranks = { model: [] as number[], defaults: [] as number[], withPopularity: [] as number[] };
  const testEvents = eventsOf([TEST], false);
  const eventOf = new Map(testEvents.map((e) => [ex.user[e], e]));
  let rankerVsOffline = 0;
  let rankTime = 0;
  let rankCalls = 0;
  const hidden: boolean[] = [];
  const candidateCounts: number[] = [];
  let repeats = 0;
  for (const u of testUsers) {
    const row = split.testRow[u];
    const e = eventOf.get(u)!;
    const { items, popNow } = ex.available[e];
    const target = log.item[row];
    hidden.push(!ex.visible[e]);
    candidateCounts.push(items.length);
    const viewer = viewerContext(split, u);
    if (viewer.watched.some((w) => w.creatorId === log.itemIds[target])) repeats++;
    const candidates: LiveCandidate[] = Array.from(items, (item, i) => ({
      roomId: log.itemIds[item],
      creatorId: log.itemIds[item],
      status: 'live',
      tags: [],
      viewers: popNow[i],
      startedAt: null,
      scheduledAt: null,
    }));
    const now = new Date(log.timestamp[row] * 1000);
    const offline = scorer.score(ex.x.subarray(ex.offsets[e] * FEATURES), items.length);
    for (const [name, ranker] of Object.entries(rankers) as [keyof typeof rankers, (typeof rankers)['model']][]) {
      const t0 = performance.now();
      const ranked = ranker.rankNow(viewer, candidates, now);
      rankTime += performance.now() - t0;
      rankCalls++;
      const byRoom = new Map(ranked.map((r) => [r.roomId, r.score]));
      const scores = Float64Array.from(items, (item) => byRoom.get(log.itemIds[item])!);
      if (name === 'model') {
        for (let i = 0; i < items.length; i++)
          rankerVsOffline = Math.max(rankerVsOffline, Math.abs(scores[i] - offline[i]));
      }
      ranks[name].push(rankOf(items, scores, popNow, target, split.nameRank));
    }
  }
  const tTest = clock();
  o.progress.done();

  const visibleOnly = (r: ArrayLike<number>) => liveMetrics(Array.from(r).filter((_, i) => !hidden[i]));
  const sortedCounts = candidateCounts.slice().sort((a, b) => a - b);
  return {
    model: liveMetrics(ranks.model),
    popNow: liveMetrics(baselines.popNow),
    repeat: liveMetrics(baselines.repeat),
    itemKnn: liveMetrics(baselines.itemKnn),
    details: {
      users: split.nUsers,
      items: split.nItems,
      rows: log.user.length,
      testUsers: testUsers.length,
      window: o.window,
      candidatesMedian: sortedCounts[Math.floor((sortedCounts.length - 1) / 2)] ?? 0,
      repeatShare: round4(repeats / Math.max(1, testUsers.length)),
      hiddenTargetShare: round4(hidden.filter(Boolean).length / Math.max(1, hidden.length)),
      visibleTargets: {
        users: hidden.filter((h) => !h).length,
        model: roundMetrics(visibleOnly(ranks.model)),
        popNow: roundMetrics(visibleOnly(baselines.popNow)),
        repeat: roundMetrics(visibleOnly(baselines.repeat)),
        itemKnn: roundMetrics(visibleOnly(baselines.itemKnn)),
      },
      defaults: {
        ...roundMetrics(liveMetrics(ranks.defaults)),
        visibleTargets: roundMetrics(visibleOnly(ranks.defaults)),
      },
      withPopularity: {
        ...roundMetrics(liveMetrics(ranks.withPopularity)),
        visibleTargets: roundMetrics(visibleOnly(ranks.withPopularity)),
        popularityWeight: round4(withPop.w[FEATURE_NAMES.indexOf('logPopularity')]),
      },
      trainingChoices: refitEvents.length,
      validationChoices: eventsOf([VALIDATION], false).length,
      epochs: bestEpochs,
      validation,
      weights: Object.fromEntries(FEATURE_NAMES.map((name, f) => [name, round4(scorer.w[f])])),
      rankerVsOffline,
      rankMillis: round4(rankTime / Math.max(1, rankCalls)),
      seconds: {
        baselines: round1(tBaselines),
        examples: round1(tExamples - tBaselines),
        training: round1(tTraining - tExamples),
        test: round1(tTest - tTraining),
        total: round1(tTest),
      },
    },
  };
}

const round1 = (s: number) => Math.round(s * 10) / 10;
