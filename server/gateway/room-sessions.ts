import type { RoomLeftReason as ClientLeftReason } from '../../protocol';
import { AppError } from '../errors';
import { newEvent, type RoomLeftEvent } from '../events';
import { type AccessPolicy, applyAccess } from './access';
import type { GatewayContext } from './context';
import type { MediaSignalling } from './media';
import { Membership } from './memberships';
import { activeRestriction, type RoomState, roleIn } from './room-state';
import { accessChannel, type IoSocket, roomChannel } from './types';
import type { WatchClock } from './watch-time';

type RoomLeftReason = RoomLeftEvent['data']['reason'];

/** How many rooms one connection may be in at once. */
const MAX_ROOMS_PER_SOCKET = 10;
/** Members whose access is decided at once when a room goes live (each asks the database). */
const GO_LIVE_BATCH = 16;
/** How soon access that could not be decided is decided again. */
const ACCESS_RETRY_MS = 3000;

/** Owners (immutable) of the rooms entered here, so room events name their creator. Bounded. */
export class RoomOwners {
  private readonly owners = new Map<string, string>();
  get(roomId: string): string | undefined {
    return this.owners.get(roomId);
  }
  set(roomId: string, ownerId: string): void {
    if (this.owners.size >= 100_000 && !this.owners.has(roomId)) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(roomId, ownerId);
  }
  delete(roomId: string): void {
    this.owners.delete(roomId);
  }
}

/**
 * Every connection's sessions in rooms on this node (`Membership`, with its states), and the
 * one writer of the three records of them: the registry the managers ask, the connection's
 * `data.rooms` (kept for recovery), and its Socket.IO channels (the room's, and the access
 * channel where the room's conversation goes). Access that cannot be decided is `none`.
 */
export class RoomSessions {
  private readonly queues = new WeakMap<IoSocket, Promise<unknown>>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly o: {
      policy: AccessPolicy;
      watch: WatchClock;
      media: MediaSignalling;
      owners: RoomOwners;
      /** The room is gone from this node: its viewer counts go. */
      forgetRoom: (roomId: string) => void;
    },
  ) {}

  /**
   * Runs one connection's joins and leaves one at a time, in the order they came: two joins in
   * flight would both pass the room cap and both create a session.
   */
  serial<T>(socket: IoSocket, op: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(socket) ?? Promise.resolve()).then(op);
    this.queues.set(
      socket,
      run.catch(() => {}),
    );
    return run;
  }

  /** Enters (or refreshes) a room for a connection; shared by `room:join` and recovery. */
  async enter(socket: IoSocket, roomId: string): Promise<{ state: RoomState; membership: Membership }> {
    const { memberships, roomStates } = this.ctx;
    const user = socket.data.user;
    const state = await roomStates.open(roomId);
    if (user && activeRestriction(state, user.id, 'ban')) throw new AppError('BANNED', 'you are banned from this room');
    const existing = memberships.get(socket.id, roomId);
    if (!existing && socket.data.rooms.filter((r) => r !== roomId).length >= MAX_ROOMS_PER_SOCKET) {
      throw new AppError('INVALID_ARGUMENT', `a connection can be in at most ${MAX_ROOMS_PER_SOCKET} rooms`);
    }
    // A new session is `joining` (no access) until its decision is in.
    const m = existing ?? new Membership(socket, roomId, user, roleIn(state, user));
    const decision = await this.o.policy.decide(state, user);
    if (!socket.connected || m.leaving) throw new AppError('UNAVAILABLE', 'disconnected');
    // Into the channel first, then counted: whoever counts this member can also reach it.
    await socket.join(roomChannel(roomId));
    if (!socket.data.rooms.includes(roomId)) socket.data.rooms = [...socket.data.rooms, roomId];
    m.role = roleIn(state, user);
    if (existing) this.o.watch.beat(m); // the time so far counts at the access it had
    applyAccess(m, decision, (x) => void this.redecide(x));
    this.syncAccessChannel(m);
    memberships.add(m);
    this.o.owners.set(roomId, state.room.ownerId);
    if (!existing) {
      // A new presence: a join, or a resumed connection whose disconnect ended the previous one.
      this.o.watch.start(m);
      this.ctx.record(
        newEvent('room.joined', { roomId, ...(user ? { userId: user.id } : {}), data: { access: m.access } }),
      );
    }
    // The room may have ended, or this user been banned, while access was being decided: that
    // cleared the room before this member was in it. Both drop the cached state, so this sees it.
    const now = await roomStates.get(roomId);
    if (now.room.status === 'ended') {
      this.leave(socket, roomId, 'ended');
      throw new AppError('CONFLICT', 'this room has ended');
    }
    if (user && activeRestriction(now, user.id, 'ban')) {
      this.leave(socket, roomId, 'removed');
      throw new AppError('BANNED', 'you are banned from this room');
    }
    if (m.leaving) throw new AppError('UNAVAILABLE', 'left the room while joining');
    // It went live while access was decided on its scheduled state (and perhaps before the
    // go-live pass saw this member): decide again, so the preview starts now.
    if (state.room.status !== 'live' && now.room.status === 'live') await this.reapply(m, now);
    return { state: now, membership: m };
  }

  /**
   * After a recovered reconnect: restores this node's bookkeeping for a room, tells the client of
   * an access change it missed (per-connection events are not replayed), or why it is out.
   */
  async restore(socket: IoSocket, roomId: string): Promise<void> {
    const before = socket.data.accessSeen[roomId];
    try {
      const { membership: m } = await this.enter(socket, roomId);
      const after = seenAccess(m);
      if (before?.access !== after.access || before?.previewEndsAt !== after.previewEndsAt) this.tellAccess(m);
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'INTERNAL';
      if (code !== 'INTERNAL' && code !== 'UNAVAILABLE') this.ctx.log.debug({ code, roomId }, 'room not restored');
      else this.ctx.log.warn({ err, roomId }, 'room not restored');
      const reason =
        code === 'BANNED' ? 'banned' : code === 'CONFLICT' || code === 'NOT_FOUND' ? 'ended' : 'unavailable';
      // The room ended while it was away: nothing replays `room:ended` (see closeRoom).
      if (reason === 'ended') socket.emit('room:ended', { roomId });
      this.remove(socket, roomId, reason);
    }
  }

  /**
   * The channels of a resumed session's rooms its user may no longer be in: a banned user gets
   * nothing of the room back, a viewer without access nothing of its conversation, and a room
   * whose access cannot be decided nothing at all (`restore` decides again, or says why not).
   */
  async channelsToDrop(user: IoSocket['data']['user'] | undefined, rooms: string[]): Promise<Set<string>> {
    const drop = new Set<string>();
    for (const roomId of rooms) {
      try {
        const state = await this.ctx.roomStates.get(roomId);
        if (user && activeRestriction(state, user.id, 'ban')) {
          drop.add(roomChannel(roomId)).add(accessChannel(roomId));
        } else if ((await this.o.policy.decide(state, user ?? null)).access === 'none') {
          drop.add(accessChannel(roomId));
        }
      } catch {
        drop.add(roomChannel(roomId)).add(accessChannel(roomId));
      }
    }
    return drop;
  }

  /** Remembers what the client was told of its access (a recovered connection hears of changes). */
  remember(m: Membership): void {
    m.socket.data.accessSeen[m.roomId] = seenAccess(m);
  }

  leave(socket: IoSocket, roomId: string, reason: RoomLeftReason): void {
    const m = this.ctx.memberships.remove(socket.id, roomId);
    socket.leave(roomChannel(roomId));
    socket.leave(accessChannel(roomId));
    socket.data.rooms = socket.data.rooms.filter((r) => r !== roomId);
    delete socket.data.accessSeen[roomId];
    if (m) this.left(m, reason);
  }

  /** Takes a connection out of a room on the server's initiative, and tells it why. */
  remove(socket: IoSocket, roomId: string, reason: ClientLeftReason): void {
    this.leave(socket, roomId, reason === 'ended' ? 'ended' : 'removed');
    socket.emit('room:left', { roomId, reason });
  }

  kick(roomId: string, userId: string): void {
    for (const m of this.ctx.memberships.ofUser(userId))
      if (m.roomId === roomId) this.remove(m.socket, roomId, 'banned');
  }

  /** The connection is gone: its sessions end (its channels went with it). */
  disconnected(socket: IoSocket): void {
    for (const roomId of socket.data.rooms) {
      const m = this.ctx.memberships.remove(socket.id, roomId);
      if (m) this.left(m, 'disconnected');
    }
  }

  /**
   * The room ended: every connection in it here hears `room:ended` and every session ends.
   * Each node tells its own connections before they leave the channel. A cluster-wide broadcast
   * would reach this node's members only after its publish round trip, and another node's only
   * when that node reads the stream: by then they have left (`room:closed` travels faster).
   * Sent to each connection, not broadcast, so that no adapter replays it: a connection that was
   * away hears it from restore(), once, whichever adapter runs.
   */
  closeRoom(roomId: string): void {
    const nsp = this.ctx.io.of('/');
    for (const id of nsp.adapter.rooms.get(roomChannel(roomId)) ?? [])
      nsp.sockets.get(id)?.emit('room:ended', { roomId });
    for (const m of this.ctx.memberships.inRoom(roomId)) this.leave(m.socket, roomId, 'ended');
    this.ctx.io.local.in(roomChannel(roomId)).socketsLeave([roomChannel(roomId), accessChannel(roomId)]);
    this.ctx.roomStates.invalidate(roomId);
    this.o.forgetRoom(roomId);
    this.o.media.roomClosed(roomId);
    this.o.owners.delete(roomId);
  }

  /** A purchase, refund, ban or role change of this user: their sessions are decided again. */
  async recheckUser(userId: string, sessions = this.ctx.memberships.ofUser(userId)): Promise<void> {
    for (const m of sessions) {
      this.ctx.roomStates.invalidate(m.roomId);
      await this.redecide(m);
    }
  }

  /**
   * The room went live: its cached state goes, and the signed-in members without full access are
   * decided again (a viewer waiting in a paid room gets the free preview from now), a few at a time.
   */
  async roomStarted(roomId: string): Promise<void> {
    this.ctx.roomStates.invalidate(roomId);
    const waiting = this.ctx.memberships.inRoom(roomId).filter((m) => m.user && m.access !== 'full');
    if (waiting.length === 0) return;
    for (let i = 0; i < waiting.length; i += GO_LIVE_BATCH) {
      await Promise.all(waiting.slice(i, i + GO_LIVE_BATCH).map((m) => this.redecide(m)));
    }
  }

  /** Decides a session's access again; if that fails, it has none until it can be decided. */
  private async redecide(m: Membership): Promise<void> {
    try {
      await this.reapply(m, await this.ctx.roomStates.get(m.roomId));
    } catch (err) {
      this.noAccessUntilDecided(m, err);
    }
  }

  private async reapply(m: Membership, state: RoomState): Promise<void> {
    m.role = roleIn(state, m.user);
    const decision = await this.o.policy.decide(state, m.user);
    if (m.leaving) return;
    // Watch time so far counts at the access it had: a preview that ends keeps its last stretch,
    // and time without access before a purchase is not counted as watched.
    this.o.watch.beat(m);
    if (applyAccess(m, decision, (x) => void this.redecide(x))) this.accessChanged(m);
  }

  /**
   * Access that cannot be decided (the database errs at a preview's or a subscription's end, or
   * after a refund or a ban) is no access — never the access the viewer had. It is decided again
   * a little later, and every few seconds until the database answers.
   */
  private noAccessUntilDecided(m: Membership, err: unknown): void {
    if (m.leaving) return;
    this.o.watch.beat(m);
    // Said once per member, not at every retry of an outage.
    const changed = applyAccess(m, { access: 'none' }, () => {});
    this.ctx.log[changed ? 'warn' : 'debug'](
      { err, roomId: m.roomId, userId: m.user?.id },
      'access not decided: none until it is',
    );
    if (changed) this.accessChanged(m);
    m.accessTimer = setTimeout(() => void this.redecide(m), ACCESS_RETRY_MS);
    m.accessTimer.unref();
  }

  private accessChanged(m: Membership): void {
    this.syncAccessChannel(m);
    this.o.media.accessChanged(m);
    this.tellAccess(m);
  }

  /** Members with access are in the room's access channel, where its conversation goes. */
  private syncAccessChannel(m: Membership): void {
    if (m.access === 'none') void m.socket.leave(accessChannel(m.roomId));
    else void m.socket.join(accessChannel(m.roomId));
  }

  /** Sends `access:changed` and remembers it: a recovered connection is told what it missed. */
  private tellAccess(m: Membership): void {
    this.remember(m);
    m.socket.emit('access:changed', { roomId: m.roomId, ...seenAccess(m) });
  }

  /** A session out of the registry ends: its last stretch of watch time, and the event. */
  private left(m: Membership, reason: RoomLeftReason): void {
    this.o.media.release(m);
    this.o.watch.beat(m);
    m.leave();
    this.ctx.record(
      newEvent('room.left', { roomId: m.roomId, ...(m.user ? { userId: m.user.id } : {}), data: { reason } }),
    );
  }
}

function seenAccess(m: Membership) {
  return { access: m.access, ...(m.previewEndsAt ? { previewEndsAt: m.previewEndsAt.toISOString() } : {}) };
}
