import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { type AuthService, createAuthService } from './auth';
import { resolveJwtSecret } from './auth/secret';
import { type CatalogService, createCatalogService } from './catalog';
import type { Config } from './config';
import { type Database, openDatabase } from './db';
import { DomainEvents } from './domain-events';
import { createEvents, type EngagementEvent, type Events, recordDomainEvents } from './events';
import { createGateway, type Gateway } from './gateway';
import { createHttpApp, type Health, summarize } from './http';
import { createLogger, type Logger } from './log';
import { createMediaPlane, type MediaPlane } from './media';
import { createMetrics, type Metrics } from './metrics';
import { createPaymentsService, type PaymentProvider, type PaymentsService, SandboxPaymentProvider } from './payments';
import { TokenBucketLimiter } from './ratelimit';
import { createRoomsService, type RoomsService } from './rooms';

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
  readonly metrics: Metrics;
  readonly gateway: Gateway;
  readonly media: MediaPlane;
  readonly redis?: Redis;
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
  const metrics = createMetrics();
  const domain = new DomainEvents((err, event) => log.error({ err, event }, 'domain event listener failed'));

  const database = await openDatabase(config, log);
  const { db } = database;
  log.info(
    {
      database:
        database.mode === 'embedded' ? `embedded Postgres on 127.0.0.1:${config.embeddedPgPort}` : 'DATABASE_URL',
    },
    database.mode === 'embedded' ? 'no DATABASE_URL: using the embedded Postgres' : 'using DATABASE_URL',
  );

  const auth = createAuthService({ db, secret: resolveJwtSecret(config), ttlSeconds: config.jwtTtlSeconds });
  const catalog = createCatalogService({ db, config });
  const rooms = createRoomsService({ db, config, events: domain });
  const payments = createPaymentsService({
    db,
    config,
    events: domain,
    provider: options.paymentProvider ?? new SandboxPaymentProvider(),
  });

  const redis = config.redisUrl ? await connectRedis(config.redisUrl, log) : undefined;
  const engagement = createEvents({
    redisUrl: config.redisUrl,
    redis: { keyPrefix: `${config.redisKeyPrefix}events:`, maxLength: config.eventsStreamMaxLength },
    publisher: { bufferLimit: config.eventsBufferLimit },
    registry: metrics.registry,
    logger: log,
  });
  const record = (event: EngagementEvent) => void engagement.publish(event);
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
  const stopRecordingDomain = recordDomainEvents(domain, record);
  log.info(
    redis
      ? 'using REDIS_URL: Redis Streams event log and Socket.IO Redis Streams adapter (multi-node)'
      : 'no REDIS_URL: in-process event log and Socket.IO in-memory adapter (single node)',
  );

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

  const app = createHttpApp({
    config,
    log,
    metrics,
    auth,
    catalog,
    rooms,
    payments,
    health,
    limiters: {
      auth: new TokenBucketLimiter(config.authRateLimitPerMinute, config.authRateLimitPerMinute / 60),
      api: new TokenBucketLimiter(config.httpRateLimitPerMinute, config.httpRateLimitPerMinute / 60),
    },
  });
  const httpServer: Server = createServer(app);
  const gateway = createGateway(httpServer, {
    config,
    log,
    db,
    auth,
    rooms,
    payments,
    events: domain,
    registry: metrics.registry,
    redis,
    record,
    media,
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  const sweeper = setInterval(() => {
    payments.sweepIdempotencyKeys().catch((err) => log.warn({ err }, 'idempotency sweep failed'));
  }, 3600_000);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweeper);
      // Closing the gateway closes the HTTP server it is attached to.
      const httpClosed = new Promise<void>((resolve) => httpServer.once('close', () => resolve()));
      await gateway.close();
      httpServer.closeAllConnections();
      await httpClosed;
      stopRecordingDomain();
      await media.close();
      await engagement.close();
      redis?.disconnect();
      await database.close();
      log.info('stopped');
    })());

  log.info({ url }, 'lectern is serving');
  return {
    config,
    url,
    port,
    log,
    database,
    domain,
    engagement,
    metrics,
    gateway,
    media,
    redis,
    services: { auth, catalog, rooms, payments },
    health,
    close,
  };
}

/** Connects to Redis, failing start-up with a clear message when it cannot be reached. */
async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot connect to REDIS_URL: ${(err as Error).message}`, { cause: err });
  }
}
