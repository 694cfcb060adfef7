import { type Kysely, sql } from 'kysely';
import type { DB } from '../db';
import type { Trx } from './ledger';

/**
 * Grants `userId` the content and everything it contains (a bundle's items, a course's lessons,
 * a bundle's courses' lessons), each row tied to the purchase that pays for it.
 */
export async function grantContent(trx: Trx, userId: string, contentId: string, purchaseId: string): Promise<void> {
  await sql`
    WITH RECURSIVE granted(id) AS (
      SELECT ${contentId}::uuid
      UNION
      SELECT ci.item_id FROM content_items ci JOIN granted g ON ci.parent_id = g.id
    )
    INSERT INTO entitlements (user_id, content_id, purchase_id)
    SELECT ${userId}::uuid, id, ${purchaseId}::uuid FROM granted
  `.execute(trx);
}

/**
 * True when the user may use the content: its creator, free content, or an entitlement to it or
 * to a course or bundle that holds it now. So an item added to a course later belongs to the
 * course's earlier buyers too; what a purchase granted when it was made (`grantContent`) stays
 * granted if the item is taken out again.
 */
export async function ownsContent(db: Kysely<DB>, userId: string, contentId: string): Promise<boolean> {
  const { rows } = await sql<{ creator_id: string; price: number; entitled: boolean }>`
    WITH RECURSIVE holders(id) AS (
      SELECT ${contentId}::uuid
      UNION
      SELECT ci.parent_id FROM content_items ci JOIN holders h ON ci.item_id = h.id
    )
    SELECT c.creator_id, c.price, EXISTS (
      SELECT 1 FROM entitlements e
      WHERE e.user_id = ${userId} AND e.revoked_at IS NULL AND e.content_id IS NOT NULL
        AND e.content_id IN (SELECT id FROM holders)
    ) AS entitled
    FROM contents c WHERE c.id = ${contentId}
  `.execute(db);
  const row = rows[0];
  if (!row) return false;
  return row.creator_id === userId || row.price === 0 || row.entitled;
}

/** Ids of the contents the user owns through an entitlement, as `ownsContent` decides. */
export async function ownedContentIds(db: Kysely<DB>, userId: string): Promise<Set<string>> {
  const { rows } = await sql<{ id: string }>`
    WITH RECURSIVE owned(id) AS (
      SELECT content_id FROM entitlements
      WHERE user_id = ${userId} AND revoked_at IS NULL AND content_id IS NOT NULL
      UNION
      SELECT ci.item_id FROM content_items ci JOIN owned o ON ci.parent_id = o.id
    )
    SELECT id FROM owned
  `.execute(db);
  return new Set(rows.map((r) => r.id));
}

type RoomRef = { id: string; ownerId: string; access: 'free' | 'ticket' | 'subscribers' };

/**
 * Whether the user is entitled to the full stream of a room: free rooms, the owner, the room's
 * moderators, admins, a valid ticket, or (subscriber rooms) a subscription running now — then
 * `until` is when that subscription's period ends, the moment to decide again.
 */
export async function roomEntitlement(
  db: Kysely<DB>,
  user: { id: string; role: string } | null,
  room: RoomRef,
): Promise<{ entitled: boolean; until?: Date }> {
  if (room.access === 'free') return { entitled: true };
  if (!user) return { entitled: false };
  if (user.id === room.ownerId || user.role === 'admin') return { entitled: true };
  const { moderator, ticket, subscribedUntil } = await db
    .selectNoFrom((eb) => [
      eb
        .exists(
          eb
            .selectFrom('room_moderators')
            .select('user_id')
            .where('room_id', '=', room.id)
            .where('user_id', '=', user.id),
        )
        .as('moderator'),
      eb
        .exists(
          eb
            .selectFrom('entitlements')
            .select('id')
            .where('user_id', '=', user.id)
            .where('room_id', '=', room.id)
            .where('revoked_at', 'is', null),
        )
        .as('ticket'),
      eb
        .selectFrom('subscriptions')
        .select('current_period_end')
        .where('subscriber_id', '=', user.id)
        .where('creator_id', '=', room.ownerId)
        .where('current_period_end', '>', sql<Date>`now()`)
        .as('subscribedUntil'),
    ])
    .executeTakeFirstOrThrow();
  if (moderator) return { entitled: true };
  if (room.access === 'ticket') return { entitled: Boolean(ticket) };
  return subscribedUntil ? { entitled: true, until: subscribedUntil } : { entitled: false };
}

export async function hasRoomEntitlement(
  db: Kysely<DB>,
  user: { id: string; role: string } | null,
  room: RoomRef,
): Promise<boolean> {
  return (await roomEntitlement(db, user, room)).entitled;
}

/**
 * What a course or bundle costs a buyer who owns some of what is in it: the list price minus
 * what they paid for those items (their completed content purchases of anything inside it, at
 * any depth). `owned` and `items` count what is inside and how much of it the buyer owns.
 */
export async function contentQuote(
  db: Kysely<DB>,
  userId: string,
  contentId: string,
): Promise<{ price: number; credit: number; due: number; items: number; owned: number }> {
  const { rows } = await sql<{ price: number; items: number; owned: number; credit: number }>`
    WITH RECURSIVE inside(id) AS (
      SELECT item_id FROM content_items WHERE parent_id = ${contentId}::uuid
      UNION
      SELECT ci.item_id FROM content_items ci JOIN inside i ON ci.parent_id = i.id
    ),
    owned(id) AS (
      SELECT content_id FROM entitlements
      WHERE user_id = ${userId}::uuid AND revoked_at IS NULL AND content_id IS NOT NULL
      UNION
      SELECT ci.item_id FROM content_items ci JOIN owned o ON ci.parent_id = o.id
    )
    SELECT c.price,
      (SELECT count(*) FROM inside)::int AS items,
      (SELECT count(*) FROM inside WHERE id IN (SELECT id FROM owned))::int AS owned,
      (SELECT coalesce(sum(p.amount), 0) FROM purchases p
        WHERE p.buyer_id = ${userId}::uuid AND p.kind = 'content' AND p.status = 'completed'
          AND p.content_id IN (SELECT id FROM inside))::int8 AS credit
    FROM contents c WHERE c.id = ${contentId}::uuid
  `.execute(db);
  const r = rows[0];
  if (!r) return { price: 0, credit: 0, due: 0, items: 0, owned: 0 };
  const credit = Number(r.credit);
  return { price: r.price, credit, due: r.price - credit, items: r.items, owned: r.owned };
}
