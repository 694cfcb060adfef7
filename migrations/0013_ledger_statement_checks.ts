import { type Kysely, sql } from 'kysely';

/**
 * A batch of sales without per-row work on the hot accounts (docs/money.md#throughput).
 *
 * - The balance check ran at commit once per entry (a sum over the transaction's entries each
 *   time). Every writer inserts a ledger transaction's entries in one statement, so the check now
 *   runs once per statement, over the transactions that statement touched — and sums all their
 *   entries, so a later statement adding an entry to a balanced transaction is still refused.
 * - The foreign keys from entries and deltas to `accounts` took a share lock on the account row
 *   for every entry: on a popular creator's earnings and the platform's revenue, every
 *   concurrent batch locking the same row (a multixact each, and a write to the row). Accounts
 *   are never deleted (now enforced), so the same statement check reads that each entry's
 *   account exists instead. It runs after `ledger_entries_apply` (triggers fire in name order),
 *   which skips an unknown account; the refusal then rolls the whole statement back.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER ledger_entries_balanced ON ledger_entries;
    DROP FUNCTION ledger_check_balanced();
    CREATE FUNCTION ledger_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE wrong uuid;
    BEGIN
      SELECT n.account_id INTO wrong FROM new_entries n
        WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = n.account_id) LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'ledger entry for account % that does not exist', wrong
          USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_entries_account_id_fkey';
      END IF;
      SELECT t.transaction_id INTO wrong
        FROM (SELECT DISTINCT transaction_id FROM new_entries) t
        WHERE (SELECT sum(e.amount) FROM ledger_entries e WHERE e.transaction_id = t.transaction_id) <> 0
        LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance', wrong
          USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER ledger_entries_checked AFTER INSERT ON ledger_entries
      REFERENCING NEW TABLE AS new_entries
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_entries();

    CREATE FUNCTION accounts_forbid_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'accounts are never deleted' USING ERRCODE = 'restrict_violation';
    END $$;
    CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
      FOR EACH STATEMENT EXECUTE FUNCTION accounts_forbid_delete();

    ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_account_id_fkey;
    ALTER TABLE account_deltas DROP CONSTRAINT account_deltas_account_id_fkey;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE account_deltas ADD CONSTRAINT account_deltas_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
    ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
    DROP TRIGGER accounts_never_deleted ON accounts;
    DROP FUNCTION accounts_forbid_delete();

    DROP TRIGGER ledger_entries_checked ON ledger_entries;
    DROP FUNCTION ledger_check_entries();
    -- The per-entry check at commit, as migration 0001 made it.
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
  `.execute(db);
}
