/** Where the tests find the real services; override for another machine. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';
/** Set by the global setup: a migrated database each test database is copied from. */
export const templateDatabase = () => {
  const name = process.env.LECTERN_TEST_TEMPLATE;
  if (!name) throw new Error('LECTERN_TEST_TEMPLATE is unset: run the tests through jest (global setup)');
  return name;
};

export function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
