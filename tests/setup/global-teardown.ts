import pg from 'pg';
import { TEST_DATABASE_URL } from '../helpers/env';

export default async function globalTeardown(): Promise<void> {
  const template = process.env.LECTERN_TEST_TEMPLATE;
  if (!template) return;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
