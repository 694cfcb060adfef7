import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import type { DB } from '../db';
import { createLogger } from '../log';
import { type AuthService, createAuthService } from '.';
import { PrincipalCache } from './principal-cache';
import { UserChanges } from './user-changes';

let database: TestDatabase;
let pool: pg.Pool;
let db: Kysely<DB>;
/** Lookups of users by this service (the cache's whole point is to spare them). */
let lookups = 0;
let changes: UserChanges;
let auth: AuthService;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (/from "users"/.test(event.query.sql)) lookups++;
    },
  });
  changes = new UserChanges({ databaseUrl: database.url, db, log: createLogger('silent') });
  auth = createAuthService({
    db,
    secret: 'principal-cache-test-secret-0123456789ab',
    ttlSeconds: 3600,
    userChanges: changes,
  });
  changes.start();
  await until(() => changes.listening);
});
afterAll(async () => {
  await changes.close();
  await db.destroy();
  await database.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}
const roleOf = async (token: string) => (await auth.authenticate(token)).role;

it('looks a token up once, then answers from memory', async () => {
  const { token } = await auth.register({ username: 'cached_once', password: 'password-123' });
  const before = lookups;
  await auth.authenticate(token);
  await auth.authenticate(token);
  await auth.authenticate(token);
  expect(lookups - before).toBe(1);
});

it('a role change takes effect at once: the cached principal is dropped', async () => {
  const { token, user } = await auth.register({ username: 'demoted_soon', password: 'password-123' });
  expect(await roleOf(token)).toBe('viewer');
  await pool.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
  await until(async () => (await roleOf(token)) === 'admin');
  await pool.query(`UPDATE users SET role = 'viewer' WHERE id = $1`, [user.id]);
  await until(async () => (await roleOf(token)) === 'viewer');
});

it('a deleted account is refused at once', async () => {
  const { token, user } = await auth.register({ username: 'deleted_soon', password: 'password-123' });
  await auth.authenticate(token);
  await pool.query('DELETE FROM users WHERE id = $1', [user.id]);
  await until(() =>
    auth.authenticate(token).then(
      () => false,
      (err) => err.code === 'UNAUTHENTICATED',
    ),
  );
});

it('a caller changing its principal does not change what others are given', async () => {
  const { token } = await auth.register({ username: 'not_shared', password: 'password-123' });
  const first = await auth.authenticate(token);
  first.role = 'admin';
  expect(await roleOf(token)).toBe('viewer');
});

it('keeps nothing while changes cannot be heard, nor a lookup that began before a change', () => {
  const cache = new PrincipalCache();
  const principal = { id: 'u1', username: 'u', role: 'viewer' as const };
  cache.set('t', principal, cache.mark());
  expect(cache.get('t')).toBeUndefined(); // not listening yet
  cache.listening(true);
  const mark = cache.mark();
  cache.changed('u2', null);
  cache.set('t', principal, mark);
  expect(cache.get('t')).toBeUndefined();
  cache.set('t', principal, cache.mark());
  expect(cache.get('t')).toEqual(principal);
  cache.listening(false);
  expect(cache.get('t')).toBeUndefined();
  expect(cache.size).toBe(0);
});

it('an expired token is not answered from memory', () => {
  const cache = new PrincipalCache();
  cache.listening(true);
  cache.set('t', { id: 'u1', username: 'u', role: 'viewer', expiresAt: Date.now() - 1 }, cache.mark());
  expect(cache.get('t')).toBeUndefined();
});

it('without a listener every request is looked up', async () => {
  const plain = createAuthService({ db, secret: 'principal-cache-test-secret-0123456789ab', ttlSeconds: 3600 });
  const { token } = await plain.register({ username: 'never_cached', password: 'password-123' });
  const before = lookups;
  await plain.authenticate(token);
  await plain.authenticate(token);
  expect(lookups - before).toBe(2);
});
