import type { AccessLevel } from '../../protocol';
import type { PaymentsService } from '../payments';
import type { RoomsService } from '../rooms';
import type { Membership } from './memberships';
import type { RoomState } from './room-state';
import type { SignedInUser } from './types';

export interface AccessDecision {
  access: AccessLevel;
  previewEndsAt?: Date;
  /** When the entitlement behind `full` runs out (a subscription's period end): decide again then. */
  recheckAt?: Date;
}

/** setTimeout's longest delay; a later deadline is re-examined then (and rescheduled). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A re-check never runs sooner than this after the last, whatever the clocks say. */
const MIN_RECHECK_MS = 1000;

/**
 * Decides what a viewer may see in a room: `full` when entitled (free room, owner, moderator,
 * ticket, subscription — until its period ends), `preview` during the once-per-viewer free
 * preview of a paid room (counted from the viewer's first visit while live), `none` otherwise.
 * Guests may watch free rooms only.
 */
export class AccessPolicy {
  constructor(
    private readonly rooms: Pick<RoomsService, 'previewStart'>,
    private readonly payments: PaymentsService,
  ) {}

  async decide(state: RoomState, user: SignedInUser | null, now = new Date()): Promise<AccessDecision> {
    const { room } = state;
    if (room.access === 'free') return { access: 'full' };
    if (!user) return { access: 'none' };
    if (state.moderators.has(user.id)) return { access: 'full' };
    const entitlement = await this.payments.roomEntitlement(user, room);
    if (entitlement.entitled)
      return entitlement.until ? { access: 'full', recheckAt: entitlement.until } : { access: 'full' };
    if (room.previewSeconds === 0) return { access: 'none' };
    // The preview is of the stream: it starts once the room is live, never at a visit before
    // (the gateway decides again for those in the room when it goes live).
    if (room.status !== 'live') return { access: 'none' };
    const started = await this.rooms.previewStart(room.id, user.id);
    const previewEndsAt = new Date(started.getTime() + room.previewSeconds * 1000);
    return previewEndsAt > now ? { access: 'preview', previewEndsAt } : { access: 'none' };
  }
}

/**
 * Applies a decision to a session: records it, schedules the end of a preview or of the
 * subscription behind full access, and says whether the client must hear of it. `onExpire` runs
 * when that timer fires (it re-decides: the viewer may have paid or renewed meanwhile).
 */
export function applyAccess(m: Membership, decision: AccessDecision, onExpire: (m: Membership) => void): boolean {
  if (m.leaving) return false;
  const changed = m.decide(decision.access, decision.previewEndsAt);
  const preview = decision.access === 'preview' ? decision.previewEndsAt : undefined;
  const until = preview ?? (decision.access === 'full' ? decision.recheckAt : undefined);
  if (until) {
    // The database's clock decides whether a subscription still runs: never spin on a skew.
    const floor = preview ? 0 : MIN_RECHECK_MS;
    const delay = Math.min(MAX_TIMER_MS, Math.max(floor, until.getTime() - Date.now()));
    m.accessTimer = setTimeout(() => onExpire(m), delay);
    m.accessTimer.unref();
  }
  return changed;
}
