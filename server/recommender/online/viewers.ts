import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db';
import type { ViewerProfile } from './types';

export interface ViewerProfilesOptions {
  /** A profile is reloaded after this long even without an event saying it changed. */
  ttlMs?: number;
  /** Most interest tags kept per viewer. */
  maxTags?: number;
  /** Most purchases read per viewer (the model uses the last 20 as history). */
  maxHistory?: number;
  /** Profiles not asked for this long are forgotten. */
  idleMs?: number;
  now?: () => number;
}

// How much each kind of engagement says about a viewer's interests.
const TAG_WEIGHT = { purchase: 3, subscription: 2, completed: 2, click: 1, watched: 1 } as const;

interface Entry {
  profile: ViewerProfile;
  loadedAt: number;
  usedAt: number;
  stale: boolean;
}

/**
 * Viewer profiles for candidates and features: what they bought (history, spend, owned), whom
 * they subscribe to, engaged with and watched, and the interest tags all that implies. Loaded
 * from Postgres in batches for the viewers due a suggestion, cached, and marked stale by the
 * events that change them (a purchase, a subscription, a tip).
 */
export class ViewerProfiles {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxTags: number;
  private readonly maxHistory: number;
  private readonly idleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Kysely<DB>,
    options: ViewerProfilesOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxTags = options.maxTags ?? 10;
    this.maxHistory = options.maxHistory ?? 100;
    this.idleMs = options.idleMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** The profiles of `userIds`, loading the missing and stale ones in one batch. */
  async get(userIds: readonly string[]): Promise<Map<string, ViewerProfile>> {
    const now = this.now();
    const missing = userIds.filter((id) => {
      const e = this.entries.get(id);
      return !e || e.stale || now - e.loadedAt >= this.ttlMs;
    });
    if (missing.length > 0) {
      const loaded = await this.load([...new Set(missing)]);
      for (const [id, profile] of loaded) this.entries.set(id, { profile, loadedAt: now, usedAt: now, stale: false });
    }
    const out = new Map<string, ViewerProfile>();
    for (const id of userIds) {
      const e = this.entries.get(id);
      if (!e) continue;
      e.usedAt = now;
      out.set(id, e.profile);
    }
    return out;
  }

  /** The cached profile, if any, without loading (for the trainer's implicit examples). */
  cached(userId: string): ViewerProfile | undefined {
    return this.entries.get(userId)?.profile;
  }

  /** Something about the viewer changed (they bought, subscribed, tipped): reload before next use. */
  invalidate(userId: string): void {
    const e = this.entries.get(userId);
    if (e) e.stale = true;
  }

  /** Marks a content owned at once, so the next suggestion cannot offer it even before the reload. */
  noteOwned(userId: string, contentId: string): void {
    const e = this.entries.get(userId);
    if (!e) return;
    (e.profile.owned as Set<string>).add(contentId);
    e.stale = true;
  }

  noteSubscribed(userId: string, creatorId: string): void {
    const e = this.entries.get(userId);
    if (!e) return;
    (e.profile.subscribedTo as Set<string>).add(creatorId);
    e.stale = true;
  }

  /** Forgets profiles nobody asked for in a while (bounded memory). */
  sweep(): void {
    const now = this.now();
    for (const [id, e] of this.entries) if (now - e.usedAt > this.idleMs) this.entries.delete(id);
  }

  private async load(userIds: string[]): Promise<Map<string, ViewerProfile>> {
    const ids = sql`${sql.val(userIds)}::uuid[]`;
    const [purchases, owned, subscriptions, tips, watched, clicked, consumed] = await Promise.all([
      sql<{
        user_id: string;
        kind: 'content' | 'ticket' | 'subscription';
        content_id: string | null;
        creator_id: string;
        amount: number;
        tags: string[] | null;
      }>`
        SELECT p.buyer_id AS user_id, p.kind, p.content_id, p.creator_id, p.amount, c.tags
        FROM (
          SELECT *, row_number() OVER (PARTITION BY buyer_id ORDER BY created_at DESC) AS rn
          FROM purchases WHERE buyer_id = ANY(${ids}) AND status = 'completed'
        ) p LEFT JOIN contents c ON c.id = p.content_id
        WHERE p.rn <= ${this.maxHistory}
        ORDER BY p.buyer_id, p.created_at, p.id
      `.execute(this.db),
      // As payments' ownsContent decides: an entitlement to a course or bundle covers what it
      // holds now, items added after the purchase too.
      sql<{ user_id: string; content_id: string }>`
        WITH RECURSIVE owned(user_id, content_id) AS (
          SELECT user_id, content_id FROM entitlements
          WHERE user_id = ANY(${ids}) AND revoked_at IS NULL AND content_id IS NOT NULL
          UNION
          SELECT o.user_id, ci.item_id FROM content_items ci JOIN owned o ON ci.parent_id = o.content_id
        )
        SELECT user_id, content_id FROM owned
      `.execute(this.db),
      sql<{ user_id: string; creator_id: string; tags: string[] | null }>`
        SELECT s.subscriber_id AS user_id, s.creator_id, p.tags
        FROM subscriptions s LEFT JOIN creator_profiles p ON p.user_id = s.creator_id
        WHERE s.subscriber_id = ANY(${ids}) AND s.current_period_end > now()
      `.execute(this.db),
      sql<{ user_id: string; creator_id: string }>`
        SELECT DISTINCT sender_id AS user_id, creator_id FROM tips WHERE sender_id = ANY(${ids})
      `.execute(this.db),
      sql<{ user_id: string; creator_id: string; tags: string[] }>`
        SELECT v.user_id, v.creator_id, r.tags FROM (
          SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY first_joined_at DESC) AS rn
          FROM analytics_room_viewers WHERE user_id = ANY(${ids})
        ) v JOIN rooms r ON r.id = v.room_id
        WHERE v.rn <= 50
      `.execute(this.db),
      sql<{ user_id: string; tags: string[] }>`
        SELECT i.user_id, c.tags FROM (
          SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY shown_at DESC) AS rn
          FROM recommendation_impressions WHERE user_id = ANY(${ids}) AND clicked_at IS NOT NULL
        ) i JOIN contents c ON c.id = i.content_id
        WHERE i.rn <= 50
      `.execute(this.db),
      // Lessons and replays watched after the fact (media.progress / media.completed): what a
      // viewer finished says most; a good part watched, something.
      sql<{ user_id: string; creator_id: string; tags: string[]; completed: boolean }>`
        SELECT w.user_id, coalesce(c.creator_id, r.owner_id) AS creator_id, coalesce(c.tags, r.tags) AS tags,
          w.completed_at IS NOT NULL AS completed
        FROM (
          SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY updated_at DESC) AS rn
          FROM watch_progress
          WHERE user_id = ANY(${ids}) AND (completed_at IS NOT NULL OR watched_seconds >= 60)
        ) w
        LEFT JOIN contents c ON c.id = w.content_id
        LEFT JOIN rooms r ON r.id = w.room_id
        WHERE w.rn <= 50
      `.execute(this.db),
    ]);

    const builders = new Map<
      string,
      {
        history: string[];
        spend: number;
        purchases: number;
        tagWeights: Map<string, number>;
        engaged: Set<string>;
        owned: Set<string>;
        subscribedTo: Set<string>;
      }
    >();
    for (const id of userIds) {
      builders.set(id, {
        history: [],
        spend: 0,
        purchases: 0,
        tagWeights: new Map(),
        engaged: new Set(),
        owned: new Set(),
        subscribedTo: new Set(),
      });
    }
    const addTags = (w: Map<string, number>, tags: readonly string[] | null | undefined, weight: number) => {
      for (const t of tags ?? []) w.set(t, (w.get(t) ?? 0) + weight);
    };
    for (const r of purchases.rows) {
      const b = builders.get(r.user_id);
      if (!b) continue;
      b.spend += r.amount;
      b.purchases++;
      b.engaged.add(r.creator_id);
      if (r.content_id) {
        b.history.push(r.content_id);
        addTags(b.tagWeights, r.tags, TAG_WEIGHT.purchase);
      }
    }
    for (const r of owned.rows) builders.get(r.user_id)?.owned.add(r.content_id);
    for (const r of subscriptions.rows) {
      const b = builders.get(r.user_id);
      if (!b) continue;
      b.subscribedTo.add(r.creator_id);
      b.engaged.add(r.creator_id);
      addTags(b.tagWeights, r.tags, TAG_WEIGHT.subscription);
    }
    for (const r of tips.rows) builders.get(r.user_id)?.engaged.add(r.creator_id);
    for (const r of watched.rows) {
      const b = builders.get(r.user_id);
      if (!b) continue;
      b.engaged.add(r.creator_id);
      addTags(b.tagWeights, r.tags, TAG_WEIGHT.watched);
    }
    for (const r of clicked.rows) {
      const b = builders.get(r.user_id);
      if (b) addTags(b.tagWeights, r.tags, TAG_WEIGHT.click);
    }
    for (const r of consumed.rows) {
      const b = builders.get(r.user_id);
      if (!b) continue;
      b.engaged.add(r.creator_id);
      addTags(b.tagWeights, r.tags, r.completed ? TAG_WEIGHT.completed : TAG_WEIGHT.watched);
    }

    const out = new Map<string, ViewerProfile>();
    for (const [userId, b] of builders) {
      const tags = [...b.tagWeights]
        .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
        .slice(0, this.maxTags)
        .map(([t]) => t);
      b.engaged.delete(userId);
      out.set(userId, {
        userId,
        history: b.history,
        spend: b.spend,
        purchases: b.purchases,
        tags,
        engagedCreators: b.engaged,
        owned: b.owned,
        subscribedTo: b.subscribedTo,
      });
    }
    return out;
  }
}
