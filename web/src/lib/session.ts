import type { User } from '../../../protocol';

/** Who is signed in on this browser: the API token and the user it belongs to. */
export interface Session {
  token: string;
  user: User;
}

const KEY = 'lectern.session';

/** Seconds since the epoch at which the token expires, read from the JWT (not verified: the server does). */
function expiresAt(token: string): number | undefined {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return payload.exp;
  } catch {
    return undefined;
  }
}

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const session = JSON.parse(raw) as Session;
    const exp = expiresAt(session.token);
    if (exp !== undefined && exp * 1000 < Date.now()) {
      clearSession();
      return null;
    }
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}

export const isCreator = (session: Session | null): boolean =>
  session?.user.role === 'creator' || session?.user.role === 'admin';
