import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import {
  type ClientSocket,
  closeAllSockets,
  connect,
  dropAndReconnect,
  dropAndResume,
  eventually,
  next,
  ok,
  record,
  refused,
} from '../helpers/socket';

let s: TestServer;
let owner: Account;
beforeAll(async () => {
  s = await startTestServer();
  owner = await s.api.register('creator');
});
afterEach(closeAllSockets);
afterAll(() => s.close());

it('a dropped connection resumes within the window: same rooms, missed messages delivered, no rejoin', async () => {
  const room = await s.api.room(owner.token);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const viewer = await s.api.register();
  const sock: ClientSocket = io(s.url, {
    auth: { token: viewer.token },
    transports: ['websocket'],
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
    forceNew: true,
  });
  await new Promise((r) => sock.once('connect', () => r(undefined)));
  try {
    await ok(sock, 'room:join', { roomId: room.id });
    const heard = record(sock, 'chat:message');
    const talker = await connect(s.url, (await s.api.register()).token);
    await ok(talker, 'room:join', { roomId: room.id });
    // Recovery resumes after the last broadcast the client received: make sure there is one.
    await ok(talker, 'chat:send', { roomId: room.id, text: 'hello' });
    await eventually(() => heard.some((m) => m.text === 'hello'));

    // The network drops (the transport closes without a goodbye).
    const reconnected = new Promise((r) => sock.io.once('reconnect', r));
    (sock.io as any).engine.close();
    await ok(talker, 'chat:send', { roomId: room.id, text: 'said while you were away' });
    await reconnected;
    await eventually(() => sock.connected);
    expect(sock.recovered).toBe(true);
    await eventually(() => heard.some((m) => m.text === 'said while you were away'), 5000, 'missed message delivered');
    // Still a member: can chat without joining again.
    expect((await ok(sock, 'chat:send', { roomId: room.id, text: 'back' })).message.text).toBe('back');
  } finally {
    sock.close();
  }
});

describe('what changed while a connection was away', () => {
  const resumable: ClientSocket[] = [];
  afterEach(() => {
    for (const sock of resumable.splice(0)) sock.close();
  });

  /** A viewer in `room`, with a broadcast received (recovery resumes after the last one). */
  async function viewerIn(roomId: string, token: string) {
    const sock: ClientSocket = io(s.url, { auth: { token }, transports: ['websocket'], forceNew: true });
    resumable.push(sock);
    await new Promise((r) => sock.once('connect', () => r(undefined)));
    await ok(sock, 'room:join', { roomId });
    const heard = next(sock, 'chat:message', (m) => m.text === 'mark');
    const talker = await connect(s.url, owner.token);
    await ok(talker, 'room:join', { roomId });
    await ok(talker, 'chat:send', { roomId, text: 'mark' });
    await heard;
    return sock;
  }

  /** Drops the network, runs `meanwhile` once the server has seen the drop, then resumes. */
  const away = (sock: ClientSocket, meanwhile: () => Promise<unknown>) =>
    dropAndResume(s.lectern.gateway.io, sock, meanwhile);

  it('an access change is told on return', async () => {
    const room = await s.api.room(owner.token, { access: 'ticket', ticketPrice: 300, previewSeconds: 600 });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 300);
    const sock = await viewerIn(room.id, viewer.token);
    const changes = record(sock, 'access:changed');
    await away(sock, () => s.api.post('/api/purchases', { roomId: room.id }, viewer.token, randomUUID()));
    await eventually(() => changes.length > 0, 5000, 'access:changed');
    expect(changes).toEqual([{ roomId: room.id, access: 'full' }]);
  });

  it('no access change, nothing told', async () => {
    const room = await s.api.room(owner.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const viewer = await s.api.register();
    const sock = await viewerIn(room.id, viewer.token);
    const changes = record(sock, 'access:changed');
    await away(sock, async () => {});
    expect((await ok(sock, 'chat:send', { roomId: room.id, text: 'back' })).message.text).toBe('back');
    expect(changes).toEqual([]);
  });

  it('a ban is told on return, and the room is left', async () => {
    const room = await s.api.room(owner.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const viewer = await s.api.register();
    const sock = await viewerIn(room.id, viewer.token);
    const o = await connect(s.url, owner.token);
    await ok(o, 'room:join', { roomId: room.id });
    const left = record(sock, 'room:left');
    await away(sock, () => ok(o, 'moderation:ban', { roomId: room.id, userId: viewer.user.id }));
    await eventually(() => left.length > 0, 5000, 'room:left');
    expect(left).toEqual([{ roomId: room.id, reason: 'banned' }]);
    expect(await refused(sock, 'chat:send', { roomId: room.id, text: 'still here?' })).toBe('FORBIDDEN');
  });

  it('a preview that ended while away: what was said after it is not replayed', async () => {
    const room = await s.api.room(owner.token, { access: 'ticket', ticketPrice: 300, previewSeconds: 1 });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const sock = await viewerIn(room.id, (await s.api.register()).token);
    const heard = record(sock, 'chat:message');
    const changes = record(sock, 'access:changed');
    // Someone with a ticket talks (the owner's chat budget is the other tests').
    const holder = await s.api.register();
    await s.api.topUp(holder.token, 300);
    await s.api.post('/api/purchases', { roomId: room.id }, holder.token, randomUUID());
    const t = await connect(s.url, holder.token);
    await ok(t, 'room:join', { roomId: room.id });
    await away(sock, async () => {
      await new Promise((r) => setTimeout(r, 1200)); // the preview ends
      await ok(t, 'chat:send', { roomId: room.id, text: 'for ticket holders only' });
    });
    await eventually(() => changes.length > 0, 5000, 'access:changed');
    expect(changes).toEqual([{ roomId: room.id, access: 'none' }]);
    expect(heard.map((m) => m.text)).not.toContain('for ticket holders only');
    expect(await refused(sock, 'chat:send', { roomId: room.id, text: 'hello?' })).toBe('PAYMENT_REQUIRED');
  });

  it('a ban while away: nothing said in the room after it is replayed', async () => {
    const room = await s.api.room(owner.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const viewer = await s.api.register();
    const sock = await viewerIn(room.id, viewer.token);
    const heard = record(sock, 'chat:message');
    const left = record(sock, 'room:left');
    const o = await connect(s.url, owner.token);
    await ok(o, 'room:join', { roomId: room.id });
    const t = await connect(s.url, (await s.api.register()).token);
    await ok(t, 'room:join', { roomId: room.id });
    await away(sock, async () => {
      await ok(o, 'moderation:ban', { roomId: room.id, userId: viewer.user.id });
      await ok(t, 'chat:send', { roomId: room.id, text: 'now that they are gone' });
    });
    await eventually(() => left.length > 0, 5000, 'room:left');
    expect(heard.map((m) => m.text)).not.toContain('now that they are gone');
  });

  it('the end of the room is delivered on return, and the room is left', async () => {
    const room = await s.api.room(owner.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const sock = await viewerIn(room.id, (await s.api.register()).token);
    const ended = record(sock, 'room:ended');
    const left = record(sock, 'room:left');
    await away(sock, () => s.api.post(`/api/rooms/${room.id}/end`, {}, owner.token));
    await eventually(() => ended.length > 0 && left.length > 0, 5000, 'room:ended and room:left');
    expect(ended).toEqual([{ roomId: room.id }]);
    expect(left).toEqual([{ roomId: room.id, reason: 'ended' }]);
    expect(await refused(sock, 'chat:send', { roomId: room.id, text: 'hello?' })).toBe('FORBIDDEN');
  });
});

describe('RECOVERY_MAX_BROADCASTS', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ RECOVERY_MAX_BROADCASTS: '100' });
  });
  afterAll(() => small.close());

  it('keeps about the latest broadcasts: a connection that missed fewer resumes, one that missed more starts afresh', async () => {
    const server = small.lectern.gateway.io as unknown as {
      emit(event: string, n: number): void;
      of(nsp: '/'): { sockets: Map<string, unknown>; adapter: unknown };
    };
    const kept = () => (server.of('/').adapter as { packets: unknown[] }).packets.length;
    const sock = await connect(small.url, (await small.api.register()).token);
    const heard: number[] = [];
    sock.on('test:tick' as never, (n: number) => {
      heard.push(n);
    });
    const away = (broadcasts: number) =>
      dropAndReconnect(server, sock, () => {
        for (let i = 0; i < broadcasts; i++) server.emit('test:tick', heard.length + i);
      });
    try {
      // Recovery resumes after the last broadcast the client received: make sure there is one.
      server.emit('test:tick', 0);
      await eventually(() => heard.length === 1);

      await away(50);
      expect(sock.recovered).toBe(true);
      await eventually(() => heard.length === 51, 5000, 'the 50 missed broadcasts');

      await away(300);
      // 100 kept, and up to a tenth more before the oldest go in one piece.
      expect(kept()).toBeLessThanOrEqual(110);
      expect(kept()).toBeGreaterThanOrEqual(100);
      expect(sock.recovered).toBe(false);
      expect(heard).toHaveLength(51);
    } finally {
      sock.close();
    }
  });
});
