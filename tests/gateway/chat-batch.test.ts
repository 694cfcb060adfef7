import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import type { ChatMessage } from '../../protocol';
import { batchedChatChannel, eachChatChannel } from '../../server/gateway/chat';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import {
  type ClientSocket,
  closeAllSockets,
  connect,
  dropAndResume,
  eventually,
  ok,
  record,
  refused,
} from '../helpers/socket';

/**
 * Batched chat (`auth.capabilities: ['chat:batch']`): the same messages, in the same order, in
 * fewer frames — and only to members with access, like `chat:message`.
 */
let s: TestServer;
let owner: Account;
beforeAll(async () => {
  s = await startTestServer({ CHAT_BURST: '100', CHAT_MESSAGES_PER_SECOND: '100', SOCKET_EVENTS_PER_SECOND: '200' });
  owner = await s.api.register('creator');
});
const batching: ClientSocket[] = [];
afterEach(() => {
  closeAllSockets();
  for (const sock of batching.splice(0)) sock.close();
});
afterAll(() => s.close());

const liveRoom = async (fields: Record<string, unknown> = {}) => {
  const room = await s.api.room(owner.token, fields);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  return room;
};

/** A raw client that asks for batched chat (reconnecting quickly, for the recovery test). */
async function batchingClient(token?: string): Promise<ClientSocket> {
  const sock: ClientSocket = io(s.url, {
    auth: { ...(token ? { token } : {}), capabilities: ['chat:batch'] },
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
  });
  batching.push(sock);
  await new Promise((resolve, reject) => {
    sock.once('connect', () => resolve(undefined));
    sock.once('connect_error', reject);
  });
  return sock;
}

/** The messages a batching client heard, in order, flattened. */
function batchedMessages(sock: ClientSocket): { messages: ChatMessage[]; batches: number } {
  const heard = { messages: [] as ChatMessage[], batches: 0 };
  sock.on('chat:batch', (p) => {
    heard.batches++;
    heard.messages.push(...p.messages);
  });
  return heard;
}

const channel = (name: string) => s.lectern.gateway.io.of('/').adapter.rooms.get(name);

/** Sends and waits until `control` (a batching member with access) heard it, and a little more. */
async function said(talker: ClientSocket, control: ClientSocket, roomId: string, text: string) {
  const heard = new Promise<void>((resolve) => {
    const listener = (p: { messages: ChatMessage[] }) => {
      if (!p.messages.some((m) => m.text === text)) return;
      control.off('chat:batch', listener);
      resolve();
    };
    control.on('chat:batch', listener);
  });
  await ok(talker, 'chat:send', { roomId, text });
  await heard;
  // The same broadcast's frames to other connections of this process are read right after.
  await new Promise((r) => setTimeout(r, 100));
}

it('a plain client still gets every message as chat:message; a batching one the same, in order, in fewer events', async () => {
  const room = await liveRoom();
  const plain = await connect(s.url, (await s.api.register()).token);
  await ok(plain, 'room:join', { roomId: room.id });
  const batched = await batchingClient((await s.api.register()).token);
  await ok(batched, 'room:join', { roomId: room.id });
  const guest = await batchingClient();
  await ok(guest, 'room:join', { roomId: room.id });
  const plainHeard = record(plain, 'chat:message');
  const plainBatches = record(plain, 'chat:batch');
  const batchedSingles = record(batched, 'chat:message');
  const batchedHeard = batchedMessages(batched);
  const guestHeard = batchedMessages(guest);

  const talker = await connect(s.url, (await s.api.register()).token);
  await ok(talker, 'room:join', { roomId: room.id });
  // A quiet room: the message goes at once.
  const first = await ok(talker, 'chat:send', { roomId: room.id, text: 'alone' });
  await eventually(() => batchedHeard.messages.length === 1, 5000, 'the lone message');
  expect(batchedHeard.messages[0]).toEqual(first.message);
  // A busy room: 40 messages at once, from two talkers.
  const talker2 = await connect(s.url, (await s.api.register()).token);
  await ok(talker2, 'room:join', { roomId: room.id });
  const sent = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      ok(i % 2 ? talker : talker2, 'chat:send', { roomId: room.id, text: `line ${i}` }),
    ),
  );
  await eventually(() => plainHeard.length === 41, 5000, 'every chat:message');
  await eventually(() => batchedHeard.messages.length === 41 && guestHeard.messages.length === 41, 5000, 'batches');

  const ids = (ms: ChatMessage[]) => ms.map((m) => m.id);
  expect(new Set(ids(plainHeard))).toEqual(new Set([first.message.id, ...sent.map((r) => r.message.id)]));
  // The same messages, in the same order (the order the server sent them), each once.
  expect(ids(batchedHeard.messages)).toEqual(ids(plainHeard));
  expect(ids(guestHeard.messages)).toEqual(ids(plainHeard));
  expect(batchedHeard.messages).toEqual(plainHeard);
  expect(batchedHeard.batches).toBeLessThan(20);
  // Each kind of client gets only its kind of event.
  expect(plainBatches).toEqual([]);
  expect(batchedSingles).toEqual([]);
});

it('a deletion never overtakes the message it deletes', async () => {
  const room = await liveRoom();
  const batched = await batchingClient((await s.api.register()).token);
  await ok(batched, 'room:join', { roomId: room.id });
  const order: string[] = [];
  batched.onAny((event: string, p: { messages?: ChatMessage[]; messageId?: string }) => {
    if (event === 'chat:batch') for (const m of p.messages ?? []) order.push(`message ${m.id}`);
    if (event === 'chat:deleted') order.push(`deleted ${p.messageId}`);
  });
  const talker = await connect(s.url, (await s.api.register()).token);
  await ok(talker, 'room:join', { roomId: room.id });
  // The first message opens the interval; the second waits for its end — and is deleted before it.
  await ok(talker, 'chat:send', { roomId: room.id, text: 'one' });
  const { message } = await ok(talker, 'chat:send', { roomId: room.id, text: 'regrettable' });
  await ok(talker, 'chat:delete', { roomId: room.id, messageId: message.id });
  await eventually(() => order.includes(`deleted ${message.id}`), 5000, 'the deletion');
  expect(order.indexOf(`message ${message.id}`)).toBeGreaterThanOrEqual(0);
  expect(order.indexOf(`message ${message.id}`)).toBeLessThan(order.indexOf(`deleted ${message.id}`));
});

it('only members with access get batches: none without a ticket, then after buying one, none once banned', async () => {
  const room = await liveRoom({ access: 'ticket', ticketPrice: 300, previewSeconds: 0 });
  const o = await batchingClient(owner.token);
  await ok(o, 'room:join', { roomId: room.id });
  const viewer = await s.api.register();
  await s.api.topUp(viewer.token, 300);
  const sock = await batchingClient(viewer.token);
  const heard = batchedMessages(sock);
  expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('none');
  // A guest asking for batches cannot even join the conversation of a paid room.
  const guest = await batchingClient();
  const guestHeard = batchedMessages(guest);
  expect((await ok(guest, 'room:join', { roomId: room.id })).access).toBe('none');

  await said(o, o, room.id, 'for ticket holders');
  expect(heard.messages).toEqual([]);
  expect(channel(batchedChatChannel(room.id))?.has(sock.id!) ?? false).toBe(false);

  const upgraded = new Promise((r) => sock.once('access:changed', r));
  await ok(sock, 'purchase:create', { roomId: room.id, idempotencyKey: randomUUID() });
  await upgraded;
  expect(channel(batchedChatChannel(room.id))?.has(sock.id!)).toBe(true);
  await said(o, o, room.id, 'welcome');
  expect(heard.messages.map((m) => m.text)).toEqual(['welcome']);

  const left = new Promise((r) => sock.once('room:left', r));
  await ok(o, 'moderation:ban', { roomId: room.id, userId: viewer.user.id });
  await left;
  await said(o, o, room.id, 'after the ban');
  expect(heard.messages.map((m) => m.text)).toEqual(['welcome']);
  expect(guestHeard.messages).toEqual([]);
  // Out of the room, out of its marker channels.
  expect(channel(batchedChatChannel(room.id))?.has(sock.id!) ?? false).toBe(false);
  expect(await refused(sock, 'chat:send', { roomId: room.id, text: 'hello?' })).toBe('FORBIDDEN');
});

it('members are in one marker channel per room, by what they asked for, and leave it with the room', async () => {
  const room = await liveRoom();
  const plain = await connect(s.url, (await s.api.register()).token);
  const batched = await batchingClient((await s.api.register()).token);
  await ok(plain, 'room:join', { roomId: room.id });
  await ok(batched, 'room:join', { roomId: room.id });
  expect([...(channel(eachChatChannel(room.id)) ?? [])]).toEqual([plain.id]);
  expect([...(channel(batchedChatChannel(room.id)) ?? [])]).toEqual([batched.id]);
  await ok(batched, 'room:leave', { roomId: room.id });
  expect(channel(batchedChatChannel(room.id))).toBeUndefined();
  plain.close();
  await eventually(() => channel(eachChatChannel(room.id)) === undefined, 5000, 'the disconnect');
});

describe('a batching connection that resumes', () => {
  /** Drops the network, runs `meanwhile` once the server has seen the drop, then resumes. */
  const away = (sock: ClientSocket, meanwhile: () => Promise<unknown>) =>
    dropAndResume(s.lectern.gateway.io, sock, meanwhile);

  it('gets the batches it missed, and goes on getting batches, not chat:message', async () => {
    const room = await liveRoom();
    const sock = await batchingClient((await s.api.register()).token);
    await ok(sock, 'room:join', { roomId: room.id });
    const heard = batchedMessages(sock);
    const singles = record(sock, 'chat:message');
    const talker = await connect(s.url, (await s.api.register()).token);
    await ok(talker, 'room:join', { roomId: room.id });
    // Recovery resumes after the last broadcast the client received: make sure there is one.
    await ok(talker, 'chat:send', { roomId: room.id, text: 'mark' });
    await eventually(() => heard.messages.length === 1, 5000, 'the mark');
    await away(sock, async () => {
      await ok(talker, 'chat:send', { roomId: room.id, text: 'said while you were away' });
      await ok(talker, 'chat:send', { roomId: room.id, text: 'and this' });
    });
    await eventually(() => heard.messages.length === 3, 5000, 'the missed batches');
    await ok(talker, 'chat:send', { roomId: room.id, text: 'welcome back' });
    await eventually(() => heard.messages.length === 4, 5000, 'a batch after the return');
    expect(heard.messages.map((m) => m.text)).toEqual(['mark', 'said while you were away', 'and this', 'welcome back']);
    expect(singles).toEqual([]);
    expect(channel(batchedChatChannel(room.id))?.has(sock.id!)).toBe(true);
  });

  it('banned while away: nothing said after the ban comes back, and no marker channel is left', async () => {
    const room = await liveRoom();
    const viewer = await s.api.register();
    const sock = await batchingClient(viewer.token);
    await ok(sock, 'room:join', { roomId: room.id });
    const heard = batchedMessages(sock);
    const left = record(sock, 'room:left');
    const o = await batchingClient(owner.token);
    await ok(o, 'room:join', { roomId: room.id });
    const talker = await connect(s.url, (await s.api.register()).token);
    await ok(talker, 'room:join', { roomId: room.id });
    await ok(talker, 'chat:send', { roomId: room.id, text: 'mark' });
    await eventually(() => heard.messages.length === 1, 5000, 'the mark');
    await away(sock, async () => {
      await ok(o, 'moderation:ban', { roomId: room.id, userId: viewer.user.id });
      await ok(talker, 'chat:send', { roomId: room.id, text: 'now that they are gone' });
    });
    await eventually(() => left.length > 0, 5000, 'room:left');
    await said(talker, o, room.id, 'still gone');
    expect(heard.messages.map((m) => m.text)).toEqual(['mark']);
    expect(channel(batchedChatChannel(room.id))?.has(sock.id!) ?? false).toBe(false);
  });
});
