import { type Kysely, sql } from 'kysely';

/**
 * Videos people can watch after the fact (server/vod): a live room's recording that becomes its
 * replay, and videos creators upload for lessons. Both are a `media_assets` row whose files live
 * in the MediaStore under `assets/<id>/`; background work on them (packaging an upload, composing
 * a recording's parts into HLS) is a `media_jobs` row claimed with `FOR UPDATE SKIP LOCKED`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE media_assets (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      owner_id uuid NOT NULL REFERENCES users(id),
      origin text NOT NULL CHECK (origin IN ('upload', 'recording')),
      -- recording: the room is live and being recorded; processing: a job is making the HLS;
      -- ready: playable; failed: error_code and error_message say why.
      status text NOT NULL CHECK (status IN ('recording', 'processing', 'ready', 'failed')),
      room_id uuid REFERENCES rooms(id),
      progress real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
      duration_seconds real,
      width integer,
      height integer,
      -- The packaged playlist's segments, [{ uri, duration }], for signing and trimming.
      segments jsonb,
      trim_start_seconds real NOT NULL DEFAULT 0 CHECK (trim_start_seconds >= 0),
      trim_end_seconds real CHECK (trim_end_seconds IS NULL OR trim_end_seconds > trim_start_seconds),
      -- What plays once trimmed (whole segments): set when ready and on every trim.
      playable_seconds real,
      source_bytes bigint,
      error_code text,
      error_message text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      ready_at timestamptz,
      deleted_at timestamptz
    );
    CREATE UNIQUE INDEX media_assets_one_recording_per_room ON media_assets (room_id)
      WHERE origin = 'recording' AND deleted_at IS NULL;
    CREATE INDEX media_assets_owner ON media_assets (owner_id, created_at DESC);

    -- A recording is made of parts: one per run of the recorder (a new part whenever the set of
    -- published tracks changes, the recorder restarts or the streamer reconnects).
    CREATE TABLE recording_parts (
      asset_id uuid NOT NULL REFERENCES media_assets(id) ON DELETE CASCADE,
      seq integer NOT NULL,
      status text NOT NULL CHECK (status IN ('recording', 'done', 'failed')),
      -- [{ source: 'camera'|'microphone'|'screen'|'screenAudio', kind: 'audio'|'video', stream: n }]
      tracks jsonb NOT NULL,
      node_id text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz,
      bytes bigint,
      error text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (asset_id, seq)
    );

    CREATE TABLE media_jobs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      asset_id uuid NOT NULL REFERENCES media_assets(id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('package-upload', 'compose-recording')),
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      run_after timestamptz NOT NULL DEFAULT now(),
      lease_owner text,
      lease_until timestamptz,
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX media_jobs_due ON media_jobs (run_after) WHERE status IN ('queued', 'running');

    ALTER TABLE contents
      ADD COLUMN media_asset_id uuid REFERENCES media_assets(id),
      ADD COLUMN notes text NOT NULL DEFAULT '',
      ADD COLUMN cover_key text,
      ADD COLUMN free_trial boolean NOT NULL DEFAULT false;

    ALTER TABLE rooms
      ADD COLUMN record boolean NOT NULL DEFAULT true,
      ADD COLUMN replay_asset_id uuid REFERENCES media_assets(id);

    CREATE TABLE content_attachments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      content_id uuid NOT NULL REFERENCES contents(id),
      filename text NOT NULL,
      mime text NOT NULL,
      bytes bigint NOT NULL,
      storage_key text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz
    );
    CREATE INDEX content_attachments_content ON content_attachments (content_id) WHERE deleted_at IS NULL;

    -- Where a viewer stopped in a lesson's video or a room's replay (exactly one of the two).
    CREATE TABLE watch_progress (
      user_id uuid NOT NULL REFERENCES users(id),
      content_id uuid REFERENCES contents(id),
      room_id uuid REFERENCES rooms(id),
      position_seconds real NOT NULL,
      duration_seconds real NOT NULL,
      watched_seconds real NOT NULL DEFAULT 0,
      completed_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((content_id IS NULL) <> (room_id IS NULL))
    );
    CREATE UNIQUE INDEX watch_progress_content ON watch_progress (user_id, content_id) WHERE content_id IS NOT NULL;
    CREATE UNIQUE INDEX watch_progress_room ON watch_progress (user_id, room_id) WHERE room_id IS NOT NULL;

    -- Analytics of watching after the fact, from the media.* engagement events: per lesson or
    -- replay (item_id is the content or the room), who started it and who finished it.
    CREATE TABLE analytics_media (
      item_kind text NOT NULL CHECK (item_kind IN ('content', 'replay')),
      item_id uuid NOT NULL,
      creator_id uuid NOT NULL,
      viewers integer NOT NULL DEFAULT 0,
      completions integer NOT NULL DEFAULT 0,
      watch_seconds double precision NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (item_kind, item_id)
    );
    CREATE INDEX analytics_media_creator ON analytics_media (creator_id);
    CREATE TABLE analytics_media_viewers (
      item_kind text NOT NULL,
      item_id uuid NOT NULL,
      user_id uuid NOT NULL,
      completed boolean NOT NULL DEFAULT false,
      PRIMARY KEY (item_kind, item_id, user_id)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE analytics_media_viewers;
    DROP TABLE analytics_media;
    DROP TABLE watch_progress;
    DROP TABLE content_attachments;
    ALTER TABLE rooms DROP COLUMN replay_asset_id, DROP COLUMN record;
    ALTER TABLE contents DROP COLUMN free_trial, DROP COLUMN cover_key, DROP COLUMN notes, DROP COLUMN media_asset_id;
    DROP TABLE media_jobs;
    DROP TABLE recording_parts;
    DROP TABLE media_assets;
  `.execute(db);
}
