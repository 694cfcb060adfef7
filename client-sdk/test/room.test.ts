import { randomUUID } from 'node:crypto';
// The built entry, as an application would import it.
import { LecternClient, type LecternClientOptions, type LiveRoom } from '@lectern/client-sdk';
import { type Account, startTestServer, type TestServer } from '../../tests/helpers/server';
import { eventually } from '../../tests/helpers/socket';

/** The SDK's LiveRoom against a real server: its state follows the room, across reconnects. */
let s: TestServer;
let owner: Account;
const clients: LecternClient[] = [];

beforeAll(async () => {
  // The server forgets sessions (no recovery window): a reconnect needs a fresh join, and the
  // LiveRoom a re-synchronisation. Pins are short so expiry shows in a test.
  s = await startTestServer({
    RECOVERY_WINDOW_SECONDS: '0',
    TIP_PIN_THRESHOLD: '100',
    TIP_PIN_BASE_SECONDS: '2',
    TIP_PIN_MAX_SECONDS: '3',
    SOCKET_EVENTS_PER_SECOND: '1000',
  });
  owner = await s.api.register('creator');
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => s.close());

async function signedIn(account?: Account, fast = false, options: Partial<LecternClientOptions> = {}) {
  const a = account ?? (await s.api.register());
  const c = new LecternClient({
    ...options,
    url: s.url,
    token: a.token,
    socketOptions: { transports: ['websocket'], ...(fast ? { reconnectionDelay: 50, reconnectionDelayMax: 100 } : {}) },
  });
  clients.push(c);
  await c.connect();
  return { account: a, c };
}

async function liveRoom(fields: Record<string, unknown> = { access: 'free' }) {
  const room = await s.api.room(owner.token, fields);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  return room;
}

describe('LiveRoom', () => {
  it('holds the room as joined and follows chat, likes and viewers', async () => {
    const room = await liveRoom();
    const { c: a } = await signedIn();
    const alice = await a.room(room.id, { chatWindow: 3 });
    expect(alice.state).toMatchObject({ access: 'full', role: 'viewer', status: 'joined', chat: [], polls: [] });
    const { c: b } = await signedIn();
    const bob = await b.room(room.id);
    await eventually(() => alice.state.viewerCount === 2, 5_000, 'two viewers');
    for (const text of ['one', 'two', 'three', 'four']) await bob.sendChat(text);
    await eventually(() => alice.state.chat.at(-1)?.text === 'four', 5_000, 'the last message');
    expect(alice.state.chat.map((m) => m.text)).toEqual(['two', 'three', 'four']); // a bounded window
    bob.like(5);
    await eventually(() => alice.state.likesTotal === 5, 5_000, 'likes');
  });

  it('shows paid pinned messages to everyone, in order, to late joiners too, until they expire', async () => {
    const room = await liveRoom();
    const { c: w } = await signedIn();
    const watcher = await w.room(room.id);
    const tipper = await signedIn();
    await s.api.topUp(tipper.account.token, 10_000);
    const tipperRoom = await tipper.c.room(room.id);
    const tips: string[] = [];
    watcher.on('tip', (t) => tips.push(t.message ?? ''));
    await tipperRoom.tip(100, { message: 'first pin' });
    await tipperRoom.tip(150, { message: 'second pin' });
    await tipperRoom.tip(50, { message: 'not pinned' });
    await eventually(() => watcher.state.pinned.length === 2 && tips.length === 3, 5_000, 'two pins, three tips');
    expect(watcher.state.pinned.map((t) => t.message)).toEqual(['first pin', 'second pin']);
    const { c: late } = await signedIn();
    const latecomer = await late.room(room.id);
    expect(latecomer.state.pinned.map((t) => t.message)).toEqual(['first pin', 'second pin']);
    await eventually(() => watcher.state.pinned.length === 0, 6_000, 'the pins to expire');
  });

  it('hears every tip of a gift storm once, whether it came alone or in a tip:batch', async () => {
    const room = await liveRoom();
    const { c: w } = await signedIn();
    const watcher = await w.room(room.id);
    const tipped: string[] = [];
    watcher.on('tip', (t) => tipped.push(t.id));
    let batches = 0;
    w.on('tip:batch', () => batches++);
    const tippers = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const t = await signedIn();
        await s.api.topUp(t.account.token, 1_000);
        return t.c.room(room.id);
      }),
    );
    const sent = await Promise.all(tippers.map((r) => r.tip(10)));
    await eventually(() => tipped.length >= sent.length, 5_000, 'every tip');
    expect(tipped.sort()).toEqual(sent.map((r) => r.tip.id).sort());
    expect(batches).toBeGreaterThan(0);
  });

  it('hears a storm summed past the limit as tipsSummed: with the tips listed, every tip to the cent', async () => {
    const room = await liveRoom();
    const { c: w } = await signedIn();
    const watcher = await w.room(room.id);
    const { c: p } = await signedIn(undefined, false, { tipSummaries: false });
    const plain = await p.room(room.id);
    const heard = { tips: 0, amount: 0, summed: 0 };
    watcher.on('tip', (t) => {
      heard.tips++;
      heard.amount += t.amount;
    });
    watcher.on('tipsSummed', (summed) => {
      heard.summed++;
      heard.tips += summed.count;
      heard.amount += summed.amount;
    });
    const plainTips: string[] = [];
    plain.on('tip', (t) => plainTips.push(t.id));
    plain.on('tipsSummed', () => plainTips.push('a sum'));
    const tippers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const t = await signedIn();
        await s.api.topUp(t.account.token, 1_000);
        return t.c.room(room.id);
      }),
    );
    const sent = (await Promise.all(tippers.flatMap((r) => Array.from({ length: 15 }, (_, i) => r.tip(1 + i))))).map(
      (r) => r.tip,
    );
    const total = sent.reduce((n, t) => n + t.amount, 0);
    await eventually(() => heard.tips >= sent.length && plainTips.length >= sent.length, 5_000, 'every tip');
    expect(heard).toMatchObject({ tips: sent.length, amount: total });
    expect(plainTips.sort()).toEqual(sent.map((t) => t.id).sort());

    // A delivery summed for certain: the frame the server sends, and what the room makes of it.
    const summedNow: unknown[] = [];
    watcher.on('tipsSummed', (summed) => summedNow.push(summed));
    s.lectern.gateway.io
      .to(`room:${room.id}:access`)
      .emit('tip:batch', { roomId: room.id, tips: [sent[0]], more: { count: 250, amount: 250, currency: 'USD' } });
    await eventually(() => summedNow.length === 1, 5_000, 'the sum');
    expect(summedNow).toEqual([{ count: 250, amount: 250, currency: 'USD' }]);
    expect(heard.tips).toBe(sent.length + 251);
  });

  it('runs polls: created, voted, updated for everyone', async () => {
    const room = await liveRoom();
    const host = await (await signedIn(owner)).c.room(room.id);
    const { c: v } = await signedIn();
    const viewer = await v.room(room.id);
    const poll = await host.createPoll('Next topic?', ['Eigenvalues', 'SVD']);
    await eventually(() => viewer.state.polls.length === 1, 5_000, 'the poll to arrive');
    const voted = await viewer.vote(poll.id, 1);
    expect(voted.myVote).toBe(1);
    await eventually(() => host.state.polls[0].options[1].votes === 1, 5_000, 'the results');
    expect(viewer.state.polls[0].myVote).toBe(1);
    await host.closePoll(poll.id);
    await eventually(() => viewer.state.polls[0].closed, 5_000, 'the close');
    expect(viewer.state.polls[0].myVote).toBe(1);
  });

  it('re-synchronises after a reconnect the server forgot', async () => {
    const room = await liveRoom();
    const { c } = await signedIn(undefined, true);
    const live: LiveRoom = await c.room(room.id);
    const synced = new Promise((resolve) => live.on('synced', resolve));
    // While it is away, someone chats: the fresh join brings it.
    const { c: other } = await signedIn();
    const otherRoom = await other.room(room.id);
    (c.socket.io as any).engine.close();
    await otherRoom.sendChat('said while you were away');
    await synced;
    await eventually(() => live.state.chat.some((m) => m.text === 'said while you were away'), 5_000, 'the message');
    expect(live.state.status).toBe('joined');
  });

  it('follows access: a preview that ends, then a ticket bought', async () => {
    const room = await liveRoom({ access: 'ticket', ticketPrice: 300, previewSeconds: 1 });
    const viewer = await signedIn();
    const live = await viewer.c.room(room.id);
    expect(live.state.access).toBe('preview');
    expect(live.state.previewEndsAt).toBeInstanceOf(Date);
    await eventually(() => live.state.access === 'none', 5_000, 'the preview to end');
    // Said while this viewer has no access: the conversation arrives with the ticket.
    const { c: holder } = await signedIn(owner);
    await (await holder.room(room.id)).sendChat('for ticket holders');
    expect(live.state.chat).toEqual([]);
    await s.api.topUp(viewer.account.token, 1000);
    await viewer.c.buyTicket(room.id, { idempotencyKey: randomUUID() });
    await eventually(() => live.state.access === 'full', 5_000, 'full access');
    await eventually(
      () => live.state.chat.some((m) => m.text === 'for ticket holders'),
      5_000,
      'the conversation after the upgrade',
    );
  });

  it('knows when the room ends or the viewer is removed', async () => {
    const room = await liveRoom();
    const { account, c } = await signedIn();
    const live = await c.room(room.id);
    const { c: hostClient } = await signedIn(owner);
    await hostClient.room(room.id);
    const left = new Promise((resolve) => live.on('left', resolve));
    await hostClient.ban(room.id, account.user.id);
    expect(await left).toBe('banned');
    expect(live.state).toMatchObject({ status: 'left', left: 'banned' });

    const { c: d } = await signedIn();
    const watcher = await d.room(room.id);
    const ended = new Promise((resolve) => watcher.on('ended', () => resolve(true)));
    await s.api.post(`/api/rooms/${room.id}/end`, {}, owner.token);
    expect(await ended).toBe(true);
    expect(watcher.state.status).toBe('ended');
  });
});
