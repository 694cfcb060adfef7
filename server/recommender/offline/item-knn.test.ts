import { blendScorers, CosineSimilarity, itemKnnScorer } from './item-knn';
import { evaluateFullRanking } from './metrics';
import type { UserSequences } from './split';

function sequences(lists: number[][]): UserSequences {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, u) => {
    offsets[u + 1] = offsets[u] + l.length;
  });
  return { offsets, items: Int32Array.from(lists.flat()), timestamps: new Float64Array(offsets[lists.length]) };
}

describe('item-kNN', () => {
  // Users: {0,1}, {0,2}, {1}, {3}. Items 0 and 1 share one user of two each: cosine 1/2; 0 and 2: 1/√2.
  const train = sequences([[0, 1], [0, 2], [1], [3]]);

  it('is the cosine of the binary co-occurrence, diagonal zero, as numpy computes it', () => {
    const sim = new CosineSimilarity(4, [[0, 1], [0, 2], [1], [3]]);
    expect(sim.s[0 * 4 + 1]).toBeCloseTo(0.5, 6);
    expect(sim.s[1 * 4 + 0]).toBeCloseTo(0.5, 6);
    expect(sim.s[0 * 4 + 2]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(sim.s[1 * 4 + 2]).toBe(0);
    expect(sim.s[0 * 4 + 0]).toBe(0);
    expect(Array.from(sim.users)).toEqual([2, 2, 1, 1]);
  });

  it("scores each item by its similarity summed over the user's items", () => {
    const scores = itemKnnScorer(train, 4)(Int32Array.from([0, 2]));
    // user 0 {0,1}: item 0 ← 1 (0.5), item 1 ← 0 (0.5), item 2 ← 0 (0.71), item 3 nothing
    const first = Array.from(scores.subarray(0, 4));
    for (const [i, v] of [0.5, 0.5, Math.SQRT1_2, 0].entries()) expect(first[i]).toBeCloseTo(v, 6);
    // user 2 {1}: item 0 only
    expect(Array.from(scores.subarray(4, 8)).map((x) => +x.toFixed(4))).toEqual([0.5, 0, 0, 0]);
  });

  it('ranks the held-out item with the full-ranking protocol', () => {
    // user 2's next item is 0: the only item similar to what they had
    const m = evaluateFullRanking({
      nItems: 4,
      train,
      users: Int32Array.from([2]),
      targets: Int32Array.from([-1, -1, 0, -1]),
      scorer: itemKnnScorer(train, 4),
      k: 1,
    });
    expect(m.hitRate).toBe(1);
  });

  it('blends two scorers on a common scale by one weight', () => {
    const a = () => Float32Array.from([10, 20, 30, 40]); // one user, 4 items: a prefers 3
    const b = () => Float32Array.from([0.4, 0.3, 0.2, 0.1]); // b prefers 0
    const users = Int32Array.from([0]);
    const order = (s: Float32Array) => Array.from(s.keys()).sort((i, j) => s[j] - s[i]);
    expect(order(blendScorers(a, b, 0, 4)(users))).toEqual([3, 2, 1, 0]);
    expect(order(blendScorers(a, b, 1, 4)(users))).toEqual([0, 1, 2, 3]);
    const half = blendScorers(a, b, 0.5, 4)(users);
    // standardised, the two are exact opposites: an even blend is flat
    for (const v of half) expect(Math.abs(v)).toBeLessThan(1e-6);
  });
});
