import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postOnce } from './post';

describe('postOnce', () => {
  let server: Server;
  let url: string;
  let answer: (res: import('node:http').ServerResponse) => void;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        bodies.push(body);
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const allowed = { timeoutMs: 300, allowPrivate: true };

  it('succeeds on 2xx and sends the body as given', async () => {
    answer = (res) => res.writeHead(202).end();
    expect(await postOnce(url, '{"a":1}', { 'content-type': 'application/json' }, allowed)).toEqual({
      ok: true,
      statusCode: 202,
      error: null,
    });
    expect(bodies.at(-1)).toBe('{"a":1}');
  });

  it('fails on other statuses, keeping the start of the answer, and does not follow redirects', async () => {
    answer = (res) => res.writeHead(500).end(`boom ${'x'.repeat(1000)}`);
    const failed = await postOnce(url, '{}', {}, allowed);
    expect(failed).toMatchObject({ ok: false, statusCode: 500 });
    expect(failed.error).toMatch(/^HTTP 500: boom x+$/);
    expect(failed.error!.length).toBeLessThan(320);
    answer = (res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    expect(await postOnce(url, '{}', {}, allowed)).toEqual({ ok: false, statusCode: 302, error: 'HTTP 302' });
  });

  it('gives up on an endpoint that does not answer in time', async () => {
    answer = () => {};
    expect(await postOnce(url, '{}', {}, allowed)).toEqual({
      ok: false,
      statusCode: null,
      error: 'no answer within 300 ms',
    });
  });

  it('refuses private addresses unless allowed, by IP literal and by name, without connecting', async () => {
    const before = bodies.length;
    const guarded = { timeoutMs: 300, allowPrivate: false };
    const literal = await postOnce(url, '{}', {}, guarded);
    expect(literal).toMatchObject({ ok: false, statusCode: null });
    expect(literal.error).toMatch(/not a public address/);
    const byName = await postOnce(url.replace('127.0.0.1', 'localhost'), '{}', {}, guarded);
    expect(byName).toMatchObject({ ok: false, statusCode: null });
    expect(byName.error).toMatch(/localhost resolves to .* not a public address/);
    expect(bodies.length).toBe(before);
  });

  it('reports a refused connection', async () => {
    const closed = await postOnce('http://127.0.0.1:1/', '{}', {}, allowed);
    expect(closed).toMatchObject({ ok: false, statusCode: null });
    expect(closed.error).toMatch(/ECONNREFUSED/);
  });
});
