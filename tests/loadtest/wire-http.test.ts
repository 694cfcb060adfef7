import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WireHttp } from '../../scripts/bench/wire-http';

/** The money storm's lean HTTP client (scripts/bench/wire-http.ts) against a real Node server. */
let server: http.Server;
let url: URL;
const seen: { path?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
/** How the next answer is written: whole, in pieces, or chunked (no Content-Length). */
let mode: 'whole' | 'pieces' | 'chunked' = 'whole';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ path: req.url, headers: req.headers, body });
      const text = JSON.stringify({ echo: JSON.parse(body), note: 'é'.repeat(3000) });
      if (mode === 'chunked') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(text.slice(0, 10));
        res.end(text.slice(10));
        return;
      }
      const bytes = Buffer.from(text);
      res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
      if (mode === 'whole') res.end(bytes);
      else {
        // Split inside a multi-byte character: the client must reassemble the bytes before decoding.
        const split = bytes.indexOf(Buffer.from('é')) + 1;
        res.write(bytes.subarray(0, split));
        setTimeout(() => res.end(bytes.subarray(split)), 5);
      }
    });
  });
  server.on('connection', (socket) => connections.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Each test's client, on a connection of its own; `connections` counts the server's. */
let client: WireHttp;
const connections = new Set<unknown>();

beforeEach(() => {
  seen.length = 0;
  connections.clear();
  mode = 'whole';
  client = new WireHttp(url);
});

afterEach(() => client.close());

it('sends the JSON body with its headers and reads the status and body of each answer on one connection', async () => {
  for (const n of [1, 2, 3]) {
    const answer = await client.post<{ echo: { n: number }; note: string }>('/api/x', { n }, 'tok', `key-${n}`);
    expect(answer.status).toBe(201);
    expect(answer.body.echo).toEqual({ n });
    expect(answer.body.note).toBe('é'.repeat(3000));
  }
  expect(seen.map((s) => [s.path, s.headers.authorization, s.headers['idempotency-key']])).toEqual([
    ['/api/x', 'Bearer tok', 'key-1'],
    ['/api/x', 'Bearer tok', 'key-2'],
    ['/api/x', 'Bearer tok', 'key-3'],
  ]);
  expect(seen[0].headers['content-type']).toBe('application/json');
  expect(connections.size).toBe(1);
});

it('reassembles an answer that arrives in pieces', async () => {
  mode = 'pieces';
  const answer = await client.post<{ echo: { a: string }; note: string }>('/p', { a: 'b' });
  expect(answer).toMatchObject({ status: 201, body: { echo: { a: 'b' }, note: 'é'.repeat(3000) } });
});

it('opens the connection again after the server closed it', async () => {
  await client.post('/one', {});
  server.closeIdleConnections();
  await new Promise((r) => setTimeout(r, 50));
  expect((await client.post('/two', {})).status).toBe(201);
  expect(seen.map((s) => s.path)).toEqual(['/one', '/two']);
  expect(connections.size).toBe(2);
});

it('fails an answer it cannot frame (no Content-Length) instead of misreading it', async () => {
  mode = 'chunked';
  await expect(client.post('/c', {})).rejects.toThrow(/without Content-Length: HTTP\/1.1 200/);
  mode = 'whole';
  expect((await client.post('/after', {})).status).toBe(201);
});
