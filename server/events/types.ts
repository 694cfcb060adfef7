import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AccessLevel, PurchaseKind } from '../../protocol';
import { id } from '../validation';

/**
 * The engagement events Lectern records: one envelope, a discriminated union on `type`. Producers
 * (gateway, payments) append them; consumers (recommender trainer, analytics) read them at least
 * once, so every event carries a unique `id` that consumers use to ignore redeliveries.
 *
 * Versioning: `v` is the envelope and payload schema version. A change that a consumer of the
 * previous version could not read gets a new version; consumers are deployed before producers,
 * because an event this build cannot validate is dead-lettered rather than guessed at.
 */
export const EVENT_SCHEMA_VERSION = 1;

/**
 * `creatorId` on room-scoped events (joins, leaves, heartbeats, chat, likes, questions) is the
 * room's owner, set by the gateway (`withCreatorId`). The envelope always allowed it, so this
 * needed no new version; events recorded before lack it and consumers must not require it.
 */
interface Envelope<T extends string, D> {
  /** Unique per event (a UUID): the deduplication key for at-least-once consumers. */
  id: string;
  v: typeof EVENT_SCHEMA_VERSION;
  type: T;
  /** Server time the event happened, epoch milliseconds. */
  at: number;
  roomId?: string;
  userId?: string;
  contentId?: string;
  creatorId?: string;
  data: D;
}

type With<E, K extends 'roomId' | 'userId' | 'contentId' | 'creatorId'> = E & { [P in K]-?: string };

/** A viewer (a guest has no userId) entered a room, with the access they got. */
export type RoomJoinedEvent = With<Envelope<'room.joined', { access: AccessLevel }>, 'roomId'>;
export type RoomLeftEvent = With<
  Envelope<'room.left', { reason: 'left' | 'disconnected' | 'ended' | 'removed' }>,
  'roomId'
>;
/** Sent periodically while a viewer watches; `seconds` since the previous heartbeat. */
export type WatchHeartbeatEvent = With<
  Envelope<'watch.heartbeat', { seconds: number; access: Exclude<AccessLevel, 'none'> }>,
  'roomId'
>;
/** The text stays in Postgres (chat history); the log records that and how much someone spoke. */
export type ChatSentEvent = With<Envelope<'chat.sent', { messageId: string; length: number }>, 'roomId' | 'userId'>;
/** Likes are aggregated by the gateway, not one event per tap: per sender (`userId`) or per room. */
export type LikesSentEvent = With<Envelope<'likes.sent', { count: number }>, 'roomId'>;
/**
 * `fee` on money events: the platform's part of `amount` (so analytics reports gross, fees and
 * net). Optional: events recorded before it was added lack it, and consumers must not require it.
 * It needed no new version for the same reason `creatorId` did not: consumers are deployed before
 * producers, and this build reads events with and without it.
 */
export type TipSentEvent = With<
  Envelope<'tip.sent', { tipId: string; amount: number; fee?: number; currency: string }>,
  'roomId' | 'userId' | 'creatorId'
>;
/** `contentId` for a content purchase, `roomId` for a ticket; both absent for a subscription. */
export type PurchaseCompletedEvent = With<
  Envelope<
    'purchase.completed',
    { purchaseId: string; kind: PurchaseKind; amount: number; fee?: number; currency: string }
  >,
  'userId' | 'creatorId'
>;
/**
 * A purchase (content, ticket or subscription) was refunded: analytics subtracts it. `roomId`
 * is the room the sale counted for, as on its `purchase.completed`.
 */
export type PurchaseRefundedEvent = With<
  Envelope<
    'purchase.refunded',
    { purchaseId: string; kind: PurchaseKind; amount: number; fee?: number; currency: string }
  >,
  'userId' | 'creatorId'
>;
export type SubscriptionStartedEvent = With<
  Envelope<
    'subscription.started',
    { purchaseId: string; amount: number; fee?: number; currency: string; periodEnd: number }
  >,
  'userId' | 'creatorId'
>;
export type QuestionAskedEvent = With<Envelope<'question.asked', { questionId: string }>, 'roomId' | 'userId'>;
export type QuestionUpvotedEvent = With<Envelope<'question.upvoted', { questionId: string }>, 'roomId' | 'userId'>;
export type QuestionAnsweredEvent = With<Envelope<'question.answered', { questionId: string }>, 'roomId'>;
/** A viewer voted in a room's poll (`option`: the index of their choice). */
export type PollVotedEvent = With<Envelope<'poll.voted', { pollId: string; option: number }>, 'roomId' | 'userId'>;

/** What the recommender showed and how the viewer reacted: the training signal. */
export interface SuggestionData {
  modelVersion: string;
  score: number;
  /** 0-based rank of the item in the suggestion it was shown in. */
  position?: number;
}
export type SuggestionShownEvent = With<Envelope<'suggestion.shown', SuggestionData>, 'roomId' | 'contentId'>;
export type SuggestionClickedEvent = With<Envelope<'suggestion.clicked', SuggestionData>, 'roomId' | 'contentId'>;
export type SuggestionDismissedEvent = With<Envelope<'suggestion.dismissed', SuggestionData>, 'roomId' | 'contentId'>;

/**
 * Watching after the fact: a lesson's video (`contentId`) or a room's replay (`roomId`); exactly
 * one of the two. `seconds` were watched since the viewer's previous report; `media.completed`
 * is recorded once per viewer and item, when they first reach the end (90%).
 */
export interface MediaWatchData {
  item: 'content' | 'replay';
  seconds: number;
  positionSeconds: number;
  durationSeconds: number;
}
export type MediaProgressEvent = With<Envelope<'media.progress', MediaWatchData>, 'userId' | 'creatorId'>;
export type MediaCompletedEvent = With<Envelope<'media.completed', MediaWatchData>, 'userId' | 'creatorId'>;

/**
 * A viewer (`userId`) started or stopped following a creator (`creatorId`). Recorded once per
 * change: following again someone already followed records nothing.
 */
export type CreatorFollowedEvent = With<Envelope<'creator.followed', Record<string, never>>, 'userId' | 'creatorId'>;
export type CreatorUnfollowedEvent = With<
  Envelope<'creator.unfollowed', Record<string, never>>,
  'userId' | 'creatorId'
>;

export type EngagementEvent =
  | RoomJoinedEvent
  | RoomLeftEvent
  | WatchHeartbeatEvent
  | ChatSentEvent
  | LikesSentEvent
  | TipSentEvent
  | PurchaseCompletedEvent
  | PurchaseRefundedEvent
  | SubscriptionStartedEvent
  | QuestionAskedEvent
  | QuestionUpvotedEvent
  | QuestionAnsweredEvent
  | PollVotedEvent
  | SuggestionShownEvent
  | SuggestionClickedEvent
  | SuggestionDismissedEvent
  | MediaProgressEvent
  | MediaCompletedEvent
  | CreatorFollowedEvent
  | CreatorUnfollowedEvent;

export type EngagementEventType = EngagementEvent['type'];
export type EventOf<T extends EngagementEventType> = Extract<EngagementEvent, { type: T }>;

// --- validation -------------------------------------------------------------------------------

const amount = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** The platform's part of an amount (0 when it takes none). */
const fee = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional();
const currency = z.string().regex(/^[A-Z]{3}$/);
const epochMs = z.number().int().min(0).max(8.64e15);

// Every envelope field, ids optional; each event type overrides the ids it requires.
const envelope = {
  id,
  v: z.literal(EVENT_SCHEMA_VERSION),
  at: epochMs,
  roomId: id.optional(),
  userId: id.optional(),
  contentId: id.optional(),
  creatorId: id.optional(),
};

const suggestion = z.strictObject({
  modelVersion: z.string().min(1).max(64),
  score: z.number().finite(),
  position: z.number().int().min(0).max(1000).optional(),
});

const seconds = z
  .number()
  .finite()
  .min(0)
  .max(7 * 86_400);
const mediaWatch = z.strictObject({
  item: z.enum(['content', 'replay']),
  seconds,
  positionSeconds: seconds,
  durationSeconds: seconds,
});

const schemas = [
  z.strictObject({
    ...envelope,
    type: z.literal('room.joined'),
    roomId: id,
    data: z.strictObject({ access: z.enum(['full', 'preview', 'none']) }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('room.left'),
    roomId: id,
    data: z.strictObject({ reason: z.enum(['left', 'disconnected', 'ended', 'removed']) }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('watch.heartbeat'),
    roomId: id,
    data: z.strictObject({ seconds: z.number().int().min(1).max(3600), access: z.enum(['full', 'preview']) }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('chat.sent'),
    roomId: id,
    userId: id,
    data: z.strictObject({ messageId: id, length: z.number().int().min(0).max(100_000) }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('likes.sent'),
    roomId: id,
    data: z.strictObject({ count: z.number().int().min(1).max(1_000_000) }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('tip.sent'),
    roomId: id,
    userId: id,
    creatorId: id,
    data: z.strictObject({ tipId: id, amount, fee, currency }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('purchase.completed'),
    userId: id,
    creatorId: id,
    data: z.strictObject({
      purchaseId: id,
      kind: z.enum(['content', 'ticket', 'subscription']),
      amount,
      fee,
      currency,
    }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('purchase.refunded'),
    userId: id,
    creatorId: id,
    data: z.strictObject({
      purchaseId: id,
      kind: z.enum(['content', 'ticket', 'subscription']),
      amount,
      fee,
      currency,
    }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('subscription.started'),
    userId: id,
    creatorId: id,
    data: z.strictObject({ purchaseId: id, amount, fee, currency, periodEnd: epochMs }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('question.asked'),
    roomId: id,
    userId: id,
    data: z.strictObject({ questionId: id }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('question.upvoted'),
    roomId: id,
    userId: id,
    data: z.strictObject({ questionId: id }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('question.answered'),
    roomId: id,
    data: z.strictObject({ questionId: id }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('poll.voted'),
    roomId: id,
    userId: id,
    data: z.strictObject({ pollId: id, option: z.number().int().min(0).max(100) }),
  }),
  z.strictObject({ ...envelope, type: z.literal('suggestion.shown'), roomId: id, contentId: id, data: suggestion }),
  z.strictObject({ ...envelope, type: z.literal('suggestion.clicked'), roomId: id, contentId: id, data: suggestion }),
  z.strictObject({ ...envelope, type: z.literal('suggestion.dismissed'), roomId: id, contentId: id, data: suggestion }),
  z.strictObject({ ...envelope, type: z.literal('media.progress'), userId: id, creatorId: id, data: mediaWatch }),
  z.strictObject({ ...envelope, type: z.literal('media.completed'), userId: id, creatorId: id, data: mediaWatch }),
  z.strictObject({
    ...envelope,
    type: z.literal('creator.followed'),
    userId: id,
    creatorId: id,
    data: z.strictObject({}),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal('creator.unfollowed'),
    userId: id,
    creatorId: id,
    data: z.strictObject({}),
  }),
] as const;

export const engagementEventSchema = z.discriminatedUnion('type', schemas);

// The hand-written types above are what readers see; this keeps the schema honest about them.
type Parsed = z.output<typeof engagementEventSchema>;
const typesMatchSchema: [Parsed extends EngagementEvent ? true : false, EngagementEvent extends Parsed ? true : false] =
  [true, true];
void typesMatchSchema;

export const ENGAGEMENT_EVENT_TYPES = schemas.map((s) => s.shape.type.value) as EngagementEventType[];

/** A malformed event: a bug in the producer, never a user's fault, so it is thrown, not answered. */
export class InvalidEventError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

// Events this module produced by validation: appending them again need not re-validate. The
// validated copy is frozen, so nobody can change it after the check.
const validated = new WeakSet<object>();

function check(input: unknown): { event: EngagementEvent } | { error: InvalidEventError } {
  const result = engagementEventSchema.safeParse(input);
  if (result.success) {
    const event = deepFreeze(result.data) as EngagementEvent;
    validated.add(event);
    return { event };
  }
  const issues = result.error.issues.slice(0, 10).map((i) => ({
    path: i.path.join('.') || '(root)',
    message: i.message,
  }));
  const type = (input as { type?: unknown } | null)?.type;
  return {
    error: new InvalidEventError(
      `invalid engagement event${typeof type === 'string' ? ` (${type})` : ''}: ${issues
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
      issues,
    ),
  };
}

/** Returns a frozen, validated copy of `input` or throws InvalidEventError. */
export function validateEvent(input: unknown): EngagementEvent {
  if (typeof input === 'object' && input !== null && validated.has(input)) return input as EngagementEvent;
  const result = check(input);
  if ('error' in result) throw result.error;
  return result.event;
}

/** For readers: the decoded event, or why the stored value is not one (no throw). */
export function decodeEvent(raw: string): { event: EngagementEvent } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { error: 'payload is not JSON' };
  }
  const result = check(value);
  return 'error' in result ? { error: result.error.message } : result;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

type NewEventFields<T extends EngagementEventType> = Omit<EventOf<T>, 'id' | 'v' | 'type' | 'at'> & {
  at?: number;
  /** Only for an event recorded again from a durable source (the outbox): the id it always has. */
  id?: string;
};

/** Events about what happens in a room, which the gateway records and tags with the room's creator. */
export const ROOM_SCOPED_TYPES: ReadonlySet<EngagementEventType> = new Set<EngagementEventType>([
  'room.joined',
  'room.left',
  'watch.heartbeat',
  'chat.sent',
  'likes.sent',
  'question.asked',
  'question.upvoted',
  'question.answered',
  'poll.voted',
]);

/**
 * A room-scoped event with `creatorId` (the room's owner) added; the event itself when it is not
 * room-scoped or already says. Cheap on the hot path: only the id is validated, the rest was.
 */
export function withCreatorId(event: EngagementEvent, creatorId: string): EngagementEvent {
  if (event.creatorId || !ROOM_SCOPED_TYPES.has(event.type)) return event;
  const valid = validateEvent(event);
  const tagged = Object.freeze({ ...valid, creatorId: id.parse(creatorId) }) as EngagementEvent;
  validated.add(tagged);
  return tagged;
}

/** Builds and validates an event, filling in a fresh id, the schema version and the time. */
export function newEvent<T extends EngagementEventType>(
  type: T,
  fields: NewEventFields<T>,
  now: () => number = Date.now,
): EventOf<T> {
  const { at, id, ...rest } = fields;
  return validateEvent({
    id: id ?? randomUUID(),
    v: EVENT_SCHEMA_VERSION,
    type,
    at: at ?? now(),
    ...rest,
  }) as EventOf<T>;
}
