import { Capabilities, CHAT_BATCH_INTERVAL_MS, type ChatMessage } from '../../protocol';
import { AppError, forbidden, invalidArgument, notFound } from '../errors';
import { newEvent } from '../events';
import { TokenBucketLimiter } from '../ratelimit';
import { ChatHistory, ChatWriter } from './chat-store';
import { type GatewayContext, requireAccess, requireMember, requireUser } from './context';
import { uuidv7 } from './ids';
import type { Membership } from './memberships';
import { RoomBatcher } from './room-batcher';
import { activeRestriction, type RoomState, roleIn } from './room-state';
import { LastSpoke } from './slow-mode';
import { accessChannel, asksFor, type IoServer, type IoSocket, type SignedInUser } from './types';

/**
 * Marker channels of a room's access channel: each member of it is in one of the two, by how it
 * takes chat. They only ever leave members out of a broadcast (`except`), never reach anyone: a
 * marker left behind (a resumed session whose access channel was dropped) lets nobody hear
 * the room; only the access channel does.
 */
export const batchedChatChannel = (roomId: string) => `${accessChannel(roomId)}:batched`;
export const eachChatChannel = (roomId: string) => `${accessChannel(roomId)}:each`;
const ACCESS_CHANNEL = /^room:(.+):access$/;
const MARKER_CHANNEL = /^room:(.+):access:(?:batched|each)$/;

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

  constructor(
    private readonly io: IoServer,
    intervalMs = CHAT_BATCH_INTERVAL_MS,
  ) {
    this.batches = new RoomBatcher(intervalMs, (roomId, messages) =>
      io.to(accessChannel(roomId)).except(eachChatChannel(roomId)).emit('chat:batch', { roomId, messages }),
    );
    // Every member of an access channel is put in one marker channel of it, and leaves both
    // with it (a disconnect, a lost preview, a ban, the room's end).
    const nsp = io.of('/');
    const adapter = nsp.adapter;
    const mark = (socket: IoSocket, roomId: string) => {
      const batched = asksFor(socket, Capabilities.chatBatch);
      adapter.addAll(socket.id, new Set([batched ? batchedChatChannel(roomId) : eachChatChannel(roomId)]));
      adapter.del(socket.id, batched ? eachChatChannel(roomId) : batchedChatChannel(roomId));
    };
    adapter.on('join-room', (channel: string, id: string) => {
      const roomId = ACCESS_CHANNEL.exec(channel)?.[1];
      if (!roomId) return;
      // A resumed session gets its channels back before it is connected: 'connection' marks it.
      const socket = nsp.sockets.get(id);
      if (socket) mark(socket, roomId);
    });
    adapter.on('leave-room', (channel: string, id: string) => {
      const roomId = ACCESS_CHANNEL.exec(channel)?.[1];
      if (!roomId) return;
      adapter.del(id, batchedChatChannel(roomId));
      adapter.del(id, eachChatChannel(roomId));
    });
    // A resumed session: marked by what it asks for now; markers of access channels it did not
    // get back (dropped by the recovery guard) go.
    io.on('connection', (socket) => {
      if (!socket.recovered) return;
      for (const channel of [...socket.rooms]) {
        const roomId = ACCESS_CHANNEL.exec(channel)?.[1];
        if (roomId) mark(socket, roomId);
        const markedRoomId = MARKER_CHANNEL.exec(channel)?.[1];
        if (markedRoomId && !socket.rooms.has(accessChannel(markedRoomId))) adapter.del(socket.id, channel);
      }
    });
  }

  send(message: ChatMessage): void {
    const { roomId } = message;
    this.io.to(accessChannel(roomId)).except(batchedChatChannel(roomId)).emit('chat:message', message);
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
