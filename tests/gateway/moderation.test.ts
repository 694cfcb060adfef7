import { type Account, startTestServer, type TestServer } from '../helpers/server';
import {
  type ClientSocket,
  closeAllSockets,
  connect,
  eventually,
  next,
  ok,
  refused,
  send,
  sleep,
} from '../helpers/socket';

let s: TestServer;
let owner: Account;
beforeAll(async () => {
  s = await startTestServer({ CHAT_BURST: '3', CHAT_MESSAGES_PER_SECOND: '1' });
  owner = await s.api.register('creator');
});
afterEach(closeAllSockets);
afterAll(() => s.close());

async function setup(settings: Record<string, unknown> = {}) {
  const room = await s.api.room(owner.token, { settings });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const o = await connect(s.url, owner.token);
  await ok(o, 'room:join', { roomId: room.id });
  const viewers: { account: Account; sock: ClientSocket }[] = [];
  for (let i = 0; i < 2; i++) {
    const account = await s.api.register();
    const sock = await connect(s.url, account.token);
    await ok(sock, 'room:join', { roomId: room.id });
    viewers.push({ account, sock });
  }
  return { room, o, viewers };
}

describe('chat rules', () => {
  it('rate-limits each user with a token bucket', async () => {
    const { room, viewers } = await setup();
    const [v] = viewers;
    for (let i = 0; i < 3; i++) await ok(v.sock, 'chat:send', { roomId: room.id, text: `m${i}` });
    const res = await (v.sock.timeout(5000) as any).emitWithAck('chat:send', { roomId: room.id, text: 'one too many' });
    expect(res.error.code).toBe('RATE_LIMITED');
    expect(res.error.details.retryAfterMs).toBeGreaterThan(0);
  });

  it('slow mode spaces a viewer’s messages but not the owner’s', async () => {
    const { room, o, viewers } = await setup({ slowModeSeconds: 30 });
    const [v] = viewers;
    await ok(v.sock, 'chat:send', { roomId: room.id, text: 'first' });
    const res = await (v.sock.timeout(5000) as any).emitWithAck('chat:send', { roomId: room.id, text: 'second' });
    expect(res.error.code).toBe('SLOW_MODE');
    expect(res.error.details.retryAfterMs).toBeGreaterThan(25_000);
    await ok(o, 'chat:send', { roomId: room.id, text: 'owner 1' });
    await ok(o, 'chat:send', { roomId: room.id, text: 'owner 2' });
  });

  it('slow mode holds under concurrent sends: one of a burst gets through', async () => {
    const { room, viewers } = await setup({ slowModeSeconds: 30 });
    const [v] = viewers;
    const replies = await Promise.all(
      [1, 2, 3].map((i) => send(v.sock, 'chat:send', { roomId: room.id, text: `at once ${i}` })),
    );
    expect(replies.filter((r) => r.ok)).toHaveLength(1);
    expect(replies.filter((r) => !r.ok && r.error.code === 'SLOW_MODE')).toHaveLength(2);
    const saved = await s.lectern.database.db
      .selectFrom('chat_messages')
      .select('text')
      .where('room_id', '=', room.id)
      .execute();
    expect(saved).toHaveLength(1);
  });

  it('filters banned words as whole words, case-insensitively', async () => {
    const { room, viewers } = await setup({ bannedWords: ['spoiler'] });
    expect(await refused(viewers[0].sock, 'chat:send', { roomId: room.id, text: 'big SPOILER ahead' })).toBe(
      'INVALID_ARGUMENT',
    );
    await ok(viewers[0].sock, 'chat:send', { roomId: room.id, text: 'spoilers are words too' });
  });

  it('the word filter sees through look-alike forms and invisible characters, in chat, questions and tips', async () => {
    const { room, viewers } = await setup({ bannedWords: ['spoiler'] });
    const [v] = viewers;
    for (const text of ['ｓｐｏｉｌｅｒ', 'spo\u200biler', 'spoi\u00adler']) {
      const res = await send(v.sock, 'chat:send', { roomId: room.id, text });
      expect(res).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', details: { reason: 'banned_word' } } });
    }
    const asked = await send(v.sock, 'question:ask', { roomId: room.id, text: 'is there a s\u200dpoiler?' });
    expect(asked).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', details: { reason: 'banned_word' } } });
    await s.api.topUp(v.account.token, 100);
    const tipped = await send(v.sock, 'tip:send', {
      roomId: room.id,
      amount: 50,
      message: 'SPOILER\u2060',
      idempotencyKey: `tip-${room.id}`,
    });
    expect(tipped).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', details: { reason: 'banned_word' } },
    });
  });

  it('tip messages and moderation reasons refuse control characters like chat does', async () => {
    const { room, o, viewers } = await setup();
    const [v, w] = viewers;
    await s.api.topUp(v.account.token, 100);
    expect(
      await refused(v.sock, 'tip:send', {
        roomId: room.id,
        amount: 50,
        message: 'ring\u0007ring',
        idempotencyKey: `tip-${room.id}`,
      }),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await refused(o, 'moderation:mute', {
        roomId: room.id,
        userId: w.account.user.id,
        seconds: 5,
        reason: 'x\u001b[2J',
      }),
    ).toBe('INVALID_ARGUMENT');
    await ok(o, 'moderation:mute', {
      roomId: room.id,
      userId: w.account.user.id,
      seconds: 5,
      reason: 'line one\nline two',
    });
  });

  it('subscribers-only chat admits subscribers and staff only', async () => {
    const { room, o, viewers } = await setup();
    await ok(o, 'moderation:settings', { roomId: room.id, settings: { subscribersOnlyChat: true } });
    expect(await refused(viewers[0].sock, 'chat:send', { roomId: room.id, text: 'hi' })).toBe('FORBIDDEN');
    await ok(o, 'chat:send', { roomId: room.id, text: 'staff may' });
    await s.api.request('PATCH', '/api/creators/me', { token: owner.token, body: { subscriptionPrice: 300 } });
    await s.api.topUp(viewers[0].account.token, 1000);
    const sub = await s.api.post(
      '/api/subscriptions',
      { creatorId: owner.user.id },
      viewers[0].account.token,
      `sub-${room.id}`,
    );
    expect(sub.status).toBe(201);
    await ok(viewers[0].sock, 'chat:send', { roomId: room.id, text: 'now I may' });
    expect(await refused(viewers[1].sock, 'chat:send', { roomId: room.id, text: 'me too?' })).toBe('FORBIDDEN');
  });
});

describe('moderation', () => {
  it('mutes for a while: MUTED with the end time, the target is told, and it expires', async () => {
    const { room, o, viewers } = await setup();
    const [v] = viewers;
    const told = next(v.sock, 'moderation:applied');
    const { until } = await ok(o, 'moderation:mute', {
      roomId: room.id,
      userId: v.account.user.id,
      seconds: 1,
      reason: 'calm down',
    });
    expect(await told).toMatchObject({ roomId: room.id, action: 'mute', until, reason: 'calm down' });
    const res = await (v.sock.timeout(5000) as any).emitWithAck('chat:send', { roomId: room.id, text: 'hey' });
    expect(res.error).toMatchObject({ code: 'MUTED', details: { until } });
    await sleep(Date.parse(until) - Date.now() + 50);
    await ok(v.sock, 'chat:send', { roomId: room.id, text: 'back' });
  });

  it('bans: the target is removed from the room, cannot rejoin until unbanned', async () => {
    const { room, o, viewers } = await setup();
    const [v, other] = viewers;
    const removed = next(v.sock, 'room:left');
    await ok(o, 'moderation:ban', { roomId: room.id, userId: v.account.user.id });
    expect(await removed).toEqual({ roomId: room.id, reason: 'banned' });
    await eventually(
      async () =>
        (await (v.sock.timeout(5000) as any).emitWithAck('chat:send', { roomId: room.id, text: 'x' })).error?.code ===
        'FORBIDDEN',
    );
    expect(await refused(v.sock, 'room:join', { roomId: room.id })).toBe('BANNED');
    await ok(other.sock, 'chat:send', { roomId: room.id, text: 'still here' });
    await ok(o, 'moderation:unban', { roomId: room.id, userId: v.account.user.id });
    await ok(v.sock, 'room:join', { roomId: room.id });
    const actions = await s.lectern.database.db
      .selectFrom('moderation_actions')
      .select('action')
      .where('room_id', '=', room.id)
      .orderBy('created_at')
      .execute();
    expect(actions.map((a) => a.action)).toEqual(['ban', 'unban']);
  });

  it('only the owner and moderators moderate; only the owner appoints; nobody moderates the owner', async () => {
    const { room, o, viewers } = await setup();
    const [v, w] = viewers;
    expect(await refused(v.sock, 'moderation:mute', { roomId: room.id, userId: w.account.user.id, seconds: 60 })).toBe(
      'FORBIDDEN',
    );
    expect(await refused(v.sock, 'moderation:settings', { roomId: room.id, settings: { slowModeSeconds: 5 } })).toBe(
      'FORBIDDEN',
    );
    expect(
      await refused(v.sock, 'moderation:moderator', { roomId: room.id, userId: v.account.user.id, grant: true }),
    ).toBe('FORBIDDEN');
    await ok(o, 'moderation:moderator', { roomId: room.id, userId: v.account.user.id, grant: true });
    await eventually(
      async () =>
        (
          await (v.sock.timeout(5000) as any).emitWithAck('moderation:mute', {
            roomId: room.id,
            userId: w.account.user.id,
            seconds: 60,
          })
        ).ok === true,
    );
    expect(await refused(v.sock, 'moderation:ban', { roomId: room.id, userId: owner.user.id })).toBe('FORBIDDEN');
    expect(await refused(v.sock, 'moderation:mute', { roomId: room.id, userId: v.account.user.id, seconds: 5 })).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await refused(v.sock, 'moderation:moderator', { roomId: room.id, userId: w.account.user.id, grant: true }),
    ).toBe('FORBIDDEN');
    expect(
      await refused(o, 'moderation:mute', {
        roomId: room.id,
        userId: '00000000-0000-4000-8000-000000000000',
        seconds: 5,
      }),
    ).toBe('NOT_FOUND');
    const changed = next(w.sock, 'room:settings');
    await ok(v.sock, 'moderation:settings', { roomId: room.id, settings: { slowModeSeconds: 10 } });
    expect((await changed).settings.slowModeSeconds).toBe(10);
    expect(await refused(o, 'moderation:settings', { roomId: room.id, settings: { slowModeSeconds: -1 } })).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('an unknown user is NOT_FOUND whether a timeout or ban is imposed or lifted', async () => {
    const { room, o } = await setup();
    const userId = '00000000-0000-4000-8000-000000000000';
    expect(await refused(o, 'moderation:mute', { roomId: room.id, userId, seconds: 60 })).toBe('NOT_FOUND');
    expect(await refused(o, 'moderation:unmute', { roomId: room.id, userId })).toBe('NOT_FOUND');
    expect(await refused(o, 'moderation:ban', { roomId: room.id, userId })).toBe('NOT_FOUND');
    expect(await refused(o, 'moderation:unban', { roomId: room.id, userId })).toBe('NOT_FOUND');
  });

  it('concurrent settings changes all stick, each audited', async () => {
    const { room, o, viewers } = await setup();
    const mod = viewers[0];
    await ok(o, 'moderation:moderator', { roomId: room.id, userId: mod.account.user.id, grant: true });
    const patches = [{ slowModeSeconds: 7 }, { bannedWords: ['Foo', 'foo', 'bar'] }, { subscribersOnlyChat: true }];
    // Each change touches another field; none may be lost to a concurrent one.
    await Promise.all(
      patches.map((settings, i) => ok(i % 2 ? mod.sock : o, 'moderation:settings', { roomId: room.id, settings })),
    );
    const { room: stored } = (await s.api.get(`/api/rooms/${room.id}`)).body;
    expect(stored.settings).toEqual({ slowModeSeconds: 7, bannedWords: ['foo', 'bar'], subscribersOnlyChat: true });
    const audited = await s.lectern.database.db
      .selectFrom('moderation_actions')
      .select(['detail', 'actor_id'])
      .where('room_id', '=', room.id)
      .where('action', '=', 'settings')
      .execute();
    expect(audited).toHaveLength(3);
    expect(audited.map((a) => a.detail)).toContainEqual({ bannedWords: ['foo', 'bar'] });
  });
});
