import { type Kysely, sql } from 'kysely';

/**
 * The period each subscription purchase pays for, so that a refund takes back only that
 * purchase's unexpired days (a renewal after a lapse must survive the refund of an old,
 * fully used purchase).
 *
 * Existing purchases are given the periods they would have had: per subscriber and creator,
 * in purchase order, each starting at the later of its purchase time and the end of the
 * previous completed one. Purchases refunded before this migration do not extend the chain
 * (their periods are nominal).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE purchases ADD COLUMN period_start timestamptz, ADD COLUMN period_end timestamptz;

    DO $$
    DECLARE
      p record;
      running timestamptz;
      last_pair text;
      starts timestamptz;
    BEGIN
      FOR p IN
        SELECT id, buyer_id, creator_id, created_at, subscription_days, status
        FROM purchases WHERE kind = 'subscription'
        ORDER BY buyer_id, creator_id, created_at, id
      LOOP
        IF last_pair IS DISTINCT FROM p.buyer_id || ':' || p.creator_id THEN
          running := NULL;
          last_pair := p.buyer_id || ':' || p.creator_id;
        END IF;
        starts := greatest(running, p.created_at);
        UPDATE purchases
          SET period_start = starts, period_end = starts + make_interval(days => p.subscription_days)
          WHERE id = p.id;
        IF p.status = 'completed' THEN
          running := starts + make_interval(days => p.subscription_days);
        END IF;
      END LOOP;
    END $$;

    ALTER TABLE purchases
      ADD CONSTRAINT purchases_period_only_subscriptions
        CHECK ((kind = 'subscription') = (period_start IS NOT NULL AND period_end IS NOT NULL)),
      ADD CONSTRAINT purchases_period_ordered CHECK (period_end > period_start);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE purchases DROP COLUMN period_start, DROP COLUMN period_end`.execute(db);
}
