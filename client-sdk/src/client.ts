import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  type AckResponse,
  Capabilities,
  type ChatMessage,
  type ClientToServerEvents,
  type ErrorBody,
  type ErrorCode,
  type FollowedCreator,
  type FollowState,
  Limits,
  type ModerationList,
  type Purchase,
  type Question,
  type RoomJoinResult,
  type RoomRef,
  type RoomSettings,
  type RoomsForYou,
  type ServerToClientEvents,
  type Subscription,
  type Tip,
  type TipsSummed,
} from '../../protocol';
import { Emitter } from './emitter';
import { LecternError } from './errors';
import { newIdempotencyKey } from './ids';
import { LiveRoom, type RoomOptions } from './room';

export type LecternSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type Event = keyof ClientToServerEvents;
type MoneyEvent = 'tip:send' | 'purchase:create' | 'subscription:create';
type Payload<E extends Event> = Parameters<ClientToServerEvents[E]>[0];
type Data<E extends Event> =
  Parameters<Parameters<ClientToServerEvents[E]>[1]>[0] extends AckResponse<infer T> ? T : never;

/**
 * Refusals worth trying again: the server was busy or unreachable. Anything else (banned, ended,
 * not found, no access, …) is final.
 */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL']);
/** Attempts at rejoining one room after a reconnect before giving up until the next one. */
const REJOIN_ATTEMPTS = 5;

const asLecternError = (err: unknown) =>
  err instanceof LecternError ? err : new LecternError('INTERNAL', String(err));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** `expectedPrice`, the price the buyer saw, when the caller gives it (the server refuses another). */
const priceSeen = (o: { expectedPrice?: number }) =>
  o.expectedPrice === undefined ? {} : { expectedPrice: o.expectedPrice };

/** Everything a client can listen to: the server's events plus the connection's life. */
export type ClientEvents = ServerToClientEvents & {
  /** Connected (first time or again). `recovered`: the server kept the session and rooms. */
  connected: (p: { recovered: boolean }) => void;
  disconnected: (p: { reason: string }) => void;
  /** After a reconnect the server had forgotten, the SDK joined the room again. */
  rejoined: (p: RoomJoinResult) => void;
  /** A background operation (rejoin, like batch) failed. */
  error: (p: LecternError) => void;
  /**
   * In a gift storm, the room's tips the server summed rather than listed (a `tip:batch`'s
   * `more`): with the `tip:new` events they account for every tip. Only with `tipSummaries`.
   */
  'tip:summed': (p: RoomRef & TipsSummed) => void;
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
  /**
   * Take a busy room's chat in batches (`chat:batch`, one event per short interval) rather than
   * one `chat:message` each: fewer frames for the server to send and for the client to handle.
   * Listeners see no difference — every message still comes as `chat:message`, in order. Default true.
   */
  chatBatches?: boolean;
  /**
   * In a gift storm, take a delivery's tips past the newest `TIP_LIST_MAX` summed (`tip:summed`:
   * how many, how much) rather than each as `tip:new`; paid pinned tips are always listed, and
   * tips with a message before those without. Default true; false hears every tip of every storm.
   */
  tipSummaries?: boolean;
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
  /** For the few HTTP calls (`roomsForYou`, follows): the server and the caller's token. */
  private readonly baseUrl: string;
  private readonly token: string | undefined;

  constructor(options: LecternClientOptions) {
    super();
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.retries = options.retries ?? 3;
    this.likeFlushMs = options.likeFlushMs ?? 250;
    this.socket = io(options.url, {
      autoConnect: false,
      auth: {
        ...(options.token ? { token: options.token } : {}),
        // Sales in a storm as `sale:batch`: listeners still get each as `sale:new`.
        capabilities: [
          ...(options.chatBatches === false ? [] : [Capabilities.chatBatch]),
          ...(options.tipSummaries === false ? [] : [Capabilities.tipSummary]),
          Capabilities.saleBatch,
        ],
      },
      ...options.socketOptions,
    });
    this.socket.onAny((event: string, payload: unknown) => {
      this.emit(event as keyof ServerToClientEvents, payload as never);
    });
    // Tips committed together arrive as one `tip:batch`; listeners get each as `tip:new`, and
    // those summed in a storm as one `tip:summed`, first: they came before the newest listed.
    this.socket.on('tip:batch', ({ roomId, tips, more }) => {
      if (more) this.emit('tip:summed', { roomId, ...more });
      for (const tip of tips) this.emit('tip:new', tip);
    });
    this.socket.on('sale:batch', ({ sales }) => {
      for (const sale of sales) this.emit('sale:new', sale);
    });
    // A busy room's chat arrives as `chat:batch` (asked for in the handshake); listeners get each
    // message as `chat:message`, in order.
    this.socket.on('chat:batch', ({ messages }) => {
      for (const message of messages) this.emit('chat:message', message);
    });
    this.socket.on('connect', () => {
      const again = this.everConnected;
      this.everConnected = true;
      // Rejoining first: what a `connected` listener sends waits for it.
      if (again && !this.socket.recovered) this.holdRequestsWhile(this.rejoinAll());
      this.emit('connected', { recovered: this.socket.recovered });
    });
    this.socket.on('disconnect', (reason) => this.emit('disconnected', { reason }));
    // A room that ends is left for good: do not rejoin it.
    this.socket.on('room:ended', ({ roomId }) => this.forgetRoom(roomId));
    // Out of a room on the server's initiative: for good (banned, ended), or because the server
    // could not restore it after a reconnect — then join it again.
    this.socket.on('room:left', ({ roomId, reason }) => {
      if (reason === 'unavailable' && this.rooms.has(roomId)) this.holdRequestsWhile(this.rejoin(roomId));
      else this.forgetRoom(roomId);
    });
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

  /**
   * Any client event, typed: resolves with its data or rejects with a LecternError. While the
   * connection is down or its rooms are being joined again, requests wait (up to the request
   * timeout) so that they reach a server that knows this client is in the room.
   */
  async request<E extends Event>(event: E, payload: Payload<E>): Promise<Data<E>> {
    if (event !== 'room:join' && this.everConnected && (!this.socket.connected || this.rejoining)) {
      await this.ready();
      // Socket.IO would buffer the event and send it on reconnect ahead of the rejoins, to a
      // server that no longer knows this client is in the room.
      if (!this.socket.connected) throw new LecternError('UNAVAILABLE', `not connected: ${event} not sent`);
    }
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
  private async requestOnce<E extends MoneyEvent>(event: E, payload: Payload<E>): Promise<Data<E>> {
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

  /**
   * Resolves once connected and back in this client's rooms (bounded by the request timeout); at
   * once when the socket is not trying to connect (closed, or never opened).
   */
  private async ready(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while ((!this.socket.connected || this.rejoining) && this.socket.active && Date.now() < deadline) {
      await (this.rejoining ?? sleep(50));
    }
  }

  /** Requests wait for `work` (rejoining rooms) to finish, along with any already waited for. */
  private holdRequestsWhile(work: Promise<void>): void {
    const all = Promise.all([this.rejoining, work]).then(() => undefined);
    this.rejoining = all;
    void all.finally(() => {
      if (this.rejoining === all) this.rejoining = undefined;
    });
  }

  // --- rooms -----------------------------------------------------------------------------------

  /**
   * Joins a room and returns a `LiveRoom` that keeps its live state (chat window, pinned
   * messages, polls, counts, access…) and re-synchronises it after reconnects. See room.ts.
   */
  room(roomId: string, options?: RoomOptions): Promise<LiveRoom> {
    return LiveRoom.join(this, roomId, options);
  }

  async joinRoom(roomId: string): Promise<RoomJoinResult> {
    const result = await this.request('room:join', { roomId });
    this.rooms.add(roomId);
    return result;
  }

  async leaveRoom(roomId: string): Promise<void> {
    this.forgetRoom(roomId);
    await this.request('room:leave', { roomId });
  }

  /** Rooms this client is in (and will rejoin after a reconnect). */
  joinedRooms(): string[] {
    return [...this.rooms];
  }

  private async rejoinAll(): Promise<void> {
    for (const roomId of [...this.rooms]) await this.rejoin(roomId);
  }

  /**
   * Joins a room again. A final refusal (banned, ended, …) forgets the room; a transient one
   * (unavailable, rate limited) is retried with a growing delay, and after the last attempt the
   * room is kept so that the next reconnect tries again.
   */
  private async rejoin(roomId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // Left meanwhile; or disconnected again, and the next connect rejoins.
      if (!this.rooms.has(roomId) || !this.socket.connected) return;
      try {
        this.emit('rejoined', await this.request('room:join', { roomId }));
        return;
      } catch (err) {
        const error = asLecternError(err);
        if (!TRANSIENT.has(error.code)) this.forgetRoom(roomId);
        if (!TRANSIENT.has(error.code) || attempt >= REJOIN_ATTEMPTS) {
          this.emit('error', error);
          return;
        }
        const retryAfterMs = Number(error.details?.retryAfterMs) || 0;
        await sleep(Math.min(5000, Math.max(retryAfterMs, 250 * 2 ** (attempt - 1))));
      }
    }
  }

  private forgetRoom(roomId: string): void {
    this.rooms.delete(roomId);
    this.pendingLikes.delete(roomId);
  }

  /**
   * "Live now for you" (`GET /api/rooms/for-you`, over HTTP: no connection needed): the rooms live
   * now ranked for this client's user (a guest: the busiest first), each with `score` and
   * `reason {code, text}`, and the scheduled rooms they may like (`upcoming`). `limit`: 1–50
   * (20); `contextRoomId`: the room the viewer is on — left out, its topic counts.
   */
  async roomsForYou(options: { limit?: number; contextRoomId?: string } = {}): Promise<RoomsForYou> {
    return this.http<RoomsForYou>('GET', '/api/rooms/for-you', options);
  }

  /**
   * Follows creator `creatorId` (`PUT /api/creators/:id/follow`, over HTTP): idempotent, resolves
   * `{following: true, followers}`. Needs a token (`UNAUTHENTICATED` otherwise); `NOT_FOUND` for
   * anyone who is not a creator, `INVALID_ARGUMENT` for oneself or a malformed id.
   */
  async follow(creatorId: string): Promise<FollowState> {
    return this.http<FollowState>('PUT', `/api/creators/${encodeURIComponent(creatorId)}/follow`);
  }

  /** Stops following creator `creatorId` (idempotent); resolves `{following: false, followers}`. */
  async unfollow(creatorId: string): Promise<FollowState> {
    return this.http<FollowState>('DELETE', `/api/creators/${encodeURIComponent(creatorId)}/follow`);
  }

  /**
   * The creators this client's user follows, the latest follow first (`GET /api/me/follows`):
   * `{creator: {userId, displayName, avatarUrl}, followedAt, liveRoomId}` each. `limit` 1–100
   * (50), `offset` for the next page.
   */
  async follows(options: { limit?: number; offset?: number } = {}): Promise<FollowedCreator[]> {
    return (await this.http<{ follows: FollowedCreator[] }>('GET', '/api/me/follows', options)).follows;
  }

  /**
   * A JSON API call with this client's token; refusals reject with the server's code. `query`'s
   * defined values become the query string.
   */
  private async http<T>(
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    query: Record<string, string | number | undefined> = {},
  ): Promise<T> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
    const search = params.toString() ? `?${params}` : '';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.baseUrl}${path}${search}`, {
        method,
        headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        signal: controller.signal,
      });
      text = await res.text();
    } catch {
      throw new LecternError('UNAVAILABLE', `no answer to ${method} ${path} within ${this.timeoutMs} ms`);
    } finally {
      clearTimeout(timer);
    }
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const error = (body as { error?: ErrorBody } | undefined)?.error;
      throw error?.code
        ? LecternError.from(error)
        : new LecternError(res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL', `${method} ${path}: ${res.status}`);
    }
    return body as T;
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
    this.addLikes(roomId, count);
    this.scheduleLikeFlush(this.likeFlushMs);
  }

  private addLikes(roomId: string, count: number): void {
    this.pendingLikes.set(roomId, (this.pendingLikes.get(roomId) ?? 0) + count);
  }

  private scheduleLikeFlush(delayMs: number): void {
    this.likeTimer ??= setTimeout(() => {
      this.likeTimer = undefined;
      this.flushLikes().catch((err: LecternError) => {
        this.emit('error', err);
        // Taps kept after a transient failure go out later.
        const retryAfterMs = Number(err.details?.retryAfterMs) || 0;
        if (this.pendingLikes.size > 0 && this.socket.active) {
          this.scheduleLikeFlush(Math.max(this.likeFlushMs, retryAfterMs));
        }
      });
    }, delayMs);
  }

  /**
   * Sends the taps counted so far; resolves with how many the server accepted. A room that
   * fails does not stop the others; after a transient failure the taps not sent are kept for
   * the next flush, and the first error is thrown once every room has been tried.
   */
  async flushLikes(): Promise<number> {
    const batch = [...this.pendingLikes];
    this.pendingLikes.clear();
    let accepted = 0;
    let failure: LecternError | undefined;
    for (const [roomId, total] of batch) {
      let left = total;
      let count = 0;
      try {
        for (; left > 0; left -= count) {
          count = Math.min(left, Limits.likesPerEventMax);
          accepted += (await this.request('like:send', { roomId, count })).accepted;
        }
      } catch (err) {
        const error = asLecternError(err);
        failure ??= error;
        // Unanswered (UNAVAILABLE), the last message may have been counted: keep only the rest.
        const unsent = error.code === 'UNAVAILABLE' ? left - count : left;
        if (TRANSIENT.has(error.code) && unsent > 0 && this.rooms.has(roomId)) this.addLikes(roomId, unsent);
      }
    }
    if (failure) throw failure;
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

  /**
   * Buys a content. `fromRoomId`: the room the viewer buys it from (joined, live, the seller's),
   * so the sale counts for that room's session in the creator's analytics; leave it out when the
   * purchase is not made from inside a room.
   */
  buyContent(
    contentId: string,
    options: { idempotencyKey?: string; fromRoomId?: string; expectedPrice?: number } = {},
  ): Promise<{ purchase: Purchase; balance: number }> {
    return this.requestOnce('purchase:create', {
      contentId,
      ...(options.fromRoomId ? { fromRoomId: options.fromRoomId } : {}),
      ...priceSeen(options),
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
    });
  }

  /**
   * Subscribes to (or renews) a creator; in their subscribers rooms access upgrades at once
   * (`access:changed`), and downgrades when the period ends. `fromRoomId` as for `buyContent`.
   */
  subscribe(
    creatorId: string,
    options: { idempotencyKey?: string; fromRoomId?: string; expectedPrice?: number } = {},
  ): Promise<{ purchase: Purchase; subscription: Subscription; balance: number }> {
    return this.requestOnce('subscription:create', {
      creatorId,
      ...(options.fromRoomId ? { fromRoomId: options.fromRoomId } : {}),
      ...priceSeen(options),
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
    });
  }

  /** Buys a ticket to a room; access upgrades at once (`access:changed`). */
  buyTicket(
    roomId: string,
    options: { idempotencyKey?: string; expectedPrice?: number } = {},
  ): Promise<{ purchase: Purchase; balance: number }> {
    return this.requestOnce('purchase:create', {
      roomId,
      ...priceSeen(options),
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

  /**
   * The room's bans, running timeouts and moderators (to unban, lift or revoke them). Kept
   * current afterwards by `moderation:updated`, sent to the owner and moderators on every change.
   */
  moderationList(roomId: string): Promise<ModerationList> {
    return this.request('moderation:list', { roomId });
  }
}
