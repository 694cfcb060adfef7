import { type Kysely, sql } from 'kysely';
import type { LibraryItem, MediaStatus, WatchProgress } from '../../protocol';
import type { Config } from '../config';
import type { DB, MediaAssetStatus } from '../db';
import { mediaUrl } from '../storage';
import { playableSeconds } from './assets';

type AssetColumns = { status: MediaAssetStatus | null; playable_seconds: number | null };
type ProgressColumns = {
  position_seconds: number | null;
  progress_duration: number | null;
  completed_at: Date | null;
  progress_at: Date | null;
};

const duration = (r: AssetColumns) =>
  r.status ? playableSeconds({ status: r.status, playable_seconds: r.playable_seconds }) : null;

const progressOf = (r: ProgressColumns): WatchProgress | null =>
  r.position_seconds === null || r.progress_at === null
    ? null
    : {
        positionSeconds: r.position_seconds,
        durationSeconds: r.progress_duration ?? 0,
        completed: r.completed_at !== null,
        updatedAt: r.progress_at.toISOString(),
      };

const LIMIT = 200;

/**
 * Everything a viewer can watch because they have it: the contents they bought (a course or
 * bundle opens on its syllabus), and the replays of rooms they hold a ticket to, of their
 * subscriptions' rooms while subscribed, and of the free rooms they were in. Newest first.
 */
export async function libraryOf(
  db: Kysely<DB>,
  config: Pick<Config, 'mediaPublicBaseUrl'>,
  userId: string,
): Promise<LibraryItem[]> {
  const contents = await sql<
    {
      id: string;
      title: string;
      kind: 'lesson' | 'course' | 'bundle';
      creator_id: string;
      creator_name: string;
      cover_key: string | null;
      acquired_at: Date;
    } & AssetColumns &
      ProgressColumns
  >`
    SELECT DISTINCT ON (c.id) c.id, c.title, c.kind, c.creator_id,
      coalesce(nullif(cp.display_name, ''), u.username) AS creator_name, c.cover_key,
      pu.created_at AS acquired_at,
      a.status, a.playable_seconds,
      wp.position_seconds, wp.duration_seconds AS progress_duration, wp.completed_at, wp.updated_at AS progress_at
    FROM purchases pu
    JOIN contents c ON c.id = pu.content_id
    JOIN users u ON u.id = c.creator_id
    LEFT JOIN creator_profiles cp ON cp.user_id = c.creator_id
    LEFT JOIN media_assets a ON a.id = c.media_asset_id AND a.deleted_at IS NULL
    LEFT JOIN watch_progress wp ON wp.user_id = pu.buyer_id AND wp.content_id = c.id
    WHERE pu.buyer_id = ${userId} AND pu.kind = 'content' AND pu.status = 'completed'
    ORDER BY c.id, pu.created_at DESC
    LIMIT ${LIMIT}
  `.execute(db);

  const replays = await sql<
    {
      id: string;
      title: string;
      owner_id: string;
      creator_name: string;
      ended_at: Date | null;
      via: 'ticket' | 'subscription' | 'free';
    } & AssetColumns &
      ProgressColumns
  >`
    WITH mine AS (
      SELECT e.room_id, 'ticket' AS via FROM entitlements e
      WHERE e.user_id = ${userId} AND e.room_id IS NOT NULL AND e.revoked_at IS NULL
      UNION
      SELECT r.id, 'subscription' FROM subscriptions s
      JOIN rooms r ON r.owner_id = s.creator_id AND r.access = 'subscribers'
      WHERE s.subscriber_id = ${userId} AND s.current_period_end > now()
      UNION
      SELECT v.room_id, 'free' FROM analytics_room_viewers v
      JOIN rooms r ON r.id = v.room_id AND r.access = 'free'
      WHERE v.user_id = ${userId}
    )
    SELECT DISTINCT ON (r.id) r.id, r.title, r.owner_id, coalesce(nullif(cp.display_name, ''), u.username) AS creator_name,
      r.ended_at, mine.via,
      a.status, a.playable_seconds,
      wp.position_seconds, wp.duration_seconds AS progress_duration, wp.completed_at, wp.updated_at AS progress_at
    FROM mine
    JOIN rooms r ON r.id = mine.room_id
    JOIN media_assets a ON a.id = r.replay_asset_id AND a.deleted_at IS NULL
    JOIN users u ON u.id = r.owner_id
    LEFT JOIN creator_profiles cp ON cp.user_id = r.owner_id
    LEFT JOIN watch_progress wp ON wp.user_id = ${userId} AND wp.room_id = r.id
    WHERE r.owner_id <> ${userId}
    ORDER BY r.id, mine.via
    LIMIT ${LIMIT}
  `.execute(db);

  const items: (LibraryItem & { at: number })[] = [
    ...contents.rows.map((r) => ({
      kind: 'content' as const,
      contentId: r.id,
      title: r.title,
      contentKind: r.kind,
      creatorId: r.creator_id,
      creatorName: r.creator_name,
      coverUrl: r.cover_key ? mediaUrl(config, r.cover_key) : null,
      durationSeconds: duration(r),
      progress: progressOf(r),
      acquiredAt: r.acquired_at.toISOString(),
      at: r.acquired_at.getTime(),
    })),
    ...replays.rows.map((r) => ({
      kind: 'replay' as const,
      roomId: r.id,
      title: r.title,
      creatorId: r.owner_id,
      creatorName: r.creator_name,
      via: r.via,
      status: (r.status === 'recording' ? 'processing' : (r.status ?? 'processing')) as MediaStatus,
      durationSeconds: duration(r),
      progress: progressOf(r),
      endedAt: r.ended_at?.toISOString() ?? null,
      at: r.ended_at?.getTime() ?? Date.now(),
    })),
  ];
  // The last thing watched first, then the newest acquisitions.
  const recency = (i: (typeof items)[number]) => Math.max(i.at, i.progress ? Date.parse(i.progress.updatedAt) : 0);
  return items.sort((a, b) => recency(b) - recency(a)).map(({ at: _at, ...item }) => item as LibraryItem);
}
