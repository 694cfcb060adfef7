import { compareStreamIds, isStreamId, minStreamId, nextStreamId, parseStreamId } from './stream-id';

describe('stream ids', () => {
  it('orders by milliseconds, then sequence, numerically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-2')).toBe(0);
    expect(minStreamId(['10-10', '9-99', '10-2'])).toBe('9-99');
    expect(minStreamId([])).toBeNull();
  });

  it('gives the next id, and refuses what is not an id', () => {
    expect(nextStreamId('10-2')).toBe('10-3');
    expect(parseStreamId('1700000000000-5')).toEqual({ ms: 1700000000000, seq: 5 });
    expect(isStreamId('$')).toBe(false);
    expect(() => parseStreamId('10')).toThrow(TypeError);
  });
});
