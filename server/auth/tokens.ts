import { jwtVerify, SignJWT } from 'jose';
import type { Role } from '../../protocol';
import { unauthenticated } from '../errors';
import { id } from '../validation';

export interface Principal {
  id: string;
  username: string;
  role: Role;
  /** When the token it came from expires (epoch ms): a connection opened with it ends then. */
  expiresAt?: number;
}

const ISSUER = 'lectern';
const ROLES: readonly Role[] = ['viewer', 'creator', 'admin'];

const isId = (sub: unknown): sub is string => id.safeParse(sub).success;

/**
 * A compact JWS exactly as issued: three base64url parts. Base64url decoding skips characters
 * outside its alphabet (`=`, a space, NUL), so without this a token with one of them added
 * would verify as the very token it was made from.
 */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * HS256 access tokens: who the bearer is, for how long. The role claim is informative only:
 * `AuthService.authenticate` reads the user's current role from the database.
 */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  issue(user: Principal): Promise<string> {
    return new SignJWT({ username: user.username, role: user.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** The token's principal, or UNAUTHENTICATED for a bad, forged or expired token. */
  async verify(token: string): Promise<Principal> {
    try {
      if (typeof token !== 'string' || !COMPACT_JWS.test(token)) throw new Error('not a compact JWS');
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      const { sub, username, role, exp } = payload;
      if (!isId(sub) || typeof username !== 'string' || !ROLES.includes(role as Role)) {
        throw new Error('malformed claims');
      }
      return { id: sub, username, role: role as Role, ...(exp ? { expiresAt: exp * 1000 } : {}) };
    } catch {
      throw unauthenticated('invalid or expired token');
    }
  }
}
