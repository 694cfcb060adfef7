import { LastSpoke } from './slow-mode';

describe('LastSpoke', () => {
  it('remembers, and undoes a time whose message was not saved', () => {
    const spoke = new LastSpoke();
    spoke.record('r|a', 1000);
    const undo = spoke.record('r|a', 5000);
    expect(spoke.get('r|a')).toBe(5000);
    undo();
    expect(spoke.get('r|a')).toBe(1000);
    const undoFirst = spoke.record('r|b', 7000);
    undoFirst();
    expect(spoke.get('r|b')).toBeUndefined();
  });

  it('forgets expired times as new ones arrive, and the oldest past its capacity, never everyone', () => {
    const spoke = new LastSpoke(3, 10_000);
    spoke.record('a', 0);
    spoke.record('b', 1000);
    spoke.record('c', 2000);
    spoke.record('d', 3000); // over capacity: only the oldest goes
    expect([spoke.get('a'), spoke.get('b'), spoke.get('c'), spoke.get('d')]).toEqual([undefined, 1000, 2000, 3000]);
    spoke.record('b', 4000); // speaking again makes b the youngest
    spoke.record('e', 13_500); // c (2000) and d (3000) have expired; b (4000) has not
    expect(spoke.size).toBe(2);
    expect([spoke.get('b'), spoke.get('e')]).toEqual([4000, 13_500]);
  });
});
