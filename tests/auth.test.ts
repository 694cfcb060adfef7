import { SignJWT } from 'jose';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from './helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
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
