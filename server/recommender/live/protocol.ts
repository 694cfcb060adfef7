import type { InteractionLog } from '../offline/csv';
import { CosineSimilarity } from '../offline/item-knn';

/**
 * The offline "which live room next" protocol on a watch log (`user,item,timestamp`, one row per
 * start of a watch): each viewer with ≥ 2 rows is tested on their last row in time order (ties
 * keep file order); the candidates are every item with a start row by anyone in
 * `[t − window, t]` (the test row included, so the target is always a candidate and an ended
 * room never is); training is every other row. Repeats are allowed. This is the protocol of
 * `live-baselines.py` in the data folder, ported exactly (its ranking, its tie-breaks).
 */
export interface LiveSplit {
  readonly log: InteractionLog;
  readonly nUsers: number;
  readonly nItems: number;
  /** Each user's rows in time order (ties: file order): `rows[offsets[u]] … rows[offsets[u + 1] - 1]`. */
  readonly offsets: Int32Array;
  readonly rows: Int32Array;
  /** Per user, the test row (its last), or -1 for a user with fewer than two rows. */
  readonly testRow: Int32Array;
  /** Users with a test row, ascending. */
  readonly testUsers: Int32Array;
  /** Per row: 1 if it is some user's test row. */
  readonly isTest: Uint8Array;
  /** Every row by start time (ties: file order), for the availability windows. */
  readonly startTime: Float64Array;
  readonly startItem: Int32Array;
  readonly startRow: Int32Array;
  /** Per item, the rank of its id among all ids sorted as strings: the last tie-break. */
  readonly nameRank: Int32Array;
  /** Items in name order (the inverse of `nameRank`). */
  readonly byName: Int32Array;
}

export function liveSplit(log: InteractionLog): LiveSplit {
  const nUsers = log.userIds.length;
  const nItems = log.itemIds.length;
  const n = log.user.length;
  const offsets = new Int32Array(nUsers + 1);
  for (let r = 0; r < n; r++) offsets[log.user[r] + 1]++;
  for (let u = 0; u < nUsers; u++) offsets[u + 1] += offsets[u];
  const rows = new Int32Array(n);
  const fill = offsets.slice(0, nUsers);
  for (let r = 0; r < n; r++) rows[fill[log.user[r]]++] = r;
  const testRow = new Int32Array(nUsers).fill(-1);
  const isTest = new Uint8Array(n);
  const testUsers: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const mine = rows.subarray(offsets[u], offsets[u + 1]);
    const sorted = Array.from(mine).sort((a, b) => log.timestamp[a] - log.timestamp[b] || a - b);
    mine.set(sorted);
    if (mine.length >= 2) {
      testRow[u] = mine[mine.length - 1];
      isTest[testRow[u]] = 1;
      testUsers.push(u);
    }
  }
  const byTime = Array.from({ length: n }, (_, r) => r).sort((a, b) => log.timestamp[a] - log.timestamp[b] || a - b);
  const startRow = Int32Array.from(byTime);
  const startTime = Float64Array.from(byTime, (r) => log.timestamp[r]);
  const startItem = Int32Array.from(byTime, (r) => log.item[r]);
  const byName = Array.from({ length: nItems }, (_, i) => i).sort((a, b) =>
    log.itemIds[a] < log.itemIds[b] ? -1 : log.itemIds[a] > log.itemIds[b] ? 1 : 0,
  );
  const nameRank = new Int32Array(nItems);
  byName.forEach((item, rank) => {
    nameRank[item] = rank;
  });
  return {
    log,
    nUsers,
    nItems,
    offsets,
    rows,
    testRow,
    testUsers: Int32Array.from(testUsers),
    isTest,
    startTime,
    startItem,
    startRow,
    nameRank,
    byName: Int32Array.from(byName),
  };
}

/** The rooms live at one moment: distinct items in ascending name order, and their starts in the window. */
export interface Availability {
  items: Int32Array;
  /** Starts of each item in the window, the excluded row not counted ("pop-now"). */
  popNow: Float64Array;
}

/** First index with `a[i] >= x` (or `> x` when `strict`). */
function bound(a: Float64Array, x: number, strict: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x || (strict && a[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Availability at time t: every item with a start row in `[t − window, t]`, and how many starts
 * each has there without `excludeRow` (the event being predicted).
 */
export function availableAt(split: LiveSplit, t: number, window: number, excludeRow: number): Availability {
  const lo = bound(split.startTime, t - window, false);
  const hi = bound(split.startTime, t, true);
  let scratch = scratches.get(split);
  if (!scratch) {
    scratch = { count: new Int32Array(split.nItems).fill(-1), items: [] };
    scratches.set(split, scratch);
  }
  const { count, items: list } = scratch;
  list.length = 0;
  for (let i = lo; i < hi; i++) {
    const item = split.startItem[i];
    if (count[item] < 0) {
      count[item] = 0;
      list.push(item);
    }
    if (split.startRow[i] !== excludeRow) count[item]++;
  }
  const ranks = Int32Array.from(list, (i) => split.nameRank[i]).sort();
  const items = ranks.map((r) => split.byName[r]);
  const popNow = Float64Array.from(items, (i) => count[i]);
  for (const i of list) count[i] = -1;
  return { items, popNow };
}

const scratches = new WeakMap<LiveSplit, { count: Int32Array; items: number[] }>();

/**
 * 0-based rank of `target` among `items` ordered by score (higher first), then pop-now (higher
 * first), then item name: numpy's `lexsort((-pop, -score))` over name-ordered candidates.
 */
export function rankOf(
  items: Int32Array,
  score: ArrayLike<number>,
  popNow: ArrayLike<number>,
  target: number,
  nameRank: Int32Array,
): number {
  const t = items.indexOf(target);
  if (t < 0) throw new Error(`target item ${target} is not a candidate`);
  const s = score[t];
  const p = popNow[t];
  let rank = 0;
  for (let i = 0; i < items.length; i++) {
    if (i === t) continue;
    const si = score[i];
    if (si > s || (si === s && (popNow[i] > p || (popNow[i] === p && nameRank[items[i]] < nameRank[target])))) rank++;
  }
  return rank;
}

export interface LiveMetrics {
  hr1: number;
  hr10: number;
  ndcg10: number;
}

/** HR@1, HR@10 and NDCG@10 (one relevant item: `1/log2(rank + 2)`) of 0-based ranks. */
export function liveMetrics(ranks: ArrayLike<number>): LiveMetrics {
  let hr1 = 0;
  let hr10 = 0;
  let ndcg10 = 0;
  for (let i = 0; i < ranks.length; i++) {
    const r = ranks[i];
    if (r === 0) hr1++;
    if (r < 10) {
      hr10++;
      ndcg10 += 1 / Math.log2(r + 2);
    }
  }
  const n = Math.max(1, ranks.length);
  return { hr1: hr1 / n, hr10: hr10 / n, ndcg10: ndcg10 / n };
}

/** A user's training rows before row position `end` (exclusive) in their time order. */
export function historyRows(split: LiveSplit, u: number, end = split.offsets[u + 1]): Int32Array {
  const rows = split.rows.subarray(split.offsets[u], end);
  const test = split.testRow[u];
  return test >= 0 && rows.includes(test) ? rows.filter((r) => r !== test) : rows;
}

/** Distinct items of some rows in name order (numpy's `sorted(set(hist))` over name-sorted ids). */
export function distinctItems(split: LiveSplit, rows: ArrayLike<number>): Int32Array {
  const seen = new Set<number>();
  for (let i = 0; i < rows.length; i++) seen.add(split.log.item[rows[i]]);
  return Int32Array.from(seen).sort((a, b) => split.nameRank[a] - split.nameRank[b]);
}

export interface LiveBaselineRanks {
  popNow: Int32Array;
  repeat: Int32Array;
  itemKnn: Int32Array;
}

/** Every user's distinct training items (test rows left out), for the co-watch matrix. */
export function trainingSets(split: LiveSplit): Int32Array[] {
  return Array.from({ length: split.nUsers }, (_, u) => distinctItems(split, historyRows(split, u)));
}

/**
 * The three baselines of `live-baselines.py` on the test users, as ranks of the target:
 * pop-now, repeat (the user's own past watches of the candidate) and item-kNN (cosine summed
 * over the user's distinct history), all with ties broken by pop-now, then item name.
 */
export function liveBaselineRanks(split: LiveSplit, window: number, sim?: CosineSimilarity): LiveBaselineRanks {
  const cosine = sim ?? new CosineSimilarity(split.nItems, trainingSets(split));
  const n = split.testUsers.length;
  const out = { popNow: new Int32Array(n), repeat: new Int32Array(n), itemKnn: new Int32Array(n) };
  const own = new Float64Array(split.nItems);
  split.testUsers.forEach((u, k) => {
    const row = split.testRow[u];
    const t = split.log.timestamp[row];
    const target = split.log.item[row];
    const { items, popNow } = availableAt(split, t, window, row);
    const hist = historyRows(split, u);
    for (const r of hist) own[split.log.item[r]]++;
    const rep = Float64Array.from(items, (i) => own[i]);
    for (const r of hist) own[split.log.item[r]] = 0;
    const knn = cosine.sumOver(distinctItems(split, hist), items);
    out.popNow[k] = rankOf(items, popNow, popNow, target, split.nameRank);
    out.repeat[k] = rankOf(items, rep, popNow, target, split.nameRank);
    out.itemKnn[k] = rankOf(items, knn, popNow, target, split.nameRank);
  });
  return out;
}
