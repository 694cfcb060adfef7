import { type Kysely, sql } from 'kysely';

/**
 * A creator runs a business (docs/money.md, docs/pages.md):
 * - Earnings are held: a sale credits the creator's `earnings_pending` account and writes an
 *   `earnings_holds` row; once the hold passes (PAYOUT_HOLD_HOURS) a release moves it to
 *   `earnings` (available), repaying any `earnings_debt` first. Payouts move available earnings
 *   to `payouts_clearing` while the provider works, then out to `provider` (paid) or back
 *   (failed). A refund after a payout that finds too little available leaves a debt
 *   (`earnings_debt`, never above 0) that later releases repay.
 * - A purchase remembers the room it was made in (`context_room_id`), for session attribution.
 * - Profiles get an avatar and links; rooms a scheduled start and a cover.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
    ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN (
      'wallet', 'earnings', 'earnings_pending', 'earnings_debt', 'platform_revenue', 'provider', 'payouts_clearing'
    ));
    ALTER TABLE accounts DROP CONSTRAINT accounts_check;
    ALTER TABLE accounts ADD CONSTRAINT accounts_owner_check
      CHECK ((kind IN ('wallet', 'earnings', 'earnings_pending', 'earnings_debt')) = (owner_id IS NOT NULL));
    ALTER TABLE accounts DROP CONSTRAINT accounts_balance_nonnegative;
    -- A debt is what a creator owes back: at most 0. Every other user-owned account at least 0.
    ALTER TABLE accounts ADD CONSTRAINT accounts_balance_nonnegative
      CHECK (kind IN ('provider', 'earnings_debt') OR balance >= 0);
    ALTER TABLE accounts ADD CONSTRAINT accounts_debt_nonpositive CHECK (kind <> 'earnings_debt' OR balance <= 0);

    ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
    ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check CHECK (kind IN (
      'topup', 'purchase', 'tip', 'refund', 'release', 'payout', 'payout_paid', 'payout_failed'
    ));

    -- One per sale (purchase or tip): its creator's share, pending until release_at.
    CREATE TABLE earnings_holds (
      transaction_id uuid PRIMARY KEY REFERENCES ledger_transactions (id),
      creator_id uuid NOT NULL REFERENCES users (id),
      currency text NOT NULL,
      amount bigint NOT NULL CHECK (amount >= 0),
      release_at timestamptz NOT NULL,
      -- Released into available earnings, or taken back by a refund before that.
      released_transaction_id uuid REFERENCES ledger_transactions (id),
      cancelled_transaction_id uuid REFERENCES ledger_transactions (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (released_transaction_id IS NULL OR cancelled_transaction_id IS NULL)
    );
    CREATE INDEX earnings_holds_due ON earnings_holds (release_at)
      WHERE released_transaction_id IS NULL AND cancelled_transaction_id IS NULL;
    CREATE INDEX earnings_holds_creator ON earnings_holds (creator_id)
      WHERE released_transaction_id IS NULL AND cancelled_transaction_id IS NULL;

    CREATE TABLE payouts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      creator_id uuid NOT NULL REFERENCES users (id),
      amount bigint NOT NULL CHECK (amount > 0),
      currency text NOT NULL,
      -- requested: debited, not yet accepted by the provider; pending: the provider is paying;
      -- paid: it left; failed: the provider refused and the money is back in available earnings.
      status text NOT NULL CHECK (status IN ('requested', 'pending', 'paid', 'failed')),
      -- Each retry by an admin is a new attempt with its own provider idempotency key.
      attempt integer NOT NULL DEFAULT 1,
      method text,
      provider_reference text,
      failure_reason text,
      transaction_id uuid NOT NULL REFERENCES ledger_transactions (id),
      settled_transaction_id uuid REFERENCES ledger_transactions (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      settled_at timestamptz
    );
    CREATE INDEX payouts_creator ON payouts (creator_id, created_at DESC);
    CREATE INDEX payouts_open ON payouts (updated_at) WHERE status IN ('requested', 'pending');

    ALTER TABLE purchases ADD COLUMN context_room_id uuid REFERENCES rooms (id);

    ALTER TABLE creator_profiles
      ADD COLUMN avatar_key text,
      ADD COLUMN links jsonb NOT NULL DEFAULT '[]';

    ALTER TABLE rooms
      ADD COLUMN scheduled_at timestamptz,
      ADD COLUMN cover_key text,
      ADD COLUMN description text NOT NULL DEFAULT '';
    CREATE INDEX rooms_upcoming ON rooms (scheduled_at) WHERE status = 'scheduled';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX rooms_upcoming;
    ALTER TABLE rooms DROP COLUMN description, DROP COLUMN cover_key, DROP COLUMN scheduled_at;
    ALTER TABLE creator_profiles DROP COLUMN links, DROP COLUMN avatar_key;
    ALTER TABLE purchases DROP COLUMN context_room_id;
    DROP TABLE payouts;
    DROP TABLE earnings_holds;
    ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
    ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
      CHECK (kind IN ('topup', 'purchase', 'tip', 'refund'));
    ALTER TABLE accounts DROP CONSTRAINT accounts_debt_nonpositive;
    ALTER TABLE accounts DROP CONSTRAINT accounts_balance_nonnegative;
    ALTER TABLE accounts ADD CONSTRAINT accounts_balance_nonnegative CHECK (kind = 'provider' OR balance >= 0);
    ALTER TABLE accounts DROP CONSTRAINT accounts_owner_check;
    ALTER TABLE accounts ADD CONSTRAINT accounts_check CHECK ((kind IN ('wallet', 'earnings')) = (owner_id IS NOT NULL));
    ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
    ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
      CHECK (kind IN ('wallet', 'earnings', 'platform_revenue', 'provider'));
  `.execute(db);
}
