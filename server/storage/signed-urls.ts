import { createHmac, timingSafeEqual } from 'node:crypto';

/** Who a URL was issued to: a user id, or `-` for a guest (a free room's replay, a free trial). */
export type UrlSubject = string | null;

export type UrlCheck = { ok: true; subject: UrlSubject; expiresAt: number } | { ok: false; reason: UrlRefusal };
export type UrlRefusal = 'unsigned' | 'expired' | 'bad-signature';

/**
 * Short-lived signed media URLs: `?u=<user>&e=<expiry, epoch s>&s=<HMAC-SHA256(path \n u \n e)>`.
 * The path is the one under `/media/`, so a signature opens one file for one viewer until the
 * expiry. A CDN keys its cache on the path alone (segments are immutable) and may check the same
 * HMAC at the edge with `MEDIA_URL_SECRET`.
 */
export class MediaUrlSigner {
  private readonly key: Buffer;

  /** `secret`: MEDIA_URL_SECRET, or the JWT secret from which a separate key is derived. */
  constructor(secret: string, derived: boolean) {
    this.key = derived
      ? createHmac('sha256', secret).update('lectern media url v1').digest()
      : Buffer.from(secret, 'utf8');
  }

  private mac(path: string, subject: string, expiresAt: number): string {
    return createHmac('sha256', this.key).update(`${path}\n${subject}\n${expiresAt}`).digest('base64url');
  }

  /** The query string (without `?`) that opens `path` for `subject` until `expiresAt` (epoch seconds). */
  query(path: string, subject: UrlSubject, expiresAt: number): string {
    const u = subject ?? '-';
    const e = Math.floor(expiresAt);
    return `u=${encodeURIComponent(u)}&e=${e}&s=${this.mac(path, u, e)}`;
  }

  check(path: string, query: Record<string, unknown>, nowSeconds = Date.now() / 1000): UrlCheck {
    const { u, e, s } = query;
    if (typeof u !== 'string' || typeof e !== 'string' || typeof s !== 'string')
      return { ok: false, reason: 'unsigned' };
    if (!/^\d{1,12}$/.test(e) || u.length > 64) return { ok: false, reason: 'bad-signature' };
    const expected = Buffer.from(this.mac(path, u, Number(e)));
    const given = Buffer.from(s);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'bad-signature' };
    // Checked after the signature, so an expired link is told apart only when it was genuine.
    if (Number(e) < nowSeconds) return { ok: false, reason: 'expired' };
    return { ok: true, subject: u === '-' ? null : u, expiresAt: Number(e) };
  }
}
