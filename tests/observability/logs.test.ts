import { Writable } from 'node:stream';
import { createLogger } from '../../server/log';
import { startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok } from '../helpers/socket';

/**
 * Structured logs a request or a socket event can be traced by: every HTTP response carries an
 * `X-Request-Id` (the caller's, when sane) and the request's log lines carry it as `reqId`;
 * socket event lines carry the socket id and the user id.
 */

type Line = Record<string, unknown>;
const lines: Line[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const text of String(chunk).split('\n')) if (text) lines.push(JSON.parse(text));
    done();
  },
});

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({}, { log: createLogger('debug', sink) });
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('gives every response an X-Request-Id, a new one each time', async () => {
    const a = await s.api.get('/api/rooms');
    const b = await s.api.get('/healthz');
    const missing = await s.api.get('/api/nothing-here');
    for (const res of [a, b, missing]) expect(res.headers.get('x-request-id')).toMatch(UUID);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('echoes a sane incoming X-Request-Id and replaces anything else', async () => {
    const given = 'edge-7f3a:trace/42';
    const echoed = await s.api.request('GET', '/api/rooms', { headers: { 'x-request-id': given } });
    expect(echoed.headers.get('x-request-id')).toBe(given);
    for (const bad of ['has spaces in it', 'x'.repeat(200), '<script>', 'a"b']) {
      const res = await s.api.request('GET', '/api/rooms', { headers: { 'x-request-id': bad } });
      expect(res.headers.get('x-request-id')).toMatch(UUID);
    }
  });
});

describe('log lines', () => {
  it('carry the socket id and user id of a socket event', async () => {
    const viewer = await s.api.register();
    const creator = await s.api.register('creator');
    const room = await s.api.room(creator.token);
    const socket = await connect(s.url, viewer.token);
    await ok(socket, 'room:join', { roomId: room.id });
    const line = lines.find((l) => l.msg === 'socket event' && l.event === 'room:join');
    expect(line).toMatchObject({ socket: socket.id, userId: viewer.user.id, outcome: 'ok' });
    expect(typeof line?.seconds).toBe('number');
  });

  it('carry the request id of an INTERNAL error', async () => {
    const broken = await startTestServer({}, { log: createLogger('info', sink) });
    try {
      await broken.lectern.database.db.destroy(); // the database vanishes under the server
      const res = await broken.api.request('GET', '/api/rooms', { headers: { 'x-request-id': 'req-internal-1' } });
      expect([res.status, res.body.error.code]).toEqual([500, 'INTERNAL']);
      expect(res.headers.get('x-request-id')).toBe('req-internal-1');
      const failed = lines.find((l) => l.msg === 'request failed' && l.reqId === 'req-internal-1');
      expect(failed).toMatchObject({ level: 50, method: 'GET', url: '/api/rooms' });
      expect(failed?.err).toBeDefined();
    } finally {
      await broken.close();
    }
  });
});
