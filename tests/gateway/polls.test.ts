import { randomUUID } from 'node:crypto';
import type { Poll } from '../../protocol';
import { ENGAGEMENT_STREAM } from '../../server/events';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, next, ok, refused, sleep } from '../helpers/socket';

/** Polls in a live room: who may ask and vote, one final vote, live results at a bounded rate, late joiners. */
let s: TestServer;
let owner: Account;

beforeAll(async () => {
  s = await startTestServer();
  owner = await s.api.register('creator');
});
afterEach(closeAllSockets);
afterAll(() => s.close());

async function liveRoom(fields: Record<string, unknown> = { access: 'free' }) {
  const room = await s.api.room(owner.token, fields);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const host = await connect(s.url, owner.token);
  await ok(host, 'room:join', { roomId: room.id });
  return { room, host };
}

async function viewerIn(roomId: string): Promise<{ account: Account; sock: ClientSocket }> {
  const account = await s.api.register();
  const sock = await connect(s.url, account.token);
  await ok(sock, 'room:join', { roomId });
  return { account, sock };
}

const ask = (sock: ClientSocket, roomId: string, extra: Record<string, unknown> = {}) =>
  ok(sock, 'poll:create', { roomId, question: 'Which topic next?', options: ['Eigenvalues', 'SVD', 'PCA'], ...extra });

it('the owner asks, viewers vote once, everyone sees the results', async () => {
  const { room, host } = await liveRoom();
  const a = await viewerIn(room.id);
  const b = await viewerIn(room.id);
  const announced = next(a.sock, 'poll:update');
  const { poll } = await ask(host, room.id);
  expect(poll).toMatchObject({ question: 'Which topic next?', closed: false, closesAt: null });
  expect(poll.options.map((o: Poll['options'][number]) => o.votes)).toEqual([0, 0, 0]);
  expect((await announced).poll.id).toBe(poll.id);

  const voted = await ok(a.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: 1 });
  expect(voted.poll.myVote).toBe(1);
  expect(voted.poll.options[1].votes).toBe(1);
  // A vote is final.
  expect(await refused(a.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: 2 })).toBe('CONFLICT');
  expect(await refused(b.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: 3 })).toBe('INVALID_ARGUMENT');
  const update = next(host, 'poll:update', (p) => p.poll.options[0].votes === 1);
  await ok(b.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: 0 });
  const seen = await update;
  expect(seen.poll.options.map((o) => o.votes)).toEqual([1, 1, 0]);
  expect(seen.poll.myVote).toBeUndefined(); // broadcasts say nothing of anyone's vote
});

it('only the owner and moderators ask and close; viewers cannot', async () => {
  const { room, host } = await liveRoom();
  const v = await viewerIn(room.id);
  expect(await refused(v.sock, 'poll:create', { roomId: room.id, question: 'Q?', options: ['a', 'b'] })).toBe(
    'FORBIDDEN',
  );
  const { poll } = await ask(host, room.id);
  expect(await refused(v.sock, 'poll:close', { roomId: room.id, pollId: poll.id })).toBe('FORBIDDEN');
  const closed = next(v.sock, 'poll:update', (p) => p.poll.closed);
  expect((await ok(host, 'poll:close', { roomId: room.id, pollId: poll.id })).poll.closed).toBe(true);
  expect((await closed).poll.id).toBe(poll.id);
  expect(await refused(v.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: 0 })).toBe('CONFLICT');
});

it('refuses malformed polls: one option, seven, duplicates, too long', async () => {
  const { room, host } = await liveRoom();
  for (const options of [['only'], ['1', '2', '3', '4', '5', '6', '7'], ['same', 'Same']]) {
    expect(await refused(host, 'poll:create', { roomId: room.id, question: 'Q?', options })).toBe('INVALID_ARGUMENT');
  }
  expect(await refused(host, 'poll:create', { roomId: room.id, question: 'x'.repeat(201), options: ['a', 'b'] })).toBe(
    'INVALID_ARGUMENT',
  );
  expect(
    await refused(host, 'poll:create', { roomId: room.id, question: 'Q?', options: ['a', 'b'], durationSeconds: 5 }),
  ).toBe('INVALID_ARGUMENT');
});

it('closes on time and tells the room', async () => {
  const { room, host } = await liveRoom();
  const v = await viewerIn(room.id);
  const { poll } = await ask(host, room.id, { durationSeconds: 10 });
  expect(Date.parse(poll.closesAt!) - Date.now()).toBeGreaterThan(8_000);
  // Ten seconds are long for a test: the poll's end is moved up, as time passing would.
  await s.lectern.database.db
    .updateTable('polls')
    .set({ closes_at: new Date(Date.now() + 300) })
    .where('id', '=', poll.id)
    .execute();
  const ended = await next(v.sock, 'poll:update', (p) => p.poll.id === poll.id && p.poll.closed, 5_000);
  expect(ended.poll.closed).toBe(true);
  expect(await refused(v.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: 0 })).toBe('CONFLICT');
});

it('late joiners get the open polls, with their own vote', async () => {
  const { room, host } = await liveRoom();
  const { poll } = await ask(host, room.id);
  const v = await viewerIn(room.id);
  await ok(v.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: 2 });
  const again = await connect(s.url, v.account.token);
  const joined = await ok(again, 'room:join', { roomId: room.id });
  expect(joined.polls).toEqual([expect.objectContaining({ id: poll.id, myVote: 2 })]);
  expect(joined.polls[0].options[2].votes).toBe(1);
});

it('in a paid room only viewers with full access vote', async () => {
  const { room, host } = await liveRoom({ access: 'ticket', ticketPrice: 300, previewSeconds: 60 });
  const { poll } = await ask(host, room.id);
  const previewer = await viewerIn(room.id);
  expect(await refused(previewer.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: 0 })).toBe(
    'PAYMENT_REQUIRED',
  );
  await s.api.topUp(previewer.account.token, 1000);
  await s.api.post('/api/purchases', { roomId: room.id }, previewer.account.token, randomUUID());
  await next(previewer.sock, 'access:changed', (p) => p.access === 'full');
  expect((await ok(previewer.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: 0 })).poll.myVote).toBe(0);
});

it('sends results at most once a second per poll, however fast votes come, and records the votes', async () => {
  const { room, host } = await liveRoom();
  const voters = await Promise.all(Array.from({ length: 12 }, () => viewerIn(room.id)));
  const { poll } = await ask(host, room.id);
  const updates: number[] = [];
  host.on('poll:update', (p) => {
    if (p.poll.id === poll.id) updates.push(Date.now());
  });
  await Promise.all(voters.map((v, i) => ok(v.sock, 'poll:vote', { roomId: room.id, pollId: poll.id, option: i % 3 })));
  await sleep(2_500);
  expect(updates.length).toBeGreaterThanOrEqual(1);
  expect(updates.length).toBeLessThanOrEqual(3);
  await s.lectern.engagement.publisher.flush();
  const votes = (await s.lectern.engagement.log.range(ENGAGEMENT_STREAM))
    .map((e) => e.event)
    .filter((e) => e?.type === 'poll.voted' && e.roomId === room.id);
  expect(votes).toHaveLength(12);
});
