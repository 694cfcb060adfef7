import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db';
import type { CatalogItem } from './types';

export interface CatalogOptions {
  /** How often (at most) to ask Postgres whether contents or creator profiles changed. */
  checkIntervalMs?: number;
  /** How often to reload purchase and impression counts even when nothing changed. */
  statsIntervalMs?: number;
  now?: () => number;
}

export interface ItemStats {
  purchases: number;
  impressions: number;
}

/**
 * An in-memory view of everything that can be suggested: paid, unarchived contents and the
 * subscriptions of creators who sell one, indexed by creator and by tag, with purchase and
 * impression counts. Reloaded whole when a cheap fingerprint query says the catalog changed;
 * counts also move with the events this node observes, between reloads.
 */
export class CatalogCache {
  private items = new Map<string, CatalogItem>();
  private byCreatorIndex = new Map<string, CatalogItem[]>();
  private creatorTags = new Map<string, Set<string>>();
  private tagIndex = new Map<string, Set<string>>();
  private creatorNames = new Map<string, string>();
  private stats = new Map<string, ItemStats>();
  private fingerprint = '';
  private checkedAt = Number.NEGATIVE_INFINITY;
  private statsAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  private readonly checkIntervalMs: number;
  private readonly statsIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Kysely<DB>,
    options: CatalogOptions = {},
  ) {
    this.checkIntervalMs = options.checkIntervalMs ?? 2000;
    this.statsIntervalMs = options.statsIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.items.size;
  }

  /** Reloads what changed; concurrent callers share one load. */
  refresh(force = false): Promise<void> {
    if (!force && this.now() - this.checkedAt < this.checkIntervalMs) return Promise.resolve();
    this.loading ??= this.load(force).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(force: boolean): Promise<void> {
    this.checkedAt = this.now();
    const { rows } = await sql<{ f: string }>`
      SELECT concat_ws('/',
        (SELECT count(*) FROM contents),
        (SELECT max(greatest(created_at, updated_at, coalesce(archived_at, created_at))) FROM contents),
        (SELECT count(*) FROM creator_profiles),
        (SELECT max(updated_at) FROM creator_profiles)) AS f
    `.execute(this.db);
    const fingerprint = rows[0]?.f ?? '';
    if (force || fingerprint !== this.fingerprint) {
      await this.loadItems();
      this.fingerprint = fingerprint;
      await this.loadStats();
    } else if (this.now() - this.statsAt >= this.statsIntervalMs) {
      await this.loadStats();
    }
  }

  private async loadItems(): Promise<void> {
    const [contents, creators, tree] = await Promise.all([
      this.db
        .selectFrom('contents')
        .select(['id', 'creator_id', 'title', 'kind', 'price', 'tags'])
        .where('archived_at', 'is', null)
        .where('price', '>', 0)
        .execute(),
      this.db
        .selectFrom('users as u')
        .leftJoin('creator_profiles as p', 'p.user_id', 'u.id')
        .select(['u.id', 'u.username', 'p.display_name', 'p.tags', 'p.subscription_price'])
        .where('u.role', '=', 'creator')
        .execute(),
      sql<{ root: string; id: string }>`
        WITH RECURSIVE tree(root, id) AS (
          SELECT parent_id, item_id FROM content_items
          UNION
          SELECT t.root, ci.item_id FROM content_items ci JOIN tree t ON ci.parent_id = t.id
        )
        SELECT root, id FROM tree
      `.execute(this.db),
    ]);
    const contains = new Map<string, string[]>();
    for (const { root, id } of tree.rows) {
      const list = contains.get(root) ?? [];
      list.push(id);
      contains.set(root, list);
    }
    const items = new Map<string, CatalogItem>();
    const names = new Map<string, string>();
    for (const c of creators) names.set(c.id, c.display_name || c.username);
    for (const c of contents) {
      items.set(c.id, {
        id: c.id,
        kind: c.kind,
        creatorId: c.creator_id,
        title: c.title,
        price: c.price,
        tags: c.tags,
        ...(contains.has(c.id) ? { contains: contains.get(c.id) } : {}),
      });
    }
    const contentTags = new Map<string, Set<string>>();
    for (const item of items.values()) {
      const set = contentTags.get(item.creatorId) ?? new Set<string>();
      for (const t of item.tags) set.add(t);
      contentTags.set(item.creatorId, set);
    }
    for (const c of creators) {
      if (!c.subscription_price) continue;
      // A subscription carries the creator's profile tags, or else what their contents are about.
      const tags = c.tags?.length ? c.tags : [...(contentTags.get(c.id) ?? [])].slice(0, 10);
      items.set(c.id, {
        id: c.id,
        kind: 'subscription',
        creatorId: c.id,
        title: `Subscribe to ${names.get(c.id) ?? 'this creator'}`,
        price: c.subscription_price,
        tags,
      });
    }
    const byCreator = new Map<string, CatalogItem[]>();
    const creatorTags = new Map<string, Set<string>>();
    const tagIndex = new Map<string, Set<string>>();
    for (const item of items.values()) {
      const list = byCreator.get(item.creatorId) ?? [];
      list.push(item);
      byCreator.set(item.creatorId, list);
      const tags = creatorTags.get(item.creatorId) ?? new Set<string>();
      for (const t of item.tags) {
        tags.add(t);
        const creatorsWithTag = tagIndex.get(t) ?? new Set<string>();
        creatorsWithTag.add(item.creatorId);
        tagIndex.set(t, creatorsWithTag);
      }
      creatorTags.set(item.creatorId, tags);
    }
    this.items = items;
    this.byCreatorIndex = byCreator;
    this.creatorTags = creatorTags;
    this.tagIndex = tagIndex;
    this.creatorNames = names;
  }

  private async loadStats(): Promise<void> {
    this.statsAt = this.now();
    const [purchases, impressions] = await Promise.all([
      sql<{ id: string; n: number }>`
        SELECT coalesce(content_id, creator_id) AS id, count(*)::int AS n FROM purchases
        WHERE status = 'completed' AND kind IN ('content', 'subscription')
        GROUP BY 1
      `.execute(this.db),
      sql<{ id: string; n: number }>`
        SELECT coalesce(content_id, creator_id) AS id, count(*)::int AS n FROM recommendation_impressions
        WHERE shown_at > now() - interval '30 days'
        GROUP BY 1
      `.execute(this.db),
    ]);
    const stats = new Map<string, ItemStats>();
    const at = (id: string) => {
      let s = stats.get(id);
      if (!s) {
        s = { purchases: 0, impressions: 0 };
        stats.set(id, s);
      }
      return s;
    };
    for (const r of purchases.rows) at(r.id).purchases = r.n;
    for (const r of impressions.rows) at(r.id).impressions = r.n;
    this.stats = stats;
  }

  item(id: string): CatalogItem | undefined {
    return this.items.get(id);
  }

  /** A creator's contents, and their subscription when they sell one. */
  byCreator(creatorId: string): readonly CatalogItem[] {
    return this.byCreatorIndex.get(creatorId) ?? [];
  }

  creatorName(creatorId: string): string {
    return this.creatorNames.get(creatorId) ?? 'this creator';
  }

  /** Creators whose catalog carries any of `tags`, with how many of them each carries. */
  creatorsWithTags(tags: Iterable<string>): Map<string, { overlap: number; firstTag: string }> {
    const out = new Map<string, { overlap: number; firstTag: string }>();
    for (const t of tags) {
      for (const creator of this.tagIndex.get(t) ?? []) {
        const entry = out.get(creator);
        if (entry) entry.overlap++;
        else out.set(creator, { overlap: 1, firstTag: t });
      }
    }
    return out;
  }

  tagsOfCreator(creatorId: string): ReadonlySet<string> {
    return this.creatorTags.get(creatorId) ?? new Set();
  }

  statsOf(id: string): ItemStats {
    return this.stats.get(id) ?? { purchases: 0, impressions: 0 };
  }

  /** Counts move with what this node sees, between reloads. */
  notePurchase(id: string): void {
    const s = this.stats.get(id) ?? { purchases: 0, impressions: 0 };
    s.purchases++;
    this.stats.set(id, s);
  }

  noteImpression(id: string): void {
    const s = this.stats.get(id) ?? { purchases: 0, impressions: 0 };
    s.impressions++;
    this.stats.set(id, s);
  }

  /** Every creator with something to suggest. */
  creators(): string[] {
    return [...this.byCreatorIndex.keys()];
  }
}
