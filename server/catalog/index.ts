import type { IncomingMessage } from 'node:http';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { type Content, type CreatorProfile, Limits } from '../../protocol';
import type { Principal } from '../auth';
import type { Config } from '../config';
import type { ContentRow, DB, MediaAssetStatus } from '../db';
import { forbidden, invalidArgument, notFound } from '../errors';
import { MediaKeys, mediaUrl } from '../storage';
import { id, parse, tags, title } from '../validation';
import { IMAGE_BOXES, type PublicImages, playableSeconds } from '../vod';

/** Contents creators sell (lessons, courses, bundles) and the creators' public profiles. */
export interface CatalogService {
  createContent(creator: Principal, input: unknown): Promise<Content>;
  updateContent(creator: Principal, contentId: string, input: unknown): Promise<Content>;
  archiveContent(creator: Principal, contentId: string): Promise<void>;
  getContent(contentId: string): Promise<Content>;
  listContents(query: unknown): Promise<Content[]>;
  getProfile(userId: string): Promise<CreatorProfile>;
  /** Display name, bio, tags, links and the subscription price; only the fields given change. */
  updateProfile(creator: Principal, input: unknown): Promise<CreatorProfile>;
  /** A new avatar from the request's image (re-encoded within 512×512); the old one is deleted. */
  setAvatar(creator: Principal, req: IncomingMessage): Promise<CreatorProfile>;
}

/** An absolute http(s) URL, kept in its normalised form (what `new URL` prints). */
const httpUrl = z
  .string()
  .trim()
  .min(1)
  .max(Limits.profileLinkUrlMax)
  .transform((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a full URL, such as https://example.com' });
      return z.NEVER;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: 'links are http or https URLs' });
      return z.NEVER;
    }
    if (url.username || url.password) {
      ctx.addIssue({ code: 'custom', message: 'links may not carry a user name or password' });
      return z.NEVER;
    }
    if (url.href.length > Limits.profileLinkUrlMax) {
      ctx.addIssue({ code: 'custom', message: `at most ${Limits.profileLinkUrlMax} characters` });
      return z.NEVER;
    }
    return url.href;
  });

const profileLinks = z
  .array(
    z.strictObject({
      label: z.string().trim().min(1).max(Limits.profileLinkLabelMax),
      url: httpUrl,
    }),
  )
  .max(Limits.profileLinksMax);

const contentFields = (maxPrice: number) => ({
  title,
  description: z.string().max(Limits.descriptionMax).default(''),
  kind: z.enum(['lesson', 'course', 'bundle']),
  price: z.number().int('price is an integer number of minor units').min(0).max(maxPrice),
  tags: tags.default([]),
  itemIds: z.array(id).max(100).default([]),
  freeTrial: z.boolean().default(false),
  notes: z.string().max(Limits.notesMax).default(''),
});

export const listSchema = z.strictObject({
  creatorId: id.optional(),
  tag: z.string().trim().toLowerCase().max(Limits.tagMax).optional(),
  kind: z.enum(['lesson', 'course', 'bundle']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

type ItemRow = { parent_id: string; item_id: string };
type ContentWithVideo = ContentRow & { asset_status: MediaAssetStatus | null; playable_seconds: number | null };

function toContent(row: ContentWithVideo, items: ItemRow[], config: Pick<Config, 'mediaPublicBaseUrl'>): Content {
  return {
    id: row.id,
    creatorId: row.creator_id,
    title: row.title,
    description: row.description,
    kind: row.kind,
    price: row.price,
    currency: row.currency,
    tags: row.tags,
    itemIds: items.filter((i) => i.parent_id === row.id).map((i) => i.item_id),
    coverUrl: row.cover_key ? mediaUrl(config, row.cover_key) : null,
    freeTrial: row.free_trial,
    hasVideo: row.media_asset_id !== null,
    durationSeconds: row.asset_status
      ? playableSeconds({ status: row.asset_status, playable_seconds: row.playable_seconds })
      : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The bodies the catalog validates (also the API's OpenAPI description, server/http/openapi.ts). */
export function catalogSchemas(config: Pick<Config, 'maxPrice'>) {
  const fields = contentFields(config.maxPrice);
  return {
    create: z.strictObject(fields),
    update: z.strictObject({
      title: fields.title.optional(),
      description: z.string().max(Limits.descriptionMax).optional(),
      price: fields.price.optional(),
      tags: tags.optional(),
      itemIds: z.array(id).max(100).optional(),
      freeTrial: z.boolean().optional(),
      notes: z.string().max(Limits.notesMax).optional(),
    }),
    profile: z.strictObject({
      displayName: z.string().trim().min(1).max(Limits.displayNameMax).optional(),
      bio: z.string().max(Limits.descriptionMax).optional(),
      tags: tags.optional(),
      links: profileLinks.optional(),
      subscriptionPrice: z.number().int().min(1).max(config.maxPrice).nullable().optional(),
      subscriptionPeriodDays: z.number().int().min(1).max(366).optional(),
    }),
  };
}

export function createCatalogService({
  db,
  config,
  images,
}: {
  db: Kysely<DB>;
  config: Pick<Config, 'currency' | 'maxPrice' | 'mediaPublicBaseUrl'>;
  images: PublicImages;
}): CatalogService {
  const { create: createSchema, update: updateSchema, profile: profileSchema } = catalogSchemas(config);

  const requireCreator = (p: Principal) => {
    if (p.role !== 'creator' && p.role !== 'admin') throw forbidden('only creators can do this');
  };

  async function load(ids: string[], trx: Kysely<DB> = db): Promise<Content[]> {
    if (ids.length === 0) return [];
    const [rows, items] = await Promise.all([
      trx
        .selectFrom('contents as c')
        .leftJoin('media_assets as a', (join) =>
          join.onRef('a.id', '=', 'c.media_asset_id').on('a.deleted_at', 'is', null),
        )
        .selectAll('c')
        .select(['a.status as asset_status', 'a.playable_seconds'])
        .where('c.id', 'in', ids)
        .execute(),
      trx
        .selectFrom('content_items')
        .select(['parent_id', 'item_id'])
        .where('parent_id', 'in', ids)
        .orderBy('position')
        .execute(),
    ]);
    const byId = new Map(rows.map((r) => [r.id, toContent(r, items, config)]));
    return ids.flatMap((i) => byId.get(i) ?? []);
  }

  /** A course holds the creator's lessons; a bundle holds any of their lessons and courses. */
  async function checkItems(trx: Kysely<DB>, creatorId: string, kind: Content['kind'], itemIds: string[]) {
    if (kind === 'lesson') {
      if (itemIds.length) throw invalidArgument('a lesson has no items');
      return;
    }
    const unique = [...new Set(itemIds)];
    if (unique.length !== itemIds.length) throw invalidArgument('itemIds has duplicates');
    if (unique.length === 0) return;
    const found = await trx
      .selectFrom('contents')
      .select(['id', 'kind'])
      .where('id', 'in', unique)
      .where('creator_id', '=', creatorId)
      .where('archived_at', 'is', null)
      .execute();
    if (found.length !== unique.length) throw invalidArgument('every item must be one of your own contents');
    const allowed = kind === 'course' ? ['lesson'] : ['lesson', 'course'];
    if (found.some((f) => !allowed.includes(f.kind))) {
      throw invalidArgument(kind === 'course' ? 'a course holds lessons' : 'a bundle holds lessons and courses');
    }
  }

  async function setItems(trx: Kysely<DB>, parentId: string, itemIds: string[]) {
    await trx.deleteFrom('content_items').where('parent_id', '=', parentId).execute();
    if (itemIds.length) {
      await trx
        .insertInto('content_items')
        .values(itemIds.map((item, position) => ({ parent_id: parentId, item_id: item, position })))
        .execute();
    }
  }

  async function ownedContent(trx: Kysely<DB>, creator: Principal, contentId: string) {
    const row = await trx
      .selectFrom('contents')
      .selectAll()
      .where('id', '=', parse(id, contentId))
      .where('archived_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw notFound('content');
    if (row.creator_id !== creator.id && creator.role !== 'admin') throw forbidden('not your content');
    return row;
  }

  async function getProfile(userId: string): Promise<CreatorProfile> {
    const row = await db
      .selectFrom('creator_profiles')
      .selectAll()
      .select((eb) =>
        eb
          .selectFrom('follows')
          .select(sql<string>`count(*)`.as('n'))
          .whereRef('follows.creator_id', '=', 'creator_profiles.user_id')
          .as('followers'),
      )
      .where('user_id', '=', parse(id, userId))
      .executeTakeFirst();
    if (!row) throw notFound('creator');
    return {
      userId: row.user_id,
      displayName: row.display_name,
      bio: row.bio,
      tags: row.tags,
      subscriptionPrice: row.subscription_price,
      subscriptionPeriodDays: row.subscription_period_days,
      avatarUrl: row.avatar_key ? mediaUrl(config, row.avatar_key) : null,
      links: row.links,
      followers: Number(row.followers ?? 0),
    };
  }

  return {
    async createContent(creator, input) {
      requireCreator(creator);
      const c = parse(createSchema, input);
      if (c.freeTrial && c.kind !== 'lesson') throw invalidArgument('only a lesson can be a free trial');
      return db.transaction().execute(async (trx) => {
        await checkItems(trx, creator.id, c.kind, c.itemIds);
        const row = await trx
          .insertInto('contents')
          .values({
            creator_id: creator.id,
            title: c.title,
            description: c.description,
            kind: c.kind,
            price: c.price,
            currency: config.currency,
            tags: c.tags,
            free_trial: c.kind === 'lesson' && c.freeTrial,
            notes: c.notes,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await setItems(trx, row.id, c.itemIds);
        return (await load([row.id], trx))[0];
      });
    },

    async updateContent(creator, contentId, input) {
      requireCreator(creator);
      const patch = parse(updateSchema, input);
      return db.transaction().execute(async (trx) => {
        const row = await ownedContent(trx, creator, contentId);
        if (patch.itemIds) {
          await checkItems(trx, row.creator_id, row.kind, patch.itemIds);
          await setItems(trx, row.id, patch.itemIds);
        }
        if (patch.freeTrial && row.kind !== 'lesson') throw invalidArgument('only a lesson can be a free trial');
        const { itemIds: _items, freeTrial, ...columns } = patch;
        await trx
          .updateTable('contents')
          .set({
            ...columns,
            ...(freeTrial === undefined ? {} : { free_trial: freeTrial }),
            updated_at: sql<Date>`now()` as never,
          })
          .where('id', '=', row.id)
          .execute();
        return (await load([row.id], trx))[0];
      });
    },

    async archiveContent(creator, contentId) {
      requireCreator(creator);
      await db.transaction().execute(async (trx) => {
        const row = await ownedContent(trx, creator, contentId);
        // Archived, not deleted: purchases and entitlements keep pointing at it.
        await trx
          .updateTable('contents')
          .set({ archived_at: sql<Date>`now()` as never })
          .where('id', '=', row.id)
          .execute();
      });
    },

    async getContent(contentId) {
      const [content] = await load([parse(id, contentId)]);
      if (!content) throw notFound('content');
      return content;
    },

    async listContents(query) {
      const q = parse(listSchema, query);
      let select = db.selectFrom('contents').select('id').where('archived_at', 'is', null);
      if (q.creatorId) select = select.where('creator_id', '=', q.creatorId);
      if (q.kind) select = select.where('kind', '=', q.kind);
      if (q.tag) select = select.where(sql<boolean>`tags @> ARRAY[${q.tag}]::text[]`);
      const rows = await select.orderBy('created_at', 'desc').orderBy('id').limit(q.limit).offset(q.offset).execute();
      return load(rows.map((r) => r.id));
    },

    getProfile,

    async updateProfile(creator, input) {
      requireCreator(creator);
      const p = parse(profileSchema, input);
      const row = await db
        .updateTable('creator_profiles')
        .set({
          display_name: p.displayName,
          bio: p.bio,
          tags: p.tags,
          subscription_price: p.subscriptionPrice,
          subscription_period_days: p.subscriptionPeriodDays,
          links: p.links === undefined ? undefined : JSON.stringify(p.links),
          updated_at: sql<Date>`now()` as never,
        })
        .where('user_id', '=', creator.id)
        .returning('user_id')
        .executeTakeFirst();
      if (!row) throw notFound('creator profile');
      return getProfile(creator.id);
    },

    async setAvatar(creator, req) {
      requireCreator(creator);
      const exists = await db
        .selectFrom('creator_profiles')
        .select('user_id')
        .where('user_id', '=', creator.id)
        .executeTakeFirst();
      if (!exists) throw notFound('creator profile');
      const key = MediaKeys.avatar(creator.id, Date.now().toString(36));
      await images.save(req, key, IMAGE_BOXES.avatar, 'an avatar');
      // The avatar replaced is the one in the row now: another upload may have landed meanwhile.
      const replaced = await db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('creator_profiles')
          .select('avatar_key')
          .where('user_id', '=', creator.id)
          .forUpdate()
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('creator_profiles')
          .set({ avatar_key: key, updated_at: sql<Date>`now()` as never })
          .where('user_id', '=', creator.id)
          .execute();
        return row.avatar_key;
      });
      await images.discard(replaced);
      return getProfile(creator.id);
    },
  };
}
