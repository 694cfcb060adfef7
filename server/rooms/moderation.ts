import { type Kysely, sql } from 'kysely';
import type { ModerationList, RestrictedUser, RoomRole } from '../../protocol';
import { type DB, isConstraintViolation } from '../db';
import { notFound } from '../errors';

export type Restrictable = 'mute' | 'unmute' | 'ban' | 'unban';

/** A `room_restrictions` row still in force: a ban until lifted, a timeout until it runs out. */
const inForce = () => sql<boolean>`(expires_at is null or expires_at > ${new Date()})`;

/** A running restriction: a timeout (`mute`) until a time, or a ban (until lifted when null). */
export interface RestrictionRow {
  userId: string;
  kind: 'mute' | 'ban';
  until: Date | null;
}

/**
 * Room moderation's tables: current restrictions (`room_restrictions`), appointed moderators
 * (`room_moderators`) and the history of every act (`moderation_actions`). Each change and its
 * history line are one transaction. Who may act on whom is the caller's to decide.
 */
export interface ModerationStore {
  /** Applies or lifts a timeout or a ban; NOT_FOUND for an unknown user. */
  restrict(p: {
    roomId: string;
    actorId: string;
    userId: string;
    action: Restrictable;
    reason?: string;
    until: Date | null;
  }): Promise<void>;
  /** Appoints or dismisses a moderator; the room role the user has now (admins always moderate). */
  setModerator(p: { roomId: string; actorId: string; userId: string; grant: boolean }): Promise<RoomRole>;
  /** Soft-deletes a chat message; by someone else than its author, it is a moderation act. */
  deleteMessage(p: { roomId: string; actorId: string; messageId: string; authorId: string }): Promise<void>;
  /** The message's author, unless it does not exist in the room or was deleted. */
  messageAuthor(roomId: string, messageId: string): Promise<string | undefined>;
  /** The room's bans, running timeouts and moderators, most recent first, `max` of each. */
  list(roomId: string, max: number): Promise<ModerationList>;
  /** What every room's cached state holds: its moderators and its running restrictions. */
  staff(roomId: string): Promise<{ moderators: string[]; restrictions: RestrictionRow[] }>;
}

export function createModerationStore(db: Kysely<DB>): ModerationStore {
  return {
    async restrict({ roomId, actorId, userId, action, reason, until }) {
      const kind = action === 'mute' || action === 'unmute' ? 'mute' : 'ban';
      try {
        await db.transaction().execute(async (trx) => {
          if (action === 'mute' || action === 'ban') {
            await trx
              .insertInto('room_restrictions')
              .values({ room_id: roomId, user_id: userId, kind, expires_at: until, created_by: actorId })
              .onConflict((oc) =>
                oc.columns(['room_id', 'user_id', 'kind']).doUpdateSet({ expires_at: until, created_by: actorId }),
              )
              .execute();
          } else {
            await trx
              .deleteFrom('room_restrictions')
              .where('room_id', '=', roomId)
              .where('user_id', '=', userId)
              .where('kind', '=', kind)
              .execute();
          }
          await trx
            .insertInto('moderation_actions')
            .values({
              room_id: roomId,
              actor_id: actorId,
              target_user_id: userId,
              action,
              reason: reason ?? null,
              expires_at: until,
            })
            .execute();
        });
      } catch (err) {
        // Lifting a restriction deletes nothing for an unknown user; its history line then names nobody.
        if (
          isConstraintViolation(err, 'room_restrictions_user_id_fkey') ||
          isConstraintViolation(err, 'moderation_actions_target_user_id_fkey')
        )
          throw notFound('user');
        throw err;
      }
    },

    async setModerator({ roomId, actorId, userId, grant }) {
      try {
        return await db.transaction().execute(async (trx) => {
          const target = await trx.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst();
          if (!target) throw notFound('user');
          if (grant) {
            await trx
              .insertInto('room_moderators')
              .values({ room_id: roomId, user_id: userId, granted_by: actorId })
              .onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
              .execute();
          } else {
            await trx
              .deleteFrom('room_moderators')
              .where('room_id', '=', roomId)
              .where('user_id', '=', userId)
              .execute();
          }
          await trx
            .insertInto('moderation_actions')
            .values({
              room_id: roomId,
              actor_id: actorId,
              target_user_id: userId,
              action: grant ? 'grant_moderator' : 'revoke_moderator',
            })
            .execute();
          // An admin moderates every room, appointed or not.
          return grant || target.role === 'admin' ? 'moderator' : 'viewer';
        });
      } catch (err) {
        if (isConstraintViolation(err, 'room_moderators_user_id_fkey')) throw notFound('user');
        throw err;
      }
    },

    async messageAuthor(roomId, messageId) {
      const row = await db
        .selectFrom('chat_messages')
        .select(['user_id', 'deleted_at'])
        .where('id', '=', messageId)
        .where('room_id', '=', roomId)
        .executeTakeFirst();
      return row && !row.deleted_at ? row.user_id : undefined;
    },

    async deleteMessage({ roomId, actorId, messageId, authorId }) {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('chat_messages')
          .set({ deleted_at: new Date(), deleted_by: actorId })
          .where('id', '=', messageId)
          .execute();
        if (authorId !== actorId) {
          await trx
            .insertInto('moderation_actions')
            .values({
              room_id: roomId,
              actor_id: actorId,
              target_user_id: authorId,
              action: 'delete_message',
              message_id: messageId,
            })
            .execute();
        }
      });
    },

    async list(roomId, max) {
      const restricted = async (kind: 'mute' | 'ban') => {
        const rows = await db
          .selectFrom('room_restrictions as r')
          .innerJoin('users as u', 'u.id', 'r.user_id')
          .select(['r.user_id', 'u.username', 'r.expires_at'])
          .where('r.room_id', '=', roomId)
          .where('r.kind', '=', kind)
          .where(inForce())
          .orderBy('r.created_at', 'desc')
          .limit(max)
          .execute();
        return rows.map(
          (r): RestrictedUser => ({
            userId: r.user_id,
            username: r.username,
            until: r.expires_at?.toISOString() ?? null,
          }),
        );
      };
      const [bans, mutes, moderators] = await Promise.all([
        restricted('ban'),
        restricted('mute'),
        db
          .selectFrom('room_moderators as m')
          .innerJoin('users as u', 'u.id', 'm.user_id')
          .select(['m.user_id as userId', 'u.username'])
          .where('m.room_id', '=', roomId)
          .orderBy('m.created_at', 'desc')
          .limit(max)
          .execute(),
      ]);
      return { bans, mutes, moderators };
    },

    async staff(roomId) {
      const [moderators, restrictions] = await Promise.all([
        db.selectFrom('room_moderators').select('user_id').where('room_id', '=', roomId).execute(),
        db
          .selectFrom('room_restrictions')
          .select(['user_id', 'kind', 'expires_at'])
          .where('room_id', '=', roomId)
          .where(inForce())
          .execute(),
      ]);
      return {
        moderators: moderators.map((m) => m.user_id),
        restrictions: restrictions.map((r) => ({ userId: r.user_id, kind: r.kind, until: r.expires_at })),
      };
    },
  };
}
