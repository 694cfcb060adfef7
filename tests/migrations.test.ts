import { sql } from 'kysely';
import { migrations } from '../migrations';
import { migrateToLatest, migrateToZero, migrationStatus } from '../server/db';
import { createKysely } from '../server/db/pool';
import { createTestDatabase } from './helpers/db';

const tables = async (db: ReturnType<typeof createKysely>['db']) =>
  (
    await sql<{
      tablename: string;
    }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_%' ORDER BY 1`.execute(
      db,
    )
  ).rows.map((r) => r.tablename);

it('migrates up, all the way down, and up again', async () => {
  const database = await createTestDatabase({ migrated: false });
  const { db } = createKysely(database.url, 2);
  try {
    expect(await tables(db)).toEqual([]);
    const up = await migrateToLatest(db);
    expect(up).toEqual(Object.keys(migrations).map((m) => `Up ${m}: Success`));
    const created = await tables(db);
    expect(created).toEqual(
      expect.arrayContaining([
        'users',
        'contents',
        'rooms',
        'accounts',
        'ledger_entries',
        'purchases',
        'entitlements',
        'subscriptions',
        'tips',
        'chat_messages',
        'moderation_actions',
        'recommendation_impressions',
        'idempotency_keys',
      ]),
    );
    expect((await migrationStatus(db)).every((m) => m.executedAt !== null)).toBe(true);

    await migrateToZero(db);
    expect(await tables(db)).toEqual([]);
    const functions = await sql`SELECT proname FROM pg_proc WHERE proname LIKE 'ledger_%'`.execute(db);
    expect(functions.rows).toEqual([]);

    await migrateToLatest(db);
    expect(await tables(db)).toEqual(created);
    expect(await migrateToLatest(db)).toEqual([]); // idempotent
  } finally {
    await db.destroy();
    await database.drop();
  }
});
