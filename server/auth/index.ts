import type { Kysely } from 'kysely';
import { z } from 'zod';
import { Limits, type Role, type User } from '../../protocol';
import { type DB, isUniqueViolation, type UserRow } from '../db';
import { AppError, conflict, notFound, unauthenticated } from '../errors';
import { parse } from '../validation';
import { hashPassword, timingDummyHash, verifyPassword } from './passwords';
import { PrincipalCache } from './principal-cache';
import { type Principal, TokenService } from './tokens';
import type { UserChanges } from './user-changes';

export type { Principal } from './tokens';

export const registerSchema = z.strictObject({
  username: z
    .string()
    .min(Limits.usernameMin)
    .max(Limits.usernameMax)
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . and - only'),
  password: z.string().min(Limits.passwordMin).max(Limits.passwordMax),
  role: z.enum(['viewer', 'creator']).default('viewer'),
});
export const loginSchema = z.strictObject({
  username: z.string().min(1).max(Limits.usernameMax),
  password: z.string().min(1).max(Limits.passwordMax),
});

export interface Session {
  token: string;
  user: User;
}

export interface AuthService {
  register(input: unknown): Promise<Session>;
  login(input: unknown): Promise<Session>;
  /**
   * The principal a bearer token names, as the database has it now; UNAUTHENTICATED when the
   * token is bad or expired or its user no longer exists.
   */
  authenticate(token: string): Promise<Principal>;
  getUser(id: string): Promise<User>;
  /** Operator action (CLI): change a user's role. */
  setRole(username: string, role: Role): Promise<User>;
}

export const toUser = (row: Pick<UserRow, 'id' | 'username' | 'role' | 'created_at'>): User => ({
  id: row.id,
  username: row.username,
  role: row.role,
  createdAt: row.created_at.toISOString(),
});

export function createAuthService(deps: {
  db: Kysely<DB>;
  secret: string;
  ttlSeconds: number;
  /** With it, principals are cached while it listens (without it, every token is looked up). */
  userChanges?: UserChanges;
}): AuthService {
  const { db } = deps;
  const tokens = new TokenService(deps.secret, deps.ttlSeconds);
  const cache = new PrincipalCache();
  deps.userChanges?.watch(cache);
  const session = async (user: User): Promise<Session> => ({ token: await tokens.issue(user), user });

  return {
    async register(input) {
      const { username, password, role } = parse(registerSchema, input);
      const passwordHash = await hashPassword(password);
      try {
        const row = await db.transaction().execute(async (trx) => {
          const user = await trx
            .insertInto('users')
            .values({ username, password_hash: passwordHash, role })
            .returning(['id', 'username', 'role', 'created_at'])
            .executeTakeFirstOrThrow();
          if (role === 'creator') {
            await trx.insertInto('creator_profiles').values({ user_id: user.id, display_name: username }).execute();
          }
          return user;
        });
        return session(toUser(row));
      } catch (err) {
        if (isUniqueViolation(err, 'users_username_key')) throw conflict('that username is taken');
        throw err;
      }
    },

    async login(input) {
      const { username, password } = parse(loginSchema, input);
      const row = await db
        .selectFrom('users')
        .select(['id', 'username', 'role', 'created_at', 'password_hash'])
        .where((eb) => eb(eb.fn('lower', ['username']), '=', username.toLowerCase()))
        .executeTakeFirst();
      const ok = await verifyPassword(row?.password_hash ?? (await timingDummyHash()), password);
      if (!row || !ok) throw new AppError('UNAUTHENTICATED', 'wrong username or password');
      return session(toUser(row));
    },

    async authenticate(token) {
      const cached = cache.get(token);
      if (cached) return cached;
      const mark = cache.mark();
      const { id, expiresAt } = await tokens.verify(token);
      // The token proves who the bearer is; the role is read now (one primary-key lookup, or the
      // cache that role changes clear), so a demotion or a deleted account takes effect at once
      // rather than at the token's expiry.
      const row = await db
        .selectFrom('users')
        .select(['id', 'username', 'role'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw unauthenticated('this account no longer exists');
      const principal = expiresAt ? { ...row, expiresAt } : row;
      cache.set(token, principal, mark);
      return { ...principal };
    },

    async getUser(id) {
      const row = await db
        .selectFrom('users')
        .select(['id', 'username', 'role', 'created_at'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw notFound('user');
      return toUser(row);
    },

    async setRole(username, role) {
      const user = await db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('users')
          .set({ role })
          .where((eb) => eb(eb.fn('lower', ['username']), '=', username.toLowerCase()))
          .returning(['id', 'username', 'role', 'created_at'])
          .executeTakeFirst();
        if (!row) throw notFound('user');
        if (role === 'creator') {
          await trx
            .insertInto('creator_profiles')
            .values({ user_id: row.id, display_name: row.username })
            .onConflict((oc) => oc.column('user_id').doNothing())
            .execute();
        }
        return toUser(row);
      });
      // This node reads its own write at once; the others hear of it from Postgres.
      cache.changed(user.id, { role: user.role });
      return user;
    },
  };
}
