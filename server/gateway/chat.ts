import { Capabilities, CHAT_BATCH_INTERVAL_MS, type ChatMessage } from '../../protocol';
import { AppError, forbidden, invalidArgument, notFound } from '../errors';
import { newEvent } from '../events';
import { TokenBucketLimiter } from '../ratelimit';
import { AccessMarkers, markerChannel } from './access-markers';
import { ChatHistory, ChatWriter } from './chat-store';
import { type GatewayContext, requireAccess, requireMember, requireUser } from './context';
import { uuidv7 } from './ids';
import type { Membership } from './memberships';
import { RoomBatcher } from './room-batcher';
import { activeRestriction, type RoomState, roleIn } from './room-state';
import { LastSpoke } from './slow-mode';
import { accessChannel, type IoServer, type IoSocket, type SignedInUser } from './types';

/** Chat's marker channels of a room's access channel: members taking `chat:batch`, and the others. */
const CHAT_MARKERS = { asked: 'batched', plain: 'each' };
export const batchedChatChannel = (roomId: string) => markerChannel(roomId, CHAT_MARKERS.asked);
export const eachChatChannel = (roomId: string) => markerChannel(roomId, CHAT_MARKERS.plain);

/**
 * Sends a room's chat to its members with access: `chat:message`, one per message, to those
 * that take it so (every Socket.IO client understands it), and `chat:batch` to those that asked
 * for batches — a message at once when the room is quiet, and in a busy room the messages of up
 * to `intervalMs` in one event, so each of those viewers costs one frame per interval however
 * fast the room talks. Each broadcast is encoded once for all its recipients (Socket.IO's
 * `io.to().emit`) and reaches the other nodes through the adapter; each node batches the
 * messages sent through it, in the order they were sent.
 */
export class ChatDelivery {
  private readonly batches: RoomBatcher<ChatMessage>;
  private readonly markers: AccessMarkers;

  constructor(
    private readonly io: IoServer,
    intervalMs = CHAT_BATCH_INTERVAL_MS,
  ) {
    this.markers = new AccessMarkers(io, Capabilities.chatBatch, CHAT_MARKERS);
    this.batches = new RoomBatcher(intervalMs, (roomId, messages) =>
      io.to(accessChannel(roomId)).except(this.markers.plain(roomId)).emit('chat:batch', { roomId, messages }),
    );
  }

  send(message: ChatMessage): void {
    const { roomId } = message;
    this.io.to(accessChannel(roomId)).except(this.markers.asked(roomId)).emit('chat:message', message);
    this.batches.push(roomId, message);
  }

  /** Sends the room's waiting messages now (before an event that must follow them, e.g. a deletion). */
  flush(roomId: string): void {
    this.batches.flush(roomId);
  }

  close(): void {
    this.batches.close();
  }
}

/** Room chat: the checks a message must pass, group-committed persistence, and history. */
export class ChatManager {
  readonly history: ChatHistory;
  private readonly writer: ChatWriter;
  private readonly delivery: ChatDelivery;
  private readonly limiter: TokenBucketLimiter;
  /** (roomId, userId) → when the user last spoke, for slow mode. */
  private readonly lastSpoke = new LastSpoke();

  constructor(private readonly ctx: GatewayContext) {
    this.writer = new ChatWriter(ctx.db);
    this.delivery = new ChatDelivery(ctx.io);
    this.history = new ChatHistory(ctx.db, ctx.config.chatHistorySize, 1000, ctx.cacheLookup('chat_history'));
    this.limiter = new TokenBucketLimiter(ctx.config.chatBurst, ctx.config.chatMessagesPerSecond);
  }

  async send(socket: IoSocket, roomId: string, text: string): Promise<{ message: ChatMessage }> {
    const user = requireUser(socket);
    const member = requireMember(this.ctx, socket, roomId);
    const state = await this.ctx.roomStates.open(roomId);
    const role = roleIn(state, user);
    const staff = role === 'owner' || role === 'moderator';
    if (activeRestriction(state, user.id, 'ban')) throw new AppError('BANNED', 'you are banned from this room');
    const mute = activeRestriction(state, user.id, 'mute');
    if (mute) {
      throw new AppError('MUTED', 'you are muted in this room', {
        details: { until: mute.until?.toISOString() ?? null },
      });
    }
    requireAccess(member);
    if (!staff && state.room.settings.subscribersOnlyChat && !(await this.isSupporter(user, state, member))) {
      throw forbidden('chat is for subscribers and ticket holders only');
    }
    if (state.bannedWords?.test(text)) {
      throw invalidArgument('the message contains a word this room does not allow', { reason: 'banned_word' });
    }
    const spokeKey = `${roomId}|${user.id}`;
    const slow = staff ? 0 : state.room.settings.slowModeSeconds * 1000;
    const now = Date.now();
    const since = now - (this.lastSpoke.get(spokeKey) ?? 0);
    if (slow > 0 && since < slow) {
      throw new AppError('SLOW_MODE', `slow mode: one message every ${slow / 1000} s`, {
        details: { retryAfterMs: slow - since },
      });
    }
    const { ok, retryAfterMs } = this.limiter.take(user.id);
    if (!ok) throw new AppError('RATE_LIMITED', 'you are sending messages too fast', { details: { retryAfterMs } });
    // Taken now, in the same tick as the check: a second message sent while this one is being
    // saved must already be refused. Given back if the message cannot be saved.
    const undoSpoke = slow > 0 ? this.lastSpoke.record(spokeKey, now) : undefined;

    const message: ChatMessage = {
      id: uuidv7(),
      roomId,
      user: { id: user.id, username: user.username },
      text,
      sentAt: new Date().toISOString(),
    };
    try {
      await this.writer.write(message);
    } catch (err) {
      undoSpoke?.();
      throw new AppError('UNAVAILABLE', 'the message could not be saved; try again', { cause: err });
    }
    this.history.invalidate(roomId);
    this.delivery.send(message);
    this.ctx.record(
      newEvent('chat.sent', { roomId, userId: user.id, data: { messageId: message.id, length: text.length } }),
    );
    return { message };
  }

  /** A ticket holder or subscriber of a paid room, or a subscriber of the creator of a free one. */
  private async isSupporter(user: SignedInUser, state: RoomState, member: Membership): Promise<boolean> {
    if (state.room.access !== 'free' && member.access === 'full') return true;
    return this.ctx.payments.hasRoomEntitlement(user, { ...state.room, access: 'subscribers' });
  }

  /** Deletes a message: its author, the owner or a moderator. */
  async delete(socket: IoSocket, roomId: string, messageId: string): Promise<Record<string, never>> {
    const user = requireUser(socket);
    requireMember(this.ctx, socket, roomId);
    const state = await this.ctx.roomStates.get(roomId);
    const authorId = await this.ctx.rooms.moderation.messageAuthor(roomId, messageId);
    if (!authorId) throw notFound('message');
    const role = roleIn(state, user);
    if (authorId !== user.id && role !== 'owner' && role !== 'moderator')
      throw forbidden('only moderators can delete others’ messages');
    await this.ctx.rooms.moderation.deleteMessage({ roomId, actorId: user.id, messageId, authorId });
    this.history.invalidate(roomId);
    // A message still waiting for its batch goes before its deletion.
    this.delivery.flush(roomId);
    this.ctx.io.to(accessChannel(roomId)).emit('chat:deleted', { roomId, messageId });
    return {};
  }

  close(): Promise<void> {
    this.delivery.close();
    return this.writer.close();
  }
}
