import { splitFee } from './fees';

describe('splitFee', () => {
  it('takes the fee in basis points and gives the creator the rest', () => {
    expect(splitFee(1000, 1000)).toEqual({ fee: 100, net: 900 });
    expect(splitFee(999, 1000)).toEqual({ fee: 100, net: 899 }); // 99.9 rounds up
    expect(splitFee(994, 1000)).toEqual({ fee: 99, net: 895 }); // 99.4 rounds down
    expect(splitFee(1, 1000)).toEqual({ fee: 0, net: 1 });
    expect(splitFee(500, 0)).toEqual({ fee: 0, net: 500 });
    expect(splitFee(500, 10_000)).toEqual({ fee: 500, net: 0 });
  });

  it('always adds up to the amount', () => {
    for (let amount = 0; amount < 5000; amount += 7) {
      for (const bps of [0, 1, 250, 1000, 3333, 9999, 10000]) {
        const { fee, net } = splitFee(amount, bps);
        expect(fee + net).toBe(amount);
        expect(fee).toBeGreaterThanOrEqual(0);
        expect(net).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('is exact up to the largest safe amount, where amount * fee passes 2^53', () => {
    const exact = (amount: number, bps: number) => Number((BigInt(amount) * BigInt(bps) + 5_000n) / 10_000n);
    // Doubles got these wrong by one minor unit.
    expect(splitFee(Number.MAX_SAFE_INTEGER, 9999).fee).toBe(9_006_298_534_815_517);
    expect(splitFee(9_007_199_254_740_988, 3333).fee).toBe(3_002_099_511_605_171);
    for (let amount = Number.MAX_SAFE_INTEGER; amount > Number.MAX_SAFE_INTEGER - 300; amount--) {
      for (const bps of [1, 999, 1000, 3333, 9999]) {
        const { fee, net } = splitFee(amount, bps);
        expect([amount, bps, fee]).toEqual([amount, bps, exact(amount, bps)]);
        expect(fee + net).toBe(amount);
      }
    }
    expect(splitFee(Number.MAX_SAFE_INTEGER, 10_000)).toEqual({ fee: Number.MAX_SAFE_INTEGER, net: 0 });
  });

  it('refuses nonsense', () => {
    expect(() => splitFee(-1, 100)).toThrow(RangeError);
    expect(() => splitFee(1.5, 100)).toThrow(RangeError);
    expect(() => splitFee(10, 10_001)).toThrow(RangeError);
    expect(() => splitFee(Number.MAX_SAFE_INTEGER + 1, 100)).toThrow(RangeError);
  });
});
