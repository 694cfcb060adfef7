import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { sql } from 'kysely';
import pg from 'pg';
import { TEST_DATABASE_URL } from './helpers/env';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from './helpers/server';
import { closeAllSockets, connect, ok } from './helpers/socket';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterEach(closeAllSockets);
afterAll(() => s.close());

describe('register and login', () => {
  it('registers a viewer by default and a creator on request, and logs in', async () => {
    const viewer = await s.api.post('/api/auth/register', { username: 'ada', password: 'lovelace-1815' });
    expect(viewer.status).toBe(201);
    expect(viewer.body.user).toMatchObject({ username: 'ada', role: 'viewer' });
    expect(viewer.body.token).toEqual(expect.any(String));
    expect(JSON.stringify(viewer.body)).not.toMatch(/password|argon/i);

    const creator = await s.api.post('/api/auth/register', {
      username: 'Grace',
      password: 'hopper-1906',
      role: 'creator',
    });
    expect(creator.body.user.role).toBe('creator');
    expect((await s.api.get(`/api/creators/${creator.body.user.id}`)).body.profile.displayName).toBe('Grace');

    const login = await s.api.post('/api/auth/login', { username: 'grace', password: 'hopper-1906' });
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(creator.body.user.id);
    const me = await s.api.get('/api/me', login.body.token);
    expect(me.body.user).toMatchObject({ id: creator.body.user.id, role: 'creator' });
  });

  it('stores an argon2id hash, never the password', async () => {
    await s.api.post('/api/auth/register', { username: 'hashcheck', password: 'plain-text-never' });
    const row = await s.lectern.database.db
      .selectFrom('users')
      .select('password_hash')
      .where('username', '=', 'hashcheck')
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain('plain-text-never');
  });

  it('refuses a taken username, case-insensitively', async () => {
    await s.api.post('/api/auth/register', { username: 'unique_one', password: 'password-1' });
    const res = await s.api.post('/api/auth/register', { username: 'UNIQUE_ONE', password: 'password-2' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
  });

  it('answers a wrong password and an unknown user alike', async () => {
    await s.api.post('/api/auth/register', { username: 'known', password: 'right-password' });
    const wrong = await s.api.post('/api/auth/login', { username: 'known', password: 'wrong-password' });
    const unknown = await s.api.post('/api/auth/login', { username: 'nobody-here', password: 'whatever-pw' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it.each([
    [{ username: 'ab', password: 'long-enough' }],
    [{ username: 'has space', password: 'long-enough' }],
    [{ username: 'x'.repeat(33), password: 'long-enough' }],
    [{ username: 'shortpw', password: 'short' }],
    [{ username: 'admin_wannabe', password: 'long-enough', role: 'admin' }],
    [{ username: 'extra', password: 'long-enough', isAdmin: true }],
    [{ username: 42, password: 'long-enough' }],
    [[]],
    [null],
  ])('refuses bad registration %j with INVALID_ARGUMENT', async (body) => {
    const before = await s.lectern.database.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const res = await s.api.post('/api/auth/register', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_ARGUMENT');
    const after = await s.lectern.database.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });
});

describe('tokens', () => {
  const sign = (claims: Record<string, unknown>, exp: string | number, secret = TEST_JWT_SECRET) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('00000000-0000-4000-8000-000000000000')
      .setIssuer('lectern')
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret));

  it('refuses expired, forged, malformed and wrongly-schemed tokens', async () => {
    const claims = { username: 'x', role: 'admin' };
    const expired = await sign(claims, Math.floor(Date.now() / 1000) - 10);
    const forged = await sign(claims, '1h', 'another-secret-another-secret-another-secret');
    for (const authorization of [
      `Bearer ${expired}`,
      `Bearer ${forged}`,
      'Bearer not.a.jwt',
      'Basic dXNlcjpwYXNz',
      'Bearer',
    ]) {
      const res = await s.api.request('GET', '/api/wallet', { headers: { authorization } });
      expect([authorization.slice(0, 12), res.status, res.body.error.code]).toEqual([
        authorization.slice(0, 12),
        401,
        'UNAUTHENTICATED',
      ]);
    }
  });

  it('refuses a token with characters added that base64url decoding would skip', async () => {
    const viewer = await s.api.register();
    expect((await s.api.get('/api/wallet', viewer.token)).status).toBe(200);
    const [header, payload, signature] = viewer.token.split('.');
    for (const altered of [
      `${viewer.token}=`,
      `${viewer.token}==`,
      `${header}.${payload}.=${signature}`,
      `${header}=.${payload}.${signature}`,
    ]) {
      const res = await s.api.get('/api/wallet', altered);
      expect([altered.slice(-4), res.status, res.body.error?.code]).toEqual([
        altered.slice(-4),
        401,
        'UNAUTHENTICATED',
      ]);
    }
  });

  it('refuses a well-signed token whose subject is not a user id', async () => {
    const token = await new SignJWT({ username: 'x', role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('not-a-uuid')
      .setIssuer('lectern')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const res = await s.api.get('/api/wallet', token);
    expect([res.status, res.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('take the role from the database: a demotion or promotion applies to tokens already issued', async () => {
    const admin = await s.admin();
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const creator = await s.api.register('creator');
    const lesson = await s.api.content(creator.token, { price: 100 });
    const bought = await s.api.post('/api/purchases', { contentId: lesson.id }, viewer.token, randomUUID());
    expect(bought.status).toBe(201);

    await s.lectern.services.auth.setRole(admin.user.username, 'viewer');
    const refund = await s.api.post(
      `/api/admin/purchases/${bought.body.purchase.id}/refund`,
      {},
      admin.token,
      randomUUID(),
    );
    expect([refund.status, refund.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    expect((await s.api.get('/api/me', admin.token)).body.user.role).toBe('viewer');

    await s.lectern.services.auth.setRole(viewer.user.username, 'creator');
    expect((await s.api.post('/api/contents', { title: 'x', kind: 'lesson', price: 1 }, viewer.token)).status).toBe(
      201,
    );
  });

  it('refuse the token of a deleted user with UNAUTHENTICATED, on paying routes too', async () => {
    const gone = await s.api.register();
    await s.lectern.database.db.deleteFrom('users').where('id', '=', gone.user.id).execute();
    for (const res of [
      await s.api.get('/api/wallet', gone.token),
      await s.api.post('/api/wallet/topup', { amount: 100 }, gone.token, randomUUID()),
      await s.api.post('/api/purchases', { contentId: randomUUID() }, gone.token, randomUUID()),
    ]) {
      expect([res.status, res.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
  });

  it('are checked against the database at the Socket.IO handshake as well', async () => {
    const gone = await s.api.register();
    await s.lectern.database.db.deleteFrom('users').where('id', '=', gone.user.id).execute();
    await expect(connect(s.url, gone.token)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });

    // A demoted admin no longer gets an admin's full access to a paid room.
    const owner = await s.api.register('creator');
    const room = await s.api.room(owner.token, { access: 'ticket', ticketPrice: 500, previewSeconds: 0 });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const admin = await s.admin();
    const before = await connect(s.url, admin.token);
    expect((await ok(before, 'room:join', { roomId: room.id })).access).toBe('full');
    await s.lectern.services.auth.setRole(admin.user.username, 'viewer');
    const after = await connect(s.url, admin.token);
    expect((await ok(after, 'room:join', { roomId: room.id })).access).toBe('none');
  });

  it('answers UNAVAILABLE, not UNAUTHENTICATED, when the handshake cannot reach the database', async () => {
    const user = await s.api.register();
    const { db } = s.lectern.database;
    const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(db);
    const name = rows[0].name;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      // The database goes away under the node: no new connections, the pool's ones cut.
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      await expect(connect(s.url, user.token)).rejects.toMatchObject({ data: { code: 'UNAVAILABLE' } });
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    // Back: the same token is good again.
    await connect(s.url, user.token);
  });

  it('guards role-restricted routes', async () => {
    const viewer = await s.api.register('viewer');
    const content = await s.api.post('/api/contents', { title: 'x', kind: 'lesson', price: 1 }, viewer.token);
    expect(content.status).toBe(403);
    const room = await s.api.post('/api/rooms', { title: 'x', access: 'free' }, viewer.token);
    expect(room.body.error.code).toBe('FORBIDDEN');
    const anon = await s.api.post('/api/rooms', { title: 'x', access: 'free' });
    expect(anon.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('rate-limits login attempts per IP', async () => {
    const limited = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '5' });
    try {
      const statuses = [];
      for (let i = 0; i < 8; i++) {
        statuses.push(
          (await limited.api.post('/api/auth/login', { username: 'nobody', password: 'whatever1' })).status,
        );
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      const res = await limited.api.post('/api/auth/login', { username: 'nobody', password: 'whatever1' });
      expect(res.body.error.code).toBe('RATE_LIMITED');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
