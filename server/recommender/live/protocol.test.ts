import { Random } from '../model/random';
import { parseInteractionsCsv } from '../offline/csv';
import { evaluateLive } from './evaluate';
import { availableAt, liveBaselineRanks, liveMetrics, liveSplit, rankOf } from './protocol';

/**
 * A hand-made log, window 100 s. Test rows: a's X at 200 (a repeat), b's W at 120 (tied in time
 * with b's Z, later in the file, so it is the last), c's X at 150. d has one row: training only.
 */
const CSV = [
  'user,item,timestamp',
  'a,X,0', // 0: outside every window
  'a,Y,50', // 1: exactly at the start of c's window [50, 150]
  'b,X,60', // 2
  'b,Z,120', // 3
  'c,Y,130', // 4
  'c,X,150', // 5: c's test row
  'a,X,200', // 6: a's test row, a repeat
  'b,W,120', // 7: b's test row (same time as row 3, later in the file); nobody else starts W
  'd,Q,500', // 8: d's only row
].join('\n');

const log = parseInteractionsCsv(CSV);
const split = liveSplit(log);
const item = (name: string) => log.itemIds.indexOf(name);
const names = (items: Int32Array) => Array.from(items, (i) => log.itemIds[i]);
const user = (name: string) => log.userIds.indexOf(name);

describe('the live protocol', () => {
  it('tests each viewer with ≥ 2 rows on their last row in time order, ties in file order', () => {
    expect(Array.from(split.testUsers, (u) => log.userIds[u])).toEqual(['a', 'b', 'c']);
    expect(split.testRow[user('a')]).toBe(6);
    expect(split.testRow[user('b')]).toBe(7);
    expect(split.testRow[user('c')]).toBe(5);
    expect(split.testRow[user('d')]).toBe(-1);
  });

  it('offers every item with a start in [t − window, t], ended and future ones excluded', () => {
    const c = availableAt(split, 150, 100, 5);
    expect(names(c.items)).toEqual(['W', 'X', 'Y', 'Z']); // a's Y at exactly 50 counts; a's X at 0 does not
    // pop-now: starts in the window without the test row itself (the viewer's own earlier ones count)
    expect(Array.from(c.popNow)).toEqual([1, 1, 2, 1]);
    const b = availableAt(split, 120, 100, 7);
    expect(names(b.items)).toEqual(['W', 'X', 'Y', 'Z']);
    expect(Array.from(b.popNow)).toEqual([0, 1, 1, 1]); // W is a candidate only through the test row
    const early = availableAt(split, 55, 10, -1);
    expect(names(early.items)).toEqual(['Y']); // b's X at 60 has not started yet
  });

  it('ranks by score, then pop-now, then item name', () => {
    const items = Int32Array.from(['W', 'X', 'Y', 'Z'].map(item));
    const pop = [1, 1, 2, 1];
    expect(rankOf(items, [0, 0, 0, 0], pop, item('X'), split.nameRank)).toBe(2); // Y (pop 2), W (name)
    expect(rankOf(items, [0, 5, 0, 0], pop, item('X'), split.nameRank)).toBe(0);
    expect(rankOf(items, [1, 1, 0, 1], pop, item('Z'), split.nameRank)).toBe(2);
    expect(() => rankOf(items, [0, 0, 0, 0], pop, item('Q'), split.nameRank)).toThrow(/not a candidate/);
  });

  it('computes the baselines by hand: repeats allowed, ties by pop-now', () => {
    const r = liveBaselineRanks(split, 100);
    // a: X repeat (1 watch) ties Y on count and pop, wins on name; b: W never watched, pop 0; c: X new.
    expect(Array.from(r.repeat)).toEqual([0, 3, 2]);
    expect(Array.from(r.popNow)).toEqual([1, 3, 2]);
    // cosine: X–Y 1/(√2·√2) = 0.5, X–Z 1/√2; a {X,Y}: Z .71, X .5 = Y .5 (X by name); b {X,Z}: X = Z .71, Y .5, W 0
    expect(Array.from(r.itemKnn)).toEqual([1, 3, 0]);
  });

  it('reports HR@1, HR@10 and NDCG@10 of 0-based ranks', () => {
    const m = liveMetrics([0, 3, 12]);
    expect(m.hr1).toBeCloseTo(1 / 3);
    expect(m.hr10).toBeCloseTo(2 / 3);
    expect(m.ndcg10).toBeCloseTo((1 + 1 / Math.log2(5)) / 3);
  });
});

/**
 * A synthetic platform: creators stream daily in their own hour; viewers mostly watch one of
 * their favourite creators, sometimes whatever is on. Repeat consumption is the signal.
 */
function syntheticCsv(seed: number): string {
  const rng = new Random(seed);
  const lines = ['user,item,timestamp'];
  const creators = 24;
  for (let u = 0; u < 80; u++) {
    const favourites = [rng.int(creators), rng.int(creators), rng.int(creators)];
    for (let day = 0; day < 20; day++) {
      if (rng.next() < 0.3) continue;
      const c = rng.next() < 0.8 ? favourites[rng.int(3)] : rng.int(creators);
      const t = day * 86_400 + (c % 12) * 3600 + 600 * rng.int(3);
      lines.push(`u${u},c${c},${t}`);
    }
  }
  return lines.join('\n');
}

describe('evaluateLive', () => {
  const report = evaluateLive(parseInteractionsCsv(syntheticCsv(3)), { window: 7200, epochs: 3 });

  it('reports the model and the three baselines', () => {
    for (const m of [report.model, report.popNow, report.repeat, report.itemKnn]) {
      expect(m.hr1).toBeGreaterThanOrEqual(0);
      expect(m.hr1).toBeLessThanOrEqual(m.hr10);
      expect(m.ndcg10).toBeLessThanOrEqual(m.hr10);
      expect(m.ndcg10).toBeGreaterThanOrEqual(m.hr1);
    }
    expect(report.details.testUsers).toBe(80);
  });

  it('scores the test with the online ranker exactly as with the offline features', () => {
    expect(report.details.rankerVsOffline).toBeLessThan(1e-9);
  });

  it('learns repeat consumption: beats pop-now and is not worse than repeat at the top', () => {
    expect(report.model.hr1).toBeGreaterThan(report.popNow.hr1 + 0.2);
    expect(report.model.hr1).toBeGreaterThanOrEqual(report.repeat.hr1 - 0.05);
    expect(report.details.weights.logCount + report.details.weights.share).toBeGreaterThan(0);
  });
});
