import { type Kysely, sql } from 'kysely';

/**
 * Follows (issue 16): a viewer follows a creator, free and public, as on Twitch or Bilibili.
 * Ranking "Live now for you" reads them (`following`); the creator's page shows the count.
 * One row per pair; nobody follows themselves. A deleted account takes its follows with it,
 * both ways. The creator index answers follower counts.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE follows (
      follower_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      creator_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (follower_id, creator_id),
      CONSTRAINT follows_not_self CHECK (follower_id <> creator_id)
    );
    CREATE INDEX follows_creator_idx ON follows (creator_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE follows`.execute(db);
}
