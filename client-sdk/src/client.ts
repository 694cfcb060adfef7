import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  type AckResponse,
  type ChatMessage,
  type ClientToServerEvents,
  type ErrorCode,
  Limits,
  type Purchase,
  type Question,
  type RoomJoinResult,
  type RoomSettings,
  type ServerToClientEvents,
  type Tip,
} from '../../protocol';
import { Emitter } from './emitter';
import { LecternError } from './errors';
import { newIdempotencyKey } from './ids';

export type LecternSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type Event = keyof ClientToServerEvents;
type Payload<E extends Event> = Parameters<ClientToServerEvents[E]>[0];
type Data<E extends Event> =
  Parameters<Parameters<ClientToServerEvents[E]>[1]>[0] extends AckResponse<infer T> ? T : never;

/** Everything a client can listen to: the server's events plus the connection's life. */
export type ClientEvents = ServerToClientEvents & {
  /** Connected (first time or again). `recovered`: the server kept the session and rooms. */
  connected: (p: { recovered: boolean }) => void;
  disconnected: (p: { reason: string }) => void;
  /** After a reconnect the server had forgotten, the SDK joined the room again. */
  rejoined: (p: RoomJoinResult) => void;
  /** A background operation (rejoin, like batch) failed. */
  error: (p: LecternError) => void;
};

export interface LecternClientOptions {
  /** Server URL, e.g. `https://live.example.com` (the Socket.IO default path). */
  url: string;
  /** An access token from `/api/auth/login`; omit to connect as a guest (free rooms only). */
  token?: string;
  /** How long to wait for the server's answer to one request. Default 10 s. */
  requestTimeoutMs?: number;
  /** Extra attempts for money requests that timed out (same idempotency key). Default 3. */
  retries?: number;
  /** Likes are summed locally and sent at most this often, per room. Default 250 ms. */
  likeFlushMs?: number;
  /** Passed to socket.io-client (e.g. `transports: ['websocket']`). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

/**
 * A connection to a Lectern server. Requests return promises that resolve with the server's
 * data or reject with a `LecternError` carrying the server's code. Rooms joined through the
 * client are rejoined automatically after a reconnect the server could not recover.
 */
export class LecternClient extends Emitter<ClientEvents> {
  readonly socket: LecternSocket;
  private readonly rooms = new Set<string>();
  private readonly pendingLikes = new Map<string, number>();
  private likeTimer: ReturnType<typeof setTimeout> | undefined;
  private everConnected = false;
  /** Set while rooms are being rejoined after a reconnect; requests wait for it. */
  private rejoining: Promise<void> | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly likeFlushMs: number;

  constructor(options: LecternClientOptions) {
    super();
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.retries = options.retries ?? 3;
    this.likeFlushMs = options.likeFlushMs ?? 250;
    this.socket = io(options.url, {
      autoConnect: false,
      auth: options.token ? { token: options.token } : {},
      ...options.socketOptions,
    });
    this.socket.onAny((event: string, payload: unknown) => {
      this.emit(event as keyof ServerToClientEvents, payload as never);
    });
    this.socket.on('connect', () => {
      const again = this.everConnected;
      this.everConnected = true;
      this.emit('connected', { recovered: this.socket.recovered });
      if (again && !this.socket.recovered) {
        this.rejoining = this.rejoinAll().finally(() => {
          this.rejoining = undefined;
        });
      }
    });
    this.socket.on('disconnect', (reason) => this.emit('disconnected', { reason }));
    // A room that ends is left for good: do not rejoin it.
    this.socket.on('room:ended', ({ roomId }) => this.rooms.delete(roomId));
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Opens the connection; rejects with the server's code if the handshake is refused. */
  connect(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        this.socket.off('connect_error', onError);
        resolve();
      };
      const onError = (err: Error & { data?: { code?: ErrorCode; message?: string } }) => {
        this.socket.off('connect', onConnect);
        this.socket.disconnect();
        reject(new LecternError(err.data?.code ?? 'UNAVAILABLE', err.data?.message ?? err.message));
      };
      this.socket.once('connect', onConnect);
      this.socket.once('connect_error', onError);
      this.socket.connect();
    });
  }

  /** Sends pending likes and closes the connection. */
  async close(): Promise<void> {
    if (this.socket.connected) await this.flushLikes().catch(() => 0);
    clearTimeout(this.likeTimer);
    this.rooms.clear();
    this.socket.disconnect();
  }

  /** Any client event, typed: resolves with its data or rejects with a LecternError. */
  async request<E extends Event>(event: E, payload: Payload<E>): Promise<Data<E>> {
    let response: AckResponse<Data<E>>;
    try {
      response = await (this.socket.timeout(this.timeoutMs) as any).emitWithAck(event, payload);
    } catch {
      throw new LecternError('UNAVAILABLE', `no answer to ${event} within ${this.timeoutMs} ms`);
    }
    if (!response.ok) throw LecternError.from(response.error);
    return response.data;
  }

  /**
   * For requests that move money: the idempotency key is made once and reused on every retry,
   * so a retry after a lost answer can never charge twice. Only unanswered requests are retried;
   * a refusal from the server is final.
   */
  private async requestOnce<E extends 'tip:send' | 'purchase:create'>(event: E, payload: Payload<E>): Promise<Data<E>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request(event, payload);
      } catch (err) {
        const unanswered = err instanceof LecternError && err.code === 'UNAVAILABLE';
        if (!unanswered || attempt >= this.retries) throw err;
        await this.ready();
      }
    }
  }

  /** Resolves once connected and back in this client's rooms (bounded by the request timeout). */
  private async ready(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while ((!this.socket.connected || this.rejoining) && Date.now() < deadline) {
      await (this.rejoining ?? new Promise((r) => setTimeout(r, 50)));
    }
  }

  // --- rooms -----------------------------------------------------------------------------------

  async joinRoom(roomId: string): Promise<RoomJoinResult> {
    const result = await this.request('room:join', { roomId });
    this.rooms.add(roomId);
    return result;
  }

  async leaveRoom(roomId: string): Promise<void> {
    this.rooms.delete(roomId);
    this.pendingLikes.delete(roomId);
    await this.request('room:leave', { roomId });
  }

  /** Rooms this client is in (and will rejoin after a reconnect). */
  joinedRooms(): string[] {
    return [...this.rooms];
  }

  private async rejoinAll(): Promise<void> {
    for (const roomId of this.rooms) {
      try {
        this.emit('rejoined', await this.request('room:join', { roomId }));
      } catch (err) {
        this.rooms.delete(roomId);
        this.emit('error', err instanceof LecternError ? err : new LecternError('INTERNAL', String(err)));
      }
    }
  }

  // --- chat, likes, questions --------------------------------------------------------------------

  async sendChat(roomId: string, text: string): Promise<ChatMessage> {
    return (await this.request('chat:send', { roomId, text })).message;
  }

  async deleteMessage(roomId: string, messageId: string): Promise<void> {
    await this.request('chat:delete', { roomId, messageId });
  }

  /** Counts taps locally; they are sent in one message per room every `likeFlushMs`. */
  like(roomId: string, count = 1): void {
    if (!Number.isInteger(count) || count < 1)
      throw new LecternError('INVALID_ARGUMENT', 'count must be a positive integer');
    this.pendingLikes.set(roomId, (this.pendingLikes.get(roomId) ?? 0) + count);
    this.likeTimer ??= setTimeout(() => {
      this.likeTimer = undefined;
      this.flushLikes().catch((err) => this.emit('error', err));
    }, this.likeFlushMs);
  }

  /** Sends the taps counted so far; resolves with how many the server accepted. */
  async flushLikes(): Promise<number> {
    const batch = [...this.pendingLikes];
    this.pendingLikes.clear();
    let accepted = 0;
    for (const [roomId, total] of batch) {
      for (let left = total; left > 0; left -= Limits.likesPerEventMax) {
        const count = Math.min(left, Limits.likesPerEventMax);
        accepted += (await this.request('like:send', { roomId, count })).accepted;
      }
    }
    return accepted;
  }

  async askQuestion(roomId: string, text: string): Promise<Question> {
    return (await this.request('question:ask', { roomId, text })).question;
  }

  async upvoteQuestion(roomId: string, questionId: string): Promise<Question> {
    return (await this.request('question:upvote', { roomId, questionId })).question;
  }

  async answerQuestion(roomId: string, questionId: string): Promise<Question> {
    return (await this.request('question:answer', { roomId, questionId })).question;
  }

  // --- suggestions -----------------------------------------------------------------------------

  /**
   * The viewer opened (or is buying) a suggested item: the recommender learns from it. `contentId`
   * is the item's `contentId` as suggested (a creator's id for a subscription suggestion).
   */
  async clickSuggestion(roomId: string, contentId: string): Promise<void> {
    await this.request('suggestion:click', { roomId, contentId });
  }

  /** The viewer closed a suggestion: no more suggestions for a while, and not that item again soon. */
  async dismissSuggestion(roomId: string, contentId: string): Promise<void> {
    await this.request('suggestion:dismiss', { roomId, contentId });
  }

  // --- money -----------------------------------------------------------------------------------

  tip(
    roomId: string,
    amount: number,
    options: { message?: string; idempotencyKey?: string } = {},
  ): Promise<{ tip: Tip; balance: number }> {
    const { message, idempotencyKey = newIdempotencyKey() } = options;
    return this.requestOnce('tip:send', { roomId, amount, ...(message ? { message } : {}), idempotencyKey });
  }

  buyContent(
    contentId: string,
    options: { idempotencyKey?: string } = {},
  ): Promise<{ purchase: Purchase; balance: number }> {
    return this.requestOnce('purchase:create', {
      contentId,
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
    });
  }

  /** Buys a ticket to a room; access upgrades at once (`access:changed`). */
  buyTicket(
    roomId: string,
    options: { idempotencyKey?: string } = {},
  ): Promise<{ purchase: Purchase; balance: number }> {
    return this.requestOnce('purchase:create', {
      roomId,
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
    });
  }

  // --- moderation (owner and moderators) -------------------------------------------------------

  async mute(roomId: string, userId: string, seconds: number, reason?: string): Promise<{ until: string }> {
    return this.request('moderation:mute', { roomId, userId, seconds, ...(reason ? { reason } : {}) });
  }

  async unmute(roomId: string, userId: string): Promise<void> {
    await this.request('moderation:unmute', { roomId, userId });
  }

  async ban(roomId: string, userId: string, reason?: string): Promise<void> {
    await this.request('moderation:ban', { roomId, userId, ...(reason ? { reason } : {}) });
  }

  async unban(roomId: string, userId: string): Promise<void> {
    await this.request('moderation:unban', { roomId, userId });
  }

  async updateRoomSettings(roomId: string, settings: Partial<RoomSettings>): Promise<RoomSettings> {
    return (await this.request('moderation:settings', { roomId, settings })).settings;
  }

  async setModerator(roomId: string, userId: string, grant: boolean): Promise<void> {
    await this.request('moderation:moderator', { roomId, userId, grant });
  }
}
