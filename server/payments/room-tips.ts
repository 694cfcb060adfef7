import type { Kysely } from 'kysely';
import type { LeaderboardEntry, Tip } from '../../protocol';
import type { DB } from '../db';

/**
 * A room's biggest tippers, biggest first: its tips are its live session's (a room is live once).
 * Read from each tipper's running total, which the tip batch adds to, not summed from the tips.
 */
export async function tipLeaderboard(db: Kysely<DB>, roomId: string, limit: number): Promise<LeaderboardEntry[]> {
  const rows = await db
    .selectFrom('room_tip_totals as t')
    .innerJoin('users as u', 'u.id', 't.sender_id')
    .select(['u.id', 'u.username', 't.total'])
    .where('t.room_id', '=', roomId)
    .orderBy('t.total', 'desc')
    .orderBy('u.username')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ user: { id: r.id, username: r.username }, total: Number(r.total) }));
}

/** A room's tips whose message is pinned now, newest first. */
export async function pinnedTips(db: Kysely<DB>, roomId: string, limit: number): Promise<Tip[]> {
  const rows = await db
    .selectFrom('tips as t')
    .innerJoin('users as u', 'u.id', 't.sender_id')
    .select([
      't.id',
      't.amount',
      't.currency',
      't.message',
      't.pinned_until',
      't.created_at',
      'u.id as user_id',
      'u.username',
    ])
    .where('t.room_id', '=', roomId)
    .where('t.pinned_until', '>', new Date())
    .orderBy('t.created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    roomId,
    user: { id: r.user_id, username: r.username },
    amount: r.amount,
    currency: r.currency,
    message: r.message,
    pinnedUntil: r.pinned_until?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
  }));
}
