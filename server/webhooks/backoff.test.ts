import { retryDelayMs } from './backoff';

describe('retryDelayMs', () => {
  it('doubles from the base per attempt, up to the cap', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4, 5, 6].map((a) => retryDelayMs(a, 1000, 10_000, noJitter))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('adds at most 10% jitter', () => {
    expect(retryDelayMs(3, 1000, 60_000, () => 0.999999)).toBe(4400);
    for (let i = 0; i < 100; i++) {
      const d = retryDelayMs(2, 1000, 60_000);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(2200);
    }
  });
});
