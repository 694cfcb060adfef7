/**
 * The features of one (viewer, live room) pair, shared by the online ranker and the offline
 * evaluation so that what is measured is what runs. Creators are small integer ids given by the
 * co-watch statistics (-1: never seen there); times are seconds.
 */

/** What the co-watch statistics answer (online: `CoWatchStats`; offline: exact counts of the training log). */
export interface CoWatchView {
  /** Distinct viewers who watched creator `c`. */
  viewers(c: number): number;
  /** Viewers who watched both `a` and `b` (a ≠ b). */
  both(a: number, b: number): number;
  /** How often a viewer's next watch after `a` was `b` (a ≠ b). */
  transitions(a: number, b: number): number;
  /** How often a viewer's next watch after `a` was some other creator. */
  transitionsFrom(a: number): number;
}

/** The viewer's history, resolved once per ranking. */
export interface HistoryInput {
  /** Distinct creators watched, as co-watch ids (-1: unknown to the statistics). */
  ids: ArrayLike<number>;
  /** The creator of the viewer's most recent watch (co-watch id, -1: unknown or none). */
  lastId: number;
  /** Watches in all (Σ counts). */
  total: number;
  /** When each of `ids` was last watched (seconds). */
  lastAt: ArrayLike<number>;
}

/** One candidate room, resolved against the viewer. */
export interface CandidateInput {
  /** The room's creator as a co-watch id (-1: unknown). */
  id: number;
  /** The viewer's watches of this creator (0: never) and when the last one started (seconds). */
  count: number;
  lastAt: number;
  /** The creator of the viewer's most recent watch. */
  isLast: boolean;
  /** How many are watching it now (offline: starts in the window). */
  popularity: number;
  following: boolean;
  subscribed: boolean;
  /** Cosine between the viewer's tag weights and the room's tags, in [0, 1]. */
  tagAffinity: number;
  /** Scheduled, not live yet. */
  upcoming: boolean;
}

export const FEATURE_NAMES = [
  // The viewer's own watches of this creator (repeat consumption).
  'watched', // watched this creator before (0/1)
  'logCount', // log(1 + watches of this creator)
  'share', // watches of this creator / all the viewer's watches
  'recent1h', // exp(−Δ / 1 h), Δ = now − the viewer's last watch of this creator (0 if never)
  'recent6h', // exp(−Δ / 6 h)
  'recent1d', // exp(−Δ / 1 day)
  'recent7d', // exp(−Δ / 7 days)
  'logGap', // log(1 + Δ / 1 h) if watched, else 0
  'isLast', // the viewer's most recent watch was this creator
  // Co-watching (item-kNN and transitions), from the co-watch statistics.
  'knn', // log(1 + Σ_h cosine(h, c)) over the viewer's distinct creators h ≠ c
  'knnMean', // Σ_h cosine(h, c) / |history|
  'knnRecent', // log(1 + Σ_h exp(−Δ_h / 1 day) · cosine(h, c)), Δ_h = now − last watch of h
  'knnNew', // knn if the viewer never watched this creator, else 0
  'transition', // T(last → c) / (T(last → ·) + 1): viewers' next creator after the viewer's last one
  'logTransition', // log(1 + T(last → c))
  // The room and what the viewer declared.
  'logPopularity', // log(1 + viewers now); its weight is kept ≥ 0 (see NON_NEGATIVE)
  'following',
  'subscribed',
  'tags', // cosine between the viewer's tag weights and the room's tags
  'upcoming', // scheduled, not live yet
] as const;

export const FEATURES = FEATURE_NAMES.length;

/**
 * Features whose weight may not go below zero. Popularity now: in a log, a room is known to be
 * live only from someone's start in the window, so a room with no other start than the one being
 * predicted is a candidate only because it is the answer. A free weight learns "unpopular means
 * chosen" from that artifact; kept ≥ 0, popularity can only order rooms the sensible way.
 */
export const NON_NEGATIVE: readonly number[] = [FEATURE_NAMES.indexOf('logPopularity')];

const HOUR = 3600;
const DAY = 86_400;

/** Per-ranking scratch: √(viewers) of each history creator, computed once. */
export function historyNorms(history: HistoryInput, view: CoWatchView): Float64Array {
  return Float64Array.from(history.ids as ArrayLike<number>, (h) => (h >= 0 ? Math.sqrt(view.viewers(h)) + 1e-9 : 0));
}

/** Writes the features of candidate `c` at `out[offset … offset + FEATURES)`. */
export function writeFeatures(
  history: HistoryInput,
  norms: Float64Array,
  c: CandidateInput,
  view: CoWatchView,
  now: number,
  out: Float32Array,
  offset: number,
): void {
  const watched = c.count > 0;
  const dt = watched ? Math.max(0, now - c.lastAt) : Number.POSITIVE_INFINITY;
  let knn = 0;
  let knnRecent = 0;
  let transition = 0;
  let from = 0;
  if (c.id >= 0) {
    const nc = Math.sqrt(view.viewers(c.id)) + 1e-9;
    const ids = history.ids;
    for (let a = 0; a < ids.length; a++) {
      const h = ids[a];
      if (h < 0 || h === c.id) continue;
      const both = view.both(h, c.id);
      if (both > 0) {
        const cos = both / (norms[a] * nc);
        knn += cos;
        knnRecent += cos * Math.exp(-Math.max(0, now - history.lastAt[a]) / DAY);
      }
    }
    if (history.lastId >= 0 && history.lastId !== c.id) {
      transition = view.transitions(history.lastId, c.id);
      from = view.transitionsFrom(history.lastId);
    }
  }
  const n = history.ids.length;
  const knnLog = Math.log1p(knn);
  out[offset] = watched ? 1 : 0;
  out[offset + 1] = Math.log1p(c.count);
  out[offset + 2] = history.total > 0 ? c.count / history.total : 0;
  out[offset + 3] = watched ? Math.exp(-dt / HOUR) : 0;
  out[offset + 4] = watched ? Math.exp(-dt / (6 * HOUR)) : 0;
  out[offset + 5] = watched ? Math.exp(-dt / DAY) : 0;
  out[offset + 6] = watched ? Math.exp(-dt / (7 * DAY)) : 0;
  out[offset + 7] = watched ? Math.log1p(dt / HOUR) : 0;
  out[offset + 8] = c.isLast ? 1 : 0;
  out[offset + 9] = knnLog;
  out[offset + 10] = n > 0 ? knn / n : 0;
  out[offset + 11] = Math.log1p(knnRecent);
  out[offset + 12] = watched ? 0 : knnLog;
  out[offset + 13] = transition / (from + 1);
  out[offset + 14] = Math.log1p(transition);
  out[offset + 15] = Math.log1p(c.popularity);
  out[offset + 16] = c.following ? 1 : 0;
  out[offset + 17] = c.subscribed ? 1 : 0;
  out[offset + 18] = c.tagAffinity;
  out[offset + 19] = c.upcoming ? 1 : 0;
}
