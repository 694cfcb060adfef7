import { CoWatchStats } from './cowatch';
import { FEATURE_NAMES } from './features';
import { createLiveRanker } from './ranker';
import { DEFAULT_LIVE_WEIGHTS } from './scorer';
import type { LiveCandidate, ViewerContext } from './types';

const NOW = new Date('2025-03-01T20:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function room(roomId: string, creatorId: string, viewers: number, extra: Partial<LiveCandidate> = {}): LiveCandidate {
  return {
    roomId,
    creatorId,
    status: 'live',
    tags: [],
    viewers,
    startedAt: new Date(NOW.getTime() - HOUR).toISOString(),
    scheduledAt: null,
    ...extra,
  };
}

const guest: ViewerContext = { viewerId: null, watched: [], follows: [], subscriptions: [], tags: {} };

function viewer(watched: ViewerContext['watched'], extra: Partial<ViewerContext> = {}): ViewerContext {
  return { viewerId: 'v1', watched, follows: [], subscriptions: [], tags: {}, ...extra };
}

describe('createLiveRanker', () => {
  it('returns exactly the candidates it was given, never an ended room', async () => {
    const ranker = createLiveRanker();
    // The viewer's favourite creator has ended their stream: their room is not a candidate.
    const v = viewer([
      { creatorId: 'ended', count: 30, lastAt: NOW.getTime() - DAY },
      { creatorId: 'c2', count: 1, lastAt: NOW.getTime() - 3 * DAY },
    ]);
    for (let i = 0; i < 200; i++) ranker.observeWatch(`w${i % 7}`, i % 2 ? 'ended' : `c${i % 5}`, NOW.getTime());
    const candidates = [room('r1', 'c1', 10), room('r2', 'c2', 3), room('r3', 'c3', 50), room('r1', 'c1', 10)];
    const ranked = await ranker.rank(v, candidates, NOW);
    expect(ranked.map((r) => r.roomId).sort()).toEqual(['r1', 'r2', 'r3']); // the duplicate once
    expect(ranked.some((r) => r.roomId === 'ended' || r.roomId.includes('ended'))).toBe(false);
    expect(await ranker.rank(v, [], NOW)).toEqual([]);
  });

  it('keeps scores finite whatever the input', async () => {
    const ranker = createLiveRanker();
    const v = viewer(
      [
        { creatorId: 'x', count: Number.NaN, lastAt: NOW.getTime() },
        { creatorId: 'y', count: 2, lastAt: Number.NaN },
      ],
      { tags: { a: Number.POSITIVE_INFINITY, b: -1 } },
    );
    const ranked = await ranker.rank(v, [room('r1', 'x', Number.NaN, { tags: ['a', 'b'] }), room('r2', 'y', -5)], NOW);
    expect(ranked).toHaveLength(2);
    for (const r of ranked) expect(Number.isFinite(r.score)).toBe(true);
  });

  it('puts a creator watched 5 times before a more popular unknown room', async () => {
    const ranker = createLiveRanker();
    const v = viewer([
      { creatorId: 'other', count: 2, lastAt: NOW.getTime() - 2 * HOUR },
      { creatorId: 'x', count: 5, lastAt: NOW.getTime() - 2 * DAY },
    ]);
    const ranked = await ranker.rank(v, [room('big', 'famous', 5000), room('xs', 'x', 12)], NOW);
    expect(ranked[0].roomId).toBe('xs');
    expect(ranked[0].reason.code).toBe('watched_before');
    expect(ranked[0].score).toBeGreaterThan(ranked[1].score);
  });

  it('gives a new viewer the rooms in order of popularity, as popular_now', async () => {
    const ranker = createLiveRanker();
    for (let i = 0; i < 50; i++) ranker.observeWatch(`w${i}`, `c${i % 4}`, NOW.getTime());
    const candidates = [room('a', 'c0', 5), room('b', 'c1', 500), room('c', 'c2', 50), room('d', 'new', 0)];
    for (const v of [guest, viewer([])]) {
      const ranked = await ranker.rank(v, candidates, NOW);
      expect(ranked.map((r) => r.roomId)).toEqual(['b', 'c', 'a', 'd']);
      expect(ranked.every((r) => r.reason.code === 'popular_now')).toBe(true);
      expect(ranked[0].reason.text).toMatch(/popular/i);
    }
  });

  it("lets a new creator's first live room in, by tags or by popularity", async () => {
    const ranker = createLiveRanker();
    const v = viewer([{ creatorId: 'x', count: 1, lastAt: NOW.getTime() - 10 * DAY }], {
      tags: { jazz: 3, piano: 1 },
    });
    const candidates = [room('plain', 'someone', 2), room('debut', 'brand-new', 0, { tags: ['jazz', 'live'] })];
    const ranked = await ranker.rank(v, candidates, NOW);
    expect(ranked[0].roomId).toBe('debut');
    expect(ranked[0].reason.code).toBe('tags');
    // Without tags, a popular debut still outranks an unpopular unknown room.
    const byPopularity = await ranker.rank(guest, [room('plain', 'someone', 2), room('debut', 'brand-new', 900)], NOW);
    expect(byPopularity[0].roomId).toBe('debut');
  });

  it('recommends what viewers with the same taste watch, learned from the engagement stream', async () => {
    const ranker = createLiveRanker();
    const t = NOW.getTime() - 5 * DAY;
    // Fans of A also watch B; C's audience is unrelated.
    for (let i = 0; i < 20; i++) {
      ranker.observeWatch(`fan${i}`, 'A', t);
      ranker.observeWatch(`fan${i}`, 'B', t + HOUR);
      ranker.observeWatch(`other${i}`, 'C', t);
      ranker.observeWatch(`other${i}`, 'D', t + HOUR);
    }
    const v = viewer([{ creatorId: 'A', count: 3, lastAt: NOW.getTime() - 3 * HOUR }]);
    const ranked = await ranker.rank(v, [room('c', 'C', 40), room('b', 'B', 40)], NOW);
    expect(ranked[0].roomId).toBe('b');
    expect(ranked[0].reason.code).toBe('similar_viewers');
    expect(ranker.stats.both(ranker.stats.id('A'), ranker.stats.id('B'))).toBe(20);
  });

  it('gives follows, subscriptions and upcoming rooms their reasons', async () => {
    const ranker = createLiveRanker();
    const v = viewer([], { follows: ['f'], subscriptions: ['s'] });
    const ranked = await ranker.rank(
      v,
      [
        room('pop', 'p', 30),
        room('fol', 'f', 1),
        room('sub', 's', 1),
        room('soon', 'f', 0, { status: 'scheduled', startedAt: null, scheduledAt: NOW.toISOString() }),
      ],
      NOW,
    );
    const reason = Object.fromEntries(ranked.map((r) => [r.roomId, r.reason.code]));
    expect(reason).toEqual({ pop: 'popular_now', fol: 'following', sub: 'subscribed', soon: 'upcoming' });
    expect(ranked.map((r) => r.roomId).slice(0, 2)).toEqual(['sub', 'fol']);
    expect(ranked.findIndex((r) => r.roomId === 'soon')).toBeGreaterThan(ranked.findIndex((r) => r.roomId === 'fol'));
  });

  it('learns online from choices', () => {
    const ranker = createLiveRanker({ training: { learningRate: 0.2 } });
    const follow = FEATURE_NAMES.indexOf('following');
    const before = ranker.weights().w[follow];
    const v = viewer([], { follows: ['f'] });
    const candidates = [room('a', 'f', 1), room('b', 'g', 100), room('c', 'h', 100)];
    for (let i = 0; i < 20; i++) expect(ranker.learn(v, candidates, 'a', NOW)).toBeGreaterThan(0);
    expect(ranker.weights().w[follow]).toBeGreaterThan(before);
    expect(ranker.learn(v, candidates, 'ended-room', NOW)).toBeNull();
    expect(DEFAULT_LIVE_WEIGHTS.w[follow]).toBe(before); // the shipped constants are untouched
  });
});

describe('CoWatchStats', () => {
  it('counts shared viewers and transitions, once per viewer and creator', () => {
    const s = new CoWatchStats();
    for (const c of ['A', 'B', 'A', 'B', 'C']) s.observe('v', c);
    s.observe('w', 'A');
    s.observe('w', 'C');
    const [a, b, c] = ['A', 'B', 'C'].map((x) => s.id(x));
    expect([s.viewers(a), s.viewers(b), s.viewers(c)]).toEqual([2, 1, 2]);
    expect(s.both(a, b)).toBe(1);
    expect(s.both(b, a)).toBe(1);
    expect(s.both(a, c)).toBe(2);
    expect(s.transitions(a, b)).toBe(2);
    expect(s.transitions(b, a)).toBe(1);
    expect(s.transitionsFrom(a)).toBe(3); // A→B twice, A→C once
    expect(s.id('nobody')).toBe(-1);
  });

  it('stays within its bounds', () => {
    const s = new CoWatchStats({ maxViewers: 10, historyPerViewer: 5, maxCreators: 50, maxPairs: 100 });
    // Each viewer watches 25 creators in a row, over 37 viewers (more than are remembered).
    for (let i = 0; i < 5000; i++) s.observe(`v${Math.floor(i / 25) % 37}`, `c${(i * 7919) % 80}`);
    expect(s.viewerCount).toBeLessThanOrEqual(10);
    expect(s.creators).toBeLessThanOrEqual(50);
    expect(s.pairCount).toBeLessThanOrEqual(100);
    expect(s.prunes).toBeGreaterThan(0);
  });
});
