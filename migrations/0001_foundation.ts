import { type Kysely, sql } from 'kysely';

/**
 * Users, creators, catalog, rooms, money (accounts + double-entry ledger), purchases,
 * entitlements, subscriptions, tips, chat, moderation, questions, recommendation impressions and
 * idempotency keys. Money is bigint minor units; ids are UUIDs; times are timestamptz.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      username text NOT NULL,
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('viewer', 'creator', 'admin')),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_username_key ON users (lower(username));

    CREATE TABLE creator_profiles (
      user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
      display_name text NOT NULL,
      bio text NOT NULL DEFAULT '',
      tags text[] NOT NULL DEFAULT '{}',
      subscription_price bigint CHECK (subscription_price > 0),
      subscription_period_days integer NOT NULL DEFAULT 30
        CHECK (subscription_period_days BETWEEN 1 AND 366),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE contents (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      creator_id uuid NOT NULL REFERENCES users (id),
      title text NOT NULL,
      description text NOT NULL DEFAULT '',
      kind text NOT NULL CHECK (kind IN ('lesson', 'course', 'bundle')),
      price bigint NOT NULL CHECK (price >= 0),
      currency text NOT NULL,
      tags text[] NOT NULL DEFAULT '{}',
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX contents_creator_idx ON contents (creator_id, created_at DESC) WHERE archived_at IS NULL;
    CREATE INDEX contents_tags_idx ON contents USING gin (tags) WHERE archived_at IS NULL;

    -- What a course (its lessons) or a bundle (any contents) grants.
    CREATE TABLE content_items (
      parent_id uuid NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
      item_id uuid NOT NULL REFERENCES contents (id),
      position integer NOT NULL,
      PRIMARY KEY (parent_id, item_id),
      CHECK (parent_id <> item_id)
    );
    CREATE INDEX content_items_item_idx ON content_items (item_id);

    CREATE TABLE rooms (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      owner_id uuid NOT NULL REFERENCES users (id),
      title text NOT NULL,
      tags text[] NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'ended')),
      access text NOT NULL CHECK (access IN ('free', 'ticket', 'subscribers')),
      ticket_price bigint CHECK (ticket_price > 0),
      preview_seconds integer NOT NULL DEFAULT 0 CHECK (preview_seconds BETWEEN 0 AND 3600),
      currency text NOT NULL,
      settings jsonb NOT NULL DEFAULT '{}',
      likes_total bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      ended_at timestamptz,
      CHECK ((access = 'ticket') = (ticket_price IS NOT NULL))
    );
    CREATE INDEX rooms_status_idx ON rooms (status, started_at DESC);
    CREATE INDEX rooms_owner_idx ON rooms (owner_id, created_at DESC);

    CREATE TABLE room_moderators (
      room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id),
      granted_by uuid NOT NULL REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (room_id, user_id)
    );

    -- Current mutes and bans; the history is in moderation_actions.
    CREATE TABLE room_restrictions (
      room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id),
      kind text NOT NULL CHECK (kind IN ('mute', 'ban')),
      expires_at timestamptz,
      created_by uuid NOT NULL REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (room_id, user_id, kind)
    );

    -- Money. Every movement is one ledger transaction whose entries sum to zero (checked by the
    -- database at commit). An account's balance is maintained by trigger from its entries, so the
    -- balance is the sum of entries by construction, and user-owned accounts can never go negative.
    CREATE TABLE accounts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      kind text NOT NULL CHECK (kind IN ('wallet', 'earnings', 'platform_revenue', 'provider')),
      owner_id uuid REFERENCES users (id),
      currency text NOT NULL,
      balance bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((kind IN ('wallet', 'earnings')) = (owner_id IS NOT NULL)),
      -- The provider account mirrors money held outside (it goes negative as users top up).
      CONSTRAINT accounts_balance_nonnegative CHECK (kind = 'provider' OR balance >= 0)
    );
    CREATE UNIQUE INDEX accounts_owner_key ON accounts (kind, owner_id, currency) WHERE owner_id IS NOT NULL;
    CREATE UNIQUE INDEX accounts_system_key ON accounts (kind, currency) WHERE owner_id IS NULL;

    CREATE TABLE ledger_transactions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      kind text NOT NULL CHECK (kind IN ('topup', 'purchase', 'tip', 'refund')),
      reverses_id uuid UNIQUE REFERENCES ledger_transactions (id),
      memo text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE ledger_entries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transaction_id uuid NOT NULL REFERENCES ledger_transactions (id),
      account_id uuid NOT NULL REFERENCES accounts (id),
      amount bigint NOT NULL CHECK (amount <> 0),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, id DESC);
    CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);

    CREATE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
      RETURN NULL;
    END $$;
    CREATE TRIGGER ledger_entries_apply AFTER INSERT ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION ledger_apply_entry();

    CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT sum(amount) FROM ledger_entries WHERE transaction_id = NEW.transaction_id) <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id
          USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
      END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

    -- The ledger is append-only: corrections are new, reversing transactions.
    CREATE FUNCTION ledger_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the ledger is append-only' USING ERRCODE = 'restrict_violation';
    END $$;
    CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change();

    CREATE TABLE purchases (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      buyer_id uuid NOT NULL REFERENCES users (id),
      kind text NOT NULL CHECK (kind IN ('content', 'ticket', 'subscription')),
      content_id uuid REFERENCES contents (id),
      room_id uuid REFERENCES rooms (id),
      creator_id uuid NOT NULL REFERENCES users (id),
      amount bigint NOT NULL CHECK (amount > 0),
      fee bigint NOT NULL CHECK (fee >= 0 AND fee <= amount),
      currency text NOT NULL,
      -- A subscription purchase buys this many days of the creator's subscription.
      subscription_days integer CHECK (subscription_days > 0),
      status text NOT NULL DEFAULT 'completed' CHECK (status IN ('completed', 'refunded')),
      transaction_id uuid NOT NULL UNIQUE REFERENCES ledger_transactions (id),
      refund_transaction_id uuid UNIQUE REFERENCES ledger_transactions (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      refunded_at timestamptz,
      CHECK ((kind = 'content') = (content_id IS NOT NULL)),
      CHECK ((kind = 'ticket') = (room_id IS NOT NULL)),
      CHECK ((kind = 'subscription') = (subscription_days IS NOT NULL)),
      CHECK ((status = 'refunded') = (refund_transaction_id IS NOT NULL))
    );
    -- One live purchase of a content or a ticket per buyer.
    CREATE UNIQUE INDEX purchases_content_once ON purchases (buyer_id, content_id)
      WHERE status = 'completed' AND content_id IS NOT NULL;
    CREATE UNIQUE INDEX purchases_ticket_once ON purchases (buyer_id, room_id)
      WHERE status = 'completed' AND room_id IS NOT NULL;
    CREATE INDEX purchases_buyer_idx ON purchases (buyer_id, created_at DESC);
    CREATE INDEX purchases_creator_idx ON purchases (creator_id, created_at DESC);

    CREATE TABLE entitlements (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id),
      content_id uuid REFERENCES contents (id),
      room_id uuid REFERENCES rooms (id),
      purchase_id uuid NOT NULL REFERENCES purchases (id),
      revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (num_nonnulls(content_id, room_id) = 1)
    );
    CREATE INDEX entitlements_content_idx ON entitlements (user_id, content_id) WHERE revoked_at IS NULL;
    CREATE INDEX entitlements_room_idx ON entitlements (user_id, room_id) WHERE revoked_at IS NULL;
    CREATE INDEX entitlements_purchase_idx ON entitlements (purchase_id);

    CREATE TABLE subscriptions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      subscriber_id uuid NOT NULL REFERENCES users (id),
      creator_id uuid NOT NULL REFERENCES users (id),
      current_period_end timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (subscriber_id, creator_id)
    );
    CREATE INDEX subscriptions_creator_idx ON subscriptions (creator_id, current_period_end);

    CREATE TABLE tips (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      room_id uuid NOT NULL REFERENCES rooms (id),
      sender_id uuid NOT NULL REFERENCES users (id),
      creator_id uuid NOT NULL REFERENCES users (id),
      amount bigint NOT NULL CHECK (amount > 0),
      fee bigint NOT NULL CHECK (fee >= 0 AND fee <= amount),
      currency text NOT NULL,
      message text,
      pinned_until timestamptz,
      transaction_id uuid NOT NULL UNIQUE REFERENCES ledger_transactions (id),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX tips_room_idx ON tips (room_id, created_at);
    CREATE INDEX tips_creator_idx ON tips (creator_id, created_at DESC);

    CREATE TABLE chat_messages (
      id uuid PRIMARY KEY,
      room_id uuid NOT NULL REFERENCES rooms (id),
      user_id uuid NOT NULL REFERENCES users (id),
      text text NOT NULL,
      sent_at timestamptz NOT NULL,
      deleted_at timestamptz,
      deleted_by uuid REFERENCES users (id)
    );
    CREATE INDEX chat_messages_room_idx ON chat_messages (room_id, sent_at DESC);

    CREATE TABLE moderation_actions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      room_id uuid NOT NULL REFERENCES rooms (id),
      actor_id uuid NOT NULL REFERENCES users (id),
      target_user_id uuid REFERENCES users (id),
      action text NOT NULL CHECK (action IN ('mute', 'unmute', 'ban', 'unban', 'delete_message',
        'settings', 'grant_moderator', 'revoke_moderator')),
      message_id uuid,
      reason text,
      expires_at timestamptz,
      detail jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX moderation_actions_room_idx ON moderation_actions (room_id, created_at DESC);

    CREATE TABLE questions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      room_id uuid NOT NULL REFERENCES rooms (id),
      user_id uuid NOT NULL REFERENCES users (id),
      text text NOT NULL,
      upvotes integer NOT NULL DEFAULT 0,
      answered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX questions_room_idx ON questions (room_id, answered_at, upvotes DESC);

    CREATE TABLE question_votes (
      question_id uuid NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (question_id, user_id)
    );

    CREATE TABLE recommendation_impressions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id),
      room_id uuid REFERENCES rooms (id),
      content_id uuid NOT NULL REFERENCES contents (id),
      model_version text NOT NULL,
      score double precision NOT NULL,
      reason text NOT NULL,
      shown_at timestamptz NOT NULL DEFAULT now(),
      clicked_at timestamptz,
      dismissed_at timestamptz,
      purchased_at timestamptz
    );
    CREATE INDEX recommendation_impressions_user_idx ON recommendation_impressions (user_id, shown_at DESC);
    CREATE INDEX recommendation_impressions_content_idx ON recommendation_impressions (content_id, shown_at DESC);

    -- Stripe-style idempotency: the first response to (user, key) is kept and replayed.
    CREATE TABLE idempotency_keys (
      user_id uuid NOT NULL REFERENCES users (id),
      key text NOT NULL,
      request_hash text NOT NULL,
      response_status integer,
      response_body jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, key)
    );
    CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE idempotency_keys, recommendation_impressions, question_votes, questions,
      moderation_actions, chat_messages, tips, subscriptions, entitlements, purchases,
      ledger_entries, ledger_transactions, accounts, room_restrictions, room_moderators, rooms,
      content_items, contents, creator_profiles, users;
    DROP FUNCTION ledger_apply_entry(), ledger_check_balanced(), ledger_forbid_change();
  `.execute(db);
}
