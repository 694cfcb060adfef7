import { evaluateFullRanking, expectedHitAndGain } from './metrics';

describe('expectedHitAndGain', () => {
  it('is 1/log2(rank + 2) for a hit without ties and 0 past k', () => {
    expect(expectedHitAndGain(0, 0, 10)).toEqual({ hit: 1, gain: 1 });
    expect(expectedHitAndGain(2, 0, 10).gain).toBeCloseTo(0.5, 12); // rank 2 → 1/log2(4)
    expect(expectedHitAndGain(9, 0, 10).hit).toBe(1);
    expect(expectedHitAndGain(10, 0, 10)).toEqual({ hit: 0, gain: 0 });
  });

  it('averages over a random order of ties', () => {
    // Rank 8 or 9 (hits) or 10, 11 (misses) with equal chance.
    const { hit, gain } = expectedHitAndGain(8, 3, 10);
    expect(hit).toBe(0.5);
    expect(gain).toBeCloseTo((1 / Math.log2(10) + 1 / Math.log2(11)) / 4, 12);
  });
});

describe('evaluateFullRanking', () => {
  // 6 items; user 0 trained on item 0, target 3; user 1 trained on items 1, 2, target 5.
  const train = {
    offsets: Int32Array.from([0, 1, 3]),
    items: Int32Array.from([0, 1, 2]),
    timestamps: new Float64Array(3),
  };
  const targets = Int32Array.from([3, 5]);
  const table: Record<number, number[]> = {
    0: [9, 8, 1, 7, 0, 2], // item 0 (training) would beat the target; item 1 does → rank 1
    1: [0, 9, 9, 1, 0, 5], // training items 1, 2 excluded → target 5 first, rank 0
  };
  const scorer = (users: Int32Array) => Float32Array.from(Array.from(users).flatMap((u) => table[u]));

  it('ranks against every item but the user’s own training items', () => {
    const m = evaluateFullRanking({ nItems: 6, train, users: Int32Array.from([0, 1]), targets, scorer, k: 10 });
    expect(m.hitRate).toBe(1);
    expect(m.ndcg).toBeCloseTo((1 / Math.log2(3) + 1) / 2, 12);
  });

  it('counts a target outside the top k as a miss', () => {
    const m = evaluateFullRanking({ nItems: 6, train, users: Int32Array.from([0, 1]), targets, scorer, k: 1 });
    expect(m.hitRate).toBe(0.5);
    expect(m.ndcg).toBe(0.5);
  });
});
