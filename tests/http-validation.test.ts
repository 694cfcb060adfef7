import { randomUUID } from 'node:crypto';
import { type Account, startTestServer, type TestServer } from './helpers/server';

let s: TestServer;
let admin: Account;
let creator: Account;
beforeAll(async () => {
  s = await startTestServer();
  admin = await s.admin();
  creator = await s.api.register('creator');
});
afterAll(() => s.close());

const code = (res: { status: number; body: any }) => [res.status, res.body?.error?.code ?? null];

describe('routes that take no body refuse one with unknown fields', () => {
  it('POST /rooms/:id/start and /end: an empty or absent body is fine, fields are refused and change nothing', async () => {
    const room = await s.api.room(creator.token);
    const start = (body?: unknown) =>
      s.api.request('POST', `/api/rooms/${room.id}/start`, { token: creator.token, body });
    expect(code(await start({ status: 'ended' }))).toEqual([400, 'INVALID_ARGUMENT']);
    expect(code(await start([]))).toEqual([400, 'INVALID_ARGUMENT']);
    expect((await s.api.get(`/api/rooms/${room.id}`)).body.room.status).toBe('scheduled');
    expect((await start({})).status).toBe(200);
    const end = (body?: unknown) => s.api.request('POST', `/api/rooms/${room.id}/end`, { token: creator.token, body });
    expect(code(await end({ reason: 'done' }))).toEqual([400, 'INVALID_ARGUMENT']);
    expect((await s.api.get(`/api/rooms/${room.id}`)).body.room.status).toBe('live');
    expect((await end()).status).toBe(200);
  });

  it('DELETE /contents/:id', async () => {
    const lesson = await s.api.content(creator.token);
    const del = (body?: unknown) =>
      s.api.request('DELETE', `/api/contents/${lesson.id}`, { token: creator.token, body });
    const refused = await del({ force: true });
    expect(code(refused)).toEqual([400, 'INVALID_ARGUMENT']);
    expect(refused.body.error.details.issues[0].path).toBe('body');
    expect((await s.api.get(`/api/contents/${lesson.id}`)).status).toBe(200);
    expect((await del()).status).toBe(204);
  });

  it('POST /admin/purchases/:id/refund, without burning the key', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const lesson = await s.api.content(creator.token, { price: 100 });
    const bought = await s.api.post('/api/purchases', { contentId: lesson.id }, viewer.token, randomUUID());
    const key = randomUUID();
    const url = `/api/admin/purchases/${bought.body.purchase.id}/refund`;
    expect(code(await s.api.post(url, { reason: 'asked nicely' }, admin.token, key))).toEqual([
      400,
      'INVALID_ARGUMENT',
    ]);
    expect((await s.api.get('/api/purchases', viewer.token)).body.purchases[0].status).toBe('completed');
    const ok = await s.api.request('POST', url, { token: admin.token, key });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
  });

  it('authentication and role checks come before validation: the unauthorised learn nothing from it', async () => {
    const room = await s.api.room(creator.token);
    const viewer = await s.api.register();
    const res = await s.api.post(
      `/api/admin/purchases/${randomUUID()}/refund`,
      { bogus: 1 },
      viewer.token,
      randomUUID(),
    );
    expect(code(res)).toEqual([403, 'FORBIDDEN']);
    const anon = await s.api.post(`/api/rooms/${room.id}/start`, { bogus: 1 });
    expect(code(anon)).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('queries', () => {
  it('GET /wallet/transactions?limit is an integer from 1 to 200', async () => {
    const viewer = await s.api.register();
    for (let i = 0; i < 3; i++) await s.api.topUp(viewer.token, 10);
    const history = (query: string) => s.api.get(`/api/wallet/transactions${query}`, viewer.token);
    expect((await history('')).body.entries).toHaveLength(3);
    expect((await history('?limit=2')).body.entries).toHaveLength(2);
    for (const bad of [
      '?limit=abc',
      '?limit=0',
      '?limit=201',
      '?limit=1.5',
      '?limit=',
      '?limit=2&limit=3',
      '?page=2',
    ]) {
      expect([bad, ...code(await history(bad))]).toEqual([bad, 400, 'INVALID_ARGUMENT']);
    }
  });

  it('routes that take no query refuse one', async () => {
    const room = await s.api.room(creator.token);
    for (const path of [
      '/api/wallet?x=1',
      '/api/purchases?all=true',
      `/api/rooms/${room.id}?expand=owner`,
      '/api/me?v=2',
    ]) {
      const res = await s.api.get(path, creator.token);
      expect([path, ...code(res)]).toEqual([path, 400, 'INVALID_ARGUMENT']);
      expect(res.body.error.details.issues[0].path).toBe('query');
    }
  });
});

describe('ids in paths', () => {
  const routes: [method: string, path: (id: string) => string][] = [
    ['GET', (id) => `/api/contents/${id}`],
    ['PATCH', (id) => `/api/contents/${id}`],
    ['DELETE', (id) => `/api/contents/${id}`],
    ['GET', (id) => `/api/creators/${id}`],
    ['GET', (id) => `/api/rooms/${id}`],
    ['POST', (id) => `/api/rooms/${id}/start`],
    ['POST', (id) => `/api/rooms/${id}/end`],
    ['POST', (id) => `/api/admin/purchases/${id}/refund`],
    ['GET', (id) => `/api/analytics/rooms/${id}`],
    ['GET', (id) => `/api/webhooks/${id}`],
    ['DELETE', (id) => `/api/webhooks/${id}`],
    ['GET', (id) => `/api/webhooks/${id}/deliveries`],
    ['GET', (id) => `/api/webhooks/${id}/deliveries/${id}`],
    ['POST', (id) => `/api/webhooks/${id}/deliveries/${id}/redeliver`],
  ];

  it.each(routes)('%s %p: a malformed id is INVALID_ARGUMENT, an unknown one NOT_FOUND', async (method, path) => {
    const body = method === 'PATCH' ? {} : undefined;
    const send = (id: string) => s.api.request(method, path(id), { token: admin.token, key: randomUUID(), body });
    expect(code(await send('not-a-uuid'))).toEqual([400, 'INVALID_ARGUMENT']);
    expect(code(await send(randomUUID()))).toEqual([404, 'NOT_FOUND']);
    // Not even percent-encoding: the router cannot decode it.
    expect(code(await send('%E0%A4'))).toEqual([400, 'INVALID_ARGUMENT']);
  });
});

describe('input the validator or the database would choke on', () => {
  it('a NUL character in any text is INVALID_ARGUMENT naming the field, not a database error', async () => {
    expect(code(await s.api.get('/api/contents?tag=%00'))).toEqual([400, 'INVALID_ARGUMENT']);
    expect(code(await s.api.post('/api/auth/login', { username: 'a\u0000b', password: 'whatever' }))).toEqual([
      400,
      'INVALID_ARGUMENT',
    ]);
    const res = await s.api.post('/api/contents', { title: 'NUL\u0000', kind: 'lesson', price: 0 }, creator.token);
    expect(code(res)).toEqual([400, 'INVALID_ARGUMENT']);
    expect(res.body.error.details.issues).toEqual([{ path: 'title', message: 'must not contain NUL characters' }]);
  });

  it('an object whose `length` cannot be read (zod compares it) is INVALID_ARGUMENT, not INTERNAL', async () => {
    const title = { length: { toString: 1 } };
    const res = await s.api.post('/api/contents', { title, kind: 'lesson', price: 0 }, creator.token);
    expect(code(res)).toEqual([400, 'INVALID_ARGUMENT']);
  });
});
