import type { ModerationList, RoomSettings } from '../../protocol';
import { forbidden, invalidArgument } from '../errors';
import type { Restrictable } from '../rooms/moderation';
import { type GatewayContext, requireMember, requireUser } from './context';
import { type RoomState, requireModerator, roleIn } from './room-state';
import { type IoSocket, roomChannel, type SignedInUser, userChannel } from './types';

export interface ModerationHooks {
  /** Removes a banned user's connections from the room, on every node. */
  kick(roomId: string, userId: string): void;
  /** Recomputes a user's access (a new moderator gets full access). */
  recheckAccess(userId: string): void;
}

/** How many of each (bans, timeouts, moderators) `moderation:list` returns, most recent first. */
const LIST_MAX = 200;

/**
 * Room moderation by the owner and moderators: timeouts (mute), bans, room settings and, for
 * the owner, who moderates: who may act on whom, and who is told. The rows are the rooms
 * service's (`server/rooms/moderation.ts`); every change drops the cached room state on all nodes.
 */
export class ModerationManager {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly hooks: ModerationHooks,
  ) {}

  /** Times a user out of the room's chat and questions for `seconds`. */
  async mute(socket: IoSocket, p: { roomId: string; userId: string; reason?: string; seconds: number }) {
    const until = await this.restrict(socket, 'mute', p);
    return { until: (until as Date).toISOString() };
  }

  async apply(
    socket: IoSocket,
    action: Exclude<Restrictable, 'mute'>,
    p: { roomId: string; userId: string; reason?: string },
  ) {
    await this.restrict(socket, action, p);
    return {};
  }

  private async restrict(
    socket: IoSocket,
    action: Restrictable,
    p: { roomId: string; userId: string; reason?: string; seconds?: number },
  ): Promise<Date | null> {
    const actor = requireUser(socket);
    requireMember(this.ctx, socket, p.roomId);
    const state = await this.ctx.roomStates.get(p.roomId);
    requireModerator(state, actor);
    this.checkTarget(state, actor, p.userId);
    const until = action === 'mute' ? new Date(Date.now() + (p.seconds ?? 0) * 1000) : null;
    await this.ctx.rooms.moderation.restrict({ ...p, actorId: actor.id, action, until });
    this.ctx.invalidateRoom(p.roomId);
    this.announce(p.roomId, actor.id);
    this.ctx.io.to(userChannel(p.userId)).emit('moderation:applied', {
      roomId: p.roomId,
      action,
      ...(until ? { until: until.toISOString() } : {}),
      ...(p.reason ? { reason: p.reason } : {}),
    });
    if (action === 'ban') this.hooks.kick(p.roomId, p.userId);
    return until;
  }

  async settings(socket: IoSocket, roomId: string, patch: Partial<RoomSettings>): Promise<{ settings: RoomSettings }> {
    const actor = requireUser(socket);
    requireMember(this.ctx, socket, roomId);
    requireModerator(await this.ctx.roomStates.get(roomId), actor);
    const settings = await this.ctx.rooms.updateSettings(roomId, patch, actor.id);
    this.ctx.invalidateRoom(roomId);
    this.ctx.io.to(roomChannel(roomId)).emit('room:settings', { roomId, settings });
    return { settings };
  }

  /** The owner (or an admin) makes a user a moderator of the room, or stops them being one. */
  async setModerator(
    socket: IoSocket,
    p: { roomId: string; userId: string; grant: boolean },
  ): Promise<Record<string, never>> {
    const actor = requireUser(socket);
    requireMember(this.ctx, socket, p.roomId);
    const state = await this.ctx.roomStates.get(p.roomId);
    if (actor.id !== state.room.ownerId && actor.role !== 'admin')
      throw forbidden('only the room owner can appoint moderators');
    if (p.userId === state.room.ownerId) throw invalidArgument('the owner is not a moderator');
    const role = await this.ctx.rooms.moderation.setModerator({ ...p, actorId: actor.id });
    this.ctx.invalidateRoom(p.roomId);
    this.hooks.recheckAccess(p.userId);
    this.ctx.io.to(userChannel(p.userId)).emit('role:changed', { roomId: p.roomId, role });
    this.announce(p.roomId, actor.id);
    return {};
  }

  /** The room's bans, running timeouts and moderators, for the owner and moderators. */
  async list(socket: IoSocket, roomId: string): Promise<ModerationList> {
    const actor = requireUser(socket);
    requireMember(this.ctx, socket, roomId);
    requireModerator(await this.ctx.roomStates.get(roomId), actor);
    return this.load(roomId);
  }

  private load(roomId: string): Promise<ModerationList> {
    return this.ctx.rooms.moderation.list(roomId, LIST_MAX);
  }

  /**
   * Tells the room's owner and moderators (and the actor) the list as it is now, so every
   * moderation panel stays current whoever acted. A failure here never fails the action itself.
   */
  private announce(roomId: string, actorId: string): void {
    void (async () => {
      const [state, list] = await Promise.all([this.ctx.roomStates.get(roomId), this.load(roomId)]);
      const staff = new Set([state.room.ownerId, ...state.moderators, actorId]);
      this.ctx.io.to([...staff].map(userChannel)).emit('moderation:updated', { roomId, ...list });
    })().catch((err) => this.ctx.log.warn({ err, roomId }, 'moderation list not announced'));
  }

  /** Nobody moderates themselves or the owner; only the owner moderates moderators. */
  private checkTarget(state: RoomState, actor: SignedInUser, targetId: string): void {
    if (targetId === actor.id) throw invalidArgument('you cannot moderate yourself');
    if (targetId === state.room.ownerId) throw forbidden('the room owner cannot be moderated');
    if (state.moderators.has(targetId) && roleIn(state, actor) !== 'owner' && actor.role !== 'admin') {
      throw forbidden('only the owner can moderate a moderator');
    }
  }
}
