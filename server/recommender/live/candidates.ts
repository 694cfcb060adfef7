import { type Kysely, sql } from 'kysely';
import type { RoomListItem } from '../../../protocol';
import type { Config } from '../../config';
import type { DB } from '../../db';
import { selectRoomListRows, toRoomListItem } from '../../rooms';
import type { LiveCandidate, ViewerContext } from './types';

/**
 * What "Live now for you" ranks, read from Postgres: the candidates (rooms live now, and rooms
 * scheduled soon) with their list items, and what is known of a signed-in viewer.
 */

export interface CandidateOptions {
  /** Scheduled rooms starting within this many days are upcoming candidates. */
  upcomingDays: number;
  /** At most this many live rooms (the most recently started) … */
  maxLive: number;
  /** … and this many scheduled ones (the soonest). */
  maxUpcoming: number;
}

export const DEFAULT_CANDIDATE_OPTIONS: CandidateOptions = { upcomingDays: 7, maxLive: 500, maxUpcoming: 100 };

/** A scheduled room whose time passed this long ago without going live is no longer suggested. */
const OVERDUE_GRACE = '1 hour';

export interface Candidate {
  candidate: LiveCandidate;
  /** The room as `GET /api/rooms` lists it (its `viewerCount` filled in by the caller, when live). */
  item: RoomListItem;
}

/**
 * Rooms that can be suggested now: live ones, and scheduled ones with a start time within
 * `upcomingDays` (or just past it). Never an ended room; never one the viewer is banned from.
 * Viewer counts are the caller's (the gateway's presence): they start at 0 here.
 */
export async function loadCandidates(
  db: Kysely<DB>,
  config: Pick<Config, 'mediaPublicBaseUrl'>,
  viewerId: string | null,
  options: CandidateOptions = DEFAULT_CANDIDATE_OPTIONS,
): Promise<Candidate[]> {
  const base = () => {
    let select = selectRoomListRows(db);
    if (viewerId) {
      select = select.where(
        sql<boolean>`NOT EXISTS (
          SELECT 1 FROM room_restrictions b
          WHERE b.room_id = r.id AND b.user_id = ${viewerId} AND b.kind = 'ban'
            AND (b.expires_at IS NULL OR b.expires_at > now())
        )`,
      );
    }
    return select;
  };
  const [live, scheduled] = await Promise.all([
    base()
      .where('r.status', '=', 'live')
      .orderBy(sql`r.started_at DESC NULLS LAST`)
      .orderBy('r.id')
      .limit(options.maxLive)
      .execute(),
    base()
      .where('r.status', '=', 'scheduled')
      .where('r.scheduled_at', 'is not', null)
      .where(sql<boolean>`r.scheduled_at > now() - ${OVERDUE_GRACE}::interval`)
      .where(sql<boolean>`r.scheduled_at <= now() + make_interval(days => ${options.upcomingDays})`)
      .orderBy('r.scheduled_at')
      .orderBy('r.id')
      .limit(options.maxUpcoming)
      .execute(),
  ]);
  return [...live, ...scheduled].map((row) => {
    const item = toRoomListItem(row, config);
    return {
      item,
      candidate: {
        roomId: item.id,
        creatorId: item.ownerId,
        status: item.status === 'live' ? 'live' : 'scheduled',
        tags: item.tags,
        viewers: 0,
        startedAt: item.startedAt,
        scheduledAt: item.scheduledAt,
      },
    };
  });
}

/** Weights of the viewer's interest tags by where they come from. */
const TAG_WEIGHT = { watched: 1, followed: 2, subscribed: 2, bought: 3 } as const;
/** How much of the viewer's history is read. */
const MAX_ROOMS_WATCHED = 200;
const MAX_MEDIA_WATCHED = 100;
const MAX_PURCHASES = 100;
const MAX_FOLLOWS = 500;
/** A lesson or replay counts as watched from this many seconds on (or once finished). */
const MEDIA_WATCHED_SECONDS = 60;
/** Tags kept, the heaviest. */
const MAX_TAGS = 30;

/** A guest's (or anyone's without history) context: the heuristic ranks by popularity alone. */
export function emptyContext(viewerId: string | null): ViewerContext {
  return { viewerId, watched: [], follows: [], subscriptions: [], tags: {} };
}

/**
 * What a signed-in viewer's history says, for ranking:
 * - **watched**: per creator, the live rooms the viewer was in (`analytics_room_viewers`, written
 *   by the analytics consumer from `room.joined`, and `room_previews`, written at once when they
 *   open a paid room), plus lessons and replays watched for a minute or finished
 *   (`watch_progress`) — each room or item once, so a creator watched three times counts 3 —
 *   most recent first, with the last time;
 * - **subscriptions**: creators subscribed to now;
 * - **follows**: creators followed (`follows`), the latest first;
 * - **tags**: of the rooms and items watched (1 each), followed (2) and subscribed (2) creators'
 *   profiles and contents bought (3).
 * The viewer's own rooms and contents are left out.
 *
 * `asOf` (online learning): the context as it was just before the viewer joined room `roomId` at
 * `at` — that room, and what was watched or followed from `at` on, are left out.
 */
export async function loadViewerContext(
  db: Kysely<DB>,
  viewerId: string,
  asOf?: { roomId: string; at: Date },
): Promise<ViewerContext> {
  const before = (column: string) => (asOf ? sql`AND ${sql.ref(column)} < ${asOf.at}` : sql``);
  const [watched, subscriptions, bought, follows] = await Promise.all([
    sql<{ creator_id: string; tags: string[] | null; at: Date }>`
      WITH rooms_seen AS (
        SELECT room_id, min(at) AS at FROM (
          SELECT room_id, first_joined_at AS at FROM analytics_room_viewers WHERE user_id = ${viewerId}
          UNION ALL
          SELECT room_id, started_at FROM room_previews WHERE user_id = ${viewerId}
        ) s
        WHERE ${asOf ? sql`room_id <> ${asOf.roomId} AND at < ${asOf.at}` : sql`true`}
        GROUP BY room_id
        ORDER BY at DESC
        LIMIT ${MAX_ROOMS_WATCHED}
      ), media_seen AS (
        SELECT content_id, room_id, updated_at AS at FROM watch_progress
        WHERE user_id = ${viewerId}
          AND (completed_at IS NOT NULL OR watched_seconds >= ${MEDIA_WATCHED_SECONDS})
          ${before('updated_at')}
        ORDER BY updated_at DESC
        LIMIT ${MAX_MEDIA_WATCHED}
      )
      SELECT r.owner_id AS creator_id, r.tags, s.at FROM rooms_seen s JOIN rooms r ON r.id = s.room_id
      UNION ALL
      SELECT coalesce(c.creator_id, r.owner_id), coalesce(c.tags, r.tags), m.at
      FROM media_seen m
      LEFT JOIN contents c ON c.id = m.content_id
      LEFT JOIN rooms r ON r.id = m.room_id
    `.execute(db),
    sql<{ creator_id: string; tags: string[] | null }>`
      SELECT s.creator_id, p.tags
      FROM subscriptions s LEFT JOIN creator_profiles p ON p.user_id = s.creator_id
      WHERE s.subscriber_id = ${viewerId} AND s.current_period_end > now()
    `.execute(db),
    sql<{ tags: string[] }>`
      SELECT c.tags FROM purchases p JOIN contents c ON c.id = p.content_id
      WHERE p.buyer_id = ${viewerId} AND p.status = 'completed' AND c.creator_id <> ${viewerId}
      ORDER BY p.created_at DESC
      LIMIT ${MAX_PURCHASES}
    `.execute(db),
    sql<{ creator_id: string; tags: string[] | null }>`
      SELECT f.creator_id, p.tags
      FROM follows f LEFT JOIN creator_profiles p ON p.user_id = f.creator_id
      WHERE f.follower_id = ${viewerId} ${before('f.created_at')}
      ORDER BY f.created_at DESC
      LIMIT ${MAX_FOLLOWS}
    `.execute(db),
  ]);

  const tags = new Map<string, number>();
  const addTags = (list: readonly string[] | null, weight: number) => {
    for (const tag of new Set(list ?? [])) tags.set(tag, (tags.get(tag) ?? 0) + weight);
  };
  const byCreator = new Map<string, { creatorId: string; count: number; lastAt: number }>();
  for (const row of watched.rows) {
    if (!row.creator_id || row.creator_id === viewerId) continue;
    const at = new Date(row.at).getTime();
    const known = byCreator.get(row.creator_id);
    if (known) {
      known.count += 1;
      known.lastAt = Math.max(known.lastAt, at);
    } else {
      byCreator.set(row.creator_id, { creatorId: row.creator_id, count: 1, lastAt: at });
    }
    addTags(row.tags, TAG_WEIGHT.watched);
  }
  for (const row of subscriptions.rows) addTags(row.tags, TAG_WEIGHT.subscribed);
  for (const row of follows.rows) addTags(row.tags, TAG_WEIGHT.followed);
  for (const row of bought.rows) addTags(row.tags, TAG_WEIGHT.bought);

  return {
    viewerId,
    watched: [...byCreator.values()].sort((a, b) => b.lastAt - a.lastAt),
    follows: follows.rows.map((r) => r.creator_id),
    subscriptions: subscriptions.rows.map((r) => r.creator_id).filter((id) => id !== viewerId),
    tags: Object.fromEntries([...tags].sort((a, b) => b[1] - a[1]).slice(0, MAX_TAGS)),
  };
}

/** Whether the context says anything about the viewer (otherwise: a cold start). */
export function knowsViewer(context: ViewerContext): boolean {
  return (
    context.watched.length > 0 ||
    context.follows.length > 0 ||
    context.subscriptions.length > 0 ||
    Object.keys(context.tags).length > 0
  );
}
