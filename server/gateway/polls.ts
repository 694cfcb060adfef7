import type { Poll } from '../../protocol';
import { AppError, conflict } from '../errors';
import { newEvent } from '../events';
import type { PollsService } from '../polls';
import { type GatewayContext, requireMember, requireUser } from './context';
import { requireModerator } from './room-state';
import { accessChannel, type IoSocket } from './types';

/**
 * Polls in the room: the owner or a moderator asks and closes, viewers with full access vote
 * (in a paid room: those who paid; a preview is not enough). Results go to the members with
 * access at most once per `intervalMs` per poll, however fast votes come; creation and closing
 * are told at once. Every node closes the polls whose time is up (the database says which node
 * closed each, so each is announced once).
 */
export class PollsManager {
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly closer: NodeJS.Timeout;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly polls: PollsService,
    private readonly intervalMs = 1000,
  ) {
    this.closer = setInterval(() => void this.closeDue(), intervalMs);
    this.closer.unref();
  }

  async create(
    socket: IoSocket,
    p: { roomId: string; question: string; options: string[]; durationSeconds?: number },
  ): Promise<{ poll: Poll }> {
    const user = requireUser(socket);
    requireMember(this.ctx, socket, p.roomId);
    const state = await this.ctx.roomStates.get(p.roomId);
    requireModerator(state, user);
    if (state.room.status !== 'live') throw conflict('polls run while the room is live');
    const poll = await this.polls.create({ ...p, createdBy: user.id });
    this.tell(p.roomId, { ...poll, myVote: undefined });
    return { poll };
  }

  async vote(socket: IoSocket, p: { roomId: string; pollId: string; option: number }): Promise<{ poll: Poll }> {
    const user = requireUser(socket);
    const m = requireMember(this.ctx, socket, p.roomId);
    if (m.access !== 'full') throw new AppError('PAYMENT_REQUIRED', 'voting is for viewers with full access');
    const poll = await this.polls.vote({ ...p, userId: user.id });
    this.ctx.record(
      newEvent('poll.voted', { roomId: p.roomId, userId: user.id, data: { pollId: p.pollId, option: p.option } }),
    );
    this.scheduleUpdate(p.roomId, p.pollId);
    return { poll };
  }

  async closePoll(socket: IoSocket, p: { roomId: string; pollId: string }): Promise<{ poll: Poll }> {
    const user = requireUser(socket);
    requireMember(this.ctx, socket, p.roomId);
    requireModerator(await this.ctx.roomStates.get(p.roomId), user);
    const { poll, changed } = await this.polls.close(p.roomId, p.pollId);
    if (changed) this.tell(p.roomId, poll);
    return { poll };
  }

  /** The room's open polls with the caller's votes, for `room:join`. */
  open(roomId: string, userId?: string): Promise<Poll[]> {
    return this.polls.open(roomId, userId);
  }

  private tell(roomId: string, poll: Poll): void {
    const { myVote: _mine, ...shared } = poll;
    this.ctx.io.to(accessChannel(roomId)).emit('poll:update', { roomId, poll: shared });
  }

  /** One results update per poll per interval, with the counts as they are then. */
  private scheduleUpdate(roomId: string, pollId: string): void {
    if (this.scheduled.has(pollId)) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(pollId);
      this.polls
        .get(roomId, pollId)
        .then((poll) => this.tell(roomId, poll))
        .catch((err) => this.ctx.log.warn({ err, roomId, pollId }, 'poll results not sent'));
    }, this.intervalMs);
    timer.unref();
    this.scheduled.set(pollId, timer);
  }

  private async closeDue(): Promise<void> {
    try {
      for (const { roomId, poll } of await this.polls.closeDue()) this.tell(roomId, poll);
    } catch (err) {
      this.ctx.log.warn({ err }, 'due polls not closed');
    }
  }

  stop(): void {
    clearInterval(this.closer);
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }
}
