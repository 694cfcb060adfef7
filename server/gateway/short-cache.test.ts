import { ShortCache } from './short-cache';

describe('ShortCache', () => {
  it('shares one load between concurrent readers and expires', async () => {
    let loads = 0;
    const cache = new ShortCache(50, async (k) => `${k}${++loads}`);
    expect(await Promise.all([cache.get('a'), cache.get('a'), cache.get('a')])).toEqual(['a1', 'a1', 'a1']);
    expect(loads).toBe(1);
    cache.invalidate('a');
    expect(await cache.get('a')).toBe('a2');
    await new Promise((r) => setTimeout(r, 60));
    expect(await cache.get('a')).toBe('a3');
  });

  it('does not cache failures and stays bounded', async () => {
    let fail = true;
    const cache = new ShortCache(
      10_000,
      async (k) => {
        if (fail) throw new Error('down');
        return k;
      },
      { maxKeys: 3 },
    );
    await expect(cache.get('x')).rejects.toThrow('down');
    fail = false;
    expect(await cache.get('x')).toBe('x');
    let loads = 0;
    const small = new ShortCache(10_000, async (k) => `${k}${++loads}`, { maxKeys: 2 });
    await small.get('a');
    await small.get('b');
    await small.get('c'); // evicts a
    expect(await small.get('b')).toBe('b2');
    expect(await small.get('a')).toBe('a4');
  });
});
