import { type Kysely, sql } from 'kysely';
import type { Question } from '../../protocol';
import type { DB } from '../db';
import { conflict, forbidden, notFound } from '../errors';

/** The questions asked in rooms (`questions`, `question_votes`); who may do what is the caller's. */
export interface QuestionStore {
  ask(roomId: string, user: { id: string; username: string }, text: string): Promise<Question>;
  /** One vote per user, never for one's own question; NOT_FOUND, FORBIDDEN or CONFLICT otherwise. */
  upvote(roomId: string, questionId: string, userId: string): Promise<Question>;
  /** Marks it answered; CONFLICT if it was, NOT_FOUND if it is not a question of the room. */
  answer(roomId: string, questionId: string): Promise<Question>;
  /** Open questions, most upvoted then oldest first. */
  open(roomId: string, limit: number): Promise<Question[]>;
  /** Answered questions, most recently answered first. */
  answered(roomId: string, limit: number): Promise<Question[]>;
}

export function createQuestionStore(db: Kysely<DB>): QuestionStore {
  const select = (from: Kysely<DB>) =>
    from
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
  const load = async (from: Kysely<DB>, questionId: string) =>
    toQuestion(await select(from).where('q.id', '=', questionId).executeTakeFirstOrThrow());

  return {
    async ask(roomId, user, text) {
      const row = await db
        .insertInto('questions')
        .values({ room_id: roomId, user_id: user.id, text })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toQuestion({ ...row, user_id: user.id, username: user.username });
    },

    upvote(roomId, questionId, userId) {
      return db.transaction().execute(async (trx) => {
        const vote = await trx
          .insertInto('question_votes')
          .columns(['question_id', 'user_id'])
          .expression((eb) =>
            eb
              .selectFrom('questions')
              .select([eb.val(questionId).as('question_id'), eb.val(userId).as('user_id')])
              .where('id', '=', questionId)
              .where('room_id', '=', roomId)
              // One's own question is not upvoted: it would be a vote for oneself.
              .where('user_id', '<>', userId),
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
          if (exists.user_id === userId) throw forbidden('you cannot upvote your own question');
          throw conflict('you already upvoted this question');
        }
        await trx.updateTable('questions').set({ upvotes: sql`upvotes + 1` }).where('id', '=', questionId).execute();
        return load(trx, questionId);
      });
    },

    async answer(roomId, questionId) {
      const updated = await db
        .updateTable('questions')
        .set({ answered_at: new Date() })
        .where('id', '=', questionId)
        .where('room_id', '=', roomId)
        .where('answered_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!updated) {
        const exists = await db
          .selectFrom('questions')
          .select('id')
          .where('id', '=', questionId)
          .where('room_id', '=', roomId)
          .executeTakeFirst();
        throw exists ? conflict('already answered') : notFound('question');
      }
      return load(db, questionId);
    },

    async open(roomId, limit) {
      const rows = await select(db)
        .where('q.room_id', '=', roomId)
        .where('q.answered_at', 'is', null)
        .orderBy('q.upvotes', 'desc')
        .orderBy('q.created_at', 'asc')
        .limit(limit)
        .execute();
      return rows.map(toQuestion);
    },

    async answered(roomId, limit) {
      const rows = await select(db)
        .where('q.room_id', '=', roomId)
        .where('q.answered_at', 'is not', null)
        .orderBy('q.answered_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toQuestion);
    },
  };
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
