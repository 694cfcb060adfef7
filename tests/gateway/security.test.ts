import { randomBytes } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok, send, sleep } from '../helpers/socket';

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
      const keys = [
        'roomId',
        'text',
        'count',
        'amount',
        'idempotencyKey',
        'userId',
        'seconds',
        'settings',
        'grant',
        'questionId',
        'messageId',
        'contentId',
        'message',
        'junk',
      ];
      const obj: Record<string, unknown> = {};
      for (const k of keys) if (Math.random() < 0.5) obj[k] = randomValue(depth + 1);
      return obj;
    }
  }
}

it('survives a few thousand random payloads at every event and keeps serving', async () => {
  const fuzz = await startTestServer({
    SOCKET_EVENTS_PER_SECOND: '10000',
    MAX_CONNECTIONS_PER_IP: '1000',
    SOCKET_MAX_PAYLOAD_BYTES: '1048576',
  });
  try {
    const creator = await fuzz.api.register('creator');
    const room = await fuzz.api.room(creator.token);
    await fuzz.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const viewer = await fuzz.api.register();
    await fuzz.api.topUp(viewer.token, 1000);
    const events = [
      'room:join',
      'room:leave',
      'chat:send',
      'chat:delete',
      'like:send',
      'tip:send',
      'purchase:create',
      'question:ask',
      'question:upvote',
      'question:answer',
      'moderation:mute',
      'moderation:unmute',
      'moderation:ban',
      'moderation:unban',
      'moderation:settings',
      'moderation:moderator',
      'not:an:event',
    ];
    const codes = new Map<string, number>();
    for (const token of [viewer.token, creator.token, undefined]) {
      const sock = await connect(fuzz.url, token);
      await ok(sock, 'room:join', { roomId: room.id });
      for (let batch = 0; batch < 20; batch++) {
        const replies = await Promise.all(
          Array.from({ length: 50 }, async () => {
            const event = events[Math.floor(Math.random() * events.length)];
            const payload = Math.random() < 0.7 ? randomValue() : { roomId: room.id, ...(randomValue() as object) };
            if (Math.random() < 0.05) {
              (sock as any).emit(event, payload); // no ack
              return 'NO_ACK';
            }
            const extra = Math.random() < 0.05 ? [randomValue()] : [];
            const res = await (sock.timeout(10_000) as any)
              .emitWithAck(event, payload, ...extra)
              .catch(() => ({ ok: false, error: { code: 'TIMEOUT' } }));
            return res.ok ? 'ok' : res.error.code;
          }),
        );
        for (const c of replies) codes.set(c, (codes.get(c) ?? 0) + 1);
      }
      expect(sock.connected).toBe(true);
    }
    const total = [...codes.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(3000);
    expect(codes.get('INTERNAL')).toBeUndefined();
    expect(codes.get('TIMEOUT')).toBeUndefined();
    // Still serving, for everyone.
    const health = await fuzz.api.get('/healthz');
    expect(health.status).toBe(200);
    const fresh = await connect(fuzz.url, (await fuzz.api.register()).token);
    await ok(fresh, 'room:join', { roomId: room.id });
    expect((await ok(fresh, 'chat:send', { roomId: room.id, text: 'all good?' })).message.text).toBe('all good?');
  } finally {
    await fuzz.close();
  }
});
