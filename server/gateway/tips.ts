import type { LeaderboardEntry, Purchase, Subscription, Tip } from '../../protocol';
import { AppError, invalidArgument } from '../errors';
import type { Outcome } from '../payments';
import { type GatewayContext, requireAccess, requireMember, requireUser } from './context';
import { ShortCache } from './short-cache';
import { TipDelivery } from './tip-delivery';
import { type IoSocket, roomChannel } from './types';

/** Unwraps a money outcome for a socket ack: a stored refusal is thrown again, as it was. */
function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new AppError(outcome.error.code, outcome.error.message, { details: outcome.error.details });
  return outcome.data;
}

/** A room's leaderboard goes out at most this often, however many tips arrive. */
const LEADERBOARD_INTERVAL_MS = 1000;

/**
 * Tips, paid pinned messages, the session leaderboard, and buying from inside a room. Money
 * moves through the payments core (atomic, idempotent, never overdrawn); the room hears about a
 * tip from the `tip.created` domain event, so a retried tip is announced once. The leaderboard
 * and pinned tips joiners get are shared for a second (dropped when a tip is announced here).
 */
export class TipsManager {
  private readonly board: ShortCache<LeaderboardEntry[]>;
  private readonly pins: ShortCache<Tip[]>;
  /** Rooms whose leaderboard is due to be sent. */
  private readonly boardDue = new Map<string, NodeJS.Timeout>();
  private readonly delivery: TipDelivery;

  /** `clustered`: see `TipDelivery`. */
  constructor(
    private readonly ctx: GatewayContext,
    clustered: boolean,
  ) {
    this.delivery = new TipDelivery(ctx.io, clustered);
    this.board = new ShortCache(1000, (roomId) => this.loadLeaderboard(roomId), {
      onLookup: ctx.cacheLookup('leaderboard'),
    });
    this.pins = new ShortCache(1000, (roomId) => this.loadPinned(roomId), { onLookup: ctx.cacheLookup('pinned') });
  }

  /** A tip of at least the threshold stays pinned for a time proportional to its amount, capped. */
  pinnedUntil(amount: number, now = Date.now()): Date | null {
    const { tipPinThreshold, tipPinBaseSeconds, tipPinMaxSeconds } = this.ctx.config;
    if (amount < tipPinThreshold) return null;
    const seconds = Math.min(tipPinMaxSeconds, Math.round((tipPinBaseSeconds * amount) / tipPinThreshold));
    return new Date(now + seconds * 1000);
  }

  async send(
    socket: IoSocket,
    p: { roomId: string; amount: number; message?: string; idempotencyKey: string },
  ): Promise<{ tip: Tip; balance: number }> {
    const user = requireUser(socket);
    const { roomId, amount, message, idempotencyKey } = p;
    const input = { roomId, amount, message };
    const first = await this.unlessReplay(user.id, idempotencyKey, 'tip', input, async () => {
      requireAccess(requireMember(this.ctx, socket, p.roomId));
      const state = await this.ctx.roomStates.get(p.roomId);
      if (p.message && state.bannedWords?.test(p.message)) {
        throw invalidArgument('the message contains a word this room does not allow', { reason: 'banned_word' });
      }
    });
    if (first) {
      const { tip, balance } = unwrap(first as Outcome<{ tip: Tip; balance: number }>);
      return { tip, balance };
    }
    return unwrap(
      await this.ctx.payments.tip(user.id, input, idempotencyKey, (a) => this.pinnedUntil(a), user.username),
    );
  }

  /**
   * The gateway's own checks of a paying event (membership, access, banned words). A retry must
   * get its first answer whatever changed since (the room ended, a ban, a preview over), so a
   * refusal first asks whether the key already has an answer, and that answer wins. Passing
   * checks need no such question: the payment itself replays a used key.
   */
  private async unlessReplay(
    userId: string,
    key: string,
    operation: 'tip' | 'purchase' | 'subscribe',
    input: unknown,
    checks: () => unknown,
  ): Promise<Outcome<unknown> | null> {
    try {
      await checks();
      return null;
    } catch (refusal) {
      const first = await this.ctx.payments.replayed(userId, key, operation, input);
      if (first) return first;
      throw refusal;
    }
  }

  /**
   * Buys from inside a room. `fromRoomId` says where: the sale then counts for that room's
   * session, so the buyer must be in it (a client cannot credit another room).
   */
  async purchase(
    socket: IoSocket,
    p: ({ contentId: string; fromRoomId?: string } | { roomId: string }) & { idempotencyKey: string },
  ): Promise<{ purchase: Purchase; balance: number }> {
    const user = requireUser(socket);
    const { idempotencyKey, ...target } = p;
    const first = await this.unlessReplay(user.id, idempotencyKey, 'purchase', target, () => {
      if ('fromRoomId' in p && p.fromRoomId) requireMember(this.ctx, socket, p.fromRoomId);
    });
    if (first) return unwrap(first as Outcome<{ purchase: Purchase; balance: number }>);
    return unwrap(await this.ctx.payments.purchase(user.id, target, idempotencyKey));
  }

  /**
   * Subscribes to a creator from inside a room: the same operation, and the same idempotency
   * keys, as `POST /api/subscriptions`. Access follows from the `purchase.completed` event.
   */
  async subscribe(
    socket: IoSocket,
    p: { creatorId: string; fromRoomId?: string; idempotencyKey: string },
  ): Promise<{ purchase: Purchase; subscription: Subscription; balance: number }> {
    const user = requireUser(socket);
    const { idempotencyKey, ...input } = p;
    const first = await this.unlessReplay(user.id, idempotencyKey, 'subscribe', input, () => {
      if (p.fromRoomId) requireMember(this.ctx, socket, p.fromRoomId);
    });
    if (first) {
      return unwrap(first as Outcome<{ purchase: Purchase; subscription: Subscription; balance: number }>);
    }
    return unwrap(await this.ctx.payments.subscribe(user.id, input, idempotencyKey));
  }

  /** Biggest tippers of the room's current live session. */
  leaderboard(roomId: string): Promise<LeaderboardEntry[]> {
    return this.board.get(roomId);
  }

  private loadLeaderboard(roomId: string, limit = 10): Promise<LeaderboardEntry[]> {
    return this.ctx.payments.tipLeaderboard(roomId, limit);
  }

  /** Tips whose message is pinned right now, newest first. */
  async pinned(roomId: string): Promise<Tip[]> {
    const now = new Date().toISOString();
    return (await this.pins.get(roomId)).filter((t) => t.pinnedUntil !== null && t.pinnedUntil > now);
  }

  private loadPinned(roomId: string): Promise<Tip[]> {
    return this.ctx.payments.pinnedTips(roomId, 5);
  }

  /**
   * Announces a committed tip to the members with access (its message is part of the room's
   * conversation), and the updated leaderboard to the whole room — at most once per
   * `LEADERBOARD_INTERVAL_MS` per room: in a gift storm the board is summed once a second, not
   * once per tip.
   */
  async announce(tip: Tip): Promise<void> {
    // Joiners read it again (lazily); the room hears of it once the interval is up.
    this.board.invalidate(tip.roomId);
    this.pins.invalidate(tip.roomId);
    this.delivery.push(tip);
    if (this.boardDue.has(tip.roomId)) return;
    const timer = setTimeout(() => {
      this.boardDue.delete(tip.roomId);
      this.leaderboard(tip.roomId)
        .then((top) => this.ctx.io.to(roomChannel(tip.roomId)).emit('tip:leaderboard', { roomId: tip.roomId, top }))
        .catch((err) => this.ctx.log.warn({ err, roomId: tip.roomId }, 'leaderboard not sent'));
    }, LEADERBOARD_INTERVAL_MS);
    timer.unref();
    this.boardDue.set(tip.roomId, timer);
  }

  close(): void {
    for (const timer of this.boardDue.values()) clearTimeout(timer);
    this.boardDue.clear();
    this.delivery.close();
  }
}
