import { startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets } from '../helpers/socket';
import { marginOfCOverA, viewersLeaveAForC } from './live-learning';

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

it("learns from joins in the recommender's worker thread: the weights move, learn is not called here", async () => {
  expect(s.lectern.recommender!.status().trainer?.thread).toBe('worker');
  const { ranker, learner } = s.lectern.live;
  const learn = jest.spyOn(ranker, 'learn');
  const initial = ranker.weights().w;
  const { creators, rooms } = await viewersLeaveAForC(s);

  expect(learn).not.toHaveBeenCalled();
  const stats = learner.stats();
  expect(stats).toMatchObject({ dropped: 0, failed: 0 });
  expect(stats.worker).toMatchObject({ failed: 0, steps: stats.learned });
  expect(stats.worker.batches).toBeGreaterThan(0);
  expect(ranker.weights().w).not.toEqual(initial);

  // For a viewer who watched A an hour ago, C gained on A (only the steps differ).
  const candidates = rooms.map((r, i) => ({ roomId: r.id, creatorId: creators[i].user.id }));
  const margin = marginOfCOverA(ranker, creators[0], rooms, candidates);
  expect(margin.learned).toBeGreaterThan(margin.shipped);

  const metrics = (await s.api.get('/metrics')).body as string;
  expect(metrics).toMatch(/lectern_live_learn_batches_total\{outcome="ok"\} [1-9]/);
  console.log(
    `online learning in the worker: ${stats.learned} steps in ${stats.worker.batches} batches, ` +
      `${stats.learnMsMean.toFixed(3)} ms mean per step (preparation + share of the round trip), ` +
      `round trip ${stats.worker.roundTripMsMean.toFixed(3)} ms mean, ${stats.worker.roundTripMsMax.toFixed(3)} ms max`,
  );
});
