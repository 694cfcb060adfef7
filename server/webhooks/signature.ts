import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, Stripe's scheme: `Lectern-Signature: t=<unix seconds>,v1=<hex>` where the
 * hex is HMAC-SHA256 keyed with the webhook's secret over `<t>.<raw body>`. Signing the time
 * with the body lets a receiver refuse replays of an old delivery; several `v1=` entries may
 * appear (none today) so a secret can be rotated without a gap.
 */

export const SIGNATURE_HEADER = 'Lectern-Signature';
/** How far a signature's time may be from the receiver's clock, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The header value for `body` signed at `timestamp` (unix seconds). */
export function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${signatureOf(secret, timestamp, body)}`;
}

/**
 * What a receiver does (docs/webhooks.md has the same in a few lines): parse the header, check
 * the time is recent, recompute the HMAC over the raw body and compare in constant time.
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string | undefined,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  if (!header) return false;
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && /^\d+$/.test(value ?? '')) timestamp = Number(value);
    if (key === 'v1' && value) candidates.push(value);
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signatureOf(secret, timestamp, body), 'hex');
  return candidates.some((c) => {
    const given = Buffer.from(c, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
