import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { Order } from '../../protocol';
import type { DB } from '../db';
import { parse } from '../validation';

export const ordersQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The `id` of the last order of the previous page. */
  before: z.uuid().optional(),
});

type Row = {
  id: string;
  kind: string;
  memo: string;
  amount: number;
  currency: string;
  created_at: Date;
  entry_id: number;
  purchase_id: string | null;
  purchase_kind: 'content' | 'ticket' | 'subscription' | null;
  purchase_status: 'completed' | 'refunded' | null;
  content_id: string | null;
  content_title: string | null;
  room_id: string | null;
  room_title: string | null;
  creator_id: string | null;
  creator_name: string | null;
};

/**
 * A viewer's order history: every movement of their wallet, newest first, each with what it
 * was for — top-ups, contents, tickets, subscriptions, tips, refunds.
 */
export async function ordersOf(db: Kysely<DB>, userId: string, query: unknown): Promise<Order[]> {
  const q = parse(ordersQuerySchema, query);
  const { rows } = await sql<Row>`
    SELECT t.id, t.kind, t.memo, e.amount, a.currency, e.created_at, e.id AS entry_id,
      p.id AS purchase_id, p.kind AS purchase_kind, p.status AS purchase_status,
      c.id AS content_id, c.title AS content_title, r.id AS room_id, r.title AS room_title,
      cu.id AS creator_id, coalesce(nullif(cp.display_name, ''), cu.username) AS creator_name
    FROM ledger_entries e
    JOIN accounts a ON a.id = e.account_id AND a.kind = 'wallet' AND a.owner_id = ${userId}
    JOIN ledger_transactions t ON t.id = e.transaction_id
    LEFT JOIN purchases bought ON bought.transaction_id = t.id
    LEFT JOIN purchases refunded ON refunded.refund_transaction_id = t.id
    LEFT JOIN LATERAL (SELECT coalesce(bought.id, refunded.id) AS id) pid ON true
    LEFT JOIN purchases p ON p.id = pid.id
    LEFT JOIN tips tp ON tp.transaction_id = t.id
    LEFT JOIN contents c ON c.id = p.content_id
    LEFT JOIN rooms r ON r.id = coalesce(p.room_id, tp.room_id)
    LEFT JOIN users cu ON cu.id = coalesce(p.creator_id, tp.creator_id)
    LEFT JOIN creator_profiles cp ON cp.user_id = cu.id
    WHERE ${
      q.before
        ? sql`e.id < (SELECT min(e2.id) FROM ledger_entries e2 JOIN accounts a2 ON a2.id = e2.account_id
      WHERE e2.transaction_id = ${q.before} AND a2.kind = 'wallet' AND a2.owner_id = ${userId})`
        : sql`true`
    }
    ORDER BY e.id DESC
    LIMIT ${q.limit}
  `.execute(db);
  return rows.map((r) => {
    const kind: Order['kind'] =
      r.kind === 'topup'
        ? 'topup'
        : r.kind === 'refund'
          ? 'refund'
          : r.kind === 'tip'
            ? 'tip'
            : (r.purchase_kind ?? 'content');
    return {
      id: r.id,
      kind,
      title: r.content_title ?? r.room_title ?? '',
      contentId: r.content_id,
      roomId: r.room_id,
      purchaseKind: r.purchase_kind,
      amount: r.amount,
      currency: r.currency,
      purchaseId: r.purchase_id,
      status: r.purchase_status ?? 'completed',
      creator: r.creator_id ? { id: r.creator_id, name: r.creator_name ?? '' } : null,
      reference: kind === 'topup' ? r.memo || null : null,
      createdAt: r.created_at.toISOString(),
    };
  });
}
