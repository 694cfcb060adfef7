/**
 * Shapes of the resources that cross the wire (HTTP JSON and Socket.IO payloads). Ids are
 * strings (UUIDs), times are ISO-8601 strings, money is an integer number of minor units.
 */

export type Role = 'viewer' | 'creator' | 'admin';
export type ContentKind = 'lesson' | 'course' | 'bundle';
export type RoomStatus = 'scheduled' | 'live' | 'ended';
export type RoomAccessPolicy = 'free' | 'ticket' | 'subscribers';
/** What a viewer may do in a room: everything, watch until `previewEndsAt`, or nothing paid. */
export type AccessLevel = 'full' | 'preview' | 'none';
export type PurchaseKind = 'content' | 'ticket' | 'subscription';
export type PurchaseStatus = 'completed' | 'refunded';

export interface PublicUser {
  id: string;
  username: string;
}

export interface User extends PublicUser {
  role: Role;
  createdAt: string;
}

export interface CreatorProfile {
  userId: string;
  displayName: string;
  bio: string;
  tags: string[];
  /** Price of a subscription period in minor units; null when the creator offers none. */
  subscriptionPrice: number | null;
  subscriptionPeriodDays: number;
  /** Public avatar image (a JPEG within 512×512), or null. */
  avatarUrl: string | null;
  /** Links shown on the creator's page, in order (at most `Limits.profileLinksMax`). */
  links: ProfileLink[];
  /** How many viewers follow this creator. */
  followers: number;
}

/** The answer to following or unfollowing a creator (`PUT`/`DELETE /api/creators/:id/follow`). */
export interface FollowState {
  /** Whether the caller follows the creator now. */
  following: boolean;
  /** The creator's followers now, the caller included when following. */
  followers: number;
}

/** A creator the caller follows (`GET /api/me/follows`), the latest follow first. */
export interface FollowedCreator {
  creator: CreatorSummary;
  /** When the caller followed them (ISO). */
  followedAt: string;
  /** The creator's room live now, if any (its id). */
  liveRoomId: string | null;
}

/** A link on a creator's page: a label and an http(s) URL. */
export interface ProfileLink {
  label: string;
  url: string;
}

/** Who runs a room, as a room card shows them. */
export interface CreatorSummary {
  userId: string;
  displayName: string;
  avatarUrl: string | null;
}

export interface Content {
  id: string;
  creatorId: string;
  title: string;
  description: string;
  kind: ContentKind;
  price: number;
  currency: string;
  tags: string[];
  /** For a course or bundle: the contents it grants, in order. */
  itemIds: string[];
  /** Public cover image (a JPEG), or null. */
  coverUrl: string | null;
  /** A lesson anyone may watch, signed in or not: a course's free trial. */
  freeTrial: boolean;
  /** A lesson with a video attached (uploaded, or a replay sold as a lesson). */
  hasVideo: boolean;
  /** The video's playable length once it is ready. */
  durationSeconds: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface RoomSettings {
  /** Seconds a user must wait between chat messages; 0 disables slow mode. */
  slowModeSeconds: number;
  /** Only full-access viewers (subscribers, ticket holders) may chat. */
  subscribersOnlyChat: boolean;
  /** Case-insensitive words that may not appear in chat. */
  bannedWords: string[];
}

export interface Room {
  id: string;
  ownerId: string;
  title: string;
  tags: string[];
  status: RoomStatus;
  access: RoomAccessPolicy;
  ticketPrice: number | null;
  previewSeconds: number;
  currency: string;
  settings: RoomSettings;
  likesTotal: number;
  /** The stream is recorded while live and becomes the room's replay (on by default). */
  record: boolean;
  /** A replay exists (processing, ready or failed): `GET /api/rooms/:id/replay`. */
  hasReplay: boolean;
  /** What the stream is about (plain text). */
  description: string;
  /** Public cover image (a JPEG), or null. */
  coverUrl: string | null;
  /** When the creator plans to go live; the room stays `scheduled` until they do (or end it). */
  scheduledAt: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

/** A room in `GET /api/rooms`: with its creator and, while live, how many are watching. */
export interface RoomListItem extends Room {
  creator: CreatorSummary;
  /** Viewers right now (across nodes, a few seconds stale at most); live rooms only. */
  viewerCount?: number;
}

/** Why a room is suggested in "Live now for you": a stable code a page can word itself. */
export type LiveReasonCode =
  | 'watched_before'
  | 'following'
  | 'subscribed'
  | 'similar_viewers'
  | 'tags'
  | 'popular_now'
  | 'upcoming';

/** One room of `GET /api/rooms/for-you`: the room as listed, its score for this viewer, and why. */
export interface RoomForYou {
  room: RoomListItem;
  /** Higher first; comparable only within one answer. */
  score: number;
  /** `text` is short English (e.g. "You watched this creator 3 times"). */
  reason: { code: LiveReasonCode; text: string };
}

/** `GET /api/rooms/for-you`: live rooms ranked for the viewer, and scheduled ones they may like. */
export interface RoomsForYou {
  rooms: RoomForYou[];
  upcoming: RoomForYou[];
}

export interface Purchase {
  id: string;
  buyerId: string;
  kind: PurchaseKind;
  contentId: string | null;
  roomId: string | null;
  creatorId: string;
  amount: number;
  fee: number;
  currency: string;
  status: PurchaseStatus;
  createdAt: string;
  refundedAt: string | null;
  /** The room the buyer was in when buying (the sale counts for its session); null elsewhere. */
  fromRoomId: string | null;
}

export interface Subscription {
  id: string;
  subscriberId: string;
  creatorId: string;
  currentPeriodEnd: string;
  /** `expired` once the period end has passed (or a refund took the period back). */
  status: 'active' | 'expired';
}

export interface Wallet {
  balance: number;
  currency: string;
}
