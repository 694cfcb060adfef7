import { type Kysely, sql } from 'kysely';

/**
 * The transactional outbox of money events (server/events/outbox.ts): the payments core writes
 * each domain event that analytics and webhooks need in the same transaction as the money it
 * describes; a relay on every node moves the rows into the engagement log and the webhook queue,
 * claiming them with `FOR UPDATE SKIP LOCKED` and deleting them once relayed. `event_id` is the
 * id the event keeps however often it is relayed, so consumers' deduplication absorbs repeats.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE events_outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
      topic text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE events_outbox`.execute(db);
}
