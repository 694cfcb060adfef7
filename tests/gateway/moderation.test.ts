import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, eventually, next, ok, refused, sleep } from '../helpers/socket';

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

  it('filters banned words as whole words, case-insensitively', async () => {
    const { room, viewers } = await setup({ bannedWords: ['spoiler'] });
    expect(await refused(viewers[0].sock, 'chat:send', { roomId: room.id, text: 'big SPOILER ahead' })).toBe(
      'INVALID_ARGUMENT',
    );
    await ok(viewers[0].sock, 'chat:send', { roomId: room.id, text: 'spoilers are words too' });
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
    await ok(o, 'moderation:ban', { roomId: room.id, userId: v.account.user.id });
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
});
