import { type Kysely, sql } from 'kysely';

/**
 * Each tipper's running total in each room, for the room's leaderboard (docs/money.md#throughput).
 * The board was summed from `tips` over the whole live session once a second per room: 14.7 ms at
 * 20,000 tips, and a gift storm adds thousands a second. The tip batch now adds each tip to its
 * tipper's total in the statement that writes the tip, so the board reads a room's tippers, not
 * their tips. A room is live once (scheduled → live → ended) and takes tips only while live, so its
 * tips are its live session's. Derived from `tips`, whose references are checked, and never
 * deleted (nor are tips): no foreign keys of its own, which would cost a query per row per batch.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE room_tip_totals (
      room_id uuid NOT NULL,
      sender_id uuid NOT NULL,
      total bigint NOT NULL CHECK (total > 0),
      PRIMARY KEY (room_id, sender_id)
    );
    INSERT INTO room_tip_totals (room_id, sender_id, total)
      SELECT room_id, sender_id, sum(amount) FROM tips GROUP BY room_id, sender_id;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE room_tip_totals`.execute(db);
}
