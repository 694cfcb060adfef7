import type { Random } from '../model/random';
import type { ScoredBatch } from './scorer';
import type { CandidateItem } from './types';

export type PolicyName = 'model' | 'popularity' | 'random';

export interface PushLimits {
  /** At most one suggestion per viewer per this long. */
  pushIntervalMs: number;
  /** None in the first this long after a join. */
  joinGraceMs: number;
  /** None for this long after a dismissal. */
  dismissCooldownMs: number;
  /** The same item is not shown to the same viewer again for this long, while others remain. */
  repeatCooldownMs: number;
  /** A dismissed item is not shown to that viewer again for this long. */
  dismissedItemMs: number;
}

interface ViewerState {
  lastPushAt?: number;
  dismissedAt?: number;
  /** item → when it was last shown to this viewer. */
  shown: Map<string, number>;
  /** item → when this viewer dismissed it. */
  dismissed: Map<string, number>;
}

/**
 * The no-spam rules, per viewer (across rooms and connections): one suggestion per interval,
 * none in the grace period after joining a room, none for a while after a dismissal, never the
 * dismissed item again soon, and not the same item again and again.
 */
export class PushLimiter {
  private readonly viewers = new Map<string, ViewerState>();

  constructor(
    private readonly limits: PushLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a viewer who joined the room at `joinedAt` may get a suggestion now. */
  due(userId: string, joinedAt: number): boolean {
    const now = this.now();
    if (now - joinedAt < this.limits.joinGraceMs) return false;
    const v = this.viewers.get(userId);
    if (!v) return true;
    if (v.lastPushAt !== undefined && now - v.lastPushAt < this.limits.pushIntervalMs) return false;
    if (v.dismissedAt !== undefined && now - v.dismissedAt < this.limits.dismissCooldownMs) return false;
    return true;
  }

  /** Records a suggestion (or an attempt that found nothing to suggest, which waits as long). */
  pushed(userId: string, itemIds: readonly string[]): void {
    const now = this.now();
    const v = this.state(userId);
    v.lastPushAt = now;
    for (const id of itemIds) v.shown.set(id, now);
  }

  dismissed(userId: string, itemId: string): void {
    const now = this.now();
    const v = this.state(userId);
    v.dismissedAt = now;
    v.dismissed.set(itemId, now);
  }

  /** Items this viewer must not see now (dismissed recently), and ones to show only if nothing else (shown recently). */
  blocked(userId: string): { dismissed: ReadonlySet<string>; recentlyShown: ReadonlySet<string> } {
    const v = this.viewers.get(userId);
    const now = this.now();
    const dismissed = new Set<string>();
    const recentlyShown = new Set<string>();
    if (v) {
      for (const [id, at] of v.dismissed) if (now - at < this.limits.dismissedItemMs) dismissed.add(id);
      for (const [id, at] of v.shown) if (now - at < this.limits.repeatCooldownMs) recentlyShown.add(id);
    }
    return { dismissed, recentlyShown };
  }

  /** Forgets viewers with nothing left to remember. */
  sweep(): void {
    const now = this.now();
    const horizon = Math.max(
      this.limits.pushIntervalMs,
      this.limits.dismissCooldownMs,
      this.limits.repeatCooldownMs,
      this.limits.dismissedItemMs,
    );
    for (const [id, v] of this.viewers) {
      for (const [item, at] of v.shown) if (now - at >= this.limits.repeatCooldownMs) v.shown.delete(item);
      for (const [item, at] of v.dismissed) if (now - at >= this.limits.dismissedItemMs) v.dismissed.delete(item);
      const last = Math.max(v.lastPushAt ?? 0, v.dismissedAt ?? 0);
      if (now - last >= horizon && v.shown.size === 0 && v.dismissed.size === 0) this.viewers.delete(id);
    }
  }

  private state(userId: string): ViewerState {
    let v = this.viewers.get(userId);
    if (!v) {
      v = { shown: new Map(), dismissed: new Map() };
      this.viewers.set(userId, v);
    }
    return v;
  }
}

/**
 * Exposure per creator over a sliding window (every item shown counts once), for the fairness
 * cap. A ring of (time, creator) entries and a count per creator: O(1) per exposure.
 */
export class ExposureWindow {
  private readonly entries: { at: number; creatorId: string }[] = [];
  private head = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(creatorId: string): void {
    this.prune();
    this.entries.push({ at: this.now(), creatorId });
    this.counts.set(creatorId, (this.counts.get(creatorId) ?? 0) + 1);
  }

  get total(): number {
    this.prune();
    return this.entries.length - this.head;
  }

  count(creatorId: string): number {
    this.prune();
    return this.counts.get(creatorId) ?? 0;
  }

  /** Exposure counts per creator in the window. */
  snapshot(): Map<string, number> {
    this.prune();
    return new Map(this.counts);
  }

  private prune(): void {
    const cutoff = this.now() - this.windowMs;
    while (this.head < this.entries.length && this.entries[this.head].at < cutoff) {
      const { creatorId } = this.entries[this.head++];
      const n = (this.counts.get(creatorId) ?? 1) - 1;
      if (n <= 0) this.counts.delete(creatorId);
      else this.counts.set(creatorId, n);
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}

export interface FairnessCap {
  window: ExposureWindow;
  /** Largest share of the window one creator may hold. */
  maxShare: number;
  /** The cap applies once the window holds this many exposures. */
  minExposures: number;
}

export interface SelectOptions {
  policy: PolicyName;
  maxItems: number;
  /** Scale of the Thompson draw (0: greedy on expected value). */
  exploration: number;
  rng: Random;
  /** Only for the `model` policy: the baselines are plain baselines. */
  fairness?: FairnessCap;
  /** Never shown now. */
  dismissed: ReadonlySet<string>;
  /** Shown only when nothing else is left. */
  recentlyShown: ReadonlySet<string>;
  /** Purchases per item, for the popularity policy. */
  popularity?: (id: string) => number;
}

export interface Selection {
  index: number;
  /** The sampled (or greedy) expected value the item was ranked by. */
  rankValue: number;
}

/**
 * Picks up to `maxItems` candidates to show.
 *
 * `model`: Thompson sampling. Each candidate's purchase log-odds is drawn from
 * N(log-odds, (exploration × oddsStd)²), turned back into a probability and multiplied by the
 * price: the expected revenue of showing it under one plausible model. Items the model knows
 * little about (new contents, new viewers) have a wide spread and get shown now and then, which
 * is how they earn data. Then the fairness cap: a creator whose share of the recent exposure
 * window would exceed `maxShare` is skipped; only when every candidate of this viewer is from a
 * capped creator does the cap give way.
 *
 * `popularity`: most purchased first; `random`: uniformly at random. Both keep the no-repeat and
 * dismissal rules, which are about spam, not about ranking.
 */
export function selectItems(
  candidates: readonly CandidateItem[],
  scores: ScoredBatch | undefined,
  options: SelectOptions,
): Selection[] {
  const n = candidates.length;
  const rank = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (options.policy === 'model' && scores) {
      const p = Math.min(1 - 1e-7, Math.max(1e-7, scores.probability[i]));
      const odds = Math.log(p / (1 - p)) + options.exploration * scores.oddsStd[i] * options.rng.normal();
      rank[i] = candidates[i].item.price / (1 + Math.exp(-odds));
    } else if (options.policy === 'popularity') {
      // Ties (new contents) broken at random, not by id.
      rank[i] = (options.popularity?.(candidates[i].item.id) ?? 0) + options.rng.next() * 0.5;
    } else {
      rank[i] = options.rng.next();
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rank[b] - rank[a]);
  const fresh = order.filter((i) => !options.dismissed.has(candidates[i].item.id));
  const preferred = fresh.filter((i) => !options.recentlyShown.has(candidates[i].item.id));
  const pool = preferred.length > 0 ? preferred : fresh;

  const chosen: Selection[] = [];
  const fairness = options.policy === 'model' ? options.fairness : undefined;
  const pending = new Map<string, number>();
  const capped = (creatorId: string) => {
    if (!fairness) return false;
    const total = fairness.window.total + chosen.length + 1;
    if (total <= fairness.minExposures) return false;
    const mine = fairness.window.count(creatorId) + (pending.get(creatorId) ?? 0) + 1;
    return mine / total > fairness.maxShare;
  };
  for (const i of pool) {
    if (chosen.length >= options.maxItems) break;
    const creatorId = candidates[i].item.creatorId;
    if (capped(creatorId)) continue;
    chosen.push({ index: i, rankValue: rank[i] });
    pending.set(creatorId, (pending.get(creatorId) ?? 0) + 1);
  }
  // Every candidate this viewer has is from capped creators: there is nobody to be fair to here
  // (a platform with one creator live), so the cap gives way rather than silence the room.
  if (chosen.length === 0) {
    for (const i of pool.slice(0, options.maxItems)) chosen.push({ index: i, rankValue: rank[i] });
  }
  return chosen;
}
