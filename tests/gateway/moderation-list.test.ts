import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, next, ok, refused, sleep } from '../helpers/socket';

/**
 * What a moderation panel needs beyond the actions themselves: the list of what can be undone
 * (`moderation:list`, kept current by `moderation:updated`), a new moderator told of their role
 * (`role:changed`), and a viewer who joins while timed out told until when (`mutedUntil`).
 */

let s: TestServer;
let owner: Account;
beforeAll(async () => {
  s = await startTestServer();
  owner = await s.api.register('creator');
});
afterEach(closeAllSockets);
afterAll(() => s.close());

async function setup(viewerCount = 3) {
  const room = await s.api.room(owner.token);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const o = await connect(s.url, owner.token);
  await ok(o, 'room:join', { roomId: room.id });
  const viewers: { account: Account; sock: ClientSocket }[] = [];
  for (let i = 0; i < viewerCount; i++) {
    const account = await s.api.register();
    const sock = await connect(s.url, account.token);
    await ok(sock, 'room:join', { roomId: room.id });
    viewers.push({ account, sock });
  }
  return { roomId: room.id, o, viewers };
}

describe('moderation:list', () => {
  it('lists bans, running timeouts and moderators with their names, most recent first', async () => {
    const { roomId, o, viewers } = await setup(4);
    const [a, b, c, d] = viewers;
    expect(await ok(o, 'moderation:list', { roomId })).toEqual({ bans: [], mutes: [], moderators: [] });

    await ok(o, 'moderation:ban', { roomId, userId: a.account.user.id });
    await ok(o, 'moderation:ban', { roomId, userId: b.account.user.id, reason: 'spam' });
    const { until } = await ok(o, 'moderation:mute', { roomId, userId: c.account.user.id, seconds: 600 });
    await ok(o, 'moderation:moderator', { roomId, userId: d.account.user.id, grant: true });

    expect(await ok(o, 'moderation:list', { roomId })).toEqual({
      bans: [
        { userId: b.account.user.id, username: b.account.user.username, until: null },
        { userId: a.account.user.id, username: a.account.user.username, until: null },
      ],
      mutes: [{ userId: c.account.user.id, username: c.account.user.username, until }],
      moderators: [{ userId: d.account.user.id, username: d.account.user.username }],
    });

    // Lifted restrictions and revoked moderators leave the list.
    await ok(o, 'moderation:unban', { roomId, userId: a.account.user.id });
    await ok(o, 'moderation:unmute', { roomId, userId: c.account.user.id });
    await ok(o, 'moderation:moderator', { roomId, userId: d.account.user.id, grant: false });
    expect(await ok(o, 'moderation:list', { roomId })).toEqual({
      bans: [{ userId: b.account.user.id, username: b.account.user.username, until: null }],
      mutes: [],
      moderators: [],
    });
  });

  it('leaves out timeouts that have run out', async () => {
    const { roomId, o, viewers } = await setup(1);
    const { until } = await ok(o, 'moderation:mute', { roomId, userId: viewers[0].account.user.id, seconds: 1 });
    expect((await ok(o, 'moderation:list', { roomId })).mutes).toHaveLength(1);
    await sleep(Date.parse(until) - Date.now() + 50);
    expect((await ok(o, 'moderation:list', { roomId })).mutes).toEqual([]);
  });

  it('is for the owner and moderators only, once in the room', async () => {
    const { roomId, o, viewers } = await setup(2);
    const [v, mod] = viewers;
    expect(await refused(v.sock, 'moderation:list', { roomId })).toBe('FORBIDDEN');
    const guest = await connect(s.url);
    await ok(guest, 'room:join', { roomId });
    expect(await refused(guest, 'moderation:list', { roomId })).toBe('UNAUTHENTICATED');
    await ok(o, 'moderation:moderator', { roomId, userId: mod.account.user.id, grant: true });
    expect((await ok(mod.sock, 'moderation:list', { roomId })).moderators).toHaveLength(1);
    // Not a member: join first, even as the owner.
    const elsewhere = await connect(s.url, owner.token);
    expect(await refused(elsewhere, 'moderation:list', { roomId })).toBe('FORBIDDEN');
    expect(await refused(o, 'moderation:list', { roomId: '00000000-0000-4000-8000-000000000000' })).toBe('FORBIDDEN');
  });
});

describe('keeping the staff and the target informed', () => {
  it('every change reaches the owner and moderators as moderation:updated, not viewers', async () => {
    const { roomId, o, viewers } = await setup(3);
    const [mod, v, bystander] = viewers;
    await ok(o, 'moderation:moderator', { roomId, userId: mod.account.user.id, grant: true });

    let viewerHeard = 0;
    bystander.sock.on('moderation:updated', () => viewerHeard++);
    v.sock.on('moderation:updated', () => viewerHeard++);

    // A moderator bans: the owner's list shows it without asking.
    const ownerSees = next(o, 'moderation:updated', (p) => p.bans.length === 1);
    const modSees = next(mod.sock, 'moderation:updated', (p) => p.bans.length === 1);
    await ok(mod.sock, 'moderation:ban', { roomId, userId: v.account.user.id });
    const pushed = await ownerSees;
    expect(pushed).toMatchObject({
      roomId,
      bans: [{ userId: v.account.user.id, username: v.account.user.username, until: null }],
      moderators: [{ userId: mod.account.user.id }],
    });
    expect((await modSees).bans).toHaveLength(1);

    const unbanned = next(o, 'moderation:updated', (p) => p.bans.length === 0);
    await ok(o, 'moderation:unban', { roomId, userId: v.account.user.id });
    await unbanned;

    const muted = next(o, 'moderation:updated', (p) => p.mutes.length === 1);
    await ok(mod.sock, 'moderation:mute', { roomId, userId: bystander.account.user.id, seconds: 300 });
    expect((await muted).mutes[0]).toMatchObject({ userId: bystander.account.user.id, until: expect.any(String) });

    // The revoked moderator hears no more.
    const revoked = next(o, 'moderation:updated', (p) => p.moderators.length === 0);
    await ok(o, 'moderation:moderator', { roomId, userId: mod.account.user.id, grant: false });
    await revoked;
    let formerHeard = 0;
    mod.sock.on('moderation:updated', () => formerHeard++);
    const last = next(o, 'moderation:updated', (p) => p.mutes.length === 0);
    await ok(o, 'moderation:unmute', { roomId, userId: bystander.account.user.id });
    await last;
    await sleep(200);
    expect(formerHeard).toBe(0);
    expect(viewerHeard).toBe(0);
  });

  it('a user made a moderator hears role:changed, gets full access and can moderate at once', async () => {
    const room = await s.api.room(owner.token, { access: 'ticket', ticketPrice: 500, previewSeconds: 0 });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const roomId = room.id;
    const o = await connect(s.url, owner.token);
    await ok(o, 'room:join', { roomId });
    const helper = await s.api.register();
    const h = await connect(s.url, helper.token);
    expect((await ok(h, 'room:join', { roomId })).access).toBe('none');
    const target = await s.api.register();

    const role = next(h, 'role:changed');
    const access = next(h, 'access:changed');
    await ok(o, 'moderation:moderator', { roomId, userId: helper.user.id, grant: true });
    expect(await role).toEqual({ roomId, role: 'moderator' });
    expect((await access).access).toBe('full');
    expect((await ok(h, 'room:join', { roomId })).role).toBe('moderator');
    await ok(h, 'moderation:ban', { roomId, userId: target.user.id });

    const demoted = next(h, 'role:changed');
    await ok(o, 'moderation:moderator', { roomId, userId: helper.user.id, grant: false });
    expect(await demoted).toEqual({ roomId, role: 'viewer' });
    expect(await refused(h, 'moderation:list', { roomId })).toBe('FORBIDDEN');
    expect(
      await refused(o, 'moderation:moderator', { roomId, userId: '00000000-0000-4000-8000-000000000000', grant: true }),
    ).toBe('NOT_FOUND');
  });

  it('a viewer who joins while timed out learns until when; after it, nothing', async () => {
    const { roomId, o, viewers } = await setup(1);
    const [v] = viewers;
    const { until } = await ok(o, 'moderation:mute', { roomId, userId: v.account.user.id, seconds: 2 });
    const again = await connect(s.url, v.account.token);
    expect((await ok(again, 'room:join', { roomId })).mutedUntil).toBe(until);
    expect((await ok(o, 'room:join', { roomId })).mutedUntil).toBeUndefined();
    await sleep(Date.parse(until) - Date.now() + 50);
    expect((await ok(again, 'room:join', { roomId })).mutedUntil).toBeUndefined();
  });
});
