import { type Kysely, sql } from 'kysely';

/**
 * Hot accounts without a hot row (docs/money.md#throughput). Every sale credits the creator's
 * `earnings_pending` and the platform's `platform_revenue`, every top-up debits `provider`: with
 * the balance kept in the account's row, each of those transactions locked the same row until it
 * committed, so a popular room's tips went one commit at a time.
 *
 * These accounts are only credited by sales and debited by movements that a credit always
 * precedes (a release or a refund of a held sale, a fee given back), so nothing needs their
 * balance while money moves. Their entries now append a row to `account_deltas` (no lock); a
 * periodic roll-up moves committed deltas into the account's `balance`. The balance of every
 * account is `accounts.balance` plus its deltas not yet rolled up: the `account_balances` view.
 * Wallets, available earnings, debts and the payout clearing keep the row update, so their
 * non-negative check still happens in the transaction that would break it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE account_deltas (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id),
      amount bigint NOT NULL
    );
    CREATE INDEX account_deltas_account ON account_deltas (account_id);

    CREATE FUNCTION ledger_derived_kind(kind text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
      SELECT kind IN ('earnings_pending', 'platform_revenue', 'provider')
    $$;

    CREATE OR REPLACE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF ledger_derived_kind((SELECT kind FROM accounts WHERE id = NEW.account_id)) THEN
        INSERT INTO account_deltas (account_id, amount) VALUES (NEW.account_id, NEW.amount);
      ELSE
        UPDATE accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
      END IF;
      RETURN NULL;
    END $$;

    CREATE VIEW account_balances AS
      SELECT a.id, a.kind, a.owner_id, a.currency,
        a.balance + coalesce((SELECT sum(d.amount) FROM account_deltas d WHERE d.account_id = a.id), 0)::bigint AS balance
      FROM accounts a;

    -- Moves up to max_rows committed deltas into their accounts' balance; returns how many.
    -- Deltas of transactions not yet committed are invisible here and wait for the next run.
    CREATE FUNCTION ledger_roll_up(max_rows integer) RETURNS integer LANGUAGE plpgsql AS $$
    DECLARE moved integer;
    BEGIN
      WITH taken AS (
        DELETE FROM account_deltas WHERE id IN (
          SELECT id FROM account_deltas ORDER BY id LIMIT max_rows FOR UPDATE SKIP LOCKED
        ) RETURNING account_id, amount
      ), sums AS (
        SELECT account_id, sum(amount) AS total, count(*) AS n FROM taken GROUP BY account_id
      ), updated AS (
        UPDATE accounts a SET balance = a.balance + s.total FROM sums s WHERE a.id = s.account_id RETURNING s.n
      )
      SELECT coalesce(sum(n), 0) INTO moved FROM updated;
      RETURN moved;
    END $$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    SELECT ledger_roll_up(2147483647);
    DROP FUNCTION ledger_roll_up(integer);
    DROP VIEW account_balances;
    CREATE OR REPLACE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
      RETURN NULL;
    END $$;
    DROP FUNCTION ledger_derived_kind(text);
    DROP TABLE account_deltas;
  `.execute(db);
}
