import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { FollowedCreator, FollowState } from '../../protocol';
import type { Principal } from '../auth';
import type { Config } from '../config';
import type { DB } from '../db';
import { invalidArgument, notFound } from '../errors';
import { type EngagementEvent, newEvent } from '../events';
import { mediaUrl } from '../storage';
import { id, parse } from '../validation';

/**
 * Follows: a viewer follows a creator (free, public, as on Twitch or Bilibili). Following and
 * unfollowing are idempotent; each real change is recorded once on the engagement stream
 * (`creator.followed` / `creator.unfollowed`). "Live now for you" reads them
 * (server/recommender/live/candidates.ts) and the creator's profile shows the count.
 */
export interface FollowsService {
  /** Follows creator `creatorId` (idempotent). NOT_FOUND for anyone not a creator; nobody follows themselves. */
  follow(viewer: Principal, creatorId: string): Promise<FollowState>;
  /** Stops following (idempotent: not following is fine). */
  unfollow(viewer: Principal, creatorId: string): Promise<FollowState>;
  /** The creators the caller follows, the latest follow first; `query`: `{limit?, offset?}`. */
  list(viewer: Principal, query: unknown): Promise<FollowedCreator[]>;
  /** Whether `viewerId` follows `creatorId`. */
  isFollowing(viewerId: string, creatorId: string): Promise<boolean>;
}

export interface FollowsDeps {
  db: Kysely<DB>;
  config: Pick<Config, 'mediaPublicBaseUrl'>;
  /** Records an engagement event (server/app.ts: the log, and the online recommenders). */
  record: (event: EngagementEvent) => void;
  /** Told after a viewer's follows changed (the for-you context cache forgets the viewer). */
  changed?: (viewerId: string, creatorId: string, following: boolean) => void;
}

/** The query `GET /api/me/follows` takes (also its OpenAPI description). */
export const followsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export function createFollowsService({ db, config, record, changed }: FollowsDeps): FollowsService {
  /** The user `creatorId` names, when they are a creator (or an admin, who may stream too). */
  async function creatorOf(creatorId: string): Promise<string> {
    const target = parse(id, creatorId);
    const row = await db
      .selectFrom('users')
      .select('id')
      .where('id', '=', target)
      .where('role', 'in', ['creator', 'admin'])
      .executeTakeFirst();
    if (!row) throw notFound('creator');
    return row.id;
  }

  async function followers(creatorId: string): Promise<number> {
    const row = await db
      .selectFrom('follows')
      .select(sql<string>`count(*)`.as('n'))
      .where('creator_id', '=', creatorId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  function told(viewerId: string, creatorId: string, following: boolean) {
    record(newEvent(following ? 'creator.followed' : 'creator.unfollowed', { userId: viewerId, creatorId, data: {} }));
    changed?.(viewerId, creatorId, following);
  }

  return {
    async follow(viewer, creatorId) {
      const creator = await creatorOf(creatorId);
      if (creator === viewer.id) throw invalidArgument('you cannot follow yourself');
      const inserted = await db
        .insertInto('follows')
        .values({ follower_id: viewer.id, creator_id: creator })
        .onConflict((oc) => oc.columns(['follower_id', 'creator_id']).doNothing())
        .returning('creator_id')
        .executeTakeFirst();
      if (inserted) told(viewer.id, creator, true);
      return { following: true, followers: await followers(creator) };
    },

    async unfollow(viewer, creatorId) {
      const target = parse(id, creatorId);
      const deleted = await db
        .deleteFrom('follows')
        .where('follower_id', '=', viewer.id)
        .where('creator_id', '=', target)
        .returning('creator_id')
        .executeTakeFirst();
      // Not following: still an answer for a creator, NOT_FOUND for anyone else.
      if (deleted) told(viewer.id, target, false);
      else await creatorOf(target);
      return { following: false, followers: await followers(target) };
    },

    async list(viewer, query) {
      const q = parse(followsQuerySchema, query);
      const rows = await db
        .selectFrom('follows as f')
        .innerJoin('users as u', 'u.id', 'f.creator_id')
        .leftJoin('creator_profiles as p', 'p.user_id', 'f.creator_id')
        .select([
          'f.creator_id',
          'f.created_at',
          'u.username',
          'p.display_name',
          'p.avatar_key',
          (eb) =>
            eb
              .selectFrom('rooms as r')
              .select('r.id')
              .whereRef('r.owner_id', '=', 'f.creator_id')
              .where('r.status', '=', 'live')
              .orderBy(sql`r.started_at DESC NULLS LAST`)
              .limit(1)
              .as('live_room_id'),
        ])
        .where('f.follower_id', '=', viewer.id)
        .orderBy('f.created_at', 'desc')
        .orderBy('f.creator_id')
        .limit(q.limit)
        .offset(q.offset)
        .execute();
      return rows.map((r) => ({
        creator: {
          userId: r.creator_id,
          displayName: r.display_name || r.username,
          avatarUrl: r.avatar_key ? mediaUrl(config, r.avatar_key) : null,
        },
        followedAt: new Date(r.created_at).toISOString(),
        liveRoomId: r.live_room_id ?? null,
      }));
    },

    async isFollowing(viewerId, creatorId) {
      const row = await db
        .selectFrom('follows')
        .select('creator_id')
        .where('follower_id', '=', viewerId)
        .where('creator_id', '=', parse(id, creatorId))
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
