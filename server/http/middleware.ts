import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { AuthService, Principal } from '../auth';
import { AppError, httpStatusOf, invalidArgument, rateLimited, toErrorBody, unauthenticated } from '../errors';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { Outcome } from '../payments';
import type { TokenBucketLimiter } from '../ratelimit';
import { idempotencyKey, parse } from '../validation';

declare global {
  namespace Express {
    interface Request {
      /** Set by `authenticate` when a valid bearer token came with the request. */
      principal?: Principal;
      /** This request's id (`X-Request-Id`), set by `requestContext`. */
      id: string;
      /** The server's logger with this request's id (`reqId`) on every line, set by `requestContext`. */
      log: Logger;
    }
  }
}

/** The principal of an `Authorization` header; a header that is not a valid bearer token is UNAUTHENTICATED. */
export async function bearerPrincipal(auth: AuthService, header: string): Promise<Principal> {
  const [scheme, token] = header.split(' ');
  if (scheme?.toLowerCase() !== 'bearer' || !token) throw unauthenticated('expected "Authorization: Bearer <token>"');
  return auth.authenticate(token);
}

/** Reads an optional bearer token; a present but bad token is refused, never ignored. */
export const authenticate =
  (auth: AuthService): RequestHandler =>
  async (req, _res, next) => {
    const header = req.headers.authorization;
    if (header) req.principal = await bearerPrincipal(auth, header);
    next();
  };

const nothing = z.strictObject({});
const leftovers = z.strictObject({ body: nothing.optional(), query: nothing });

/**
 * Declares which parts of a request a route reads besides its path (its services parse those);
 * the others must be absent or empty, so a field the route would ignore is INVALID_ARGUMENT.
 * Called in the handler after the caller is authenticated, so that the unauthenticated learn
 * nothing from validation.
 */
export function accepts(req: Request, ...parts: ('body' | 'query')[]): void {
  parse(leftovers, {
    body: parts.includes('body') ? undefined : req.body,
    query: parts.includes('query') ? {} : { ...req.query },
  });
}

/** The caller's principal, or UNAUTHENTICATED. */
export function principal(req: Request): Principal {
  if (!req.principal) throw unauthenticated();
  return req.principal;
}

export function requireRole(req: Request, ...roles: Principal['role'][]): Principal {
  const p = principal(req);
  if (!roles.includes(p.role)) throw new AppError('FORBIDDEN', `requires role ${roles.join(' or ')}`);
  return p;
}

export function idempotencyKeyOf(req: Request): string {
  return idempotencyKeyFrom(req.get('Idempotency-Key'));
}

/** The `Idempotency-Key` header's value, checked; INVALID_ARGUMENT if it is missing or malformed. */
export function idempotencyKeyFrom(header: string | undefined): string {
  if (!header) throw invalidArgument('the Idempotency-Key header is required for this request');
  return parse(idempotencyKey, header);
}

/** Sends a money operation's outcome; a replay is marked like Stripe's `Idempotent-Replayed`. */
export function sendOutcome<T>(res: Response, outcome: Outcome<T>): void {
  if (outcome.replayed) res.set('Idempotent-Replayed', 'true');
  if (!outcome.ok) res.locals.errorCode = outcome.error.code;
  res.status(outcome.status).json(outcome.ok ? outcome.data : { error: outcome.error });
}

export const rateLimit =
  (limiter: TokenBucketLimiter, keyOf: (req: Request) => string): RequestHandler =>
  (req, res, next) => {
    const { ok, retryAfterMs } = limiter.take(keyOf(req));
    if (ok) return next();
    res.set('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
    next(rateLimited(retryAfterMs));
  };

/** An `X-Request-Id` a client or proxy may choose: a short token, safe to log and echo. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The incoming `X-Request-Id` when it is a sane token, else a new UUID. */
export const requestIdFrom = (given: string | undefined): string =>
  given !== undefined && SANE_REQUEST_ID.test(given) ? given : randomUUID();

/**
 * Gives every request an id, the incoming `X-Request-Id` when it is a sane token (a proxy's or
 * the client's, so one id follows the request through them), else a new UUID; echoes it in the
 * response's `X-Request-Id` and puts it (`reqId`) on every log line of the request (`req.log`).
 */
export const requestContext =
  (log: Logger): RequestHandler =>
  (req, res, next) => {
    req.id = requestIdFrom(req.get('X-Request-Id'));
    req.log = log.child({ reqId: req.id });
    res.set('X-Request-Id', req.id);
    next();
  };

export const observe =
  (metrics: Metrics): RequestHandler =>
  (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      // The route pattern, not the URL, so ids do not explode the label set.
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      end({ method: req.method, route });
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      const code = res.locals.errorCode;
      if (typeof code === 'string') metrics.errors.inc({ transport: 'http', code });
    });
    next();
  };

/** A body that is not JSON, as both HTTP paths refuse it (express's below, the money fast path). */
export const notJson = () => invalidArgument('the request body is not valid JSON');

/**
 * What express and body-parser refuse a request with (bad JSON, a body too large or that does not
 * inflate, a path parameter that is not valid percent-encoding) as INVALID_ARGUMENT with their status.
 */
function bodyParserError(err: unknown): { status: number; error: AppError } | undefined {
  const e = err as { type?: string; status?: number; expose?: boolean };
  if (e?.type === 'entity.parse.failed') return { status: 400, error: notJson() };
  if (e?.type === 'entity.too.large') return { status: 413, error: invalidArgument('the request body is too large') };
  // The router's decoding of `/rooms/%E0%A4`: a URIError it marks 400.
  if (err instanceof URIError && e.status === 400)
    return { status: 400, error: invalidArgument('the URL is not valid percent-encoding') };
  // A body whose Content-Encoding does not inflate is an http-error (400, safe to expose) without a `type`.
  if ((e?.type || e?.expose === true) && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, error: invalidArgument('the request body could not be read') };
  }
  return undefined;
}

/** The HTTP edge: every error becomes `{error: {code, message}}`; unknown ones are INTERNAL and logged. */
export const errorHandler =
  (log: Logger) =>
  (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const parsed = bodyParserError(err);
    if (parsed) {
      res.locals.errorCode = parsed.error.code;
      res.status(parsed.status).json({ error: parsed.error.toBody() });
      return;
    }
    const body = toErrorBody(err);
    // The request's own logger (`reqId`), or the server's for a request that failed before it had one.
    if (body.code === 'INTERNAL')
      (req.log ?? log).error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) return;
    res.locals.errorCode = body.code;
    // Refused before its body was read (an upload too large, or not allowed): close the
    // connection rather than read gigabytes only to discard them.
    if (!req.complete) res.set('Connection', 'close');
    res.status(httpStatusOf[body.code]).json({ error: body });
  };
