import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { io } from 'socket.io-client';
import { type ClientToServerEvents, isErrorCode } from '../../protocol';
import { TokenService } from '../../server/auth/tokens';
import { eventSchemas } from '../../server/gateway/schemas';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, eventually, next, ok, record, send, sleep } from '../helpers/socket';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({
    ALLOWED_ORIGINS: 'https://school.example',
    MAX_CONNECTIONS_PER_IP: '6',
    MAX_CONNECTIONS_PER_USER: '2',
    SOCKET_MAX_PAYLOAD_BYTES: '4096',
    SOCKET_EVENTS_PER_SECOND: '5',
  });
});
afterEach(closeAllSockets);
afterAll(() => s.close());

const connectError = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the connection to be refused');
    },
    (err: Error & { data?: { code: string } }) => err,
  );

describe('the handshake', () => {
  it('refuses bad tokens with UNAUTHENTICATED and admits guests without one', async () => {
    const err = await connectError(connect(s.url, 'not-a-token'));
    expect(err.data?.code).toBe('UNAUTHENTICATED');
    const guest = await connect(s.url);
    expect(guest.connected).toBe(true);
  });

  it('admits listed origins and same-origin pages only', async () => {
    await expect(connect(s.url, undefined, { origin: 'https://school.example' })).resolves.toBeTruthy();
    await expect(connect(s.url, undefined, { origin: s.url })).resolves.toBeTruthy();
    await expect(connect(s.url, undefined, { origin: 'https://evil.example' })).rejects.toThrow();
  });

  it('caps connections per user and per IP', async () => {
    const user = await s.api.register();
    await connect(s.url, user.token);
    await connect(s.url, user.token);
    expect((await connectError(connect(s.url, user.token))).data?.code).toBe('RATE_LIMITED');
    closeAllSockets();
    await sleep(100);
    const many = [];
    for (let i = 0; i < 6; i++) many.push(await connect(s.url));
    expect((await connectError(connect(s.url))).data?.code).toBe('RATE_LIMITED');
    many[0].close();
    await sleep(100);
    await expect(connect(s.url)).resolves.toBeTruthy();
  });

  it('a client that hangs up while its token is being checked gives its slot back', async () => {
    const user = await s.api.register();
    // Hold the token check (it reads the user's row) until the clients have hung up.
    await s.lectern.database.db.transaction().execute(async (trx) => {
      await sql`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`.execute(trx);
      const quitters = Array.from({ length: 3 }, () =>
        io(s.url, { auth: { token: user.token }, transports: ['websocket'], reconnection: false, forceNew: true }),
      );
      await eventually(() => s.lectern.gateway.io.engine.clientsCount >= 3, 5000, 'the three are in the handshake');
      for (const q of quitters) q.close();
      await eventually(() => s.lectern.gateway.io.engine.clientsCount === 0, 5000, 'the three are gone');
    });
    await sleep(200); // the checks finish now, for clients no longer there
    // MAX_CONNECTIONS_PER_USER is 2: both fit, the abandoned handshakes hold nothing.
    await connect(s.url, user.token);
    await connect(s.url, user.token);
  });
});

describe('a connection follows its user', () => {
  it('a demoted admin’s open connection stops moderating at once', async () => {
    const owner = await s.api.register('creator');
    const room = await s.api.room(owner.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const admin = await s.admin();
    const viewers = await Promise.all([s.api.register(), s.api.register()]);
    const sock = await connect(s.url, admin.token);
    await ok(sock, 'room:join', { roomId: room.id });
    await ok(sock, 'moderation:ban', { roomId: room.id, userId: viewers[0].user.id });
    const roleChanged = next(sock, 'role:changed');
    await s.lectern.services.auth.setRole(admin.user.username, 'viewer');
    expect(await roleChanged).toEqual({ roomId: room.id, role: 'viewer' });
    const res = await send(sock, 'moderation:ban', { roomId: room.id, userId: viewers[1].user.id });
    expect(res.ok ? null : res.error.code).toBe('FORBIDDEN');
  });

  it('a deleted account’s open connection is closed', async () => {
    const gone = await s.api.register();
    const sock = await connect(s.url, gone.token);
    const closed = new Promise((resolve) => sock.once('disconnect', resolve));
    await s.lectern.database.db.deleteFrom('users').where('id', '=', gone.user.id).execute();
    expect(await closed).toBe('io server disconnect');
  });

  it('a connection ends when the token that opened it expires', async () => {
    const user = await s.api.register();
    // Expiry is in whole seconds (exp = the issuing second + ttl): a one-second token issued late in
    // its second could expire before the handshake. Two seconds leave at least one to connect.
    const shortLived = await new TokenService(TEST_JWT_SECRET, 2).issue(user.user);
    const sock = await connect(s.url, shortLived);
    const closed = new Promise((resolve) => sock.once('disconnect', resolve));
    expect(await closed).toBe('io server disconnect');
  });
});

describe('hostile traffic', () => {
  it('an oversized message closes only that connection', async () => {
    const victim = await connect(s.url);
    const attacker = await connect(s.url);
    const closed = new Promise((resolve) => attacker.on('disconnect', resolve));
    attacker.emit('chat:send', { roomId: 'x', text: 'x'.repeat(10_000) }, () => {});
    await closed;
    expect(victim.connected).toBe(true);
    expect((await send(victim, 'room:join', { roomId: 'nope' })).ok).toBe(false);
  });

  it('floods are refused with RATE_LIMITED per connection', async () => {
    const sock = await connect(s.url);
    const replies = await Promise.all(
      Array.from({ length: 40 }, () => send(sock, 'room:leave', { roomId: '00000000-0000-4000-8000-000000000000' })),
    );
    const limited = replies.filter((r) => !r.ok && r.error.code === 'RATE_LIMITED').length;
    expect(limited).toBeGreaterThanOrEqual(40 - 15);
    expect(replies.filter((r) => r.ok).length).toBeGreaterThan(0);
  });
});

describe('the event budget', () => {
  const burst = (sock: Awaited<ReturnType<typeof connect>>, n: number) =>
    Promise.all(
      Array.from({ length: n }, () => send(sock, 'room:leave', { roomId: '00000000-0000-4000-8000-000000000000' })),
    );

  it('is a user’s, shared by their connections: reconnecting does not refill it', async () => {
    const user = await s.api.register();
    const first = await connect(s.url, user.token);
    const spent = Date.now();
    const replies = await burst(first, 20); // SOCKET_EVENTS_PER_SECOND 5: a burst of 15
    expect(replies.filter((r) => r.ok).length).toBeLessThanOrEqual(16);
    first.close();
    const second = await connect(s.url, user.token);
    const again = await burst(second, 15);
    // What refilled since the first burst (5 a second), not a fresh 15.
    const refilled = Math.ceil(((Date.now() - spent) / 1000) * 5) + 1;
    const admitted = again.filter((r) => r.ok).length;
    expect(admitted).toBeLessThan(15);
    expect(admitted).toBeLessThanOrEqual(refilled);
  });
});

/** Random JSON-ish values, including the nasty ones. */
function randomValue(depth = 0): unknown {
  const pick = Math.floor(Math.random() * 14);
  switch (pick) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return Math.random() < 0.5 ? -1 : Number.MAX_SAFE_INTEGER * 2;
    case 3:
      return Math.random() * 1e6;
    case 4:
      return randomBytes(Math.floor(Math.random() * 40)).toString('base64');
    case 5:
      return '00000000-0000-4000-8000-000000000000';
    case 6:
      return Math.random() < 0.5;
    case 7:
      return 'x'.repeat(Math.floor(Math.random() * 3000));
    case 8:
      return '\u0000\u202e<script>';
    case 9:
      return depth > 3 ? 1 : Array.from({ length: Math.floor(Math.random() * 4) }, () => randomValue(depth + 1));
    case 10:
      return { __proto__: { admin: true }, constructor: { prototype: {} } };
    default: {
      if (depth > 3) return {};
      const keys = ['roomId', 'text', 'count', 'amount', 'idempotencyKey', 'userId', 'settings', 'creatorId', 'junk'];
      const obj: Record<string, unknown> = {};
      for (const k of keys) if (Math.random() < 0.5) obj[k] = randomValue(depth + 1);
      return obj;
    }
  }
}

/** What a field may be replaced with: every wrong type, and the right types at their worst. */
const nested = (levels: number): unknown => (levels === 0 ? 'bottom' : { a: [nested(levels - 1)] });
const BAD_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  1e21,
  Number.NaN, // NaN and ±Infinity travel as null in JSON; sent anyway
  Number.POSITIVE_INFINITY,
  '',
  '   ',
  'x'.repeat(100_000),
  '\u0000\u0007\u001b[2J\u202e',
  '00000000-0000-4000-8000-00000000000g',
  '../../etc/passwd',
  [],
  [1, 'a', null, {}],
  {},
  { nested: { deeper: [{ x: 1 }] } },
  JSON.parse('{"__proto__": {"admin": true}}'),
  nested(40),
];

type Payloads = { [E in keyof ClientToServerEvents]: Parameters<ClientToServerEvents[E]>[0] };

/** One valid payload per client event; the type makes the list complete. */
function validPayloads(ids: { roomId: string; userId: string; creatorId: string; contentId: string }): Payloads {
  const { roomId, userId, creatorId, contentId } = ids;
  const other = '00000000-0000-4000-8000-000000000000';
  return {
    'room:join': { roomId },
    'room:leave': { roomId },
    'chat:send': { roomId, text: 'hello' },
    'chat:delete': { roomId, messageId: other },
    'poll:create': { roomId, question: 'Which topic next?', options: ['Eigenvalues', 'SVD'], durationSeconds: 60 },
    'poll:vote': { roomId, pollId: other, option: 1 },
    'poll:close': { roomId, pollId: other },
    'like:send': { roomId, count: 3 },
    'tip:send': { roomId, amount: 10, message: 'thanks', idempotencyKey: 'fuzz-key-0001' },
    'purchase:create': { contentId, idempotencyKey: 'fuzz-key-0002' },
    'subscription:create': { creatorId, idempotencyKey: 'fuzz-key-0003' },
    'question:ask': { roomId, text: 'why?' },
    'question:upvote': { roomId, questionId: other },
    'question:answer': { roomId, questionId: other },
    'moderation:mute': { roomId, userId, seconds: 5, reason: 'calm down' },
    'moderation:unmute': { roomId, userId },
    'moderation:ban': { roomId, userId, reason: 'spam' },
    'moderation:unban': { roomId, userId },
    'moderation:settings': { roomId, settings: { slowModeSeconds: 0, subscribersOnlyChat: false, bannedWords: ['x'] } },
    'moderation:moderator': { roomId, userId, grant: false },
    'moderation:list': { roomId },
    'media:join': { roomId },
    'media:transport:create': { roomId, direction: 'recv' },
    'media:transport:connect': { roomId, transportId: other, dtlsParameters: { role: 'client', fingerprints: [] } },
    'media:transport:restart-ice': { roomId, transportId: other },
    'media:produce': { roomId, transportId: other, kind: 'video', rtpParameters: { codecs: [] }, source: 'camera' },
    'media:producer:pause': { roomId, producerId: other },
    'media:producer:resume': { roomId, producerId: other },
    'media:producer:close': { roomId, producerId: other },
    'media:consume': { roomId, transportId: other, producerId: other, rtpCapabilities: { codecs: [] } },
    'media:consumer:resume': { roomId, consumerId: other },
    'media:consumer:pause': { roomId, consumerId: other },
    'media:consumer:layers': { roomId, consumerId: other, spatialLayer: 1, temporalLayer: 0 },
    'media:leave': { roomId },
    'suggestion:click': { roomId, contentId },
    'suggestion:dismiss': { roomId, contentId },
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every payload that differs from a valid one in one place: each field (and each field of a
 * nested settings object) replaced by each bad value or left out, an extra field, and the
 * whole payload replaced by each bad value.
 */
function mutations(valid: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  const paths: string[][] = [];
  for (const [key, value] of Object.entries(valid)) {
    paths.push([key]);
    if (key === 'settings' && isPlainObject(value)) for (const sub of Object.keys(value)) paths.push([key, sub]);
  }
  const withValue = (path: string[], value: unknown, remove = false) => {
    const copy = structuredClone(valid);
    const parent = path.length === 1 ? copy : (copy[path[0]] as Record<string, unknown>);
    if (remove) delete parent[path.at(-1) as string];
    else parent[path.at(-1) as string] = value;
    return copy;
  };
  for (const path of paths) {
    for (const bad of BAD_VALUES) out.push(withValue(path, bad));
    out.push(withValue(path, undefined, true));
  }
  for (const bad of BAD_VALUES.slice(0, 6)) out.push({ ...valid, junk: bad });
  out.push(...BAD_VALUES);
  return out;
}

/** `{ok: true, data}` or `{ok: false, error: {code, message, details?}}` with a known code, nothing else. */
function wellFormed(res: unknown): boolean {
  if (!isPlainObject(res)) return false;
  const keys = Object.keys(res).sort().join();
  if (res.ok === true) return keys === 'data,ok';
  if (res.ok !== false || keys !== 'error,ok' || !isPlainObject(res.error)) return false;
  const { code, message, details } = res.error;
  const extra = Object.keys(res.error).filter((k) => !['code', 'message', 'details'].includes(k));
  return (
    isErrorCode(code) &&
    typeof message === 'string' &&
    extra.length === 0 &&
    (details === undefined || isPlainObject(details))
  );
}

it('survives thousands of mutated and random payloads at every event and keeps serving', async () => {
  const fuzz = await startTestServer({
    SOCKET_EVENTS_PER_SECOND: '10000',
    MAX_CONNECTIONS_PER_IP: '1000',
    SOCKET_MAX_PAYLOAD_BYTES: '1048576',
    CHAT_BURST: '100',
    CHAT_MESSAGES_PER_SECOND: '100',
  });
  try {
    const creator = await fuzz.api.register('creator');
    const room = await fuzz.api.room(creator.token);
    await fuzz.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const content = await fuzz.api.content(creator.token);
    const viewer = await fuzz.api.register();
    const bystander = await fuzz.api.register();
    await fuzz.api.topUp(viewer.token, 1000);
    const valid = validPayloads({
      roomId: room.id,
      userId: bystander.user.id,
      creatorId: creator.user.id,
      contentId: content.id,
    });
    // Every event the server handles is covered.
    expect(Object.keys(valid).sort()).toEqual(Object.keys(eventSchemas).sort());

    // Another room, elsewhere, must not notice.
    const other = await fuzz.api.room(creator.token);
    await fuzz.api.post(`/api/rooms/${other.id}/start`, {}, creator.token);
    const talker = await connect(fuzz.url, (await fuzz.api.register()).token);
    const listener = await connect(fuzz.url, (await fuzz.api.register()).token);
    await ok(talker, 'room:join', { roomId: other.id });
    await ok(listener, 'room:join', { roomId: other.id });
    const heard = record(listener, 'chat:message');

    const sockets = await Promise.all([viewer.token, creator.token, undefined].map((t) => connect(fuzz.url, t)));
    for (const sock of sockets) await ok(sock, 'room:join', { roomId: room.id });
    const work: [string, unknown, unknown[]][] = [];
    for (const [event, payload] of Object.entries(valid)) {
      for (const m of mutations(payload as Record<string, unknown>)) work.push([event, m, []]);
    }
    const events = [...Object.keys(valid), 'not:an:event'];
    for (let i = 0; i < 900; i++) {
      const event = events[Math.floor(Math.random() * events.length)];
      const extra = i % 20 === 0 ? [randomValue()] : []; // a second argument before the ack
      work.push([
        event,
        Math.random() < 0.7 ? randomValue() : { roomId: room.id, ...(randomValue() as object) },
        extra,
      ]);
    }
    expect(work.length).toBeGreaterThan(3000);

    const codes = new Map<string, number>();
    const malformed: unknown[] = [];
    let talked = 0;
    for (let i = 0; i < work.length; i += 60) {
      const batch = work.slice(i, i + 60);
      const replies = await Promise.all(
        batch.map(async ([event, payload, extra], j) => {
          const sock = sockets[(i + j) % sockets.length];
          if ((i + j) % 97 === 0) {
            (sock as any).emit(event, payload); // no ack: ignored
            return 'NO_ACK';
          }
          const res = await (sock.timeout(10_000) as any)
            .emitWithAck(event, payload, ...extra)
            .catch(() => ({ ok: false, error: { code: 'TIMEOUT' } }));
          if (!wellFormed(res)) malformed.push({ event, res });
          if (extra.length > 0 && res.ok) malformed.push({ event, extra, res });
          return res.ok ? 'ok' : res.error.code;
        }),
      );
      for (const c of replies) codes.set(c, (codes.get(c) ?? 0) + 1);
      // The other room carries on meanwhile.
      if (i % 600 === 0) await ok(talker, 'chat:send', { roomId: other.id, text: `still here ${talked++}` });
    }
    expect(malformed).toEqual([]);
    expect(codes.get('INTERNAL')).toBeUndefined();
    expect(codes.get('TIMEOUT')).toBeUndefined();
    for (const sock of sockets) expect(sock.connected).toBe(true);

    // Still serving, for everyone.
    expect((await fuzz.api.get('/healthz')).status).toBe(200);
    await eventually(() => heard.length === talked, 5000, 'the other room heard everything');
    // Some payloads were valid: a room:leave, settings (subscribers-only chat, say). Back to an open room.
    const settings = { slowModeSeconds: 0, subscribersOnlyChat: false, bannedWords: [] };
    await ok(sockets[1], 'room:join', { roomId: room.id });
    await ok(sockets[1], 'moderation:settings', { roomId: room.id, settings });
    const fresh = await connect(fuzz.url, (await fuzz.api.register()).token);
    await ok(fresh, 'room:join', { roomId: room.id });
    expect((await ok(fresh, 'chat:send', { roomId: room.id, text: 'all good?' })).message.text).toBe('all good?');
    const last = next(listener, 'chat:message', (m) => m.text === 'and here?');
    await ok(talker, 'chat:send', { roomId: other.id, text: 'and here?' });
    await last;
  } finally {
    await fuzz.close();
  }
}, 60_000);
