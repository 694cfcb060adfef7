/**
 * Splits a sale or tip between the platform and the creator. The fee is rounded half up to a
 * whole minor unit and the creator gets exactly the rest, so the two always add up to `amount`.
 */
export function splitFee(amount: number, feeBps: number): { fee: number; net: number } {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`bad amount ${amount}`);
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000) throw new RangeError(`bad fee ${feeBps}`);
  // In BigInt: amount * feeBps passes 2^53 from amounts of about 9e11, and doubles would round it.
  const fee = Number((BigInt(amount) * BigInt(feeBps) + 5_000n) / 10_000n);
  return { fee, net: amount - fee };
}
