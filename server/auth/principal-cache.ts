import type { Principal } from './tokens';
import type { UserNow, UserWatcher } from './user-changes';

/** Long enough to spare a storm's requests their lookups; short enough to bound any surprise. */
const MAX_AGE_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * The principals of recently seen bearer tokens, so that a request spends neither a signature
 * check nor a database lookup on a token it has just seen (a fifth of the server's CPU in a
 * storm of top-ups). It is only used while the user-change listener listens: a role change or a
 * deleted account drops that user's tokens at once, and when listening stops everything is
 * dropped and nothing is kept until it starts again. An entry is also dropped at its token's
 * expiry and after a minute.
 */
export class PrincipalCache implements UserWatcher {
  private readonly byToken = new Map<string, { principal: Principal; until: number }>();
  private readonly tokensOf = new Map<string, Set<string>>();
  private on = false;
  /** Moves at every change heard: a lookup that began before one must not be stored after it. */
  private epoch = 0;

  get(token: string): Principal | undefined {
    const hit = this.byToken.get(token);
    if (!hit) return undefined;
    // A copy: a connection updates its own principal's role in place.
    if (hit.until > Date.now()) return { ...hit.principal };
    this.forget(token, hit.principal.id);
    return undefined;
  }

  /** Where a lookup starts: what `set` needs to know that nothing changed meanwhile. */
  mark(): number {
    return this.epoch;
  }

  set(token: string, principal: Principal, mark: number): void {
    if (!this.on || mark !== this.epoch) return;
    if (this.byToken.size >= MAX_ENTRIES) {
      const oldest = this.byToken.entries().next().value;
      if (oldest) this.forget(oldest[0], oldest[1].principal.id);
    }
    const until = Math.min(Date.now() + MAX_AGE_MS, principal.expiresAt ?? Number.POSITIVE_INFINITY);
    this.byToken.set(token, { principal, until });
    const tokens = this.tokensOf.get(principal.id) ?? new Set();
    tokens.add(token);
    this.tokensOf.set(principal.id, tokens);
  }

  get size(): number {
    return this.byToken.size;
  }

  changed(userId: string, _now: UserNow): void {
    this.epoch++;
    for (const token of this.tokensOf.get(userId) ?? []) this.byToken.delete(token);
    this.tokensOf.delete(userId);
  }

  listening(on: boolean): void {
    this.epoch++;
    this.on = on;
    if (!on) {
      this.byToken.clear();
      this.tokensOf.clear();
    }
  }

  private forget(token: string, userId: string): void {
    this.byToken.delete(token);
    const tokens = this.tokensOf.get(userId);
    tokens?.delete(token);
    if (tokens?.size === 0) this.tokensOf.delete(userId);
  }
}
