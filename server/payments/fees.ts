/**
 * Splits a sale or tip between the platform and the creator. The fee is rounded half up to a
 * whole minor unit and the creator gets exactly the rest, so the two always add up to `amount`.
 */
export function splitFee(amount: number, feeBps: number): { fee: number; net: number } {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`bad amount ${amount}`);
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000) throw new RangeError(`bad fee ${feeBps}`);
  const fee = Math.floor((amount * feeBps + 5_000) / 10_000);
  return { fee, net: amount - fee };
}
