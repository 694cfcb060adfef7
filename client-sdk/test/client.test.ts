import { randomUUID } from 'node:crypto';
// The built entry, as an application would import it (npm run build:sdk runs before the tests).
import { LecternClient, LecternError } from '@lectern/client-sdk';
import { sql } from 'kysely';
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

  it('retries a tip whose answer is late with the same key: the server sees both, stores one', async () => {
    const room = await liveRoom();
    const fan = await s.api.register();
    await s.api.topUp(fan.token, 1000);
    const c = client(fan.token, { requestTimeoutMs: 1500 });
    await c.connect();
    await c.joinRoom(room.id);
    const announced: string[] = [];
    c.on('tip:new', (t) => announced.push(t.id));
    const sent: { idempotencyKey: string }[] = [];
    c.socket.onAnyOutgoing((event, payload) => {
      if (event === 'tip:send') sent.push(payload);
    });
    // Hold the fan's wallet: the first tip reaches the server and waits there, unanswered.
    const db = s.lectern.database.db;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = db.transaction().execute(async (trx) => {
      await sql`SELECT id FROM accounts WHERE owner_id = ${fan.user.id} AND kind = 'wallet' FOR UPDATE`.execute(trx);
      locked();
      await held;
    });
    await lockTaken;
    const handledBefore = await eventCount('tip:send');
    const tip = c.tip(room.id, 250, { message: 'through a slow network' });
    // The SDK gives up on the first answer and sends the same request again.
    await eventually(() => sent.length === 2, 10_000, 'a retry');
    release();
    await holder;
    const { tip: made, balance } = await tip;
    expect(sent[1]).toEqual(sent[0]);
    await eventually(async () => (await eventCount('tip:send')) - handledBefore === 2, 5000, 'both handled');
    expect(balance).toBe(750);
    expect((await s.api.get('/api/wallet', fan.token)).body.balance).toBe(750);
    const tips = await db.selectFrom('tips').select('id').where('sender_id', '=', fan.user.id).execute();
    expect(tips.map((t) => t.id)).toEqual([made.id]);
    await eventually(() => announced.includes(made.id));
    // An explicit key makes a later call a replay, not a second tip.
    const key = randomUUID();
    const first = await c.tip(room.id, 100, { idempotencyKey: key });
    const again = await c.tip(room.id, 100, { idempotencyKey: key });
    expect(again.tip.id).toBe(first.tip.id);
    expect(again.balance).toBe(650);
    await eventually(() => announced.includes(first.tip.id));
    expect(announced.filter((id) => id === first.tip.id)).toHaveLength(1);
    expect(announced.filter((id) => id === made.id)).toHaveLength(1);
  });

  it('subscribes to a creator in the room and sees access upgrade', async () => {
    const creator = await s.api.register('creator');
    await s.api.request('PATCH', '/api/creators/me', { token: creator.token, body: { subscriptionPrice: 300 } });
    const room = await s.api.room(creator.token, { access: 'subscribers' });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 500);
    const c = client(viewer.token);
    await c.connect();
    expect((await c.joinRoom(room.id)).access).toBe('none');
    const upgraded = new Promise((resolve) => c.on('access:changed', resolve));
    const { subscription, balance } = await c.subscribe(creator.user.id);
    expect(subscription).toMatchObject({ creatorId: creator.user.id, status: 'active' });
    expect(balance).toBe(200);
    expect(await upgraded).toEqual({ roomId: room.id, access: 'full' });
    expect((await c.sendChat(room.id, 'subscribed')).text).toBe('subscribed');
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

  it('buys a content and subscribes from the room it is in, so the sale counts for its session', async () => {
    const creator = await s.api.register('creator');
    await s.api.request('PATCH', '/api/creators/me', { token: creator.token, body: { subscriptionPrice: 300 } });
    const lesson = await s.api.content(creator.token, { price: 200 });
    const room = await s.api.room(creator.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const c = client(viewer.token);
    await c.connect();
    await c.joinRoom(room.id);
    const bought = await c.buyContent(lesson.id, { fromRoomId: room.id });
    expect(bought.purchase).toMatchObject({ contentId: lesson.id, fromRoomId: room.id });
    const subscribed = await c.subscribe(creator.user.id, { fromRoomId: room.id });
    expect(subscribed.purchase).toMatchObject({ kind: 'subscription', fromRoomId: room.id });
    // Without it, bought elsewhere.
    const other = await s.api.content(creator.token, { price: 100 });
    expect((await c.buyContent(other.id)).purchase.fromRoomId).toBeNull();
  });

  it('hears every sale of a storm once, as sale:new, whether it came alone or in a sale:batch', async () => {
    const creator = await s.api.register('creator');
    const lessons = await Promise.all(Array.from({ length: 12 }, () => s.api.content(creator.token, { price: 100 })));
    const seller = client(creator.token);
    await seller.connect();
    const heard: string[] = [];
    seller.on('sale:new', (sale) => heard.push(sale.id));
    let batches = 0;
    seller.on('sale:batch', () => batches++);
    const buyer = await s.api.register();
    await s.api.topUp(buyer.token, 10_000);
    const c = client(buyer.token);
    await c.connect();
    const sold = await Promise.all(lessons.map((lesson) => c.buyContent(lesson.id)));
    await eventually(() => heard.length >= sold.length, 5_000, 'every sale');
    expect(heard.sort()).toEqual(sold.map((r) => r.purchase.id).sort());
    expect(batches).toBeGreaterThan(0);
  });

  it('moderates: lists what can be undone, hears updates, and a banned viewer is told', async () => {
    const room = await liveRoom();
    const staff = client(owner.token);
    const viewer = await s.api.register();
    const v = client(viewer.token);
    await Promise.all([staff.connect(), v.connect()]);
    await staff.joinRoom(room.id);
    await v.joinRoom(room.id);
    expect(await staff.moderationList(room.id)).toEqual({ bans: [], mutes: [], moderators: [] });
    const updated = new Promise((resolve) => staff.on('moderation:updated', resolve));
    const removed = new Promise((resolve) => v.on('room:left', resolve));
    await staff.ban(room.id, viewer.user.id, 'spam');
    expect(await removed).toEqual({ roomId: room.id, reason: 'banned' });
    expect(v.joinedRooms()).toEqual([]);
    expect(await updated).toMatchObject({
      roomId: room.id,
      bans: [{ userId: viewer.user.id, username: viewer.user.username, until: null }],
    });
    await expect(v.moderationList(room.id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('reconnection', () => {
  // A server that forgets: every reconnect needs the rooms joined again. Two events a second
  // (a burst of six) per user, so a user can spend their budget.
  let forgetful: TestServer;
  beforeAll(async () => {
    forgetful = await startTestServer({
      RECOVERY_WINDOW_SECONDS: '0',
      SOCKET_EVENTS_PER_SECOND: '2',
      LIKES_PER_SECOND: '1000',
    });
  });
  afterAll(() => forgetful.close());

  async function inRoom() {
    const creator = await forgetful.api.register('creator');
    const room = await forgetful.api.room(creator.token);
    await forgetful.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const c = new LecternClient({
      url: forgetful.url,
      token: (await forgetful.api.register()).token,
      socketOptions: { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 100 },
    });
    clients.push(c);
    await c.connect();
    await c.joinRoom(room.id);
    return { room, c };
  }

  const nextConnect = (c: LecternClient) =>
    new Promise<{ recovered: boolean }>((resolve) => {
      const off = c.on('connected', (p) => {
        off();
        resolve(p);
      });
    });

  it('rejoins rooms after a reconnect the server did not recover', async () => {
    const { room, c } = await inRoom();
    const rejoined = new Promise<{ room: { id: string } }>((resolve) => c.on('rejoined', resolve));
    const reconnected = nextConnect(c);
    (c.socket.io as any).engine.close();
    expect((await reconnected).recovered).toBe(false);
    expect((await rejoined).room.id).toBe(room.id);
    expect((await c.sendChat(room.id, 'I am back')).text).toBe('I am back');
  });

  it('holds requests made while rejoining until the rooms are joined again', async () => {
    const { room, c } = await inRoom();
    const sent = new Promise<unknown>((resolve, reject) => {
      const off = c.on('connected', () => {
        off();
        // Right away: the rejoin is still on its way.
        c.sendChat(room.id, 'first words back').then(resolve, reject);
      });
    });
    (c.socket.io as any).engine.close();
    expect(await sent).toMatchObject({ text: 'first words back' });
  });

  it('keeps a room after a transient refusal to rejoin, and retries', async () => {
    const { room, c } = await inRoom();
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    // Spend the user's budget: the rejoin right after the reconnect is RATE_LIMITED.
    await Promise.all(
      Array.from({ length: 8 }, () => c.request('room:leave', { roomId: randomUUID() }).catch(() => 0)),
    );
    const rejoined = new Promise<{ room: { id: string } }>((resolve, reject) => {
      c.on('rejoined', resolve);
      setTimeout(() => reject(new Error('not rejoined within 10 s')), 10_000).unref();
    });
    (c.socket.io as any).engine.close();
    expect((await rejoined).room.id).toBe(room.id);
    expect(c.joinedRooms()).toEqual([room.id]);
    expect(errors).toEqual([]);
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
    const reconnected = nextConnect(c);
    (c.socket.io as any).engine.close();
    expect((await reconnected).recovered).toBe(true);
    expect((await c.sendChat(room.id, 'never left')).text).toBe('never left');
    expect(rejoins).toBe(0);
  });

  it('keeps the likes a refused batch did not send, and sends them later', async () => {
    const { room, c } = await inRoom();
    // 700 taps are seven messages; the budget has five left after the join.
    c.like(room.id, 700);
    const total = async () =>
      (
        await forgetful.lectern.database.db
          .selectFrom('rooms')
          .select('likes_total')
          .where('id', '=', room.id)
          .executeTakeFirstOrThrow()
      ).likes_total;
    await eventually(async () => (await total()) === 700, 10_000, 'all 700 likes saved');
  });
});
