import type { RoomsForYou } from '../../protocol';
import { createLiveRanker } from '../../server/recommender/live/ranker';
import { analyticsDrained } from '../analytics/drain';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok } from '../helpers/socket';

/**
 * The live ranker trains online from the engagement stream as the server runs: each join of a
 * signed-in viewer is a choice among the rooms live at that moment (server/recommender/live/online.ts,
 * wired in server/app.ts). Without that wiring, the ranker's weights never move.
 */

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ LIVE_LEARN_MIN_WATCH_SECONDS: '0' });
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

async function liveRoom(owner: Account, title: string) {
  const room = await s.api.room(owner.token, { title });
  expect((await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token)).status).toBe(200);
  return room as { id: string };
}

async function watch(viewer: Account, roomId: string) {
  const sock = await connect(s.url, viewer.token);
  await ok(sock, 'room:join', { roomId });
  await ok(sock, 'room:leave', { roomId });
  sock.close();
}

/** Waits until the learner took `n` steps in all. */
async function learned(n: number) {
  const { learner } = s.lectern.live;
  for (let i = 0; i < 100 && learner.stats().learned < n; i++) {
    await learner.idle();
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(learner.stats().learned).toBeGreaterThanOrEqual(n);
}

it('learns from joins: the weights move, the metrics count the steps, and the ranking follows what viewers choose', async () => {
  const { ranker, learner } = s.lectern.live;
  const initial = ranker.weights().w;
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => s.api.register('creator')));
  const rooms = await Promise.all([liveRoom(a, 'A'), liveRoom(b, 'B'), liveRoom(c, 'C')]);

  // Viewers who watched A before keep choosing C instead: the repeat features lose weight.
  const viewers = await Promise.all(Array.from({ length: 6 }, () => s.api.register()));
  const earlier = await liveRoom(a, 'A, earlier');
  for (const v of viewers) await watch(v, earlier.id);
  await analyticsDrained(s.lectern);
  await learned(viewers.length);
  const afterRepeat = learner.stats().learned;
  for (const v of viewers) await watch(v, rooms[2].id);
  await learned(afterRepeat + viewers.length);

  const w = ranker.weights().w;
  expect(w).not.toEqual(initial);
  expect(learner.stats()).toMatchObject({ dropped: 0, failed: 0 });
  const metrics = (await s.api.get('/metrics')).body as string;
  expect(metrics).toMatch(/lectern_live_learn_total\{outcome="learned"\} \d+/);
  expect(metrics).toMatch(/lectern_live_learn_seconds_count \d+/);

  // For a viewer who watched A an hour ago, C gained on A: the learned weights against the
  // shipped ones, over the same co-watch statistics (so only the online steps differ).
  const context = {
    viewerId: 'someone',
    watched: [{ creatorId: a.user.id, count: 1, lastAt: Date.now() - 3600_000 }],
    follows: [],
    subscriptions: [],
    tags: {},
  };
  const candidates = [
    { roomId: rooms[0].id, creatorId: a.user.id },
    { roomId: rooms[2].id, creatorId: c.user.id },
  ].map((r) => ({ ...r, status: 'live' as const, tags: [], viewers: 0, startedAt: null, scheduledAt: null }));
  const margin = (r: typeof ranker) => {
    const ranked = r.rankNow(context, candidates, new Date());
    const score = (id: string) => ranked.find((x) => x.roomId === id)!.score;
    return score(rooms[2].id) - score(rooms[0].id);
  };
  expect(margin(ranker)).toBeGreaterThan(margin(createLiveRanker({ stats: ranker.stats })));

  // The endpoint ranks with that ranker.
  const answer = (await s.api.get<RoomsForYou>('/api/rooms/for-you?limit=50', viewers[0].token)).body;
  expect(answer.rooms.filter((r) => rooms.some((x) => x.id === r.room.id))).toHaveLength(3);
  console.log(
    `online learning: ${learner.stats().learned} steps, ${learner.stats().learnMsMean.toFixed(3)} ms mean per learn call`,
  );
});
