import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestListener, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type Express, type Request } from 'express';
import { invalidArgument, notFound, unauthenticated } from '../errors';
import type { HttpDeps } from './deps';
import { mediaRoutes } from './media';
import { authenticate, errorHandler, observe, rateLimit, requestContext } from './middleware';
import { withMoneyFastPath } from './money-fast-path';
import { openApiDocument } from './openapi';
import { pageRoutes } from './pages';
import { analyticsRoutes } from './routes/analytics';
import { authRoutes } from './routes/auth';
import { catalogRoutes } from './routes/catalog';
import { followRoutes } from './routes/follows';
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

/**
 * Requests Node's HTTP parser refuses before express sees them — headers or a URL over its size
 * limit (431), a request line that is not HTTP (400) — get a coded error like any other, instead
 * of Node's bare status line. Written only while nothing of a response is on the wire, as Node does.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const [status, reason, message] =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'Request Timeout', 'the request took too long to arrive']
            : [400, 'Bad Request', 'the request is not valid HTTP'];
      const body = JSON.stringify({ error: invalidArgument(message).toBody() });
      // The answer to a HEAD request has no body (its client would read one as the next response).
      const head = err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
      socket.write(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
      );
    }
    socket.destroy(err);
  });
}

/** What the HTTP server runs: the express application, with the money routes' fast path in front. */
export function createHttpListener(deps: HttpDeps): RequestListener {
  return withMoneyFastPath(deps, createHttpApp(deps));
}

/** The express application: JSON API under /api, health and metrics at the root. */
export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // A hop count, not `true`: the leftmost X-Forwarded-For entry is whatever the client wrote.
  app.set('trust proxy', deps.config.trustedProxyHops);
  app.use(requestContext(deps.log), observe(deps.metrics));

  app.get('/healthz', async (_req, res) => {
    const health = await deps.health();
    res.status(health.status === 'unavailable' ? 503 : 200).json(health);
  });
  app.get('/metrics', async (req, res) => {
    if (!metricsAllowed(req, deps.config.metricsToken)) throw unauthenticated('metrics need their bearer token');
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  // The API's description (docs/http.md#openapi), from the schemas its routes validate with;
  // built when first asked for.
  let openApi: string | undefined;
  app.get('/api/openapi.json', (_req, res) => {
    openApi ??= JSON.stringify(openApiDocument(deps.config));
    res.type('application/json').set('Cache-Control', 'public, max-age=300').send(openApi);
  });

  const api = express.Router();
  api.use(express.json({ limit: deps.config.httpBodyLimitBytes, strict: true }));
  api.use(authenticate(deps.auth));
  api.use(rateLimit(deps.limiters.api, (req) => (req.principal ? `u:${req.principal.id}` : `ip:${req.ip}`)));
  api.use(authRoutes(deps), catalogRoutes(deps), roomRoutes(deps), moneyRoutes(deps));
  api.use(analyticsRoutes(deps), webhookRoutes(deps), vodRoutes(deps), followRoutes(deps));
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
