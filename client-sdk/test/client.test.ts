import { randomUUID } from 'node:crypto';
// The built entry, as an application would import it (npm run build:sdk runs before the tests).
import { LecternClient, LecternError } from '@lectern/client-sdk';
import { type Account, startTestServer, type TestServer } from '../../tests/helpers/server';
import { eventually } from '../../tests/helpers/socket';

let s: TestServer;
let owner: Account;
const clients: LecternClient[] = [];

beforeAll(async () => {
  s = await startTestServer({ LIKES_PER_SECOND: '1000', SOCKET_EVENTS_PER_SECOND: '1000' });
  owner = await s.api.register('creator');
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => s.close());

function client(token?: string, options: Partial<ConstructorParameters<typeof LecternClient>[0]> = {}) {
  const c = new LecternClient({ url: s.url, token, socketOptions: { transports: ['websocket'] }, ...options });
  clients.push(c);
  return c;
}

async function liveRoom(fields: Record<string, unknown> = {}) {
  const room = await s.api.room(owner.token, fields);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  return room;
}

const eventCount = async (event: string) => {
  const metric = await s.lectern.metrics.registry.getSingleMetric('lectern_socket_events_total')!.get();
  return metric.values.filter((v) => v.labels.event === event).reduce((n, v) => n + v.value, 0);
};

describe('LecternClient', () => {
  it('rejects a refused handshake with the server’s code', async () => {
    const c = client('forged.token.here');
    await expect(c.connect()).rejects.toMatchObject({ name: 'LecternError', code: 'UNAUTHENTICATED' });
  });

  it('joins, chats and receives typed events; refusals are LecternErrors', async () => {
    const room = await liveRoom();
    const alice = client((await s.api.register()).token);
    const bob = client((await s.api.register()).token);
    await Promise.all([alice.connect(), bob.connect()]);
    const err = await alice.sendChat(room.id, 'too early').catch((e) => e);
    expect(err).toBeInstanceOf(LecternError);
    expect(err.code).toBe('FORBIDDEN');
    await alice.joinRoom(room.id);
    await bob.joinRoom(room.id);
    const heard = new Promise((resolve) => bob.on('chat:message', resolve));
    const sent = await alice.sendChat(room.id, 'hello from the SDK');
    expect(await heard).toEqual(sent);
    expect(alice.joinedRooms()).toEqual([room.id]);
  });

  it('batches likes on the client: many taps, few messages', async () => {
    const room = await liveRoom();
    const c = client((await s.api.register()).token, { likeFlushMs: 100 });
    await c.connect();
    await c.joinRoom(room.id);
    const before = await eventCount('like:send');
    for (let i = 0; i < 250; i++) c.like(room.id);
    await eventually(
      async () =>
        (
          await s.lectern.database.db
            .selectFrom('rooms')
            .select('likes_total')
            .where('id', '=', room.id)
            .executeTakeFirstOrThrow()
        ).likes_total === 250,
      5000,
      'likes saved',
    );
    const sent = (await eventCount('like:send')) - before;
    expect(sent).toBeGreaterThanOrEqual(3); // 250 taps need at least three messages of ≤ 100
    expect(sent).toBeLessThanOrEqual(6);
  });

  it('retries a tip whose answer was lost with the same key, and charges once', async () => {
    const room = await liveRoom();
    const fan = await s.api.register();
    await s.api.topUp(fan.token, 1000);
    const c = client(fan.token, { requestTimeoutMs: 1500 });
    await c.connect();
    await c.joinRoom(room.id);
    const announced: string[] = [];
    c.on('tip:new', (t) => announced.push(t.id));
    const tip = c.tip(room.id, 250, { message: 'through a flaky network' });
    (c.socket.io as any).engine.close(); // the network drops right after sending
    const { tip: made, balance } = await tip;
    expect(balance).toBe(750);
    expect((await s.api.get('/api/wallet', fan.token)).body.balance).toBe(750);
    const tips = await s.lectern.database.db
      .selectFrom('tips')
      .select('id')
      .where('sender_id', '=', fan.user.id)
      .execute();
    expect(tips.map((t) => t.id)).toEqual([made.id]);
    // An explicit key makes a later call a replay, not a second tip.
    const key = randomUUID();
    const first = await c.tip(room.id, 100, { idempotencyKey: key });
    const again = await c.tip(room.id, 100, { idempotencyKey: key });
    expect(again.tip.id).toBe(first.tip.id);
    expect(again.balance).toBe(650);
    await eventually(() => announced.includes(first.tip.id));
    expect(announced.filter((id) => id === first.tip.id)).toHaveLength(1);
  });

  it('buys a ticket in the room and sees access upgrade', async () => {
    const room = await liveRoom({ access: 'ticket', ticketPrice: 400, previewSeconds: 300 });
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 400);
    const c = client(viewer.token);
    await c.connect();
    expect((await c.joinRoom(room.id)).access).toBe('preview');
    const upgraded = new Promise((resolve) => c.on('access:changed', resolve));
    const { purchase, balance } = await c.buyTicket(room.id);
    expect(purchase.kind).toBe('ticket');
    expect(balance).toBe(0);
    expect(await upgraded).toEqual({ roomId: room.id, access: 'full' });
    await expect(c.buyTicket(room.id)).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

describe('reconnection', () => {
  it('rejoins rooms after a reconnect the server did not recover', async () => {
    const forgetful = await startTestServer({ RECOVERY_WINDOW_SECONDS: '0' });
    try {
      const creator = await forgetful.api.register('creator');
      const room = await forgetful.api.room(creator.token);
      const c = new LecternClient({
        url: forgetful.url,
        token: (await forgetful.api.register()).token,
        socketOptions: { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 100 },
      });
      clients.push(c);
      await c.connect();
      await c.joinRoom(room.id);
      const rejoined = new Promise<{ room: { id: string } }>((resolve) => c.on('rejoined', resolve));
      const reconnected = new Promise<{ recovered: boolean }>((resolve) => {
        const off = c.on('connected', (p) => {
          off();
          resolve(p);
        });
      });
      (c.socket.io as any).engine.close();
      expect((await reconnected).recovered).toBe(false);
      expect((await rejoined).room.id).toBe(room.id);
      expect((await c.sendChat(room.id, 'I am back')).text).toBe('I am back');
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await forgetful.close();
    }
  });

  it('does not rejoin when the server recovered the session', async () => {
    const room = await liveRoom();
    const c = client((await s.api.register()).token, {
      socketOptions: { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 100 },
    });
    await c.connect();
    await c.joinRoom(room.id);
    // Recovery resumes from the last broadcast the client received: make sure there is one.
    const heard = new Promise((resolve) => c.on('chat:message', resolve));
    await c.sendChat(room.id, 'before the drop');
    await heard;
    let rejoins = 0;
    c.on('rejoined', () => rejoins++);
    const reconnected = new Promise<{ recovered: boolean }>((resolve) => {
      const off = c.on('connected', (p) => {
        off();
        resolve(p);
      });
    });
    (c.socket.io as any).engine.close();
    expect((await reconnected).recovered).toBe(true);
    expect((await c.sendChat(room.id, 'never left')).text).toBe('never left');
    expect(rejoins).toBe(0);
  });
});
