import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { TEST_DATABASE_URL } from '../../tests/helpers/env';
import { createKysely, createPool } from './pool';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
});
afterAll(() => database.drop());

it('a connection cut mid-transaction fails that transaction, not the process; the pool goes on', async () => {
  const { db } = createKysely(database.url, 2);
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    const cut = db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
      // The server ends this connection while the transaction waits for other work (no query
      // running): the client is checked out of the pool, where nothing else listens for errors.
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await sql`SELECT 1`.execute(trx);
    });
    await expect(cut).rejects.toThrow();
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
  } finally {
    await admin.end();
    await db.destroy();
  }
});

it("sets the session's options on every connection (the money thread turns JIT off)", async () => {
  const pool = createPool(database.url, 2, '-c jit=off');
  try {
    const clients = await Promise.all([pool.connect(), pool.connect()]);
    for (const client of clients) {
      expect((await client.query('SHOW jit')).rows).toEqual([{ jit: 'off' }]);
      client.release();
    }
  } finally {
    await pool.end();
  }
});
