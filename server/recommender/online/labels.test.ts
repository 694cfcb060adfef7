import { isHeldOut, LabelJoiner, type PendingImpression } from './labels';

const WINDOW = 10_000;

const impression = (id: string, fields: Partial<PendingImpression> = {}): PendingImpression => ({
  id,
  userId: 'u1',
  roomId: 'r1',
  itemId: 'c1',
  shownAt: 1000,
  modelVersion: 'm1',
  ...fields,
});

describe('LabelJoiner', () => {
  it('labels an impression positive when the viewer clicks it within the window', () => {
    const j = new LabelJoiner({ windowMs: WINDOW });
    j.shown(impression('a'));
    const resolved = j.clicked('u1', 'c1', 5000);
    expect(resolved).toEqual([{ impression: impression('a'), label: 1, reason: 'click' }]);
    expect(j.size).toBe(0);
    // Resolved once: a later purchase of the same item finds nothing pending.
    expect(j.purchased('u1', 'c1', 6000)).toEqual([]);
  });

  it('labels positive on a purchase of the item within the window, for that viewer only', () => {
    const j = new LabelJoiner({ windowMs: WINDOW });
    j.shown(impression('a'));
    j.shown(impression('b', { userId: 'u2' }));
    expect(j.purchased('u1', 'c2', 2000)).toEqual([]); // another item
    const resolved = j.purchased('u1', 'c1', 2000);
    expect(resolved.map((r) => [r.impression.id, r.label, r.reason])).toEqual([['a', 1, 'purchase']]);
    expect(j.size).toBe(1);
  });

  it('ignores reactions before the impression or after its window', () => {
    const j = new LabelJoiner({ windowMs: WINDOW });
    j.shown(impression('a', { shownAt: 1000 }));
    expect(j.clicked('u1', 'c1', 999)).toEqual([]);
    expect(j.clicked('u1', 'c1', 1000 + WINDOW + 1)).toEqual([]);
    expect(j.size).toBe(1);
  });

  it('labels negative at once on a dismissal, and when the window passes without a reaction', () => {
    const j = new LabelJoiner({ windowMs: WINDOW });
    j.shown(impression('a', { itemId: 'c1' }));
    j.shown(impression('b', { itemId: 'c2', shownAt: 3000 }));
    j.shown(impression('c', { itemId: 'c3', shownAt: 20_000 }));
    expect(j.dismissed('u1', 'c1', 1500).map((r) => [r.impression.id, r.label, r.reason])).toEqual([
      ['a', 0, 'dismiss'],
    ]);
    expect(j.expire(3000 + WINDOW)).toEqual([]); // the window is inclusive
    const expired = j.expire(3000 + WINDOW + 1);
    expect(expired.map((r) => [r.impression.id, r.label, r.reason])).toEqual([['b', 0, 'expired']]);
    expect(j.size).toBe(1);
  });

  it('resolves every matching impression of the viewer and item, and registers each id once', () => {
    const j = new LabelJoiner({ windowMs: WINDOW });
    j.shown(impression('a', { shownAt: 1000 }));
    j.shown(impression('a', { shownAt: 1000 })); // a redelivered event
    j.shown(impression('b', { shownAt: 4000 }));
    expect(j.size).toBe(2);
    expect(j.clicked('u1', 'c1', 5000).map((r) => r.impression.id)).toEqual(['a', 'b']);
  });

  it('bounds what waits: the oldest impressions are resolved negative', () => {
    const j = new LabelJoiner({ windowMs: WINDOW, maxPending: 2 });
    j.shown(impression('a', { itemId: 'x' }));
    j.shown(impression('b', { itemId: 'y' }));
    const evicted = j.shown(impression('c', { itemId: 'z' }));
    expect(evicted.map((r) => [r.impression.id, r.label, r.reason])).toEqual([['a', 0, 'evicted']]);
    expect(j.clicked('u1', 'x', 2000)).toEqual([]);
    expect(j.clicked('u1', 'z', 2000)).toHaveLength(1);
  });
});

describe('isHeldOut', () => {
  it('splits by a fixed hash of the id, close to the fraction asked', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const held = ids.filter((id) => isHeldOut(id, 0.1));
    expect(held.length / ids.length).toBeGreaterThan(0.08);
    expect(held.length / ids.length).toBeLessThan(0.12);
    expect(ids.filter((id) => isHeldOut(id, 0.1))).toEqual(held); // deterministic
    expect(ids.some((id) => isHeldOut(id, 0))).toBe(false);
  });
});
