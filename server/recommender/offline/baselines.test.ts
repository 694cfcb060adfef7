import { Random } from '../model/random';
import { BprModel } from './bpr';
import { evaluateFullRanking } from './metrics';
import { popularityScorer } from './popularity';
import type { UserSequences } from './split';

/** Users in two camps; each camp consumes its own half of the catalog, one item far more popular overall. */
function twoCamps(users: number, items: number, perUser: number, seed: number) {
  const rng = new Random(seed);
  const sequences: number[][] = [];
  for (let u = 0; u < users; u++) {
    const camp = u % 2;
    const had = new Set<number>();
    if (camp === 1) had.add(0); // item 0 is in camp 0's half but every camp-1 user also has it
    while (had.size < perUser) had.add(camp * (items / 2) + rng.int(items / 2));
    sequences.push(rng.shuffle([...had]));
  }
  const offsets = new Int32Array(users + 1);
  sequences.forEach((s, u) => {
    offsets[u + 1] = offsets[u] + s.length - 1;
  });
  const train: UserSequences = {
    offsets,
    items: Int32Array.from(sequences.flatMap((s) => s.slice(0, -1))),
    timestamps: new Float64Array(offsets[users]),
  };
  const targets = Int32Array.from(sequences, (s) => s[s.length - 1]);
  return { train, targets, users: Int32Array.from({ length: users }, (_, u) => u) };
}

describe('popularityScorer', () => {
  it('scores every user with the training counts', () => {
    const train: UserSequences = {
      offsets: Int32Array.from([0, 2, 3]),
      items: Int32Array.from([2, 1, 2]),
      timestamps: new Float64Array(3),
    };
    const scores = popularityScorer(train, 4)(Int32Array.from([0, 1]));
    expect(Array.from(scores)).toEqual([0, 1, 2, 0, 0, 1, 2, 0]);
  });
});

describe('BprModel', () => {
  const data = twoCamps(200, 60, 8, 1);
  const popularity = evaluateFullRanking({ nItems: 60, ...data, scorer: popularityScorer(data.train, 60) });

  it('lowers its loss and learns the camps that popularity cannot see', () => {
    const bpr = new BprModel(data.train, 60, { factors: 8, seed: 3 });
    const first = bpr.trainEpoch();
    let last = first;
    for (let e = 0; e < 30; e++) last = bpr.trainEpoch();
    expect(last).toBeLessThan(first * 0.8);
    const learned = evaluateFullRanking({ nItems: 60, ...data, scorer: bpr.scorer() });
    // Ranking within the right half of the catalog alone doubles the hit rate.
    expect(learned.hitRate).toBeGreaterThan(popularity.hitRate * 1.5);
    expect(learned.hitRate).toBeGreaterThan(0.4);
  });

  it('is deterministic for a seed', () => {
    const a = new BprModel(data.train, 60, { factors: 4, seed: 9 });
    const b = new BprModel(data.train, 60, { factors: 4, seed: 9 });
    a.trainEpoch();
    b.trainEpoch();
    expect(Array.from(a.scorer()(Int32Array.from([0])))).toEqual(Array.from(b.scorer()(Int32Array.from([0]))));
  });
});
