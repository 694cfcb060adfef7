import type { Question } from '../../protocol';
import { AppError, invalidArgument } from '../errors';
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
    const question = await this.ctx.rooms.questions.ask(roomId, user, text);
    this.scheduleBroadcast(roomId);
    this.ctx.record(newEvent('question.asked', { roomId, userId: user.id, data: { questionId: question.id } }));
    return { question };
  }

  async upvote(socket: IoSocket, roomId: string, questionId: string): Promise<{ question: Question }> {
    const user = requireUser(socket);
    requireAccess(requireMember(this.ctx, socket, roomId));
    const question = await this.ctx.rooms.questions.upvote(roomId, questionId, user.id);
    this.scheduleBroadcast(roomId);
    this.ctx.record(newEvent('question.upvoted', { roomId, userId: user.id, data: { questionId } }));
    return { question };
  }

  async answer(socket: IoSocket, roomId: string, questionId: string): Promise<{ question: Question }> {
    const user = requireUser(socket);
    requireMember(this.ctx, socket, roomId);
    requireModerator(await this.ctx.roomStates.get(roomId), user);
    const question = await this.ctx.rooms.questions.answer(roomId, questionId);
    this.scheduleBroadcast(roomId);
    this.ctx.record(newEvent('question.answered', { roomId, userId: user.id, data: { questionId } }));
    return { question };
  }

  /** Open questions, best first. */
  list(roomId: string): Promise<Question[]> {
    return this.open.get(roomId);
  }

  /** The most recently answered questions, newest answered first (for joiners). */
  answered(roomId: string): Promise<Question[]> {
    return this.ctx.rooms.questions.answered(roomId, ANSWERED_SIZE);
  }

  private loadOpen(roomId: string): Promise<Question[]> {
    return this.ctx.rooms.questions.open(roomId, LIST_SIZE);
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
}
