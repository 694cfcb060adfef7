import { type Kysely, sql } from 'kysely';

/**
 * Polls in live rooms (server/polls): the owner or a moderator asks, viewers with access vote
 * once (a vote cannot be changed: the unique key refuses a second one), and the poll closes by
 * hand or at `closes_at`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE polls (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      room_id uuid NOT NULL REFERENCES rooms (id),
      created_by uuid NOT NULL REFERENCES users (id),
      question text NOT NULL,
      options jsonb NOT NULL,
      closes_at timestamptz,
      closed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX polls_room_open ON polls (room_id, created_at) WHERE closed_at IS NULL;

    CREATE TABLE poll_votes (
      poll_id uuid NOT NULL REFERENCES polls (id),
      user_id uuid NOT NULL REFERENCES users (id),
      option smallint NOT NULL CHECK (option >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (poll_id, user_id)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE poll_votes; DROP TABLE polls;`.execute(db);
}
