import { TokenBucketLimiter } from '.';

describe('TokenBucketLimiter', () => {
  it('allows a burst, then the sustained rate', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(3, 2, () => now); // burst 3, 2 per second
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    const refused = limiter.take('a');
    expect(refused.ok).toBe(false);
    expect(refused.retryAfterMs).toBeCloseTo(500);
    now += 500;
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true); // keys are independent
  });

  it('never refills past capacity', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(2, 1, () => now);
    limiter.take('k');
    now += 60_000;
    expect([1, 2, 3].map(() => limiter.take('k').ok)).toEqual([true, true, false]);
  });

  it('takes what is available up to a maximum', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(10, 5, () => now);
    expect(limiter.takeUpTo('t', 4)).toBe(4);
    expect(limiter.takeUpTo('t', 100)).toBe(6);
    expect(limiter.takeUpTo('t', 100)).toBe(0);
    now += 1000;
    expect(limiter.takeUpTo('t', 100)).toBe(5);
  });

  it('charges a cost and stays bounded in keys', () => {
    const now = 0;
    const limiter = new TokenBucketLimiter(10, 10, () => now, 100);
    expect(limiter.take('x', 10).ok).toBe(true);
    expect(limiter.take('x', 1).ok).toBe(false);
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });

  it('forgets a key only once refilled, unless forced', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(10, 10, () => now);
    limiter.take('a', 10);
    limiter.forget('a'); // spent: forgetting now would hand out a fresh burst
    expect(limiter.take('a').ok).toBe(false);
    now += 1000;
    limiter.forget('a');
    expect(limiter.size).toBe(0);
    limiter.take('b', 10);
    limiter.forget('b', true);
    expect(limiter.size).toBe(0);
  });
});
