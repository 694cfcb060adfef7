import { io } from 'socket.io-client';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, eventually, ok, record } from '../helpers/socket';

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
