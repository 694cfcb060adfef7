import { connect } from 'node:net';
import { startTestServer, type TestServer } from './helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ HTTP_BODY_LIMIT_BYTES: '2048' });
});
afterAll(() => s.close());

describe('the HTTP edge', () => {
  it('answers malformed JSON, oversized bodies and unknown routes with coded errors', async () => {
    const creator = await s.api.register('creator');
    const bad = await s.api.request('POST', '/api/contents', { raw: '{"title": "x",', token: creator.token });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const big = await s.api.request('POST', '/api/contents', {
      raw: JSON.stringify({ title: 'x'.repeat(5000) }),
      token: creator.token,
    });
    expect([big.status, big.body.error.code]).toEqual([413, 'INVALID_ARGUMENT']);
    const text = await s.api.request('POST', '/api/auth/login', {
      raw: 'user=a',
      headers: { 'content-type': 'text/plain' },
    });
    expect([text.status, text.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const missing = await s.api.get('/api/nothing-here');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const badId = await s.api.get('/api/rooms/not-a-uuid');
    expect([badId.status, badId.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
  });

  it('answers a body that does not inflate and requests Node’s HTTP parser refuses with coded errors', async () => {
    const gzip = await s.api.request('POST', '/api/auth/login', {
      raw: 'not gzip at all',
      headers: { 'content-encoding': 'gzip' },
    });
    expect([gzip.status, gzip.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);

    /** Writes a raw request and reads the answer until the server closes the connection. */
    const raw = (request: Buffer) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const socket = connect(Number(new URL(s.url).port), '127.0.0.1', () => socket.end(request));
        let data = '';
        socket.on('data', (chunk) => {
          data += chunk.toString('latin1');
        });
        socket.on('error', reject);
        socket.on('close', () => {
          const [head, body = ''] = data.split('\r\n\r\n');
          resolve({
            status: Number(head.split(' ')[1]),
            type: /content-type: ([^\r]*)/i.exec(head)?.[1] ?? '',
            body,
          });
        });
      });
    const huge = await raw(Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect([huge.status, huge.type, JSON.parse(huge.body).error.code]).toEqual([
      431,
      'application/json; charset=utf-8',
      'INVALID_ARGUMENT',
    ]);
    const garbled = await raw(Buffer.from('GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'));
    expect([garbled.status, JSON.parse(garbled.body).error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    // The answer to HEAD has no body, which its client would read as the next response.
    const head = await raw(Buffer.from('HEAD /\xff HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'));
    expect([head.status, head.body]).toEqual([400, '']);
  });

  it('names every offending field', async () => {
    const creator = await s.api.register('creator');
    const res = await s.api.post('/api/contents', { title: '', kind: 'podcast', price: -1, tags: 'x' }, creator.token);
    expect(res.status).toBe(400);
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(['kind', 'price', 'tags', 'title']);
  });

  it('serves health and Prometheus metrics', async () => {
    const health = await s.api.get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body.checks.database.ok).toBe(true);
    const metrics = await s.api.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('lectern_http_requests_total{method="GET",route="/healthz",status="200"}');
    expect(metrics.body).toContain('lectern_process_cpu_seconds_total');
  });
});

describe('an unexpected failure', () => {
  it('is INTERNAL without internals, the process keeps serving, and health says unavailable', async () => {
    const broken = await startTestServer();
    try {
      await broken.lectern.database.db.destroy(); // the database vanishes under the server
      const res = await broken.api.get('/api/rooms');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
      const health = await broken.api.get('/healthz');
      expect(health.status).toBe(503);
      expect(health.body.checks.database.ok).toBe(false);
    } finally {
      await broken.close();
    }
  });
});

describe('METRICS_TOKEN', () => {
  const token = 'metrics-scraper-token-0123456789abcdef';
  let guarded: TestServer;
  beforeAll(async () => {
    guarded = await startTestServer({ METRICS_TOKEN: token });
  });
  afterAll(() => guarded.close());

  it('keeps /metrics for the scraper that has the token; health stays open', async () => {
    const anonymous = await guarded.api.get('/metrics');
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const wrong = await guarded.api.request('GET', '/metrics', { headers: { authorization: `Bearer ${token}x` } });
    expect(wrong.status).toBe(401);
    // A user's access token is not the metrics token.
    const user = await guarded.api.register();
    expect((await guarded.api.get('/metrics', user.token)).status).toBe(401);
    const scraper = await guarded.api.request('GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
    expect(scraper.status).toBe(200);
    expect(scraper.body).toContain('lectern_process_cpu_seconds_total');
    expect((await guarded.api.get('/healthz')).status).toBe(200);
  });
});
