import type { Kysely } from 'kysely';
import type { Config } from '../config';
import type { DB } from '../db';
import { AppError, unauthenticated } from '../errors';
import type { EngagementEvent } from '../events';
import type { Logger } from '../log';
import type { PaymentsService } from '../payments';
import type { RoomsService } from '../rooms';
import type { Membership, Memberships } from './memberships';
import type { RoomStateCache } from './room-state';
import type { IoServer, IoSocket, SignedInUser } from './types';

/** What every gateway manager shares: injected once, so managers stay small and testable. */
export interface GatewayContext {
  io: IoServer;
  db: Kysely<DB>;
  config: Config;
  log: Logger;
  payments: PaymentsService;
  rooms: RoomsService;
  memberships: Memberships;
  roomStates: RoomStateCache;
  /** Drops the cached state of a room here and on every other node. */
  invalidateRoom(roomId: string): void;
  /** Appends an engagement event to the event log (never blocks, never throws). */
  record(event: EngagementEvent): void;
  /** Counts a lookup in the named short cache (a hit-rate metric). */
  cacheLookup(cache: string): (hit: boolean) => void;
}

export function requireUser(socket: IoSocket): SignedInUser {
  const user = socket.data.user;
  if (!user) throw unauthenticated('sign in to do this');
  return user;
}

/** The caller's membership in a room it has joined, or FORBIDDEN. */
export function requireMember(ctx: GatewayContext, socket: IoSocket, roomId: string): Membership {
  const m = ctx.memberships.get(socket.id, roomId);
  if (!m) throw new AppError('FORBIDDEN', 'join the room first');
  return m;
}

/** Interaction needs access: full, or preview while it lasts. */
export function requireAccess(m: Membership): void {
  if (m.access === 'none')
    throw new AppError('PAYMENT_REQUIRED', 'buy a ticket or subscribe to take part in this room');
}
