// The built entry, as an application would import it (npm run build:sdk runs before the tests).
import { type ChatMessage, LecternClient } from '@lectern/client-sdk';
import { type Account, startTestServer, type TestServer } from '../../tests/helpers/server';
import { eventually } from '../../tests/helpers/socket';

/** The SDK asks for batched chat and hands every message to `chat:message` listeners, in order. */
let s: TestServer;
let owner: Account;
const clients: LecternClient[] = [];

beforeAll(async () => {
  s = await startTestServer({ CHAT_BURST: '100', CHAT_MESSAGES_PER_SECOND: '100', SOCKET_EVENTS_PER_SECOND: '1000' });
  owner = await s.api.register('creator');
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => s.close());

async function signedIn(options: { chatBatches?: boolean } = {}) {
  const account = await s.api.register();
  const c = new LecternClient({
    url: s.url,
    token: account.token,
    socketOptions: { transports: ['websocket'] },
    ...options,
  });
  clients.push(c);
  await c.connect();
  return c;
}

it('a busy room’s chat comes in batches, and listeners and LiveRoom still get every message in order', async () => {
  const room = await s.api.room(owner.token, { access: 'free' });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const batched = await signedIn();
  const plain = await signedIn({ chatBatches: false });
  const live = await batched.room(room.id, { chatWindow: 100 });
  await plain.joinRoom(room.id);
  const viaListener: ChatMessage[] = [];
  batched.on('chat:message', (m) => viaListener.push(m));
  let batches = 0;
  batched.on('chat:batch', () => batches++);
  const plainHeard: ChatMessage[] = [];
  let plainBatches = 0;
  plain.on('chat:message', (m) => plainHeard.push(m));
  plain.on('chat:batch', () => plainBatches++);

  const talkers = await Promise.all([signedIn(), signedIn()]);
  await Promise.all(talkers.map((t) => t.joinRoom(room.id)));
  const sent = await Promise.all(
    Array.from({ length: 30 }, (_, i) => talkers[i % 2].sendChat(room.id, `message ${i}`)),
  );
  await eventually(() => viaListener.length === 30 && plainHeard.length === 30, 5000, 'every message');
  expect(new Set(viaListener.map((m) => m.id))).toEqual(new Set(sent.map((m) => m.id)));
  // The same order the server sent them in, as a plain client sees it.
  expect(viaListener).toEqual(plainHeard);
  expect(live.state.chat).toEqual(viaListener);
  expect(batches).toBeGreaterThan(0);
  expect(batches).toBeLessThan(30);
  expect(plainBatches).toBe(0);
});
