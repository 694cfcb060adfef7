import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { type Account, startTestServer, type TestServer } from './helpers/server';

/**
 * POST /api/purchases and /api/wallet/topup have a path of their own in front of express
 * (server/http/money-fast-path.ts). The same request sent with a chunked body is not "plain" and
 * goes to express: every case below is sent both ways and must be answered the same.
 */
let s: TestServer;
let creator: Account;
let buyer: Account;
let lessonId: string;
beforeAll(async () => {
  s = await startTestServer({ HTTP_BODY_LIMIT_BYTES: '2048' });
  creator = await s.api.register('creator');
  buyer = await s.api.register('viewer');
  lessonId = (await s.api.content(creator.token, { price: 100 })).id;
});
afterAll(() => s.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

function send(
  path: string,
  body: string,
  headers: Record<string, string>,
  chunked: boolean,
  base = s.url,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      {
        method: 'POST',
        headers: chunked
          ? { ...headers, 'transfer-encoding': 'chunked' }
          : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The request both ways; the fast path's answer has no ETag, express's has one (so both paths ran). */
async function bothWays(path: string, body: string, headers: Record<string, string>) {
  const fast = await send(path, body, headers, false);
  const express = await send(path, body, headers, true);
  expect(fast.headers.etag).toBeUndefined();
  expect(express.headers.etag).toBeDefined();
  return { fast, express };
}

const json = (token: string | undefined, key?: string) => ({
  'content-type': 'application/json',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
  ...(key ? { 'idempotency-key': key } : {}),
});

/** What must match between the two answers: status, body, and the headers a client reads. */
const visible = (a: Answer) => ({
  status: a.status,
  body: a.body,
  type: a.headers['content-type'],
  replayed: a.headers['idempotent-replayed'],
  retryAfter: a.headers['retry-after'],
});

describe('the money routes without express', () => {
  it.each([
    ['malformed JSON', '{"contentId":', json('buyer', 'k-malformed-1')],
    ['JSON that is not an object', '"just a string"', json('buyer', 'k-string-01')],
    ['a token that is not valid', '{}', json('not-a-token', 'k-badtoken-1')],
    ['an Authorization header that is not a bearer token', '{}', { ...json(undefined), authorization: 'Basic abc' }],
    ['no Idempotency-Key', '{"contentId":"x"}', json('buyer')],
    ['an Idempotency-Key with a space', '{"contentId":"x"}', json('buyer', 'has a space')],
    ['a field the route does not know', '{"contentId":"CONTENT","tip":1}', json('buyer', 'k-unknown-1')],
    ['a content that does not exist', `{"contentId":"${randomUUID()}"}`, json('buyer', 'k-missing-1')],
    ['a price that is not the price', '{"contentId":"CONTENT","expectedPrice":99}', json('buyer', 'k-price-01')],
  ])('refuses %s exactly as express does', async (_what, raw, headers) => {
    const h = { ...headers } as Record<string, string>;
    if (h.authorization === 'Bearer buyer') h.authorization = `Bearer ${buyer.token}`;
    // A refused purchase stores its answer under its key: each way gets its own key.
    const body = raw.replace('CONTENT', lessonId);
    const fast = await send('/api/purchases', body, h, false);
    const express = await send(
      '/api/purchases',
      body,
      h['idempotency-key'] ? { ...h, 'idempotency-key': `${h['idempotency-key']}-x` } : h,
      true,
    );
    expect(fast.headers.etag).toBeUndefined();
    expect(express.headers.etag).toBeDefined();
    expect(fast.status).toBeGreaterThanOrEqual(400);
    expect(visible(fast)).toEqual(visible(express));
  });

  it('buys, replays and tops up as express does, with the request id echoed', async () => {
    const other = await s.api.register('viewer');
    await s.api.topUp(buyer.token, 1000);
    await s.api.topUp(other.token, 1000);
    const key = randomUUID();
    const body = JSON.stringify({ contentId: lessonId, expectedPrice: 100 });
    const fast = await send('/api/purchases', body, { ...json(buyer.token, key), 'x-request-id': 'req-fast-1' }, false);
    const express = await send('/api/purchases', body, json(other.token, randomUUID()), true);
    expect([fast.status, express.status]).toEqual([201, 201]);
    expect(Object.keys(fast.body).sort()).toEqual(Object.keys(express.body).sort());
    expect(fast.body.purchase.contentId).toBe(lessonId);
    expect(fast.headers['x-request-id']).toBe('req-fast-1');
    expect(express.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const again = await bothWays('/api/purchases', body, json(buyer.token, key));
    expect(visible(again.fast)).toEqual(visible(again.express));
    expect(again.fast.headers['idempotent-replayed']).toBe('true');
    expect(again.fast.body).toEqual(fast.body);

    const topUps = await bothWays('/api/wallet/topup', '{"amount":5}', json(buyer.token));
    expect(visible(topUps.fast)).toEqual(visible(topUps.express));
    const credited = await send('/api/wallet/topup', ' \n{"amount":5}', json(buyer.token, randomUUID()), false);
    expect(credited.status).toBe(200);
    expect(credited.body.balance).toBe(1000 - 100 + 5);
  });

  it('counts its requests under the route, as express does', async () => {
    const before = await s.api.get('/metrics');
    const count = (text: string) =>
      Number(
        /lectern_http_requests_total\{method="POST",route="\/api\/wallet\/topup",status="400"\} (\d+)/.exec(
          text,
        )?.[1] ?? 0,
      );
    await send('/api/wallet/topup', '{"amount":1}', json(buyer.token), false);
    const after = await s.api.get('/metrics');
    expect(count(after.body) - count(before.body)).toBe(1);
  });
});

describe('the fast path under a rate limit', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ HTTP_RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => limited.close());

  it('answers RATE_LIMITED with Retry-After once the caller has spent the limit', async () => {
    const viewer = await limited.api.register('viewer');
    const statuses: number[] = [];
    let last: Answer | undefined;
    for (let i = 0; i < 4; i++) {
      last = await send('/api/wallet/topup', '{"amount":1}', json(viewer.token, randomUUID()), false, limited.url);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.body.error.code).toBe('RATE_LIMITED');
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
  });
});
