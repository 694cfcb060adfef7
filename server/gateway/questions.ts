import { sql } from 'kysely';
import type { Question } from '../../protocol';
import { AppError, conflict, forbidden, invalidArgument, notFound } from '../errors';
import { newEvent } from '../events';
import { TokenBucketLimiter } from '../ratelimit';
import { type GatewayContext, requireAccess, requireMember, requireUser } from './context';
import { activeRestriction, requireModerator } from './room-state';
import { ShortCache } from './short-cache';
import { accessChannel, type IoSocket } from './types';

const LIST_SIZE = 30;
/** Answered questions a joiner gets. */
const ANSWERED_SIZE = 10;

/**
 * Questions for the teacher: viewers ask and upvote, the owner or a moderator marks one
 * answered, and the room sees the ranked list (most upvoted, then oldest). List broadcasts are
 * coalesced per room so a burst of upvotes costs one update; the list joiners get is shared for
 * a second (dropped on every change made here).
 */
export class QuestionsManager {
  private readonly limiter = new TokenBucketLimiter(3, 0.2); // 3 questions, then one per 5 s
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly open: ShortCache<Question[]>;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly broadcastDelayMs = 250,
  ) {
    this.open = new ShortCache(1000, (roomId) => this.loadOpen(roomId), { onLookup: ctx.cacheLookup('questions') });
  }

  async ask(socket: IoSocket, roomId: string, text: string): Promise<{ question: Question }> {
    const user = requireUser(socket);
    requireAccess(requireMember(this.ctx, socket, roomId));
    const state = await this.ctx.roomStates.open(roomId);
    if (activeRestriction(state, user.id, 'mute')) throw new AppError('MUTED', 'you are muted in this room');
    if (state.bannedWords?.test(text)) {
      throw invalidArgument('the question contains a word this room does not allow', { reason: 'banned_word' });
    }
    const { ok, retryAfterMs } = this.limiter.take(`${roomId}|${user.id}`);
    if (!ok) throw new AppError('RATE_LIMITED', 'you are asking too fast', { details: { retryAfterMs } });
    const row = await this.ctx.db
      .insertInto('questions')
      .values({ room_id: roomId, user_id: user.id, text })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.scheduleBroadcast(roomId);
    this.ctx.record(newEvent('question.asked', { roomId, userId: user.id, data: { questionId: row.id } }));
    return {
      question: {
        id: row.id,
        roomId,
        user: { id: user.id, username: user.username },
        text: row.text,
        upvotes: 0,
        answered: false,
        createdAt: row.created_at.toISOString(),
      },
    };
  }

  async upvote(socket: IoSocket, roomId: string, questionId: string): Promise<{ question: Question }> {
    const user = requireUser(socket);
    requireAccess(requireMember(this.ctx, socket, roomId));
    const question = await this.ctx.db.transaction().execute(async (trx) => {
      const vote = await trx
        .insertInto('question_votes')
        .columns(['question_id', 'user_id'])
        .expression((eb) =>
          eb
            .selectFrom('questions')
            .select([eb.val(questionId).as('question_id'), eb.val(user.id).as('user_id')])
            .where('id', '=', questionId)
            .where('room_id', '=', roomId)
            // One's own question is not upvoted: it would be a vote for oneself.
            .where('user_id', '<>', user.id),
        )
        .onConflict((oc) => oc.columns(['question_id', 'user_id']).doNothing())
        .returning('question_id')
        .executeTakeFirst();
      if (!vote) {
        const exists = await trx
          .selectFrom('questions')
          .select(['id', 'user_id'])
          .where('id', '=', questionId)
          .where('room_id', '=', roomId)
          .executeTakeFirst();
        if (!exists) throw notFound('question');
        if (exists.user_id === user.id) throw forbidden('you cannot upvote your own question');
        throw conflict('you already upvoted this question');
      }
      await trx.updateTable('questions').set({ upvotes: sql`upvotes + 1` }).where('id', '=', questionId).execute();
      return this.load(trx, questionId);
    });
    this.scheduleBroadcast(roomId);
    this.ctx.record(newEvent('question.upvoted', { roomId, userId: user.id, data: { questionId } }));
    return { question };
  }

  async answer(socket: IoSocket, roomId: string, questionId: string): Promise<{ question: Question }> {
    const user = requireUser(socket);
    requireMember(this.ctx, socket, roomId);
    requireModerator(await this.ctx.roomStates.get(roomId), user);
    const updated = await this.ctx.db
      .updateTable('questions')
      .set({ answered_at: new Date() })
      .where('id', '=', questionId)
      .where('room_id', '=', roomId)
      .where('answered_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!updated) {
      const exists = await this.ctx.db
        .selectFrom('questions')
        .select('id')
        .where('id', '=', questionId)
        .where('room_id', '=', roomId)
        .executeTakeFirst();
      throw exists ? conflict('already answered') : notFound('question');
    }
    this.scheduleBroadcast(roomId);
    this.ctx.record(newEvent('question.answered', { roomId, userId: user.id, data: { questionId } }));
    return { question: await this.load(this.ctx.db, questionId) };
  }

  /** Open questions, best first. */
  list(roomId: string): Promise<Question[]> {
    return this.open.get(roomId);
  }

  /** The most recently answered questions, newest answered first (for joiners). */
  async answered(roomId: string): Promise<Question[]> {
    const rows = await this.select(this.ctx.db)
      .where('q.room_id', '=', roomId)
      .where('q.answered_at', 'is not', null)
      .orderBy('q.answered_at', 'desc')
      .limit(ANSWERED_SIZE)
      .execute();
    return rows.map(toQuestion);
  }

  private async loadOpen(roomId: string): Promise<Question[]> {
    const rows = await this.select(this.ctx.db)
      .where('q.room_id', '=', roomId)
      .where('q.answered_at', 'is', null)
      .orderBy('q.upvotes', 'desc')
      .orderBy('q.created_at', 'asc')
      .limit(LIST_SIZE)
      .execute();
    return rows.map(toQuestion);
  }

  close(): void {
    for (const t of this.scheduled.values()) clearTimeout(t);
    this.scheduled.clear();
  }

  private scheduleBroadcast(roomId: string): void {
    this.open.invalidate(roomId);
    if (this.scheduled.has(roomId)) return;
    const timer = setTimeout(async () => {
      this.scheduled.delete(roomId);
      try {
        this.ctx.io.to(accessChannel(roomId)).emit('question:list', { roomId, questions: await this.list(roomId) });
      } catch (err) {
        this.ctx.log.warn({ err, roomId }, 'question list broadcast failed');
      }
    }, this.broadcastDelayMs);
    timer.unref();
    this.scheduled.set(roomId, timer);
  }

  private select(db: GatewayContext['db']) {
    return db
      .selectFrom('questions as q')
      .innerJoin('users as u', 'u.id', 'q.user_id')
      .select([
        'q.id',
        'q.room_id',
        'q.text',
        'q.upvotes',
        'q.answered_at',
        'q.created_at',
        'u.id as user_id',
        'u.username',
      ]);
  }

  private async load(db: GatewayContext['db'], questionId: string): Promise<Question> {
    return toQuestion(await this.select(db).where('q.id', '=', questionId).executeTakeFirstOrThrow());
  }
}

function toQuestion(r: {
  id: string;
  room_id: string;
  text: string;
  upvotes: number;
  answered_at: Date | null;
  created_at: Date;
  user_id: string;
  username: string;
}): Question {
  return {
    id: r.id,
    roomId: r.room_id,
    user: { id: r.user_id, username: r.username },
    text: r.text,
    upvotes: r.upvotes,
    answered: r.answered_at !== null,
    createdAt: r.created_at.toISOString(),
  };
}
