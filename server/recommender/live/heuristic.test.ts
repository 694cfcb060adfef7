import { HEURISTIC_WEIGHTS, heuristicLiveRanker, rankHeuristically } from './heuristic';
import type { LiveCandidate, ViewerContext } from './types';

const NOW = new Date('2025-06-01T12:00:00Z');
const DAY = 86_400_000;
const ago = (days: number) => NOW.getTime() - days * DAY;

const live = (roomId: string, creatorId: string, viewers: number, fields: Partial<LiveCandidate> = {}) =>
  ({
    roomId,
    creatorId,
    status: 'live',
    tags: [],
    viewers,
    startedAt: new Date(NOW.getTime() - 3_600_000).toISOString(),
    scheduledAt: null,
    ...fields,
  }) satisfies LiveCandidate;

const scheduled = (roomId: string, creatorId: string, inHours: number, fields: Partial<LiveCandidate> = {}) =>
  ({
    roomId,
    creatorId,
    status: 'scheduled',
    tags: [],
    viewers: 0,
    startedAt: null,
    scheduledAt: new Date(NOW.getTime() + inHours * 3_600_000).toISOString(),
    ...fields,
  }) satisfies LiveCandidate;

const guest = (fields: Partial<ViewerContext> = {}): ViewerContext => ({
  viewerId: null,
  watched: [],
  follows: [],
  subscriptions: [],
  tags: {},
  ...fields,
});

const viewer = (fields: Partial<ViewerContext> = {}) => guest({ viewerId: 'me', ...fields });
const ids = (ranked: { roomId: string }[]) => ranked.map((r) => r.roomId);

describe('the heuristic live ranker', () => {
  it('ranks only the candidates it is given, each once (an ended or unknown room never comes out)', async () => {
    const candidates = [
      live('r1', 'x', 10),
      live('r2', 'y', 3),
      live('r1', 'x', 10), // twice in the input: once in the output
      { ...live('r3', 'z', 99), status: 'ended' } as unknown as LiveCandidate,
      scheduled('s1', 'x', 5),
    ];
    const context = viewer({
      watched: [
        { creatorId: 'x', count: 2, lastAt: ago(1) },
        { creatorId: 'gone', count: 9, lastAt: ago(1) },
      ],
      subscriptions: ['z', 'nobody'],
      tags: { math: 3 },
      contextRoomId: 'r9',
    });
    const ranked = await heuristicLiveRanker.rank(context, candidates, NOW);
    expect(ids(ranked)).toEqual(['r1', 'r2', 's1']);
    expect(rankHeuristically(context, [], NOW)).toEqual([]);
  });

  it('puts the creator the viewer keeps coming back to first, above a much busier room', () => {
    const ranked = rankHeuristically(
      viewer({ watched: [{ creatorId: 'x', count: 3, lastAt: ago(2) }] }),
      [live('busy', 'y', 500), live('xs', 'x', 0), live('quiet', 'z', 4)],
      NOW,
    );
    expect(ids(ranked)).toEqual(['xs', 'busy', 'quiet']);
    expect(ranked[0].reason).toEqual({ code: 'watched_before', text: 'You watched this creator 3 times' });
    expect(ranked[1].reason).toEqual({ code: 'popular_now', text: 'Popular now: 500 watching' });
  });

  it('counts repeats and lets old watches fade', () => {
    const rooms = [live('a', 'A', 5), live('b', 'B', 5), live('c', 'C', 5)];
    const repeats = rankHeuristically(
      viewer({
        watched: [
          { creatorId: 'B', count: 1, lastAt: ago(1) },
          { creatorId: 'A', count: 6, lastAt: ago(1) },
        ],
      }),
      rooms,
      NOW,
    );
    expect(ids(repeats)).toEqual(['a', 'b', 'c']);
    expect(repeats[1].reason.text).toBe('You watched this creator before');

    const fading = rankHeuristically(
      viewer({
        watched: [
          { creatorId: 'A', count: 2, lastAt: ago(200) },
          { creatorId: 'B', count: 2, lastAt: ago(3) },
        ],
      }),
      rooms,
      NOW,
    );
    expect(ids(fading)).toEqual(['b', 'a', 'c']);
    // One half-life on, a watch counts half.
    const [now, later] = [0, HEURISTIC_WEIGHTS.watchedHalfLifeDays].map(
      (days) =>
        rankHeuristically(
          viewer({ watched: [{ creatorId: 'A', count: 1, lastAt: ago(days) }] }),
          [live('a', 'A', 0)],
          NOW,
        )[0].score,
    );
    expect(later).toBeCloseTo(now / 2);
  });

  it('cold start (a guest, a new viewer): the busiest first, the newest room first among equals', () => {
    const rooms = [
      live('mid', 'a', 20),
      live('new', 'b', 0, { startedAt: new Date(NOW.getTime() - 60_000).toISOString() }),
      live('top', 'c', 300),
      live('old', 'd', 0, { startedAt: new Date(NOW.getTime() - 7_200_000).toISOString() }),
      scheduled('later', 'a', 2),
    ];
    for (const context of [guest(), viewer()]) {
      const ranked = rankHeuristically(context, rooms, NOW);
      // Nothing points at the upcoming room: it is not suggested.
      expect(ids(ranked)).toEqual(['top', 'mid', 'new', 'old']);
      expect(ranked.map((r) => r.reason.code)).toEqual(['popular_now', 'popular_now', 'popular_now', 'popular_now']);
      expect(ranked[0].score).toBeCloseTo(HEURISTIC_WEIGHTS.popularity * Math.log(301));
      expect(ranked[2].reason.text).toBe('Be one of the first to watch');
    }
  });

  it('says why: subscribed, following, tags (naming the tag), popular; upcoming after every live room', () => {
    const ranked = rankHeuristically(
      viewer({
        subscriptions: ['S'],
        follows: ['F'],
        tags: { math: 4, chess: 1 },
        watched: [{ creatorId: 'W', count: 1, lastAt: ago(0) }],
      }),
      [
        live('pop', 'P', 100),
        live('sub', 'S', 0),
        live('fol', 'F', 0),
        live('tag', 'T', 0, { tags: ['chess', 'math'] }),
        scheduled('up-far', 'W', 100),
        scheduled('up-soon', 'W', 1),
        scheduled('up-tag', 'N', 3, { tags: ['math'] }),
        scheduled('up-none', 'N', 3),
      ],
      NOW,
    );
    expect(ids(ranked)).toEqual(['sub', 'fol', 'pop', 'tag', 'up-soon', 'up-far', 'up-tag']);
    expect(Object.fromEntries(ranked.map((r) => [r.roomId, r.reason]))).toEqual({
      sub: { code: 'subscribed', text: 'You subscribe to this creator' },
      fol: { code: 'following', text: 'You follow this creator' },
      pop: { code: 'popular_now', text: 'Popular now: 100 watching' },
      tag: { code: 'tags', text: 'Matches your interest in #math' },
      'up-soon': { code: 'upcoming', text: 'Coming up from a creator you watched' },
      'up-far': { code: 'upcoming', text: 'Coming up from a creator you watched' },
      'up-tag': { code: 'upcoming', text: 'Coming up: matches your interest in #math' },
    });
    for (const r of ranked) {
      expect(r.reason.text.length).toBeGreaterThan(0);
      expect(Number.isFinite(r.score)).toBe(true);
    }
  });

  it('does not count the viewer’s own rooms as watched', () => {
    const ranked = rankHeuristically(
      viewer({ watched: [{ creatorId: 'me', count: 10, lastAt: ago(0) }] }),
      [live('mine', 'me', 0), live('theirs', 'x', 2)],
      NOW,
    );
    expect(ids(ranked)).toEqual(['theirs', 'mine']);
    expect(ranked[1].reason.code).toBe('popular_now');
  });
});
