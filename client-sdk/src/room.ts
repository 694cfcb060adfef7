import type {
  AccessLevel,
  ChatMessage,
  LeaderboardEntry,
  Poll,
  Question,
  Room as RoomInfo,
  RoomJoinResult,
  RoomLeftReason,
  RoomRole,
  RoomSettings,
  Tip,
  TipsSummed,
} from '../../protocol';
import type { LecternClient } from './client';
import { Emitter } from './emitter';

/** A live room's state as the `Room` object keeps it. */
export interface RoomState {
  room: RoomInfo;
  role: RoomRole;
  access: AccessLevel;
  /** When the free preview ends (access `preview`). */
  previewEndsAt: Date | null;
  viewerCount: number;
  likesTotal: number;
  /** The last messages, oldest first, at most `chatWindow` of them. */
  chat: readonly ChatMessage[];
  /** Paid messages pinned now, oldest first (the order they were sent). Expired ones drop out. */
  pinned: readonly Tip[];
  questions: readonly Question[];
  /** The most recently answered questions when joined, newest answered first. */
  answeredQuestions: readonly Question[];
  /** Polls open now and those closed while this object watched, oldest first. */
  polls: readonly Poll[];
  leaderboard: readonly LeaderboardEntry[];
  settings: RoomSettings;
  /** Until when this viewer is timed out, if they are. */
  mutedUntil: Date | null;
  /** The room ended, or this viewer is out of it (`left` says why). */
  status: 'joined' | 'ended' | 'left';
  left: RoomLeftReason | null;
}

/** What changed, with the new state of that part. Listeners get the whole state as `room.state`. */
export interface RoomEvents {
  /** After the first join and every re-synchronisation (a reconnect the server had forgotten). */
  synced: (state: RoomState) => void;
  chat: (message: ChatMessage) => void;
  chatDeleted: (p: { messageId: string }) => void;
  access: (p: { access: AccessLevel; previewEndsAt: Date | null }) => void;
  viewers: (count: number) => void;
  likes: (total: number) => void;
  /**
   * A tip was sent (every tip, pinned or not; in a gift storm, those the server listed — every
   * paid pinned tip among them — while the rest come summed as `tipsSummed`).
   */
  tip: (tip: Tip) => void;
  /**
   * In a gift storm, tips summed rather than listed: how many, and their sum (client option
   * `tipSummaries`). Emitted before the delivery's listed tips, the newest, which came after them.
   */
  tipsSummed: (summed: TipsSummed) => void;
  pinned: (pinned: readonly Tip[]) => void;
  questions: (questions: readonly Question[]) => void;
  poll: (poll: Poll) => void;
  leaderboard: (top: readonly LeaderboardEntry[]) => void;
  settings: (settings: RoomSettings) => void;
  muted: (until: Date | null) => void;
  /** This viewer was made a moderator, or is no longer one. */
  role: (role: RoomRole) => void;
  ended: () => void;
  left: (reason: RoomLeftReason) => void;
}

export interface RoomOptions {
  /** Chat messages kept (oldest dropped first). Default 200. */
  chatWindow?: number;
}

/**
 * One joined room's live state, kept up to date from the server's events — like LiveKit's
 * `Room`, but small (`Room` is the room's description, `state.room`): the state is `room.state`; what changes comes as typed events; actions are
 * methods. After a reconnect the server could not recover, the client rejoins and the state is
 * replaced by the fresh join's (`synced`); after a recovered one, the missed events replay.
 * Created by `client.room(roomId)`; `leave()` stops it.
 */
export class LiveRoom extends Emitter<RoomEvents> {
  private current!: RoomState;
  private readonly offs: (() => void)[] = [];
  private pinTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly chatWindow: number;

  private constructor(
    private readonly client: LecternClient,
    readonly id: string,
    joined: RoomJoinResult,
    options: RoomOptions,
  ) {
    super();
    this.chatWindow = options.chatWindow ?? 200;
    this.sync(joined, false);
    this.listen();
  }

  /** Joins the room and returns its live state; rejects with the server's refusal. */
  static async join(client: LecternClient, roomId: string, options: RoomOptions = {}): Promise<LiveRoom> {
    return new LiveRoom(client, roomId, await client.joinRoom(roomId), options);
  }

  get state(): RoomState {
    return this.current;
  }

  private sync(joined: RoomJoinResult, announce = true): void {
    this.current = {
      room: joined.room,
      role: joined.role,
      access: joined.access,
      previewEndsAt: joined.previewEndsAt ? new Date(joined.previewEndsAt) : null,
      viewerCount: joined.viewerCount,
      likesTotal: joined.likesTotal,
      chat: joined.history.slice(-this.chatWindow),
      pinned: sortPinned(joined.pinned),
      questions: joined.questions,
      answeredQuestions: joined.answeredQuestions ?? [],
      polls: joined.polls ?? [],
      leaderboard: joined.leaderboard,
      settings: joined.room.settings,
      mutedUntil: joined.mutedUntil ? new Date(joined.mutedUntil) : null,
      status: joined.room.status === 'ended' ? 'ended' : 'joined',
      left: null,
    };
    this.schedulePinExpiry();
    if (announce) this.emit('synced', this.current);
  }

  private set<K extends keyof RoomState>(key: K, value: RoomState[K]): void {
    this.current = { ...this.current, [key]: value };
  }

  private listen(): void {
    const c = this.client;
    const mine = (p: { roomId: string }) => p.roomId === this.id;
    this.offs.push(
      c.on('rejoined', (joined) => {
        if (joined.room.id === this.id) this.sync(joined);
      }),
      c.on('chat:message', (m) => {
        if (!mine(m)) return;
        this.set('chat', [...this.current.chat, m].slice(-this.chatWindow));
        this.emit('chat', m);
      }),
      c.on('chat:deleted', (p) => {
        if (!mine(p)) return;
        this.set(
          'chat',
          this.current.chat.filter((m) => m.id !== p.messageId),
        );
        this.emit('chatDeleted', { messageId: p.messageId });
      }),
      c.on('access:changed', (p) => {
        if (!mine(p)) return;
        const previewEndsAt = p.previewEndsAt ? new Date(p.previewEndsAt) : null;
        const was = this.current.access;
        this.current = { ...this.current, access: p.access, previewEndsAt };
        this.emit('access', { access: p.access, previewEndsAt });
        // Without access the server sent no conversation: joining again (harmless while a
        // member) brings the chat, questions, pinned messages and polls now visible.
        if (was === 'none' && p.access !== 'none') void this.resync();
      }),
      c.on('role:changed', (p) => {
        if (!mine(p)) return;
        this.set('role', p.role);
        this.emit('role', p.role);
      }),
      c.on('viewers:count', (p) => {
        if (!mine(p)) return;
        this.set('viewerCount', p.count);
        this.emit('viewers', p.count);
      }),
      c.on('like:count', (p) => {
        if (!mine(p)) return;
        this.set('likesTotal', p.total);
        this.emit('likes', p.total);
      }),
      c.on('tip:new', (tip) => {
        if (!mine(tip)) return;
        this.emit('tip', tip);
        if (tip.pinnedUntil && Date.parse(tip.pinnedUntil) > Date.now()) {
          this.set('pinned', sortPinned([...this.current.pinned.filter((t) => t.id !== tip.id), tip]));
          this.schedulePinExpiry();
          this.emit('pinned', this.current.pinned);
        }
      }),
      c.on('tip:summed', ({ roomId, count, amount, currency }) => {
        if (roomId === this.id) this.emit('tipsSummed', { count, amount, currency });
      }),
      c.on('tip:leaderboard', (p) => {
        if (!mine(p)) return;
        this.set('leaderboard', p.top);
        this.emit('leaderboard', p.top);
      }),
      c.on('question:list', (p) => {
        if (!mine(p)) return;
        this.set('questions', p.questions);
        this.emit('questions', p.questions);
      }),
      c.on('poll:update', (p) => {
        if (!mine(p)) return;
        // Broadcasts carry no one's vote: keep this viewer's.
        const known = this.current.polls.find((q) => q.id === p.poll.id);
        const poll = { ...p.poll, myVote: known?.myVote ?? null };
        this.upsertPoll(poll);
      }),
      c.on('room:settings', (p) => {
        if (!mine(p)) return;
        this.set('settings', p.settings);
        this.emit('settings', p.settings);
      }),
      c.on('moderation:applied', (p) => {
        if (!mine(p) || (p.action !== 'mute' && p.action !== 'unmute')) return;
        const until = p.action === 'mute' && p.until ? new Date(p.until) : null;
        this.set('mutedUntil', until);
        this.emit('muted', until);
      }),
      c.on('room:ended', (p) => {
        if (!mine(p)) return;
        this.set('status', 'ended');
        this.emit('ended', undefined as never);
        this.stop();
      }),
      c.on('room:left', (p) => {
        if (!mine(p) || p.reason === 'unavailable') return; // the client rejoins by itself
        this.current = { ...this.current, status: 'left', left: p.reason };
        this.emit('left', p.reason);
        this.stop();
      }),
    );
  }

  /** Joins again and replaces the state with the answer (`synced`); a refusal leaves it as it was. */
  async resync(): Promise<void> {
    if (this.current.status !== 'joined') return;
    try {
      const joined = await this.client.joinRoom(this.id);
      if (this.current.status === 'joined') this.sync(joined);
    } catch {
      // Gone meanwhile (ended, banned: their own events say so) or unreachable: the state stays,
      // and the client's rejoin after a reconnect brings a fresh one.
    }
  }

  private upsertPoll(poll: Poll): void {
    const polls = this.current.polls.some((q) => q.id === poll.id)
      ? this.current.polls.map((q) => (q.id === poll.id ? poll : q))
      : [...this.current.polls, poll];
    this.set('polls', polls);
    this.emit('poll', poll);
  }

  /** Drops pinned messages when their time is up (the server sends nothing then). */
  private schedulePinExpiry(): void {
    clearTimeout(this.pinTimer);
    const next = Math.min(...this.current.pinned.map((t) => Date.parse(t.pinnedUntil ?? '')).filter(Number.isFinite));
    if (!Number.isFinite(next)) return;
    this.pinTimer = setTimeout(
      () => {
        const now = Date.now();
        const still = this.current.pinned.filter((t) => Date.parse(t.pinnedUntil ?? '') > now);
        if (still.length !== this.current.pinned.length) {
          this.set('pinned', still);
          this.emit('pinned', still);
        }
        this.schedulePinExpiry();
      },
      Math.max(0, next - Date.now()) + 5,
    );
  }

  // --- actions ---------------------------------------------------------------------------------

  sendChat(text: string): Promise<ChatMessage> {
    return this.client.sendChat(this.id, text);
  }

  like(count = 1): void {
    this.client.like(this.id, count);
  }

  tip(amount: number, options: { message?: string; idempotencyKey?: string } = {}) {
    return this.client.tip(this.id, amount, options);
  }

  ask(text: string): Promise<Question> {
    return this.client.askQuestion(this.id, text);
  }

  upvote(questionId: string): Promise<Question> {
    return this.client.upvoteQuestion(this.id, questionId);
  }

  /** Votes once (final); the state has the viewer's vote at once. */
  async vote(pollId: string, option: number): Promise<Poll> {
    const { poll } = await this.client.request('poll:vote', { roomId: this.id, pollId, option });
    this.upsertPoll(poll);
    return poll;
  }

  /** Owner and moderators: asks the room (2–6 options; optional duration in seconds). */
  async createPoll(question: string, options: string[], durationSeconds?: number): Promise<Poll> {
    const { poll } = await this.client.request('poll:create', {
      roomId: this.id,
      question,
      options,
      ...(durationSeconds ? { durationSeconds } : {}),
    });
    this.upsertPoll(poll);
    return poll;
  }

  async closePoll(pollId: string): Promise<Poll> {
    const { poll } = await this.client.request('poll:close', { roomId: this.id, pollId });
    this.upsertPoll(poll);
    return poll;
  }

  /** Leaves the room; the object stops following it. */
  async leave(): Promise<void> {
    this.stop();
    await this.client.leaveRoom(this.id);
  }

  private stop(): void {
    clearTimeout(this.pinTimer);
    for (const off of this.offs.splice(0)) off();
  }
}

/** Pinned messages show oldest first: the order they were paid for. */
function sortPinned(tips: readonly Tip[]): Tip[] {
  return [...tips].filter((t) => t.pinnedUntil).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}
