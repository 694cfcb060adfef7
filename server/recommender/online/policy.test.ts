import { Random } from '../model/random';
import { ExposureWindow, PushLimiter, type SelectOptions, selectItems } from './policy';
import type { ScoredBatch } from './scorer';
import type { CandidateItem } from './types';

const SECOND = 1000;

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

const limits = {
  pushIntervalMs: 60 * SECOND,
  joinGraceMs: 60 * SECOND,
  dismissCooldownMs: 600 * SECOND,
  repeatCooldownMs: 900 * SECOND,
  dismissedItemMs: 24 * 3600 * SECOND,
};

describe('PushLimiter', () => {
  it('waits out the join grace, then allows one suggestion per interval', () => {
    const c = clock();
    const l = new PushLimiter(limits, c.now);
    const joinedAt = c.now();
    expect(l.due('u', joinedAt)).toBe(false);
    c.advance(59 * SECOND);
    expect(l.due('u', joinedAt)).toBe(false);
    c.advance(SECOND);
    expect(l.due('u', joinedAt)).toBe(true);
    l.pushed('u', ['a']);
    expect(l.due('u', joinedAt)).toBe(false);
    c.advance(59 * SECOND);
    expect(l.due('u', joinedAt)).toBe(false);
    c.advance(SECOND);
    expect(l.due('u', joinedAt)).toBe(true);
    expect(l.due('someone else', joinedAt)).toBe(true); // per viewer
  });

  it('restarts the grace on a new join', () => {
    const c = clock();
    const l = new PushLimiter(limits, c.now);
    c.advance(3600 * SECOND);
    expect(l.due('u', c.now() - 30 * SECOND)).toBe(false);
    expect(l.due('u', c.now() - 61 * SECOND)).toBe(true);
  });

  it('goes quiet for the cooldown after a dismissal, and keeps the dismissed item out for a day', () => {
    const c = clock();
    const l = new PushLimiter(limits, c.now);
    const joinedAt = c.now() - 3600 * SECOND;
    l.pushed('u', ['a', 'b']);
    c.advance(60 * SECOND);
    l.dismissed('u', 'a');
    c.advance(599 * SECOND);
    expect(l.due('u', joinedAt)).toBe(false);
    c.advance(SECOND);
    expect(l.due('u', joinedAt)).toBe(true);
    expect(l.blocked('u').dismissed.has('a')).toBe(true);
    c.advance(24 * 3600 * SECOND);
    expect(l.blocked('u').dismissed.has('a')).toBe(false);
  });

  it('remembers what was shown for the repeat cooldown, and forgets idle viewers', () => {
    const c = clock();
    const l = new PushLimiter(limits, c.now);
    l.pushed('u', ['a']);
    expect([...l.blocked('u').recentlyShown]).toEqual(['a']);
    c.advance(900 * SECOND);
    expect([...l.blocked('u').recentlyShown]).toEqual([]);
    c.advance(24 * 3600 * SECOND);
    l.sweep();
    expect(l.due('u', 0)).toBe(true);
  });
});

describe('ExposureWindow', () => {
  it('counts exposures per creator over a sliding window', () => {
    const c = clock();
    const w = new ExposureWindow(10 * SECOND, c.now);
    w.add('a');
    w.add('a');
    c.advance(5 * SECOND);
    w.add('b');
    expect(w.total).toBe(3);
    expect(w.count('a')).toBe(2);
    c.advance(5 * SECOND + 1);
    expect(w.total).toBe(1);
    expect(w.count('a')).toBe(0);
    expect(w.snapshot()).toEqual(new Map([['b', 1]]));
  });
});

// --- selection ----------------------------------------------------------------------------------

function candidates(spec: { id: string; creator: string; price?: number }[]): CandidateItem[] {
  return spec.map(({ id, creator, price = 1000 }) => ({
    item: { id, kind: 'lesson', creatorId: creator, title: id, price, tags: [] },
    source: 'room',
  }));
}

function scores(probability: number[], oddsStd: number[] = probability.map(() => 0)): ScoredBatch {
  return {
    probability: Float32Array.from(probability),
    value: Float32Array.from(probability),
    oddsStd: Float32Array.from(oddsStd),
  };
}

const base = (rng = new Random(1)): SelectOptions => ({
  policy: 'model',
  maxItems: 3,
  exploration: 1,
  rng,
  dismissed: new Set(),
  recentlyShown: new Set(),
});

describe('selectItems', () => {
  it('ranks by expected revenue (probability × price) when there is no uncertainty', () => {
    const list = candidates([
      { id: 'cheap-likely', creator: 'x', price: 100 },
      { id: 'dear-unlikely', creator: 'x', price: 10_000 },
      { id: 'middle', creator: 'x', price: 1000 },
    ]);
    const chosen = selectItems(list, scores([0.5, 0.01, 0.2]), { ...base(), maxItems: 2 });
    expect(chosen.map((c) => list[c.index].item.id)).toEqual(['middle', 'dear-unlikely']);
  });

  it('explores: an uncertain candidate is sometimes shown first, never with exploration 0', () => {
    const list = candidates([
      { id: 'known', creator: 'x' },
      { id: 'new', creator: 'y' },
    ]);
    const s = scores([0.05, 0.03], [0.05, 2]);
    const rng = new Random(7);
    let newFirst = 0;
    for (let i = 0; i < 500; i++) {
      const [top] = selectItems(list, s, { ...base(rng), maxItems: 1 });
      if (list[top.index].item.id === 'new') newFirst++;
    }
    expect(newFirst).toBeGreaterThan(50);
    expect(newFirst).toBeLessThan(450);
    for (let i = 0; i < 50; i++) {
      const [top] = selectItems(list, s, { ...base(rng), maxItems: 1, exploration: 0 });
      expect(list[top.index].item.id).toBe('known');
    }
  });

  it("caps one creator's share of exposure while others are eligible", () => {
    const rng = new Random(3);
    const window = new ExposureWindow(3600 * SECOND);
    const fairness = { window, maxShare: 0.4, minExposures: 20 };
    // The big creator's items always score best.
    const list = candidates([
      { id: 'big-1', creator: 'big' },
      { id: 'big-2', creator: 'big' },
      { id: 'big-3', creator: 'big' },
      { id: 'small-1', creator: 'small' },
      { id: 'other-1', creator: 'other' },
    ]);
    const s = scores([0.3, 0.29, 0.28, 0.05, 0.04]);
    for (let push = 0; push < 200; push++) {
      for (const c of selectItems(list, s, { ...base(rng), exploration: 0, fairness })) {
        window.add(list[c.index].item.creatorId);
      }
    }
    const total = window.total;
    expect(total).toBeGreaterThan(400);
    // Held to the cap (the last push may overshoot by its own items only).
    expect(window.count('big') / total).toBeLessThanOrEqual(0.4 + 3 / total);
    expect(window.count('big') / total).toBeGreaterThan(0.3); // but not starved either
    expect(window.count('small')).toBeGreaterThan(0);
  });

  it('lets the cap give way when every candidate is from a capped creator', () => {
    const window = new ExposureWindow(3600 * SECOND);
    for (let i = 0; i < 100; i++) window.add('only');
    const list = candidates([{ id: 'a', creator: 'only' }]);
    const chosen = selectItems(list, scores([0.1]), {
      ...base(),
      fairness: { window, maxShare: 0.3, minExposures: 10 },
    });
    expect(chosen).toHaveLength(1);
  });

  it('never shows dismissed items, and repeats only when nothing else is left', () => {
    const list = candidates([
      { id: 'a', creator: 'x' },
      { id: 'b', creator: 'x' },
      { id: 'c', creator: 'x' },
    ]);
    const s = scores([0.3, 0.2, 0.1]);
    const chosen = selectItems(list, s, {
      ...base(),
      exploration: 0,
      dismissed: new Set(['a']),
      recentlyShown: new Set(['b']),
    });
    expect(chosen.map((c) => list[c.index].item.id)).toEqual(['c']);
    const onlyRepeats = selectItems(list, s, {
      ...base(),
      exploration: 0,
      dismissed: new Set(['a', 'c']),
      recentlyShown: new Set(['b']),
    });
    expect(onlyRepeats.map((c) => list[c.index].item.id)).toEqual(['b']);
  });

  it('ranks by purchases for the popularity baseline, and ignores the fairness cap there', () => {
    const list = candidates([
      { id: 'a', creator: 'x' },
      { id: 'b', creator: 'x' },
      { id: 'c', creator: 'y' },
    ]);
    const window = new ExposureWindow(3600 * SECOND);
    for (let i = 0; i < 100; i++) window.add('x');
    const sales: Record<string, number> = { a: 10, b: 50, c: 1 };
    const chosen = selectItems(list, undefined, {
      ...base(),
      policy: 'popularity',
      maxItems: 2,
      popularity: (id) => sales[id],
      fairness: { window, maxShare: 0.1, minExposures: 1 },
    });
    expect(chosen.map((c) => list[c.index].item.id)).toEqual(['b', 'a']);
  });
});
