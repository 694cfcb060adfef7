import { type Kysely, sql } from 'kysely';

/**
 * Webhooks (server/webhooks): endpoints registered by creators (their own rooms and sales) or
 * admins (platform-wide), and a durable queue of deliveries that any node's deliverer claims with
 * `FOR UPDATE SKIP LOCKED`, retries with backoff and finally marks `failed`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE webhooks (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      owner_id uuid NOT NULL REFERENCES users (id),
      scope text NOT NULL CHECK (scope IN ('creator', 'platform')),
      url text NOT NULL,
      events text[] NOT NULL CHECK (cardinality(events) > 0),
      description text NOT NULL DEFAULT '',
      -- The HMAC key: shown once at creation, needed in clear to sign every delivery.
      secret text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhooks_owner_idx ON webhooks (owner_id, created_at DESC);
    CREATE INDEX webhooks_platform_idx ON webhooks (created_at) WHERE scope = 'platform';

    CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      -- The exact bytes sent (and signed) on every attempt.
      body text NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      -- When a pending delivery is due; while one is in flight, when its claim lapses.
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (webhook_id, event_id)
    );
    CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC);
    CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at) WHERE status <> 'pending';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE webhook_deliveries, webhooks`.execute(db);
}
