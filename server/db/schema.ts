import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Kysely's view of the tables in migrations/. int8 columns arrive as numbers (see pool.ts). */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

export interface UsersTable {
  id: Generated<string>;
  username: string;
  password_hash: string;
  role: 'viewer' | 'creator' | 'admin';
  created_at: CreatedAt;
}

export interface CreatorProfilesTable {
  user_id: string;
  display_name: string;
  bio: Generated<string>;
  tags: Generated<string[]>;
  subscription_price: number | null;
  subscription_period_days: Generated<number>;
  updated_at: Generated<Date>;
  /** MediaStore key of the avatar (public; migrations/0009_creator_business.ts). */
  avatar_key: string | null;
  links: ColumnType<ProfileLink[], string | undefined, string>;
}

export interface ProfileLink {
  label: string;
  url: string;
}

export interface ContentsTable {
  id: Generated<string>;
  creator_id: string;
  title: string;
  description: Generated<string>;
  kind: 'lesson' | 'course' | 'bundle';
  price: number;
  currency: string;
  tags: Generated<string[]>;
  archived_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
  /** A lesson's video (migrations/0008_vod.ts). */
  media_asset_id: string | null;
  /** Markdown shown to those who own the content. */
  notes: Generated<string>;
  /** MediaStore key of the cover image (public). */
  cover_key: string | null;
  /** A lesson anyone may watch: a course's free trial. */
  free_trial: Generated<boolean>;
}

export interface ContentItemsTable {
  parent_id: string;
  item_id: string;
  position: number;
}

export interface RoomsTable {
  id: Generated<string>;
  owner_id: string;
  title: string;
  tags: Generated<string[]>;
  status: Generated<'scheduled' | 'live' | 'ended'>;
  access: 'free' | 'ticket' | 'subscribers';
  ticket_price: number | null;
  preview_seconds: Generated<number>;
  currency: string;
  settings: Json<Record<string, unknown>>;
  likes_total: Generated<number>;
  created_at: CreatedAt;
  started_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  /** Record the stream while it is live; the recording becomes the replay (migrations/0008_vod.ts). */
  record: Generated<boolean>;
  replay_asset_id: string | null;
  /** When the creator plans to go live (migrations/0009_creator_business.ts). */
  scheduled_at: NullableTimestamp;
  cover_key: string | null;
  description: Generated<string>;
}

export interface RoomModeratorsTable {
  room_id: string;
  user_id: string;
  granted_by: string;
  created_at: CreatedAt;
}

export interface RoomRestrictionsTable {
  room_id: string;
  user_id: string;
  kind: 'mute' | 'ban';
  expires_at: NullableTimestamp;
  created_by: string;
  created_at: CreatedAt;
}

export type AccountKind =
  | 'wallet'
  | 'earnings'
  | 'earnings_pending'
  | 'earnings_debt'
  | 'platform_revenue'
  | 'provider'
  | 'payouts_clearing';

export interface AccountsTable {
  id: Generated<string>;
  kind: AccountKind;
  owner_id: string | null;
  currency: string;
  /** Maintained by the ledger trigger; never written by the application. */
  balance: ColumnType<number, never, never>;
  created_at: CreatedAt;
}

/** A credit or debit of a derived-balance account not yet rolled up (migrations/0012_derived_balances.ts). */
export interface AccountDeltasTable {
  id: Generated<number>;
  account_id: string;
  amount: number;
}

/** Every account's balance: the row's plus its deltas not yet rolled up (a view). */
export interface AccountBalancesView {
  id: string;
  kind: AccountKind;
  owner_id: string | null;
  currency: string;
  balance: number;
}

export type LedgerTransactionKind =
  | 'topup'
  | 'purchase'
  | 'tip'
  | 'refund'
  | 'release'
  | 'payout'
  | 'payout_paid'
  | 'payout_failed';

export interface LedgerTransactionsTable {
  id: Generated<string>;
  kind: LedgerTransactionKind;
  reverses_id: string | null;
  memo: Generated<string>;
  created_at: CreatedAt;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  transaction_id: string;
  account_id: string;
  amount: number;
  created_at: CreatedAt;
}

export interface PurchasesTable {
  id: Generated<string>;
  buyer_id: string;
  kind: 'content' | 'ticket' | 'subscription';
  content_id: string | null;
  room_id: string | null;
  creator_id: string;
  amount: number;
  fee: number;
  currency: string;
  subscription_days: number | null;
  /** The period a subscription purchase pays for (migrations/0006_subscription_periods.ts). */
  period_start: NullableTimestamp;
  period_end: NullableTimestamp;
  status: Generated<'completed' | 'refunded'>;
  transaction_id: string;
  refund_transaction_id: string | null;
  created_at: CreatedAt;
  refunded_at: NullableTimestamp;
  /** The room the buyer was in when buying (session attribution); null when bought elsewhere. */
  context_room_id: string | null;
}

export interface EntitlementsTable {
  id: Generated<string>;
  user_id: string;
  content_id: string | null;
  room_id: string | null;
  purchase_id: string;
  revoked_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface SubscriptionsTable {
  id: Generated<string>;
  subscriber_id: string;
  creator_id: string;
  current_period_end: Timestamp;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}

/** A viewer follows a creator (migrations/0015_follows.ts). */
export interface FollowsTable {
  follower_id: string;
  creator_id: string;
  created_at: CreatedAt;
}

export interface TipsTable {
  id: Generated<string>;
  room_id: string;
  sender_id: string;
  creator_id: string;
  amount: number;
  fee: number;
  currency: string;
  message: string | null;
  pinned_until: NullableTimestamp;
  transaction_id: string;
  created_at: CreatedAt;
}

/** Each tipper's total in a room (the leaderboard), added to by the tip batch. */
export interface RoomTipTotalsTable {
  room_id: string;
  sender_id: string;
  total: number;
}

export interface ChatMessagesTable {
  id: string;
  room_id: string;
  user_id: string;
  text: string;
  sent_at: Timestamp;
  deleted_at: NullableTimestamp;
  deleted_by: string | null;
}

export interface ModerationActionsTable {
  id: Generated<string>;
  room_id: string;
  actor_id: string;
  target_user_id: string | null;
  action: 'mute' | 'unmute' | 'ban' | 'unban' | 'delete_message' | 'settings' | 'grant_moderator' | 'revoke_moderator';
  message_id: string | null;
  reason: string | null;
  expires_at: NullableTimestamp;
  detail: Json<Record<string, unknown>> | null;
  created_at: CreatedAt;
}

export interface QuestionsTable {
  id: Generated<string>;
  room_id: string;
  user_id: string;
  text: string;
  upvotes: Generated<number>;
  answered_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface QuestionVotesTable {
  question_id: string;
  user_id: string;
  created_at: CreatedAt;
}

export interface RecommendationImpressionsTable {
  /** The id of the impression's `suggestion.shown` event. */
  id: Generated<string>;
  user_id: string;
  room_id: string | null;
  /** Null for a subscription suggestion (migrations/0005_recommender.ts). */
  content_id: string | null;
  model_version: string;
  score: number;
  reason: string;
  shown_at: CreatedAt;
  clicked_at: NullableTimestamp;
  dismissed_at: NullableTimestamp;
  purchased_at: NullableTimestamp;
  item_kind: Generated<'content' | 'subscription'>;
  /** The creator whose subscription was suggested (and, for contents, may be set too). */
  creator_id: string | null;
  /** 0-based rank in the suggestion it was shown in. */
  position: Generated<number>;
  /** The features it was scored with: `{ user, candidate }` (recommender `ImpressionContext`). */
  context: ColumnType<unknown, string | null | undefined, string | null>;
}

export interface RoomPreviewsTable {
  room_id: string;
  user_id: string;
  started_at: CreatedAt;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  request_hash: string;
  response_status: number | null;
  response_body: ColumnType<unknown, string | null, string | null>;
  /** Updatable: an expired key is claimed afresh. */
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

// --- analytics (migrations/0003_analytics.ts) ----------------------------------------------------

export interface AnalyticsProcessedEventsTable {
  event_id: string;
  processed_at: CreatedAt;
}

export interface AnalyticsRoomsTable {
  room_id: string;
  creator_id: string;
  joins: Generated<number>;
  guest_joins: Generated<number>;
  leaves: Generated<number>;
  watch_seconds: Generated<number>;
  guest_watch_seconds: Generated<number>;
  chat_messages: Generated<number>;
  likes: Generated<number>;
  questions_asked: Generated<number>;
  question_upvotes: Generated<number>;
  questions_answered: Generated<number>;
  presence_version: Generated<number>;
  summary_version: number | null;
  summary_peak: number | null;
  summary_viewer_ms: number | null;
  updated_at: Generated<Date>;
}

export interface AnalyticsPresenceTable {
  room_id: string;
  at: Timestamp;
  delta: number;
}

export interface AnalyticsRoomMinutesTable {
  room_id: string;
  minute: Timestamp;
  chat_messages: Generated<number>;
  likes: Generated<number>;
}

export interface AnalyticsRoomViewersTable {
  room_id: string;
  user_id: string;
  creator_id: string;
  first_joined_at: Timestamp;
}

export interface AnalyticsSalesTable {
  id: string;
  kind: 'ticket' | 'content' | 'tip' | 'subscription';
  creator_id: string;
  room_id: string | null;
  buyer_id: string;
  amount: number;
  /** When it was sold (until its sale event arrives, when its refund was: see `sold`). */
  at: Timestamp;
  /** The platform's part of `amount` (migrations/0010_analytics_fees.ts). */
  fee: Generated<number>;
  /** Set by its `purchase.refunded`: the sale then counts as a refund only. */
  refunded_at: NullableTimestamp;
  /** The sale's own event was applied (false while only its refund was). */
  sold: Generated<boolean>;
}

// --- webhooks (migrations/0004_webhooks.ts) ------------------------------------------------------

export interface WebhooksTable {
  id: Generated<string>;
  owner_id: string;
  scope: 'creator' | 'platform';
  url: string;
  events: string[];
  description: Generated<string>;
  secret: string;
  created_at: CreatedAt;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  webhook_id: string;
  event_id: string;
  event_type: string;
  body: string;
  status: Generated<'pending' | 'succeeded' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_attempt_at: NullableTimestamp;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: NullableTimestamp;
  created_at: CreatedAt;
}

// --- events outbox (migrations/0007_events_outbox.ts) --------------------------------------------

export interface EventsOutboxTable {
  id: Generated<string>;
  event_id: Generated<string>;
  topic: string;
  payload: ColumnType<unknown, string, never>;
  created_at: CreatedAt;
}

// --- recommender (migrations/0005_recommender.ts) -----------------------------------------------

export interface RecommenderModelsTable {
  id: Generated<number>;
  version: string;
  parent_version: string | null;
  kind: 'incremental' | 'full';
  status: 'serving' | 'retired' | 'rejected';
  trained_examples: Generated<number>;
  validation: ColumnType<Record<string, unknown>, string | undefined, string>;
  checkpoint: Buffer | null;
  checkpoint_bytes: number | null;
  created_at: CreatedAt;
  promoted_at: NullableTimestamp;
}

// --- creator business (migrations/0009_creator_business.ts) ------------------------------------

export interface EarningsHoldsTable {
  transaction_id: string;
  creator_id: string;
  currency: string;
  amount: number;
  release_at: Timestamp;
  released_transaction_id: string | null;
  cancelled_transaction_id: string | null;
  created_at: CreatedAt;
}

export interface PayoutsTable {
  id: Generated<string>;
  creator_id: string;
  amount: number;
  currency: string;
  status: 'requested' | 'pending' | 'paid' | 'failed';
  attempt: Generated<number>;
  method: string | null;
  provider_reference: string | null;
  failure_reason: string | null;
  transaction_id: string;
  settled_transaction_id: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
  settled_at: NullableTimestamp;
}

// --- polls (migrations/0011_polls.ts) -----------------------------------------------------------

export interface PollsTable {
  id: Generated<string>;
  room_id: string;
  created_by: string;
  question: string;
  options: Json<string[]>;
  closes_at: NullableTimestamp;
  closed_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface PollVotesTable {
  poll_id: string;
  user_id: string;
  option: number;
  created_at: CreatedAt;
}

// --- videos after the fact (migrations/0008_vod.ts) --------------------------------------------

export type MediaAssetStatus = 'recording' | 'processing' | 'ready' | 'failed';

export interface HlsSegment {
  uri: string;
  duration: number;
}

export interface MediaAssetsTable {
  id: Generated<string>;
  owner_id: string;
  origin: 'upload' | 'recording';
  status: MediaAssetStatus;
  room_id: string | null;
  progress: Generated<number>;
  duration_seconds: number | null;
  width: number | null;
  height: number | null;
  segments: ColumnType<HlsSegment[] | null, string | null | undefined, string | null>;
  trim_start_seconds: Generated<number>;
  trim_end_seconds: number | null;
  /** The length that plays once trimmed (whole segments); set when ready and on every trim. */
  playable_seconds: number | null;
  source_bytes: number | null;
  error_code: string | null;
  error_message: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
  ready_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
}

export interface RecordingTrack {
  source: 'camera' | 'microphone' | 'screen' | 'screenAudio';
  kind: 'audio' | 'video';
  /** The track's stream index in the part's file. */
  stream: number;
}

export interface RecordingPartsTable {
  asset_id: string;
  seq: number;
  status: 'recording' | 'done' | 'failed';
  tracks: Json<RecordingTrack[]>;
  node_id: string;
  started_at: CreatedAt;
  ended_at: NullableTimestamp;
  bytes: number | null;
  error: string | null;
  updated_at: Generated<Date>;
}

export interface MediaJobsTable {
  id: Generated<string>;
  asset_id: string;
  kind: 'package-upload' | 'compose-recording';
  status: Generated<'queued' | 'running' | 'done' | 'failed'>;
  attempts: Generated<number>;
  run_after: ColumnType<Date, Date | string | undefined, Date | string>;
  lease_owner: string | null;
  lease_until: NullableTimestamp;
  error: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}

export interface ContentAttachmentsTable {
  id: Generated<string>;
  content_id: string;
  filename: string;
  mime: string;
  bytes: number;
  storage_key: string;
  created_at: CreatedAt;
  deleted_at: NullableTimestamp;
}

export interface WatchProgressTable {
  user_id: string;
  content_id: string | null;
  room_id: string | null;
  position_seconds: number;
  duration_seconds: number;
  watched_seconds: Generated<number>;
  completed_at: NullableTimestamp;
  updated_at: Generated<Date>;
}

export interface AnalyticsMediaTable {
  item_kind: 'content' | 'replay';
  item_id: string;
  creator_id: string;
  viewers: Generated<number>;
  completions: Generated<number>;
  watch_seconds: Generated<number>;
  updated_at: Generated<Date>;
}

export interface AnalyticsMediaViewersTable {
  item_kind: 'content' | 'replay';
  item_id: string;
  user_id: string;
  completed: Generated<boolean>;
}

export interface DB {
  users: UsersTable;
  creator_profiles: CreatorProfilesTable;
  contents: ContentsTable;
  content_items: ContentItemsTable;
  rooms: RoomsTable;
  room_moderators: RoomModeratorsTable;
  room_restrictions: RoomRestrictionsTable;
  accounts: AccountsTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_entries: LedgerEntriesTable;
  purchases: PurchasesTable;
  entitlements: EntitlementsTable;
  subscriptions: SubscriptionsTable;
  follows: FollowsTable;
  tips: TipsTable;
  room_tip_totals: RoomTipTotalsTable;
  chat_messages: ChatMessagesTable;
  moderation_actions: ModerationActionsTable;
  questions: QuestionsTable;
  question_votes: QuestionVotesTable;
  recommendation_impressions: RecommendationImpressionsTable;
  idempotency_keys: IdempotencyKeysTable;
  room_previews: RoomPreviewsTable;
  analytics_processed_events: AnalyticsProcessedEventsTable;
  analytics_rooms: AnalyticsRoomsTable;
  analytics_presence: AnalyticsPresenceTable;
  analytics_room_minutes: AnalyticsRoomMinutesTable;
  analytics_room_viewers: AnalyticsRoomViewersTable;
  analytics_sales: AnalyticsSalesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  events_outbox: EventsOutboxTable;
  recommender_models: RecommenderModelsTable;
  media_assets: MediaAssetsTable;
  recording_parts: RecordingPartsTable;
  media_jobs: MediaJobsTable;
  content_attachments: ContentAttachmentsTable;
  watch_progress: WatchProgressTable;
  analytics_media: AnalyticsMediaTable;
  analytics_media_viewers: AnalyticsMediaViewersTable;
  earnings_holds: EarningsHoldsTable;
  payouts: PayoutsTable;
  polls: PollsTable;
  poll_votes: PollVotesTable;
  account_deltas: AccountDeltasTable;
  account_balances: AccountBalancesView;
}

export type UserRow = Selectable<UsersTable>;
export type ContentRow = Selectable<ContentsTable>;
export type RoomRow = Selectable<RoomsTable>;
export type MediaAssetRow = Selectable<MediaAssetsTable>;
export type MediaJobRow = Selectable<MediaJobsTable>;
export type PayoutRow = Selectable<PayoutsTable>;
export type PurchaseRow = Selectable<PurchasesTable>;
export type TipRow = Selectable<TipsTable>;
export type NewLedgerEntry = Insertable<LedgerEntriesTable>;
