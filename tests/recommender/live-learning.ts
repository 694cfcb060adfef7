import { createLiveRanker, type OnlineLiveRanker } from '../../server/recommender/live/ranker';
import { analyticsDrained } from '../analytics/drain';
import type { Account, TestServer } from '../helpers/server';
import { connect, ok } from '../helpers/socket';

/**
 * The scenario both online-learning tests run on a real server: viewers who watched creator A
 * before keep choosing creator C's room instead, so the repeat features lose weight.
 */
export async function viewersLeaveAForC(s: TestServer) {
  const { learner } = s.lectern.live;
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => s.api.register('creator')));
  const rooms = await Promise.all([liveRoom(s, a, 'A'), liveRoom(s, b, 'B'), liveRoom(s, c, 'C')]);
  const viewers = await Promise.all(Array.from({ length: 6 }, () => s.api.register()));
  const earlier = await liveRoom(s, a, 'A, earlier');
  for (const v of viewers) await watch(s, v, earlier.id);
  await analyticsDrained(s.lectern);
  await learned(s, viewers.length);
  const afterRepeat = learner.stats().learned;
  for (const v of viewers) await watch(s, v, rooms[2].id);
  await learned(s, afterRepeat + viewers.length);
  return { creators: [a, b, c], rooms, viewers };
}

/**
 * How far C's room scores above A's, among `candidates`, for a viewer who watched A an hour ago;
 * with the shipped weights beside it (same co-watch statistics, so only the online steps differ).
 */
export function marginOfCOverA(
  ranker: OnlineLiveRanker,
  a: Account,
  rooms: { id: string }[],
  candidates: { roomId: string; creatorId: string }[],
): { learned: number; shipped: number } {
  const context = {
    viewerId: 'someone',
    watched: [{ creatorId: a.user.id, count: 1, lastAt: Date.now() - 3600_000 }],
    follows: [],
    subscriptions: [],
    tags: {},
  };
  const live = candidates.map((r) => ({
    ...r,
    status: 'live' as const,
    tags: [],
    viewers: 0,
    startedAt: null,
    scheduledAt: null,
  }));
  const margin = (r: OnlineLiveRanker) => {
    const ranked = r.rankNow(context, live, new Date());
    const score = (id: string) => ranked.find((x) => x.roomId === id)!.score;
    return score(rooms[2].id) - score(rooms[0].id);
  };
  return { learned: margin(ranker), shipped: margin(createLiveRanker({ stats: ranker.stats })) };
}

async function liveRoom(s: TestServer, owner: Account, title: string) {
  const room = await s.api.room(owner.token, { title });
  expect((await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token)).status).toBe(200);
  return room as { id: string };
}

async function watch(s: TestServer, viewer: Account, roomId: string) {
  const sock = await connect(s.url, viewer.token);
  await ok(sock, 'room:join', { roomId });
  await ok(sock, 'room:leave', { roomId });
  sock.close();
}

/** Waits until the learner took `n` steps in all. */
async function learned(s: TestServer, n: number) {
  const { learner } = s.lectern.live;
  for (let i = 0; i < 200 && learner.stats().learned < n; i++) {
    await learner.idle();
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(learner.stats().learned).toBeGreaterThanOrEqual(n);
}
