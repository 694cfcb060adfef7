import { type Kysely, sql } from 'kysely';
import type { WatchProgress } from '../../protocol';
import type { DB } from '../db';
import { type EngagementEvent, newEvent } from '../events';

/** A viewer who reached this share of a video has finished it (credits and outros are skipped). */
export const COMPLETION_SHARE = 0.9;

export interface ProgressReport {
  userId: string;
  item: { kind: 'content'; contentId: string } | { kind: 'replay'; roomId: string };
  creatorId: string;
  positionSeconds: number;
  durationSeconds: number;
}

type Row = {
  position_seconds: number;
  duration_seconds: number;
  completed_at: Date | null;
  updated_at: Date;
};

export const toWatchProgress = (row: Row): WatchProgress => ({
  positionSeconds: row.position_seconds,
  durationSeconds: row.duration_seconds,
  completed: row.completed_at !== null,
  updatedAt: row.updated_at.toISOString(),
});

/**
 * Saves where a viewer is in a video and turns the report into engagement events: the seconds
 * watched since the previous report (bounded by the time that passed, so seeking ahead is not
 * watching) and, the first time they reach the end, a completion.
 */
export async function saveProgress(
  db: Kysely<DB>,
  report: ProgressReport,
  record: (event: EngagementEvent) => void,
): Promise<WatchProgress> {
  const position = Math.min(report.positionSeconds, report.durationSeconds);
  const column = report.item.kind === 'content' ? 'content_id' : 'room_id';
  const itemId = report.item.kind === 'content' ? report.item.contentId : report.item.roomId;
  const { row, watched, completedNow } = await db.transaction().execute(async (trx) => {
    const previous = await trx
      .selectFrom('watch_progress')
      .selectAll()
      .where('user_id', '=', report.userId)
      .where(column, '=', itemId)
      .forUpdate()
      .executeTakeFirst();
    const elapsed = previous ? (Date.now() - previous.updated_at.getTime()) / 1000 : 0;
    const watched = previous
      ? Math.max(0, Math.min(position - previous.position_seconds, elapsed * 2 + 5))
      : Math.min(position, 30);
    const completes = position >= report.durationSeconds * COMPLETION_SHARE;
    const completedNow = completes && !previous?.completed_at;
    const values = {
      position_seconds: position,
      duration_seconds: report.durationSeconds,
      watched_seconds: (previous?.watched_seconds ?? 0) + watched,
      ...(completedNow ? { completed_at: sql<Date>`now()` as never } : {}),
      updated_at: sql<Date>`now()` as never,
    };
    const row = previous
      ? await trx
          .updateTable('watch_progress')
          .set(values)
          .where('user_id', '=', report.userId)
          .where(column, '=', itemId)
          .returningAll()
          .executeTakeFirstOrThrow()
      : await trx
          .insertInto('watch_progress')
          .values({ user_id: report.userId, [column]: itemId, ...values })
          .returningAll()
          .executeTakeFirstOrThrow();
    return { row, watched, completedNow };
  });
  const ids = report.item.kind === 'content' ? { contentId: itemId } : { roomId: itemId };
  const data = {
    item: report.item.kind,
    seconds: Math.round(watched * 10) / 10,
    positionSeconds: position,
    durationSeconds: report.durationSeconds,
  };
  const common = { userId: report.userId, creatorId: report.creatorId, ...ids, data };
  record(newEvent('media.progress', common));
  if (completedNow) record(newEvent('media.completed', common));
  return toWatchProgress(row);
}
