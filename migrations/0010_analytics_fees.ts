import { type Kysely, sql } from 'kysely';

/**
 * Analytics learns fees and refunds (docs/analytics.md#money):
 * - `fee`: the platform's part of each sale, so reports show gross, fees and net. Rows recorded
 *   before take it from the sale itself (purchases and tips keep their fee).
 * - `refunded_at`: set by a `purchase.refunded` event; a refunded sale counts under refunds and
 *   nowhere else.
 * - `sold`: whether the sale's own event has been applied. The log does not keep order, so a
 *   refund may arrive first and create the row from what it carries; the sale then only fixes the
 *   row's time (`at`, the sale's).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE analytics_sales
      ADD COLUMN fee bigint NOT NULL DEFAULT 0 CHECK (fee >= 0),
      ADD COLUMN refunded_at timestamptz,
      ADD COLUMN sold boolean NOT NULL DEFAULT true;
    UPDATE analytics_sales s SET fee = p.fee FROM purchases p WHERE p.id = s.id;
    UPDATE analytics_sales s SET fee = t.fee FROM tips t WHERE t.id = s.id;
    -- Refunds recorded before this migration: the sales they undid.
    UPDATE analytics_sales s SET refunded_at = p.refunded_at
      FROM purchases p WHERE p.id = s.id AND p.status = 'refunded' AND p.refunded_at IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE analytics_sales DROP COLUMN sold, DROP COLUMN refunded_at, DROP COLUMN fee`.execute(db);
}
