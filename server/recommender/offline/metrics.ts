import type { UserSequences } from './split';

export interface RankingMetrics {
  /** Share of targets ranked in the top k (HR@k). */
  hitRate: number;
  /** Mean NDCG@k; with one target per user, 1/log2(rank + 2) for a hit. */
  ndcg: number;
}

/**
 * Scores the whole catalog for a batch of users: row-major, `users.length × nItems`. Higher is
 * better; the evaluator overwrites the entries of excluded items, so it may hand back a buffer it
 * reuses between calls.
 */
export type CatalogScorer = (users: Int32Array) => Float32Array;

/**
 * Hit and discounted gain at `k` for a target with `greater` items scored above it and `equal`
 * others tied with it, in expectation over a random order of the ties. Without this, a scorer
 * with many ties (popularity counts) would look better or worse depending on item ids.
 */
export function expectedHitAndGain(greater: number, equal: number, k: number): { hit: number; gain: number } {
  if (greater >= k) return { hit: 0, gain: 0 };
  let gain = 0;
  const last = Math.min(equal, k - 1 - greater);
  for (let t = 0; t <= last; t++) gain += 1 / Math.log2(greater + t + 2);
  return { hit: (last + 1) / (equal + 1), gain: gain / (equal + 1) };
}

/**
 * Full-ranking HR@k and NDCG@k: each target is ranked against every item except the user's
 * training items (which the scorer cannot fail to "recommend" again).
 */
export function evaluateFullRanking(args: {
  nItems: number;
  train: UserSequences;
  users: Int32Array;
  targets: Int32Array; // indexed by user
  scorer: CatalogScorer;
  k?: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}): RankingMetrics {
  const { nItems, train, users, targets, scorer, k = 10, batchSize = 256 } = args;
  let hits = 0;
  let gains = 0;
  for (let b = 0; b < users.length; b += batchSize) {
    const batch = users.subarray(b, Math.min(users.length, b + batchSize));
    const scores = scorer(batch);
    if (scores.length < batch.length * nItems) {
      throw new Error(`scorer returned ${scores.length} scores for ${batch.length} users × ${nItems} items`);
    }
    for (let r = 0; r < batch.length; r++) {
      const u = batch[r];
      const row = scores.subarray(r * nItems, (r + 1) * nItems);
      const target = targets[u];
      const s = row[target];
      for (let p = train.offsets[u]; p < train.offsets[u + 1]; p++) row[train.items[p]] = Number.NEGATIVE_INFINITY;
      row[target] = s;
      if (Number.isNaN(s)) continue; // a scorer that cannot score the target misses it
      let greater = 0;
      let equal = 0;
      for (let i = 0; i < nItems; i++) {
        const v = row[i];
        if (v > s) greater++;
        else if (v === s) equal++;
      }
      const { hit, gain } = expectedHitAndGain(greater, equal - 1, k);
      hits += hit;
      gains += gain;
    }
    args.onProgress?.(Math.min(users.length, b + batchSize), users.length);
  }
  const n = Math.max(1, users.length);
  return { hitRate: hits / n, ndcg: gains / n };
}
