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

    -- Applied once per statement, not per entry: a batch of a few hundred entries costs three
    -- set-based statements instead of a few hundred trigger calls. Balanced accounts' rows are
    -- locked in id order first (so concurrent statements never deadlock), then updated by their
    -- sums, which the non-negative CHECK sees; derived accounts get one delta row each.
    DROP TRIGGER ledger_entries_apply ON ledger_entries;
    DROP FUNCTION ledger_apply_entry();
    CREATE FUNCTION ledger_apply_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM 1 FROM accounts a
        WHERE a.id IN (SELECT account_id FROM new_entries) AND NOT ledger_derived_kind(a.kind)
        ORDER BY a.id FOR NO KEY UPDATE;
      UPDATE accounts a SET balance = a.balance + s.total
        FROM (SELECT account_id, sum(amount) AS total FROM new_entries GROUP BY account_id) s
        WHERE a.id = s.account_id AND NOT ledger_derived_kind(a.kind);
      INSERT INTO account_deltas (account_id, amount)
        SELECT s.account_id, s.total
        FROM (SELECT account_id, sum(amount) AS total FROM new_entries GROUP BY account_id) s
        JOIN accounts a ON a.id = s.account_id
        WHERE ledger_derived_kind(a.kind) AND s.total <> 0
        ORDER BY s.account_id;
      RETURN NULL;
    END $$;
    CREATE TRIGGER ledger_entries_apply AFTER INSERT ON ledger_entries
      REFERENCING NEW TABLE AS new_entries
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_entries();

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
    DROP TRIGGER ledger_entries_apply ON ledger_entries;
    DROP FUNCTION ledger_apply_entries();
    CREATE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
      RETURN NULL;
    END $$;
    CREATE TRIGGER ledger_entries_apply AFTER INSERT ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION ledger_apply_entry();
    DROP FUNCTION ledger_derived_kind(text);
    DROP TABLE account_deltas;
  `.execute(db);
}
