import { type Kysely, sql } from 'kysely';

/**
 * A batch of sales without a foreign-key query per row for rows it wrote itself
 * (docs/money.md#throughput).
 *
 * A batch writes a sale's ledger transaction, its entries, its purchase or tip, its hold and its
 * entitlement in one statement; five foreign keys point from those rows at a ledger transaction
 * or a purchase of the same statement. Each ran one query per row at the end of the statement:
 * 6.5 ms of a 34 ms write of 94 purchases (auto_explain with `log_triggers`). Ledger transactions
 * and purchases are never deleted — the ledger is append-only (corrections are reversing
 * transactions) and a refund marks its purchase — and that is now enforced, with their ids fixed.
 * So each foreign key becomes one check per statement that every new row's reference exists,
 * refused with the same SQLSTATE and constraint name, and the referencing column can no longer be
 * changed. References to users, contents and rooms keep their foreign keys.
 */
const REFERENCES = [
  { table: 'ledger_entries', column: 'transaction_id', parent: 'ledger_transactions' },
  { table: 'purchases', column: 'transaction_id', parent: 'ledger_transactions' },
  { table: 'tips', column: 'transaction_id', parent: 'ledger_transactions' },
  { table: 'earnings_holds', column: 'transaction_id', parent: 'ledger_transactions' },
  { table: 'entitlements', column: 'purchase_id', parent: 'purchases' },
] as const;
const PARENTS = ['ledger_transactions', 'purchases'] as const;

const constraintOf = (r: (typeof REFERENCES)[number]) => `${r.table}_${r.column}_fkey`;
const checkOf = (r: (typeof REFERENCES)[number]) => `${r.table}_${r.column}_exists`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
    END $$;
  `.execute(db);
  for (const parent of PARENTS) {
    await sql`
      CREATE TRIGGER ${sql.id(`${parent}_never_deleted`)} BEFORE DELETE OR TRUNCATE ON ${sql.table(parent)}
        FOR EACH STATEMENT EXECUTE FUNCTION refuse(${sql.lit(`${parent} are never deleted`)});
      CREATE TRIGGER ${sql.id(`${parent}_id_fixed`)} BEFORE UPDATE OF id ON ${sql.table(parent)}
        FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse(${sql.lit(`${parent} keep their ids`)});
    `.execute(db);
  }
  for (const r of REFERENCES) {
    const [table, column, parent, check] = [sql.table(r.table), sql.ref(r.column), sql.table(r.parent), checkOf(r)];
    await sql`
      CREATE FUNCTION ${sql.id(check)}() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE wrong uuid;
      BEGIN
        SELECT n.${column} INTO wrong FROM new_rows n
          WHERE NOT EXISTS (SELECT 1 FROM ${parent} p WHERE p.id = n.${column}) LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION ${sql.lit(`${r.table}.${r.column} % is not in ${r.parent}`)}, wrong
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = ${sql.lit(constraintOf(r))};
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER ${sql.id(check)} AFTER INSERT ON ${table}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${sql.id(check)}();
      CREATE TRIGGER ${sql.id(`${r.table}_${r.column}_fixed`)} BEFORE UPDATE OF ${column} ON ${table}
        FOR EACH ROW WHEN (OLD.${column} IS DISTINCT FROM NEW.${column})
        EXECUTE FUNCTION refuse(${sql.lit(`${r.table}.${r.column} never changes`)});
      ALTER TABLE ${table} DROP CONSTRAINT ${sql.id(constraintOf(r))};
    `.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const r of REFERENCES) {
    const [table, column, parent, check] = [sql.table(r.table), sql.ref(r.column), sql.table(r.parent), checkOf(r)];
    await sql`
      ALTER TABLE ${table} ADD CONSTRAINT ${sql.id(constraintOf(r))} FOREIGN KEY (${column}) REFERENCES ${parent} (id);
      DROP TRIGGER ${sql.id(`${r.table}_${r.column}_fixed`)} ON ${table};
      DROP TRIGGER ${sql.id(check)} ON ${table};
      DROP FUNCTION ${sql.id(check)}();
    `.execute(db);
  }
  for (const parent of PARENTS) {
    await sql`
      DROP TRIGGER ${sql.id(`${parent}_id_fixed`)} ON ${sql.table(parent)};
      DROP TRIGGER ${sql.id(`${parent}_never_deleted`)} ON ${sql.table(parent)};
    `.execute(db);
  }
  await sql`DROP FUNCTION refuse();`.execute(db);
}
