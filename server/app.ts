import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { type Analytics, createAnalytics } from './analytics';
import { type AuthService, createAuthService } from './auth';
import { resolveJwtSecret } from './auth/secret';
import { UserChanges } from './auth/user-changes';
import { type CatalogService, createCatalogService } from './catalog';
import type { Config } from './config';
import { type Database, openDatabase } from './db';
import { DomainEvents } from './domain-events';
import { createEvents, type EngagementEvent, type Events, OutboxRelay } from './events';
import { createFollowsService } from './follows';
import { createGateway, type Gateway } from './gateway';
import { answerClientErrors, createHttpListener, type Health, summarize } from './http';
import { createLogger, type Logger } from './log';
import { createMediaPlane, type MediaPlane } from './media';
import { createMetrics, type Metrics } from './metrics';
import { createPaymentsService, type PaymentProvider, type PaymentsService, SandboxPaymentProvider } from './payments';
import { createPollsService } from './polls';
import { TokenBucketLimiter } from './ratelimit';
import { createRecommender, type Recommender } from './recommender';
import { createLiveForYou } from './recommender/live/for-you';
import { createLiveLearner, type LiveLearner } from './recommender/live/online';
import { createLiveRanker, type OnlineLiveRanker } from './recommender/live/ranker';
import { createRecorder, type Recorder } from './recording';
import { createRoomsService, type RoomsService } from './rooms';
import { createMediaStore, createUrlSigner, type MediaStore } from './storage';
import { createPublicImages, createVod, type VodService } from './vod';
import { createWebhooks, type Webhooks } from './webhooks';

export interface Lectern {
  readonly config: Config;
  /** `http://host:port` of the running server. */
  readonly url: string;
  readonly port: number;
  readonly log: Logger;
  readonly database: Database;
  /** In-process domain events (room started, purchase completed, …). */
  readonly domain: DomainEvents;
  /** The engagement event log (Redis Streams or in-process) with its publisher and consumers. */
  readonly engagement: Events;
  /** Relays the money events payments write to the Postgres outbox into the log and webhooks. */
  readonly outbox: OutboxRelay;
  readonly metrics: Metrics;
  readonly gateway: Gateway;
  readonly media: MediaPlane;
  readonly redis?: Redis;
  /** Creator analytics: the `analytics` consumer group and its reports. */
  readonly analytics: Analytics;
  /** Webhook registrations and this node's deliverer. */
  readonly webhooks: Webhooks;
  /** The online recommender (RECOMMENDER_ENABLED): suggestions pushed into live rooms, trained online. */
  readonly recommender?: Recommender;
  /** "Live now for you": the learned live ranker and what trains it online from the joins. */
  readonly live: { ranker: OnlineLiveRanker; learner: LiveLearner };
  /** Where videos, attachments and covers are kept. */
  readonly store: MediaStore;
  /** Lesson videos, room replays (from the recorder) and their packaging jobs. */
  readonly vod: VodService;
  /** Records this node's live rooms into the VOD service's parts. */
  readonly recorder: Recorder;
  readonly services: {
    auth: AuthService;
    catalog: CatalogService;
    rooms: RoomsService;
    payments: PaymentsService;
  };
  health(): Promise<Health>;
  /** Stops accepting work, then closes every subsystem. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  paymentProvider?: PaymentProvider;
}

/** The composition root: builds every subsystem from the config and starts listening. */
export async function startLectern(config: Config, options: StartOptions = {}): Promise<Lectern> {
  const log = options.log ?? createLogger(config.logLevel);
  // Everything opened is closed in reverse order: by close(), or at once if start-up fails halfway.
  const closers: (() => unknown)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        log.warn({ err }, 'error while closing');
      }
    }
  };
  try {
    const lectern = await assemble(config, options, log, (close) => closers.push(close));
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= closeAll().then(() => {
        log.info('stopped');
      }));
    log.info({ url: lectern.url }, 'lectern is serving');
    return { ...lectern, close };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function assemble(
  config: Config,
  options: StartOptions,
  log: Logger,
  onClose: (close: () => unknown) => void,
): Promise<Omit<Lectern, 'close'>> {
  const metrics = createMetrics();
  /** This process among the cluster's nodes: who holds a media job's lease, who records a part. */
  const mediaNodeId = randomUUID();
  const domain = new DomainEvents((err, event) => log.error({ err, event }, 'domain event listener failed'));

  const database = await openDatabase(config, log);
  onClose(() => database.close());
  const { db } = database;
  log.info(
    {
      database:
        database.mode === 'embedded' ? `embedded Postgres on 127.0.0.1:${config.embeddedPgPort}` : 'DATABASE_URL',
    },
    database.mode === 'embedded' ? 'no DATABASE_URL: using the embedded Postgres' : 'using DATABASE_URL',
  );

  const jwtSecret = resolveJwtSecret(config);
  // Role changes and deleted accounts, heard from Postgres: open connections and the principal
  // cache follow them at once on every node.
  const userChanges = new UserChanges({ databaseUrl: database.url, db, log: log.child({ component: 'users' }) });
  userChanges.start();
  onClose(() => userChanges.close());
  const auth = createAuthService({ db, secret: jwtSecret, ttlSeconds: config.jwtTtlSeconds, userChanges });
  const store = createMediaStore(config);
  // Covers and avatars: received, re-encoded by ffmpeg and kept in public in the store.
  const images = createPublicImages({ store, config, log: log.child({ component: 'images' }) });
  const catalog = createCatalogService({ db, config, images });
  const rooms = createRoomsService({ db, config, events: domain, images });
  const payments = createPaymentsService({
    db,
    databaseUrl: database.url,
    moneyConnections: config.dbMoneyConnections,
    config,
    events: domain,
    provider: options.paymentProvider ?? new SandboxPaymentProvider({ payoutDelayMs: config.sandboxPayoutDelayMs }),
    log: log.child({ component: 'payments' }),
    registry: metrics.registry,
  });
  payments.start();
  onClose(() => payments.close());
  const sweeper = setInterval(() => {
    payments.sweepIdempotencyKeys().catch((err) => log.warn({ err }, 'idempotency sweep failed'));
  }, 3600_000);
  sweeper.unref();
  onClose(() => clearInterval(sweeper));

  const redis = config.redisUrl ? await connectRedis(config.redisUrl, log) : undefined;
  if (redis) onClose(() => redis.disconnect());
  log.info(
    redis
      ? 'using REDIS_URL: Redis Streams event log and Socket.IO Redis Streams adapter (multi-node)'
      : 'no REDIS_URL: in-process event log and Socket.IO in-memory adapter (single node)',
  );
  const engagement = createEvents({
    redisUrl: config.redisUrl,
    redis: { keyPrefix: `${config.redisKeyPrefix}events:`, maxLength: config.eventsStreamMaxLength },
    memory: { maxLength: config.eventsStreamMaxLength },
    publisher: { bufferLimit: config.eventsBufferLimit },
    retention: { lagWarnThreshold: config.eventsLagWarnThreshold },
    registry: metrics.registry,
    logger: log,
  });
  onClose(() => engagement.close());
  // The recommender is built after the gateway (it needs the audience) and sees every event this
  // node records: room engagement features, purchases of what it suggested.
  let recommender: Recommender | undefined;
  // "Live now for you": the learned live ranker learns who watches which creator from the joins
  // this node records (server/recommender/live/ranker.ts); guests and cold starts, and any
  // failure of it, fall back to the heuristic (createLiveForYou below).
  const liveRanker = createLiveRanker();
  // … and learns its weights online from the same joins (server/recommender/live/online.ts): a
  // bounded queue, processed in the background off every request's path; the features are
  // prepared on this thread and the steps taken in the recommender's trainer worker when this node
  // runs one (below), on this thread otherwise.
  const liveLearner = createLiveLearner({
    ranker: liveRanker,
    db,
    config,
    log: log.child({ component: 'live-learner' }),
    // The gateway is built below; joins are recorded only once it serves.
    viewerCounts: (roomIds) => gateway.viewerCounts(roomIds),
    registry: metrics.registry,
    remote: () => recommender,
    minWatchMs: config.liveLearnMinWatchSeconds * 1000,
  });
  onClose(() => liveLearner.close());
  const observe = (event: EngagementEvent) => {
    // Apart from recording: a recommender failure must not read as a lost engagement event.
    try {
      recommender?.observe(event);
    } catch (err) {
      log.warn({ err, type: event.type }, 'recommender could not observe an event');
    }
    try {
      if (event.type === 'room.joined' && event.userId && event.creatorId) {
        liveRanker.observeWatch(event.userId, event.creatorId, event.at);
      }
    } catch (err) {
      log.warn({ err, type: event.type }, 'live ranker could not observe an event');
    }
    liveLearner.observe(event);
  };
  const record = (event: EngagementEvent) => {
    engagement.publish(event);
    observe(event);
  };

  const media = await createMediaPlane(
    {
      enabled: config.mediaEnabled,
      ...(config.mediaWorkers ? { numWorkers: config.mediaWorkers } : {}),
      workerLogLevel: config.mediaLogLevel,
      listenIp: config.mediaListenIp,
      announcedAddress: config.mediaAnnouncedAddress,
      webRtcServerPort: config.mediaPort,
      rtcMinPort: config.mediaRtcMinPort,
      rtcMaxPort: config.mediaRtcMaxPort,
      maxConsumersPerRouter: config.mediaMaxConsumersPerRouter,
    },
    { log, registry: metrics.registry },
  );
  onClose(() => media.close());
  const analytics = createAnalytics({
    db,
    pool: database.pool,
    events: engagement,
    config,
    log: log.child({ component: 'analytics' }),
  });
  onClose(() => analytics.close());
  const signer = createUrlSigner(config, jwtSecret);
  const vod = createVod({
    db,
    config,
    log: log.child({ component: 'vod' }),
    store,
    signer,
    payments,
    catalog,
    record,
    nodeId: mediaNodeId,
    registry: metrics.registry,
    images,
  });
  await vod.start();
  onClose(() => vod.close());
  // Closed before the media plane and the database (closers run in reverse): it finishes its
  // parts through the VOD service.
  const recorder = await createRecorder({
    plane: media,
    sink: vod.recordings,
    log,
    registry: metrics.registry,
    options: {
      enabled: config.recordingEnabled,
      ffmpegPath: config.ffmpegPath,
      ffprobePath: config.ffprobePath,
      workDir: config.recordingDir ?? path.join(config.dataDir, 'recordings'),
      nodeId: mediaNodeId,
    },
  });
  onClose(() => recorder.close());
  // The owner may publish before going live; the recording starts when the room does. And the
  // room's recording becomes its replay, wherever the room was ended.
  onClose(domain.on('room.started', ({ room }) => recorder.refresh(room.id)));
  onClose(domain.on('room.updated', ({ room }) => recorder.refresh(room.id)));
  onClose(domain.on('room.ended', ({ room }) => vod.roomEnded(room.id)));
  const webhooks = createWebhooks({ db, domain, config, log });
  onClose(() => webhooks.close());
  // Money events: from the outbox payments write in their transaction, into the log and webhooks.
  const outbox = new OutboxRelay({
    db,
    log: engagement.log,
    domain,
    pool: database.pool,
    sideWrite: webhooks.relayed,
    relayed(_messages, events) {
      webhooks.nudge();
      for (const event of events) observe(event);
    },
    sweepIntervalMs: config.eventsOutboxSweepMs,
    registry: metrics.registry,
    logger: log.child({ component: 'outbox' }),
  });
  onClose(() => outbox.close());

  async function health(): Promise<Health> {
    const [dbOk, redisOk] = await Promise.all([
      database.ping(),
      redis?.ping().then(
        () => true,
        () => false,
      ),
    ]);
    const events = engagement.health();
    const checks: Health['checks'] = {
      database: { ok: dbOk, required: true, detail: database.mode },
      events: {
        ok: events.status === 'ok',
        required: false,
        detail: `${events.status}, ${events.buffered} buffered, ${events.dropped} dropped`,
      },
    };
    if (redis) checks.redis = { ok: redisOk === true, required: false };
    const ffmpeg = vod.ffmpegStatus();
    checks.ffmpeg = {
      ok: ffmpeg.available,
      required: false,
      detail: ffmpeg.available ? (ffmpeg.version ?? 'available') : `${ffmpeg.reason}: no recordings or uploads`,
    };
    const recording = recorder.status();
    checks.recording = config.recordingEnabled
      ? { ok: recording.available, required: false, detail: recording.reason ?? `${recording.active} recording` }
      : { ok: true, required: false, detail: 'disabled' };
    const mediaStatus = media.status();
    checks.media = config.mediaEnabled
      ? {
          ok: mediaStatus.available,
          required: false,
          detail: mediaStatus.available
            ? `${mediaStatus.workersReady}/${mediaStatus.workersConfigured} workers`
            : (mediaStatus.reason ?? undefined),
        }
      : { ok: true, required: false, detail: 'disabled' };
    return summarize(checks);
  }

  // "Live now for you" (GET /api/rooms/for-you): the learned ranker for viewers with a history;
  // the heuristic (server/recommender/live/heuristic.ts) for guests and cold starts, and whenever
  // the learned one throws.
  const liveForYou = createLiveForYou({
    db,
    config,
    log: log.child({ component: 'live-for-you' }),
    // The gateway is attached to the HTTP server below; this is asked only once it serves.
    viewerCounts: (roomIds) => gateway.viewerCounts(roomIds),
    learned: liveRanker,
  });
  const follows = createFollowsService({
    db,
    config,
    record,
    // What the viewer follows is part of their "Live now for you" context: read it again.
    changed: (viewerId) => liveForYou.forget(viewerId),
  });
  const app = createHttpListener({
    config,
    log,
    metrics,
    auth,
    catalog,
    rooms,
    follows,
    payments,
    analytics,
    webhooks: webhooks.registry,
    vod,
    // The gateway is attached to the HTTP server below; rooms are listed only once it serves.
    viewerCounts: (roomIds) => gateway.viewerCounts(roomIds),
    liveForYou,
    store,
    signer,
    health,
    limiters: {
      auth: new TokenBucketLimiter(config.authRateLimitPerMinute, config.authRateLimitPerMinute / 60),
      api: new TokenBucketLimiter(config.httpRateLimitPerMinute, config.httpRateLimitPerMinute / 60),
    },
  });
  const httpServer: Server = createServer(app);
  answerClientErrors(httpServer);
  const gateway = createGateway(httpServer, {
    userChanges,
    config,
    log,
    db,
    auth,
    rooms,
    payments,
    polls: createPollsService(db),
    events: domain,
    registry: metrics.registry,
    redis,
    record,
    media,
    suggestions: () => recommender,
  });
  onClose(async () => {
    // Closing the gateway closes the HTTP server it is attached to; connections go with it.
    const httpClosed = new Promise<void>((resolve) => httpServer.once('close', () => resolve()));
    await gateway.close();
    httpServer.closeAllConnections();
    await httpClosed;
  });
  if (config.recommenderEnabled) {
    recommender = createRecommender({
      db,
      config,
      log: log.child({ component: 'recommender' }),
      registry: metrics.registry,
      events: engagement,
      audience: gateway.audience,
    });
    const created = recommender;
    // Closed before the gateway and the event log it uses (closers run in reverse order).
    onClose(() => created.close());
  }
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  return {
    config,
    url,
    port,
    log,
    database,
    domain,
    engagement,
    outbox,
    metrics,
    gateway,
    media,
    redis,
    analytics,
    webhooks,
    recommender,
    live: { ranker: liveRanker, learner: liveLearner },
    store,
    vod,
    recorder,
    services: { auth, catalog, rooms, payments },
    health,
  };
}

/**
 * The Redis client for the Socket.IO adapter and viewer counts. Commands fail at once while
 * disconnected (no offline queue), so a Redis outage degrades cross-node traffic but never
 * stalls a local broadcast; the client reconnects by itself. A Redis that is down at start-up
 * is reported, not fatal: the node serves its own clients meanwhile.
 */
async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
  });
  // The Socket.IO adapter duplicates this client for its blocking XREAD loop, which retries at
  // once on errors: that copy must wait for the connection (offline queue) instead of spinning.
  // The adapter also stores a disconnected socket's session with a SET, and publishes what nodes
  // tell each other (`serverSideEmit`) with a PUBLISH, whose promises nobody awaits; with Redis
  // down those rejections must not become unhandled ones (the session is not kept, the message
  // goes nowhere, as on a single node).
  for (const command of ['set', 'publish', 'spublish'] as const) {
    const send = (redis[command] as (...args: unknown[]) => Promise<unknown>).bind(redis);
    (redis as unknown as Record<string, unknown>)[command] = (...args: unknown[]) => {
      const pending = send(...args);
      pending.catch(() => {});
      return pending;
    };
  }
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) =>
    duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, ...override } as RedisOptions);
  let lastWarn = 0;
  redis.on('error', (err) => {
    // A down Redis errors on every reconnect attempt: log it, not every attempt.
    if (Date.now() - lastWarn > 10_000) log.warn({ err: err.message }, 'redis connection error');
    lastWarn = Date.now();
  });
  try {
    await redis.connect();
  } catch (err) {
    log.error(
      { err: (err as Error).message },
      'Redis is unreachable at start-up: serving this node only until it returns',
    );
  }
  return redis;
}
