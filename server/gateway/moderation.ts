import type { ModerationList, RestrictedUser, RoomRole, RoomSettings } from '../../protocol';
import { isConstraintViolation } from '../db';
import { forbidden, invalidArgument, notFound } from '../errors';
import { type GatewayContext, requireMember, requireUser } from './context';
import { type RoomState, requireModerator, roleIn } from './room-state';
import { type IoSocket, roomChannel, type SignedInUser, userChannel } from './types';

export interface ModerationHooks {
  /** Removes a banned user's connections from the room, on every node. */
  kick(roomId: string, userId: string): void;
  /** Recomputes a user's access (a new moderator gets full access). */
  recheckAccess(userId: string): void;
}

type Restrictable = 'mute' | 'unmute' | 'ban' | 'unban';

/** How many of each (bans, timeouts, moderators) `moderation:list` returns, most recent first. */
const LIST_MAX = 200;

/**
 * Room moderation by the owner and moderators: timeouts (mute), bans, room settings and, for
 * the owner, who moderates. Current restrictions live in `room_restrictions`, the history in
 * `moderation_actions`; every change drops the cached room state on all nodes.
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
    const kind = action === 'mute' || action === 'unmute' ? 'mute' : 'ban';
    const until = action === 'mute' ? new Date(Date.now() + (p.seconds ?? 0) * 1000) : null;
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        if (action === 'mute' || action === 'ban') {
          await trx
            .insertInto('room_restrictions')
            .values({ room_id: p.roomId, user_id: p.userId, kind, expires_at: until, created_by: actor.id })
            .onConflict((oc) =>
              oc.columns(['room_id', 'user_id', 'kind']).doUpdateSet({ expires_at: until, created_by: actor.id }),
            )
            .execute();
        } else {
          await trx
            .deleteFrom('room_restrictions')
            .where('room_id', '=', p.roomId)
            .where('user_id', '=', p.userId)
            .where('kind', '=', kind)
            .execute();
        }
        await trx
          .insertInto('moderation_actions')
          .values({
            room_id: p.roomId,
            actor_id: actor.id,
            target_user_id: p.userId,
            action,
            reason: p.reason ?? null,
            expires_at: until,
          })
          .execute();
      });
    } catch (err) {
      if (isConstraintViolation(err, 'room_restrictions_user_id_fkey')) throw notFound('user');
      throw err;
    }
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
    let role: RoomRole = 'viewer';
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        const target = await trx.selectFrom('users').select('role').where('id', '=', p.userId).executeTakeFirst();
        if (!target) throw notFound('user');
        // An admin moderates every room, appointed or not.
        role = p.grant || target.role === 'admin' ? 'moderator' : 'viewer';
        if (p.grant) {
          await trx
            .insertInto('room_moderators')
            .values({ room_id: p.roomId, user_id: p.userId, granted_by: actor.id })
            .onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
            .execute();
        } else {
          await trx
            .deleteFrom('room_moderators')
            .where('room_id', '=', p.roomId)
            .where('user_id', '=', p.userId)
            .execute();
        }
        await trx
          .insertInto('moderation_actions')
          .values({
            room_id: p.roomId,
            actor_id: actor.id,
            target_user_id: p.userId,
            action: p.grant ? 'grant_moderator' : 'revoke_moderator',
          })
          .execute();
      });
    } catch (err) {
      if (isConstraintViolation(err, 'room_moderators_user_id_fkey')) throw notFound('user');
      throw err;
    }
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

  private async load(roomId: string): Promise<ModerationList> {
    const restricted = (kind: 'mute' | 'ban') =>
      this.ctx.db
        .selectFrom('room_restrictions as r')
        .innerJoin('users as u', 'u.id', 'r.user_id')
        .select(['r.user_id', 'u.username', 'r.expires_at'])
        .where('r.room_id', '=', roomId)
        .where('r.kind', '=', kind)
        .where((eb) => eb.or([eb('r.expires_at', 'is', null), eb('r.expires_at', '>', new Date())]))
        .orderBy('r.created_at', 'desc')
        .limit(LIST_MAX)
        .execute()
        .then((rows) =>
          rows.map(
            (r): RestrictedUser => ({
              userId: r.user_id,
              username: r.username,
              until: r.expires_at?.toISOString() ?? null,
            }),
          ),
        );
    const [bans, mutes, moderators] = await Promise.all([
      restricted('ban'),
      restricted('mute'),
      this.ctx.db
        .selectFrom('room_moderators as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['m.user_id as userId', 'u.username'])
        .where('m.room_id', '=', roomId)
        .orderBy('m.created_at', 'desc')
        .limit(LIST_MAX)
        .execute(),
    ]);
    return { bans, mutes, moderators };
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
