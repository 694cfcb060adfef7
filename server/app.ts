import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthService, createAuthService } from './auth';
import { resolveJwtSecret } from './auth/secret';
import { type CatalogService, createCatalogService } from './catalog';
import type { Config } from './config';
import { type Database, openDatabase } from './db';
import { DomainEvents } from './domain-events';
import { createHttpApp, type Health } from './http';
import { createLogger, type Logger } from './log';
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
  readonly events: DomainEvents;
  readonly metrics: Metrics;
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
  const events = new DomainEvents((err, event) => log.error({ err, event }, 'domain event listener failed'));

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
  const rooms = createRoomsService({ db, config, events });
  const payments = createPaymentsService({
    db,
    config,
    events,
    provider: options.paymentProvider ?? new SandboxPaymentProvider(),
  });

  async function health(): Promise<Health> {
    const dbOk = await database.ping();
    const checks: Health['checks'] = { database: { ok: dbOk, detail: database.mode } };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
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
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
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
    events,
    metrics,
    services: { auth, catalog, rooms, payments },
    health,
    close,
  };
}
