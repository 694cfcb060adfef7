// The built entry, as an application would import it (npm run build:sdk runs before the tests).
import { LecternClient, LecternError, type RoomsForYou } from '@lectern/client-sdk';
import { startTestServer, type TestServer } from '../../tests/helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

describe('LecternClient.roomsForYou', () => {
  it('asks GET /api/rooms/for-you as the client’s user, without connecting; refusals are LecternErrors', async () => {
    const creator = await s.api.register('creator');
    const room = await s.api.room(creator.token, { title: 'Live for the SDK' });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const viewer = await s.api.register();

    const client = new LecternClient({ url: `${s.url}/`, token: viewer.token });
    const answer: RoomsForYou = await client.roomsForYou({ limit: 5 });
    expect(client.connected).toBe(false);
    expect(answer.upcoming).toEqual([]);
    expect(answer.rooms[0]).toMatchObject({
      room: { id: room.id, title: 'Live for the SDK', creator: { userId: creator.user.id }, viewerCount: 0 },
      reason: { code: 'popular_now', text: 'Be one of the first to watch' },
    });
    // The page's room is left out.
    expect((await client.roomsForYou({ contextRoomId: room.id })).rooms).toEqual([]);
    // A guest too.
    expect((await new LecternClient({ url: s.url }).roomsForYou()).rooms.map((r) => r.room.id)).toEqual([room.id]);

    const refused = await client.roomsForYou({ limit: 500 }).catch((err) => err);
    expect(refused).toBeInstanceOf(LecternError);
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(refused.details.issues[0].path).toBe('limit');
    const badToken = await new LecternClient({ url: s.url, token: 'forged' }).roomsForYou().catch((err) => err);
    expect(badToken).toMatchObject({ name: 'LecternError', code: 'UNAUTHENTICATED' });
    const down = await new LecternClient({ url: 'http://127.0.0.1:9', requestTimeoutMs: 2000 })
      .roomsForYou()
      .catch((err) => err);
    expect(down).toMatchObject({ name: 'LecternError', code: 'UNAVAILABLE' });
  });
});
