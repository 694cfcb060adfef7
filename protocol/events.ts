import type { Ack } from './envelope';
import type {
  ConsumerOptions,
  MediaJoinResult,
  MediaJson,
  MediaKind,
  MediaProducer,
  MediaSource,
  TransportDirection,
  TransportOptions,
} from './media';
import type { AccessLevel, Content, PublicUser, Purchase, Role, Room, RoomSettings, Subscription } from './models';
import type { SaleNotice } from './money';

// ---------------------------------------------------------------------------------------------
// Payloads. One object per event; money in integer minor units; times as ISO-8601 strings.
// ---------------------------------------------------------------------------------------------

export interface ChatMessage {
  id: string;
  roomId: string;
  user: PublicUser;
  text: string;
  sentAt: string;
}

export interface Tip {
  id: string;
  roomId: string;
  user: PublicUser;
  amount: number;
  currency: string;
  message: string | null;
  /** Set when the tip's amount pins its message at the top of the room until then. */
  pinnedUntil: string | null;
  createdAt: string;
}

/**
 * Tips of one delivery that were summed rather than listed (capability `tip:summary`): in a gift
 * storm, those of a delivery past the `TIP_LIST_MAX` listed besides the paid pinned ones (tips
 * with a message are listed before those without, so a sum is of plain tips unless a storm
 * brought more than `TIP_LIST_MAX` messages).
 */
export interface TipsSummed {
  count: number;
  /** Their sum, in minor units of `currency`. */
  amount: number;
  currency: string;
}

export interface LeaderboardEntry {
  user: PublicUser;
  total: number;
}

export interface Question {
  id: string;
  roomId: string;
  user: PublicUser;
  text: string;
  upvotes: number;
  answered: boolean;
  createdAt: string;
}

/** A poll in a live room. One vote per viewer, final; results update live at a bounded rate. */
export interface Poll {
  id: string;
  question: string;
  options: PollOption[];
  /** When it closes by itself; null when it stays open until closed by hand. */
  closesAt: string | null;
  closed: boolean;
  createdAt: string;
  /** The caller's vote (an option's index), in answers to the caller only; null before voting. */
  myVote?: number | null;
}

export interface PollOption {
  text: string;
  votes: number;
}

export type RoomRole = 'owner' | 'moderator' | 'viewer' | 'guest';

export interface RoomJoinResult {
  room: Room;
  viewerCount: number;
  /** The last chat messages, oldest first, so a late joiner sees the conversation. */
  history: ChatMessage[];
  access: AccessLevel;
  /** Present when access is `preview`: when the free preview ends. */
  previewEndsAt?: string;
  role: RoomRole;
  likesTotal: number;
  /** Open questions, best first. */
  questions: Question[];
  /**
   * The room's most recently answered questions (`answered: true`), newest answered first, so a
   * late joiner or a reload still sees what was answered. `question:list` keeps only open ones.
   */
  answeredQuestions: Question[];
  /** Top tippers of this live session, biggest first. */
  leaderboard: LeaderboardEntry[];
  /** Tips whose message is pinned right now, newest first. */
  pinned: Tip[];
  /** The room's open polls, oldest first, with the caller's vote. */
  polls: Poll[];
  /** Present when the caller is timed out in this room (`moderation:mute`): until when. */
  mutedUntil?: string;
}

export interface SuggestionItem {
  contentId: string;
  title: string;
  price: number;
  score: number;
  reason: string;
  kind?: Content['kind'] | 'subscription';
  creatorId?: string;
}

export interface SuggestionActivity {
  contentId: string;
  title: string;
  price: number;
  /** Viewers it was shown to, clicked by, and bought by, in this live session. */
  shown: number;
  clicked: number;
  purchased: number;
}

export interface RoomRef {
  roomId: string;
}

/**
 * Why the server took a connection out of a room (`room:left`): a ban, the room's end while the
 * connection was away, or a room the server could not restore after a reconnect (join it again).
 */
export type RoomLeftReason = 'banned' | 'ended' | 'unavailable';

export interface ModerationTarget extends RoomRef {
  userId: string;
  reason?: string;
}

/** A user timed out (`until`: when it ends) or banned (`until` null: until unbanned) in a room. */
export interface RestrictedUser {
  userId: string;
  username: string;
  until: string | null;
}

export interface RoomModerator {
  userId: string;
  username: string;
}

/** Who is restricted in a room and who moderates it, most recent first (up to 200 of each). */
export interface ModerationList {
  bans: RestrictedUser[];
  /** Timeouts still running. */
  mutes: RestrictedUser[];
  moderators: RoomModerator[];
}

// ---------------------------------------------------------------------------------------------
// Event maps, plugged into socket.io's `Server<…>` and socket.io-client's `Socket<…>`.
// Every client→server event carries one payload object and an ack callback.
// ---------------------------------------------------------------------------------------------

export interface ClientToServerEvents {
  'room:join': (p: RoomRef, ack: Ack<RoomJoinResult>) => void;
  'room:leave': (p: RoomRef, ack: Ack<Record<string, never>>) => void;

  'chat:send': (p: RoomRef & { text: string }, ack: Ack<{ message: ChatMessage }>) => void;

  /** The owner or a moderator asks the room (2–6 options; `durationSeconds` 10–3600, else until closed). */
  'poll:create': (
    p: RoomRef & { question: string; options: string[]; durationSeconds?: number },
    ack: Ack<{ poll: Poll }>,
  ) => void;
  /** A viewer with access votes for an option (its index), once; a second vote is CONFLICT. */
  'poll:vote': (p: RoomRef & { pollId: string; option: number }, ack: Ack<{ poll: Poll }>) => void;
  'poll:close': (p: RoomRef & { pollId: string }, ack: Ack<{ poll: Poll }>) => void;
  'chat:delete': (p: RoomRef & { messageId: string }, ack: Ack<Record<string, never>>) => void;

  'like:send': (p: RoomRef & { count: number }, ack: Ack<{ accepted: number }>) => void;

  'tip:send': (
    p: RoomRef & { amount: number; message?: string; idempotencyKey: string },
    ack: Ack<{ tip: Tip; balance: number }>,
  ) => void;

  /**
   * Buys a content (`fromRoomId`: the room the buyer is in, where the sale counts) or a ticket.
   */
  'purchase:create': (
    p: ({ contentId: string; fromRoomId?: string } | { roomId: string }) & {
      idempotencyKey: string;
      /** The price the buyer saw (minor units); another price now is CONFLICT with `details.price`. */
      expectedPrice?: number;
    },
    ack: Ack<{ purchase: Purchase; balance: number }>,
  ) => void;
  /** Subscribes to (or renews) a creator; same idempotency as `POST /api/subscriptions`. */
  'subscription:create': (
    p: { creatorId: string; fromRoomId?: string; expectedPrice?: number; idempotencyKey: string },
    ack: Ack<{ purchase: Purchase; subscription: Subscription; balance: number }>,
  ) => void;

  'question:ask': (p: RoomRef & { text: string }, ack: Ack<{ question: Question }>) => void;
  'question:upvote': (p: RoomRef & { questionId: string }, ack: Ack<{ question: Question }>) => void;
  'question:answer': (p: RoomRef & { questionId: string }, ack: Ack<{ question: Question }>) => void;

  'moderation:mute': (p: ModerationTarget & { seconds: number }, ack: Ack<{ until: string }>) => void;
  'moderation:unmute': (p: ModerationTarget, ack: Ack<Record<string, never>>) => void;
  'moderation:ban': (p: ModerationTarget, ack: Ack<Record<string, never>>) => void;
  'moderation:unban': (p: ModerationTarget, ack: Ack<Record<string, never>>) => void;
  'moderation:settings': (
    p: RoomRef & { settings: Partial<RoomSettings> },
    ack: Ack<{ settings: RoomSettings }>,
  ) => void;
  /** Owner only: let a user moderate this room (or stop them). */
  'moderation:moderator': (p: RoomRef & { userId: string; grant: boolean }, ack: Ack<Record<string, never>>) => void;
  /** Owner and moderators: the room's bans, running timeouts and moderators (to lift or revoke them). */
  'moderation:list': (p: RoomRef, ack: Ack<ModerationList>) => void;

  // Media signalling (mediasoup). Needs room membership; publishing is for the room owner,
  // watching for access `full` or `preview`.
  'media:join': (p: RoomRef, ack: Ack<MediaJoinResult>) => void;
  'media:transport:create': (p: RoomRef & { direction: TransportDirection }, ack: Ack<TransportOptions>) => void;
  'media:transport:connect': (
    p: RoomRef & { transportId: string; dtlsParameters: MediaJson },
    ack: Ack<Record<string, never>>,
  ) => void;
  'media:transport:restart-ice': (p: RoomRef & { transportId: string }, ack: Ack<{ iceParameters: MediaJson }>) => void;
  'media:produce': (
    p: RoomRef & { transportId: string; kind: MediaKind; rtpParameters: MediaJson; source: MediaSource },
    ack: Ack<{ producerId: string }>,
  ) => void;
  'media:producer:pause': (p: RoomRef & { producerId: string }, ack: Ack<Record<string, never>>) => void;
  'media:producer:resume': (p: RoomRef & { producerId: string }, ack: Ack<Record<string, never>>) => void;
  'media:producer:close': (p: RoomRef & { producerId: string }, ack: Ack<Record<string, never>>) => void;
  'media:consume': (
    p: RoomRef & { transportId: string; producerId: string; rtpCapabilities: MediaJson },
    ack: Ack<ConsumerOptions>,
  ) => void;
  'media:consumer:resume': (p: RoomRef & { consumerId: string }, ack: Ack<Record<string, never>>) => void;
  'media:consumer:pause': (p: RoomRef & { consumerId: string }, ack: Ack<Record<string, never>>) => void;
  /** Simulcast: the spatial (and temporal) layer this viewer prefers. */
  'media:consumer:layers': (
    p: RoomRef & { consumerId: string; spatialLayer: number; temporalLayer?: number },
    ack: Ack<Record<string, never>>,
  ) => void;
  /** Releases this connection's transports, producers and consumers in the room. */
  'media:leave': (p: RoomRef, ack: Ack<Record<string, never>>) => void;

  /** The viewer opened a suggested content (the recommender learns from it). */
  'suggestion:click': (p: RoomRef & { contentId: string }, ack: Ack<Record<string, never>>) => void;
  /** The viewer dismissed a suggestion: no more suggestions for a while. */
  'suggestion:dismiss': (p: RoomRef & { contentId: string }, ack: Ack<Record<string, never>>) => void;
}

export interface ServerToClientEvents {
  'chat:message': (p: ChatMessage) => void;
  /**
   * To connections that asked for it in the handshake (`auth.capabilities: ['chat:batch']`),
   * instead of `chat:message`: a room's messages, oldest first. A message in a quiet room comes
   * at once, alone; in a busy room those sent within `CHAT_BATCH_INTERVAL_MS` come together, so
   * a viewer gets a bounded number of frames a second however fast the room talks. The SDK asks
   * for it and hands each message to its `chat:message` listeners.
   */
  'chat:batch': (p: RoomRef & { messages: ChatMessage[] }) => void;
  'chat:deleted': (p: RoomRef & { messageId: string }) => void;
  'like:count': (p: RoomRef & { total: number }) => void;
  'tip:new': (p: Tip) => void;
  /**
   * Several tips in one event instead of one `tip:new` each: a room's tips are delivered at most
   * every 100 ms, and those gathered since the last delivery (a gift storm) come together; a lone
   * tip still comes as `tip:new`. The SDK hands each to its `tip:new` listeners, so only
   * raw-socket clients see this event. To connections that asked for capability `tip:summary`, a
   * delivery of more than `TIP_LIST_MAX` tips lists every paid pinned tip and the newest
   * `TIP_LIST_MAX` others (those with a message first) and sums the rest in `more`.
   */
  'tip:batch': (p: RoomRef & { tips: Tip[]; more?: TipsSummed }) => void;
  'tip:leaderboard': (p: RoomRef & { top: LeaderboardEntry[] }) => void;
  /** To a creator (all their connections): one of their contents, tickets or subscriptions sold, or a tip. */
  'sale:new': (p: SaleNotice) => void;
  /**
   * To a creator's connections that asked for it (capability `sale:batch`), instead of `sale:new`:
   * a lone sale still comes as `sale:new`; while sales pour in, at most one `sale:batch` per
   * `SALE_BATCH_INTERVAL_MS` with every sale since the last one, oldest first. The SDK asks for it
   * and hands each sale to its `sale:new` listeners.
   */
  'sale:batch': (p: { sales: SaleNotice[] }) => void;
  'viewers:count': (p: RoomRef & { count: number }) => void;
  /** A poll was created, closed, or its results changed (at most once a second per poll). */
  'poll:update': (p: RoomRef & { poll: Poll }) => void;
  'question:list': (p: RoomRef & { questions: Question[] }) => void;
  'room:settings': (p: RoomRef & { settings: RoomSettings }) => void;
  /** Sent to the affected user only. */
  'moderation:applied': (
    p: RoomRef & { action: 'mute' | 'unmute' | 'ban' | 'unban'; until?: string; reason?: string },
  ) => void;
  /** To the owner and moderators, after a ban, timeout or moderator change: the room's list now. */
  'moderation:updated': (p: RoomRef & ModerationList) => void;
  /** Sent to the affected user only: the owner made them a moderator of the room, or stopped that. */
  'role:changed': (p: RoomRef & { role: RoomRole }) => void;
  suggestion: (p: RoomRef & { items: SuggestionItem[]; modelVersion: string }) => void;
  /** To the room's owner: what the recommender is suggesting in the room and how it lands. */
  'suggestion:activity': (p: RoomRef & { items: SuggestionActivity[]; modelVersion: string }) => void;
  'access:changed': (p: RoomRef & { access: AccessLevel; previewEndsAt?: string }) => void;
  'room:ended': (p: RoomRef) => void;
  /** This connection is no longer in the room (not sent for `room:leave` nor with `room:ended`). */
  'room:left': (p: RoomRef & { reason: RoomLeftReason }) => void;

  'media:producer:new': (p: RoomRef & MediaProducer) => void;
  'media:producer:paused': (p: RoomRef & { producerId: string }) => void;
  'media:producer:resumed': (p: RoomRef & { producerId: string }) => void;
  'media:producer:closed': (p: RoomRef & { producerId: string }) => void;
  /** This viewer's consumer was closed by the server (the producer went away, or access ended). */
  'media:consumer:closed': (
    p: RoomRef & { consumerId: string; producerId: string; reason: 'producerClosed' | 'revoked' },
  ) => void;
  /** The room's media was lost (a media worker died): run `media:join` again. */
  'media:reset': (p: RoomRef) => void;
}

/** Messages between gateway processes (Socket.IO `serverSideEmit`); not for clients. */
export interface InterServerEvents {
  /** A room's settings, moderators, restrictions or status changed: drop cached copies. */
  'room:invalidate': (p: RoomRef) => void;
  /** A user's entitlements changed (purchase, refund): recompute their access in open rooms. */
  'access:recheck': (p: { userId: string }) => void;
  /** A user was banned from a room: drop their connections from it. */
  'room:kick': (p: RoomRef & { userId: string }) => void;
  /** A room ended: tell local members and release what the room holds. */
  'room:closed': (p: RoomRef) => void;
  /** A room went live: decide its local members' access again (free previews start now). */
  'room:started': (p: RoomRef) => void;
}

/**
 * Optional behaviours a client asks for in its handshake (`auth.capabilities`); a server that
 * does not know one ignores it, and a client that asks for none gets the plain protocol.
 */
export const Capabilities = {
  /** Chat as `chat:batch` (several messages per event in a busy room) instead of `chat:message`. */
  chatBatch: 'chat:batch',
  /** A creator's sales as `sale:batch` (several per event in a storm) instead of one `sale:new` each. */
  saleBatch: 'sale:batch',
  /**
   * A gift storm's tips summed past `TIP_LIST_MAX` a delivery (`tip:batch`'s `more`) rather than
   * every tip listed to every viewer.
   */
  tipSummary: 'tip:summary',
} as const;
export type Capability = (typeof Capabilities)[keyof typeof Capabilities];

/** How often, at most, a busy room's chat goes out as a `chat:batch` (milliseconds). */
export const CHAT_BATCH_INTERVAL_MS = 100;
/** How often, at most, a creator's sales go out as a `sale:batch` (milliseconds). */
export const SALE_BATCH_INTERVAL_MS = 100;
/** How often, at most, a room's tips go out (milliseconds): a storm's come as one `tip:batch`. */
export const TIP_DELIVERY_INTERVAL_MS = 100;
/**
 * The most tips one delivery lists to a connection with capability `tip:summary`, besides the
 * paid pinned ones (every one of those is listed): no viewer reads more, and each listed tip is
 * about 280 bytes to every viewer of the room.
 */
export const TIP_LIST_MAX = 50;

/** The Socket.IO handshake's `auth` object. */
export interface HandshakeAuth {
  /** An access token; none connects as a guest. */
  token?: string;
  capabilities?: Capability[];
}

/** What the gateway knows about a connected socket, set at the handshake. */
export interface SocketData {
  user: (PublicUser & { role: Role }) | null;
  /** Rooms this socket has joined through `room:join`, kept for recovery and cleanup. */
  rooms: string[];
  /**
   * Per room, the access the client last heard (join answer or `access:changed`), so that a
   * recovered connection is told of a change made while it was away.
   */
  accessSeen: Record<string, { access: AccessLevel; previewEndsAt?: string }>;
  /** The client's address (after trusted proxies), for per-address limits. */
  address: string;
}
