// The built entry, as an application would import it (npm run build:sdk runs before the tests).
import { type FollowState, LecternClient, LecternError } from '@lectern/client-sdk';
import { startTestServer, type TestServer } from '../../tests/helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

describe('LecternClient.follow / unfollow / follows', () => {
  it('follows and unfollows a creator over HTTP, idempotently, and lists the follows; refusals are LecternErrors', async () => {
    const creator = await s.api.register('creator');
    const viewer = await s.api.register();
    const client = new LecternClient({ url: s.url, token: viewer.token });

    const followed: FollowState = await client.follow(creator.user.id);
    expect(followed).toEqual({ following: true, followers: 1 });
    expect(await client.follow(creator.user.id)).toEqual({ following: true, followers: 1 });
    expect(client.connected).toBe(false);
    const list = await client.follows();
    expect(list).toEqual([
      {
        creator: { userId: creator.user.id, displayName: expect.any(String), avatarUrl: null },
        followedAt: expect.any(String),
        liveRoomId: null,
      },
    ]);
    expect(await client.follows({ offset: 1 })).toEqual([]);
    expect(await client.unfollow(creator.user.id)).toEqual({ following: false, followers: 0 });
    expect(await client.unfollow(creator.user.id)).toEqual({ following: false, followers: 0 });
    expect(await client.follows({ limit: 10 })).toEqual([]);

    const guest = await new LecternClient({ url: s.url }).follow(creator.user.id).catch((err) => err);
    expect(guest).toBeInstanceOf(LecternError);
    expect(guest).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await client.follow(viewer.user.id).catch((err) => err)).toMatchObject({ code: 'NOT_FOUND' });
    expect(await client.follow('nope').catch((err) => err)).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await client.follows({ limit: 500 }).catch((err) => err)).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
