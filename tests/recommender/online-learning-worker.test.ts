import { createLiveRanker } from '../../server/recommender/live/ranker';
import { analyticsDrained } from '../analytics/drain';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok } from '../helpers/socket';

/**
 * With the recommender on (its trainer in a worker thread, the default), the live ranker's online
 * steps run in that worker: the main thread prepares each join's features and serves the weights
 * the worker answers (server/recommender/live/online.ts, `liveLearn` in trainer-worker.ts). The
 * main thread's `learn` is never called — this test fails if the steps run inline.
 */

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ RECOMMENDER_ENABLED: 'true', LIVE_LEARN_MIN_WATCH_SECONDS: '0' });
  await s.lectern.recommender!.ready();
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

async function learned(n: number) {
  const { learner } = s.lectern.live;
  for (let i = 0; i < 200 && learner.stats().learned < n; i++) {
    await learner.idle();
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(learner.stats().learned).toBeGreaterThanOrEqual(n);
}

it("learns from joins in the recommender's worker thread: the weights move, learn is not called here", async () => {
  expect(s.lectern.recommender!.status().trainer?.thread).toBe('worker');
  const { ranker, learner } = s.lectern.live;
  const learn = jest.spyOn(ranker, 'learn');
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

  expect(learn).not.toHaveBeenCalled();
  const stats = learner.stats();
  expect(stats).toMatchObject({ dropped: 0, failed: 0 });
  expect(stats.worker).toMatchObject({ failed: 0, steps: stats.learned });
  expect(stats.worker.batches).toBeGreaterThan(0);
  expect(ranker.weights().w).not.toEqual(initial);

  // For a viewer who watched A an hour ago, C gained on A (only the steps differ).
  const context = {
    viewerId: 'someone',
    watched: [{ creatorId: a.user.id, count: 1, lastAt: Date.now() - 3600_000 }],
    follows: [],
    subscriptions: [],
    tags: {},
  };
  const candidates = rooms
    .map((r, i) => ({ roomId: r.id, creatorId: [a, b, c][i].user.id }))
    .map((r) => ({ ...r, status: 'live' as const, tags: [], viewers: 0, startedAt: null, scheduledAt: null }));
  const score = (r: typeof ranker, id: string) =>
    r.rankNow(context, candidates, new Date()).find((x) => x.roomId === id)!.score;
  const fresh = createLiveRanker({ stats: ranker.stats });
  expect(score(ranker, rooms[2].id) - score(ranker, rooms[0].id)).toBeGreaterThan(
    score(fresh, rooms[2].id) - score(fresh, rooms[0].id),
  );

  const metrics = (await s.api.get('/metrics')).body as string;
  expect(metrics).toMatch(/lectern_live_learn_batches_total\{outcome="ok"\} [1-9]/);
  console.log(
    `online learning in the worker: ${stats.learned} steps in ${stats.worker.batches} batches, ` +
      `${stats.learnMsMean.toFixed(3)} ms mean per step (preparation + share of the round trip), ` +
      `round trip ${stats.worker.roundTripMsMean.toFixed(3)} ms mean, ${stats.worker.roundTripMsMax.toFixed(3)} ms max`,
  );
});
