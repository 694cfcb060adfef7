import { type Kysely, sql } from 'kysely';

/**
 * When each viewer's free preview of a paid room began: the preview is once per viewer and
 * room, so leaving and rejoining (on any node) does not start it again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE room_previews (
      room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id),
      started_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (room_id, user_id)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE room_previews`.execute(db);
}
