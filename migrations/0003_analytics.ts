import { type Kysely, sql } from 'kysely';

/**
 * Creator analytics (server/analytics): aggregates of the engagement stream per live session
 * (a room's run) and per creator. Every table is written by the analytics consumer only, each
 * batch of events in one transaction together with their ids in `analytics_processed_events`, so
 * a redelivered event never counts twice, even after a restart.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Events whose effects are applied: the exactly-once guard. Pruned after
    -- ANALYTICS_DEDUPE_RETENTION_HOURS (longer than any redelivery can come).
    CREATE TABLE analytics_processed_events (
      event_id uuid PRIMARY KEY,
      processed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX analytics_processed_events_at_idx ON analytics_processed_events (processed_at);

    -- Counters of a room's session, and a cache of its presence summary (peak, viewer-time).
    CREATE TABLE analytics_rooms (
      room_id uuid PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
      creator_id uuid NOT NULL REFERENCES users (id),
      joins bigint NOT NULL DEFAULT 0,
      guest_joins bigint NOT NULL DEFAULT 0,
      leaves bigint NOT NULL DEFAULT 0,
      watch_seconds bigint NOT NULL DEFAULT 0,
      guest_watch_seconds bigint NOT NULL DEFAULT 0,
      chat_messages bigint NOT NULL DEFAULT 0,
      likes bigint NOT NULL DEFAULT 0,
      questions_asked bigint NOT NULL DEFAULT 0,
      question_upvotes bigint NOT NULL DEFAULT 0,
      questions_answered bigint NOT NULL DEFAULT 0,
      -- Bumped by every presence change; the summary is valid while summary_version equals it.
      presence_version bigint NOT NULL DEFAULT 0,
      summary_version bigint,
      summary_peak integer,
      summary_viewer_ms bigint,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX analytics_rooms_creator_idx ON analytics_rooms (creator_id);

    -- Net joins minus leaves per instant (event time, ms): concurrency is their running sum.
    CREATE TABLE analytics_presence (
      room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
      at timestamptz NOT NULL,
      delta integer NOT NULL,
      PRIMARY KEY (room_id, at)
    );

    -- Activity per wall-clock minute, for the charts.
    CREATE TABLE analytics_room_minutes (
      room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
      minute timestamptz NOT NULL,
      chat_messages bigint NOT NULL DEFAULT 0,
      likes bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (room_id, minute)
    );

    -- Signed-in viewers of a session (unique viewers; per creator across sessions).
    CREATE TABLE analytics_room_viewers (
      room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
      user_id uuid NOT NULL,
      creator_id uuid NOT NULL,
      first_joined_at timestamptz NOT NULL,
      PRIMARY KEY (room_id, user_id)
    );
    CREATE INDEX analytics_room_viewers_creator_idx ON analytics_room_viewers (creator_id, user_id);

    -- Every sale and tip, keyed by the purchase or tip id so it counts once whatever recorded it;
    -- room_id is the session it is attributed to (none: sold outside any live session).
    CREATE TABLE analytics_sales (
      id uuid PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('ticket', 'content', 'tip', 'subscription')),
      creator_id uuid NOT NULL,
      room_id uuid REFERENCES rooms (id) ON DELETE SET NULL,
      buyer_id uuid NOT NULL,
      amount bigint NOT NULL CHECK (amount > 0),
      at timestamptz NOT NULL
    );
    CREATE INDEX analytics_sales_room_idx ON analytics_sales (room_id, at) WHERE room_id IS NOT NULL;
    CREATE INDEX analytics_sales_creator_idx ON analytics_sales (creator_id, at);

    -- A creator's sessions, newest first, and "which session of this creator was live at t".
    CREATE INDEX rooms_owner_started_idx ON rooms (owner_id, started_at DESC) WHERE started_at IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX rooms_owner_started_idx;
    DROP TABLE analytics_sales, analytics_room_viewers, analytics_room_minutes, analytics_presence,
      analytics_rooms, analytics_processed_events;
  `.execute(db);
}
