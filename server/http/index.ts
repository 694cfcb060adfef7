import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Express, type Request } from 'express';
import { notFound, unauthenticated } from '../errors';
import type { HttpDeps } from './deps';
import { mediaRoutes } from './media';
import { authenticate, errorHandler, observe, rateLimit } from './middleware';
import { pageRoutes } from './pages';
import { analyticsRoutes } from './routes/analytics';
import { authRoutes } from './routes/auth';
import { catalogRoutes } from './routes/catalog';
import { moneyRoutes } from './routes/money';
import { roomRoutes } from './routes/rooms';
import { vodRoutes } from './routes/vod';
import { webhookRoutes } from './routes/webhooks';

export { type Health, type HealthCheck, type HttpDeps, summarize } from './deps';

/** With METRICS_TOKEN set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`. */
function metricsAllowed(req: Request, token: string | undefined): boolean {
  if (!token) return true;
  const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
  // Compared as digests: equal lengths for timingSafeEqual, nothing learned from the timing.
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** The express application: JSON API under /api, health and metrics at the root. */
export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // A hop count, not `true`: the leftmost X-Forwarded-For entry is whatever the client wrote.
  app.set('trust proxy', deps.config.trustedProxyHops);
  app.use(observe(deps.metrics));

  app.get('/healthz', async (_req, res) => {
    const health = await deps.health();
    res.status(health.status === 'unavailable' ? 503 : 200).json(health);
  });
  app.get('/metrics', async (req, res) => {
    if (!metricsAllowed(req, deps.config.metricsToken)) throw unauthenticated('metrics need their bearer token');
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  const api = express.Router();
  api.use(express.json({ limit: deps.config.httpBodyLimitBytes, strict: true }));
  api.use(authenticate(deps.auth));
  api.use(rateLimit(deps.limiters.api, (req) => (req.principal ? `u:${req.principal.id}` : `ip:${req.ip}`)));
  api.use(authRoutes(deps), catalogRoutes(deps), roomRoutes(deps), moneyRoutes(deps));
  api.use(analyticsRoutes(deps), webhookRoutes(deps), vodRoutes(deps));
  api.use(() => {
    throw notFound('route');
  });
  app.use('/api', api);
  app.use('/media', mediaRoutes(deps));
  app.use(pageRoutes());
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'not found' } });
  });
  app.use(errorHandler(deps.log));
  return app;
}
