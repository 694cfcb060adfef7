import { randomUUID } from 'node:crypto';
import { ENGAGEMENT_STREAM } from '../server/events';
import { type Account, startTestServer, type TestServer } from './helpers/server';

/**
 * Following creators over HTTP: `PUT`/`DELETE /api/creators/:id/follow` (idempotent), the list
 * `GET /api/me/follows`, the count on the creator's profile, and the engagement events each real
 * change records; bad ids, non-creators, oneself and guests are refused with their codes.
 */

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

const follow = (token: string | undefined, creatorId: string) =>
  s.api.request('PUT', `/api/creators/${creatorId}/follow`, { token });
const unfollow = (token: string | undefined, creatorId: string) =>
  s.api.request('DELETE', `/api/creators/${creatorId}/follow`, { token });

async function events(type: string, userId: string) {
  await s.lectern.engagement.publisher.flush();
  return (await s.lectern.engagement.log.range(ENGAGEMENT_STREAM))
    .flatMap((e) => (e.event ? [e.event] : []))
    .filter((e) => e.type === type && e.userId === userId);
}

describe('follows', () => {
  let creator: Account;
  let viewer: Account;
  beforeAll(async () => {
    creator = await s.api.register('creator');
    viewer = await s.api.register();
  });

  it('follows idempotently, counts followers on the profile and records one event per change', async () => {
    const other = await s.api.register();
    const profile0 = await s.api.get(`/api/creators/${creator.user.id}`, viewer.token);
    expect(profile0.status).toBe(200);
    expect(profile0.body).toMatchObject({ profile: { followers: 0 }, following: false });

    for (let i = 0; i < 2; i++) {
      const res = await follow(viewer.token, creator.user.id);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ following: true, followers: 1 });
    }
    expect((await follow(other.token, creator.user.id)).body).toEqual({ following: true, followers: 2 });

    const mine = await s.api.get(`/api/creators/${creator.user.id}`, viewer.token);
    expect(mine.body).toMatchObject({ profile: { userId: creator.user.id, followers: 2 }, following: true });
    expect(mine.headers.get('cache-control')).toBe('private, no-store');
    // A guest sees the count, and follows nobody.
    expect((await s.api.get(`/api/creators/${creator.user.id}`)).body).toMatchObject({
      profile: { followers: 2 },
      following: false,
    });

    for (let i = 0; i < 2; i++) {
      const res = await unfollow(viewer.token, creator.user.id);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ following: false, followers: 1 });
    }
    expect((await s.api.get(`/api/creators/${creator.user.id}`, viewer.token)).body).toMatchObject({
      profile: { followers: 1 },
      following: false,
    });

    const followed = await events('creator.followed', viewer.user.id);
    const unfollowed = await events('creator.unfollowed', viewer.user.id);
    expect(followed).toHaveLength(1);
    expect(unfollowed).toHaveLength(1);
    expect(followed[0]).toMatchObject({ userId: viewer.user.id, creatorId: creator.user.id, data: {} });
  });

  it('lists the creators I follow, the latest first, paginated, with the room they are live in', async () => {
    const fan = await s.api.register();
    const creators = [];
    for (const name of ['First', 'Second', 'Third']) {
      const c = await s.api.register('creator');
      expect(
        (await s.api.request('PATCH', '/api/creators/me', { token: c.token, body: { displayName: name } })).status,
      ).toBe(200);
      expect((await follow(fan.token, c.user.id)).status).toBe(200);
      creators.push(c);
    }
    const room = await s.api.room(creators[1].token, { title: 'On air' });
    expect((await s.api.post(`/api/rooms/${room.id}/start`, {}, creators[1].token)).status).toBe(200);

    const all = await s.api.get('/api/me/follows', fan.token);
    expect(all.status).toBe(200);
    expect(all.headers.get('cache-control')).toBe('private, no-store');
    expect(all.body.follows.map((f: any) => f.creator.displayName)).toEqual(['Third', 'Second', 'First']);
    expect(all.body.follows[1]).toEqual({
      creator: { userId: creators[1].user.id, displayName: 'Second', avatarUrl: null },
      followedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      liveRoomId: room.id,
    });
    expect(all.body.follows[0].liveRoomId).toBeNull();

    const page = await s.api.get('/api/me/follows?limit=1&offset=1', fan.token);
    expect(page.body.follows.map((f: any) => f.creator.userId)).toEqual([creators[1].user.id]);
    expect((await s.api.get('/api/me/follows', (await s.api.register()).token)).body).toEqual({ follows: [] });
  });

  it('refuses guests, bad ids, non-creators, unknown users, oneself and anything extra', async () => {
    const expectError = (res: { status: number; body: any }, status: number, code: string) => {
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
    };
    expectError(await follow(undefined, creator.user.id), 401, 'UNAUTHENTICATED');
    expectError(await unfollow(undefined, creator.user.id), 401, 'UNAUTHENTICATED');
    expectError(await s.api.get('/api/me/follows'), 401, 'UNAUTHENTICATED');

    expectError(await follow(viewer.token, 'not-a-uuid'), 400, 'INVALID_ARGUMENT');
    expectError(await unfollow(viewer.token, 'not-a-uuid'), 400, 'INVALID_ARGUMENT');
    expectError(await follow(viewer.token, randomUUID()), 404, 'NOT_FOUND');
    expectError(await unfollow(viewer.token, randomUUID()), 404, 'NOT_FOUND');
    // A viewer is not a creator: nobody follows them.
    expectError(await follow(creator.token, viewer.user.id), 404, 'NOT_FOUND');
    expectError(await unfollow(creator.token, viewer.user.id), 404, 'NOT_FOUND');
    expectError(await follow(creator.token, creator.user.id), 400, 'INVALID_ARGUMENT');

    expectError(
      await s.api.request('PUT', `/api/creators/${creator.user.id}/follow`, { token: viewer.token, body: { x: 1 } }),
      400,
      'INVALID_ARGUMENT',
    );
    expectError(
      await s.api.request('PUT', `/api/creators/${creator.user.id}/follow?x=1`, { token: viewer.token }),
      400,
      'INVALID_ARGUMENT',
    );
    for (const q of ['limit=0', 'limit=101', 'offset=-1', 'limit=abc', 'page=2']) {
      expectError(await s.api.get(`/api/me/follows?${q}`, viewer.token), 400, 'INVALID_ARGUMENT');
    }
    // Nothing was followed by the refusals.
    expect((await s.api.get('/api/me/follows', creator.token)).body.follows).toEqual([]);
  });

  it('a deleted account takes its follows with it', async () => {
    const gone = await s.api.register('creator');
    const fan = await s.api.register();
    expect((await follow(fan.token, gone.user.id)).status).toBe(200);
    await s.lectern.database.db.deleteFrom('creator_profiles').where('user_id', '=', gone.user.id).execute();
    await s.lectern.database.db.deleteFrom('users').where('id', '=', gone.user.id).execute();
    expect((await s.api.get('/api/me/follows', fan.token)).body.follows).toEqual([]);
  });
});
