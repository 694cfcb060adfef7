import pg from 'pg';
import { migrateToLatest } from '../../server/db';
import { createKysely } from '../../server/db/pool';
import { databaseUrl, TEST_DATABASE_URL } from '../helpers/env';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Once per test run: drop databases left by runs that died, then migrate a template database
 * that every test file copies (CREATE DATABASE … TEMPLATE is much faster than migrating).
 */
export default async function globalSetup(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'lectern\\_t\\_%' OR datname LIKE 'lectern\\_tpl\\_%'",
    );
    for (const { datname } of rows) {
      const pid = Number(datname.split('_')[2]);
      if (!alive(pid)) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
    const template = `lectern_tpl_${process.pid}`;
    await client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${template}`);
    const { db } = createKysely(databaseUrl(template), 1);
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    process.env.LECTERN_TEST_TEMPLATE = template;
  } finally {
    await client.end();
  }
}
