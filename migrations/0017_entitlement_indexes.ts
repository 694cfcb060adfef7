import { type Kysely, sql } from 'kysely';

/**
 * An entitlement is to a content or to a room, never both, yet each was in both partial indexes,
 * one of them under a NULL. A batch's ownership probe (`user_id`, `content_id`) was then planned,
 * on statistics a storm outgrows, on the room index: every entitlement of the buyer read to find
 * one (docs/money.md#throughput). Each index now holds only its own kind, so a probe for a
 * content can only use the content index, and a sale writes one entry instead of two.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX entitlements_content_idx;
    DROP INDEX entitlements_room_idx;
    CREATE INDEX entitlements_content_idx ON entitlements (user_id, content_id)
      WHERE revoked_at IS NULL AND content_id IS NOT NULL;
    CREATE INDEX entitlements_room_idx ON entitlements (user_id, room_id)
      WHERE revoked_at IS NULL AND room_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX entitlements_content_idx;
    DROP INDEX entitlements_room_idx;
    CREATE INDEX entitlements_content_idx ON entitlements (user_id, content_id) WHERE revoked_at IS NULL;
    CREATE INDEX entitlements_room_idx ON entitlements (user_id, room_id) WHERE revoked_at IS NULL;
  `.execute(db);
}
