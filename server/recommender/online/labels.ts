/** An impression waiting for its label. */
export interface PendingImpression {
  /** The impression's id (its `suggestion.shown` event id and its row id). */
  id: string;
  userId: string;
  roomId: string;
  /** Content id, or the creator id of a subscription suggestion. */
  itemId: string;
  /** Epoch ms. */
  shownAt: number;
  modelVersion: string;
}

export type LabelReason = 'click' | 'purchase' | 'dismiss' | 'expired' | 'evicted';

export interface Resolution {
  impression: PendingImpression;
  label: 0 | 1;
  reason: LabelReason;
}

export interface LabelJoinerOptions {
  /** A click or purchase within this long after the impression makes it positive. */
  windowMs: number;
  /** Bound on impressions waiting; the oldest are resolved negative beyond it. */
  maxPending?: number;
}

/**
 * Joins impressions with what followed. An impression is **positive** as soon as the viewer
 * clicks it or buys the item within the window, **negative** at once when they dismiss it, and
 * negative when the window passes without either. Each impression is resolved exactly once.
 *
 * Positives resolve within seconds and negatives only after the window: in a steady stream both
 * flow at their true rates (shifted by the window), so the model sees the right balance; only
 * the first window after a start is skewed towards positives.
 */
export class LabelJoiner {
  private readonly pending = new Map<string, PendingImpression>();
  /** `${userId}:${itemId}` → ids of pending impressions, oldest first. */
  private readonly byViewerItem = new Map<string, string[]>();
  private readonly windowMs: number;
  private readonly maxPending: number;

  constructor(options: LabelJoinerOptions) {
    this.windowMs = options.windowMs;
    this.maxPending = options.maxPending ?? 200_000;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Registers an impression; resolves whatever the bound on pending impressions pushes out. */
  shown(impression: PendingImpression): Resolution[] {
    if (this.pending.has(impression.id)) return [];
    this.pending.set(impression.id, impression);
    const k = key(impression.userId, impression.itemId);
    const list = this.byViewerItem.get(k);
    if (list) list.push(impression.id);
    else this.byViewerItem.set(k, [impression.id]);
    const evicted: Resolution[] = [];
    // Map iteration is insertion order: the first entries are the oldest.
    for (const old of this.pending.values()) {
      if (this.pending.size <= this.maxPending) break;
      this.remove(old);
      evicted.push({ impression: old, label: 0, reason: 'evicted' });
    }
    return evicted;
  }

  clicked(userId: string, itemId: string, at: number): Resolution[] {
    return this.resolve(userId, itemId, at, 1, 'click');
  }

  purchased(userId: string, itemId: string, at: number): Resolution[] {
    return this.resolve(userId, itemId, at, 1, 'purchase');
  }

  dismissed(userId: string, itemId: string, at: number): Resolution[] {
    return this.resolve(userId, itemId, at, 0, 'dismiss');
  }

  /** Resolves as negative every impression whose window ended before `now`. */
  expire(now: number): Resolution[] {
    const out: Resolution[] = [];
    // Insertion order is (nearly) time order, so the scan stops at the first one still open.
    // Deleting the current entry while iterating a Map is safe.
    for (const imp of this.pending.values()) {
      if (imp.shownAt + this.windowMs >= now) break;
      this.remove(imp);
      out.push({ impression: imp, label: 0, reason: 'expired' });
    }
    return out;
  }

  private resolve(userId: string, itemId: string, at: number, label: 0 | 1, reason: LabelReason): Resolution[] {
    const ids = this.byViewerItem.get(key(userId, itemId));
    if (!ids) return [];
    const out: Resolution[] = [];
    for (const id of [...ids]) {
      const imp = this.pending.get(id);
      if (!imp) continue;
      // What happened before the impression, or after its window, is not a reaction to it.
      if (at < imp.shownAt || at > imp.shownAt + this.windowMs) continue;
      this.remove(imp);
      out.push({ impression: imp, label, reason });
    }
    return out;
  }

  private remove(imp: PendingImpression): void {
    this.pending.delete(imp.id);
    const k = key(imp.userId, imp.itemId);
    const list = this.byViewerItem.get(k);
    if (!list) return;
    const i = list.indexOf(imp.id);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byViewerItem.delete(k);
  }
}

const key = (userId: string, itemId: string) => `${userId}:${itemId}`;

/**
 * Whether an impression belongs to the held-out validation set: a fixed hash of its id, so the
 * online trainer and a full retrain from Postgres agree on the split without sharing state.
 */
export function isHeldOut(impressionId: string, fraction: number): boolean {
  if (fraction <= 0) return false;
  // FNV-1a over the id's characters, then murmur3's finaliser so every bit depends on every
  // character (ids that differ in their last digit must not land in neighbouring buckets).
  let h = 0x811c9dc5;
  for (let i = 0; i < impressionId.length; i++) {
    h ^= impressionId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296 < fraction;
}
