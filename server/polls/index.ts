import { type Kysely, sql } from 'kysely';
import { Limits, type Poll } from '../../protocol';
import { type DB, isUniqueViolation } from '../db';
import { conflict, invalidArgument, notFound } from '../errors';

/**
 * Polls of live rooms: their rows and votes (`polls`, `poll_votes`). Authorisation (who may ask,
 * who may vote) is the gateway's; this keeps the rules of the poll itself: 2–6 options, one
 * final vote per viewer, no votes once closed (by hand or past `closesAt`).
 */
export interface PollsService {
  create(input: {
    roomId: string;
    createdBy: string;
    question: string;
    options: string[];
    durationSeconds?: number;
  }): Promise<Poll>;
  /** One vote per user; a second one is CONFLICT (votes are final). */
  vote(input: { roomId: string; pollId: string; userId: string; option: number }): Promise<Poll>;
  close(roomId: string, pollId: string): Promise<{ poll: Poll; changed: boolean }>;
  get(roomId: string, pollId: string, userId?: string): Promise<Poll>;
  /** The room's open polls, oldest first, with `userId`'s votes. */
  open(roomId: string, userId?: string): Promise<Poll[]>;
  /** Closes the polls whose time is up; returns them (closed now), so their room can be told. */
  closeDue(): Promise<{ roomId: string; poll: Poll }[]>;
}

type PollRow = {
  id: string;
  room_id: string;
  question: string;
  options: string[];
  closes_at: Date | null;
  closed_at: Date | null;
  created_at: Date;
};

export function createPollsService(db: Kysely<DB>): PollsService {
  const isOpen = (row: PollRow) => row.closed_at === null && (row.closes_at === null || row.closes_at > new Date());

  async function load(rows: PollRow[], userId?: string): Promise<Poll[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [counts, mine] = await Promise.all([
      db
        .selectFrom('poll_votes')
        .select(['poll_id', 'option', sql<number>`count(*)::int`.as('n')])
        .where('poll_id', 'in', ids)
        .groupBy(['poll_id', 'option'])
        .execute(),
      userId
        ? db
            .selectFrom('poll_votes')
            .select(['poll_id', 'option'])
            .where('poll_id', 'in', ids)
            .where('user_id', '=', userId)
            .execute()
        : Promise.resolve([]),
    ]);
    return rows.map((row) => ({
      id: row.id,
      question: row.question,
      options: row.options.map((text, i) => ({
        text,
        votes: counts.find((c) => c.poll_id === row.id && c.option === i)?.n ?? 0,
      })),
      closesAt: row.closes_at?.toISOString() ?? null,
      closed: !isOpen(row),
      createdAt: row.created_at.toISOString(),
      ...(userId ? { myVote: mine.find((m) => m.poll_id === row.id)?.option ?? null } : {}),
    }));
  }

  async function row(roomId: string, pollId: string): Promise<PollRow> {
    const found = await db
      .selectFrom('polls')
      .select(['id', 'room_id', 'question', 'options', 'closes_at', 'closed_at', 'created_at'])
      .where('id', '=', pollId)
      .where('room_id', '=', roomId)
      .executeTakeFirst();
    if (!found) throw notFound('poll');
    return found as PollRow;
  }

  return {
    async create({ roomId, createdBy, question, options, durationSeconds }) {
      const texts = options.map((o) => o.trim());
      if (new Set(texts.map((t) => t.toLowerCase())).size !== texts.length) {
        throw invalidArgument('the options must differ');
      }
      const { n } = await db
        .selectFrom('polls')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('room_id', '=', roomId)
        .where('closed_at', 'is', null)
        .where((eb) => eb.or([eb('closes_at', 'is', null), eb('closes_at', '>', sql<Date>`now()`)]))
        .executeTakeFirstOrThrow();
      if (n >= Limits.pollsOpenMax) throw conflict(`a room has at most ${Limits.pollsOpenMax} open polls`);
      const inserted = await db
        .insertInto('polls')
        .values({
          room_id: roomId,
          created_by: createdBy,
          question: question.trim(),
          options: JSON.stringify(texts),
          closes_at: durationSeconds ? (sql<Date>`now() + make_interval(secs => ${durationSeconds})` as never) : null,
        })
        .returning(['id', 'room_id', 'question', 'options', 'closes_at', 'closed_at', 'created_at'])
        .executeTakeFirstOrThrow();
      return (await load([inserted as PollRow], createdBy))[0];
    },

    async vote({ roomId, pollId, userId, option }) {
      const poll = await row(roomId, pollId);
      if (!isOpen(poll)) throw conflict('this poll is closed');
      if (option < 0 || option >= poll.options.length) throw invalidArgument('no such option');
      try {
        await db.insertInto('poll_votes').values({ poll_id: pollId, user_id: userId, option }).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('you already voted in this poll');
        throw err;
      }
      return (await load([poll], userId))[0];
    },

    async close(roomId, pollId) {
      const poll = await row(roomId, pollId);
      const closed = await db
        .updateTable('polls')
        .set({ closed_at: sql<Date>`now()` as never })
        .where('id', '=', pollId)
        .where('closed_at', 'is', null)
        .returning(['id', 'room_id', 'question', 'options', 'closes_at', 'closed_at', 'created_at'])
        .executeTakeFirst();
      return { poll: (await load([(closed as PollRow | undefined) ?? poll]))[0], changed: closed !== undefined };
    },

    async get(roomId, pollId, userId) {
      return (await load([await row(roomId, pollId)], userId))[0];
    },

    async open(roomId, userId) {
      const rows = await db
        .selectFrom('polls')
        .select(['id', 'room_id', 'question', 'options', 'closes_at', 'closed_at', 'created_at'])
        .where('room_id', '=', roomId)
        .where('closed_at', 'is', null)
        .where((eb) => eb.or([eb('closes_at', 'is', null), eb('closes_at', '>', sql<Date>`now()`)]))
        .orderBy('created_at')
        .execute();
      return load(rows as PollRow[], userId);
    },

    async closeDue() {
      const rows = (await db
        .updateTable('polls')
        .set({ closed_at: sql<Date>`closes_at` as never })
        .where('closed_at', 'is', null)
        .where('closes_at', '<=', sql<Date>`now()`)
        .returning(['id', 'room_id', 'question', 'options', 'closes_at', 'closed_at', 'created_at'])
        .execute()) as PollRow[];
      const polls = await load(rows);
      return rows.map((r, i) => ({ roomId: r.room_id, poll: polls[i] }));
    },
  };
}
