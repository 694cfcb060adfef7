import type { RoomsForYou } from '../../protocol';
import { startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets } from '../helpers/socket';
import { marginOfCOverA, viewersLeaveAForC } from './live-learning';

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

it('learns from joins: the weights move, the metrics count the steps, and the ranking follows what viewers choose', async () => {
  const { ranker, learner } = s.lectern.live;
  const initial = ranker.weights().w;
  const { creators, rooms, viewers } = await viewersLeaveAForC(s);

  const w = ranker.weights().w;
  expect(w).not.toEqual(initial);
  expect(learner.stats()).toMatchObject({ dropped: 0, failed: 0 });
  const metrics = (await s.api.get('/metrics')).body as string;
  expect(metrics).toMatch(/lectern_live_learn_total\{outcome="learned"\} \d+/);
  expect(metrics).toMatch(/lectern_live_learn_seconds_count \d+/);

  // For a viewer who watched A an hour ago, C gained on A: the learned weights against the
  // shipped ones, over the same co-watch statistics (so only the online steps differ).
  const [a, , c] = creators;
  const margin = marginOfCOverA(ranker, a, rooms, [
    { roomId: rooms[0].id, creatorId: a.user.id },
    { roomId: rooms[2].id, creatorId: c.user.id },
  ]);
  expect(margin.learned).toBeGreaterThan(margin.shipped);

  // The endpoint ranks with that ranker.
  const answer = (await s.api.get<RoomsForYou>('/api/rooms/for-you?limit=50', viewers[0].token)).body;
  expect(answer.rooms.filter((r) => rooms.some((x) => x.id === r.room.id))).toHaveLength(3);
  console.log(
    `online learning: ${learner.stats().learned} steps, ${learner.stats().learnMsMean.toFixed(3)} ms mean per learn call`,
  );
});
