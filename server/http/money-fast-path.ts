import type { IncomingHttpHeaders, IncomingMessage, RequestListener } from 'node:http';
import { httpStatusOf, rateLimited, toErrorBody } from '../errors';
import type { Outcome, PaymentsService } from '../payments';
import type { HttpDeps } from './deps';
import { bearerPrincipal, idempotencyKeyFrom, notJson, requestIdFrom } from './middleware';

/**
 * The money routes a gift storm hits, answered without express (docs/money.md#throughput). In a
 * storm of a thousand purchases a second the server's one core is the bottleneck, and express's
 * router, body parser and response helpers were about a quarter of its time per request.
 *
 * Only the plain request takes this path: the exact path with no query, a bearer token, a JSON
 * body (UTF-8) whose `Content-Length` is within the limit, no `Content-Encoding` or chunking.
 * Anything else goes to express, which answers it as it always has. For the plain request the
 * answer is express's: the same steps in the same order (request id, body, authentication, rate
 * limit, idempotency key, the service), the same errors and headers, the same metrics, without
 * an `ETag` (meaningless on the answer to a POST).
 */
const ROUTES = new Map<
  string,
  (p: PaymentsService, userId: string, body: unknown, key: string) => Promise<Outcome<unknown>>
>([
  ['/api/purchases', (p, userId, body, key) => p.purchase(userId, body, key)],
  ['/api/wallet/topup', (p, userId, body, key) => p.topUp(userId, body, key)],
]);

const JSON_TYPES = new Set(['application/json', 'application/json;charset=utf-8']);

function isPlainJson(headers: IncomingHttpHeaders, limit: number): boolean {
  if (!headers.authorization || headers['content-encoding'] || headers['transfer-encoding']) return false;
  const type = headers['content-type']?.toLowerCase().replace(/[ \t]/g, '');
  const length = headers['content-length'];
  if (type === undefined || !JSON_TYPES.has(type) || !length || !/^[0-9]{1,10}$/.test(length)) return false;
  const bytes = Number(length);
  return bytes > 0 && bytes <= limit;
}

/** body-parser's strict JSON: an object or an array, after JSON whitespace and a UTF-8 BOM. */
function parseJsonBody(text: string): unknown {
  const first = /^\uFEFF?[ \t\n\r]*(.)/s.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw notJson();
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    throw notJson();
  }
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // The client went away mid-body: there is nobody to answer ('close' after 'end' changes nothing).
    req.on('error', () => resolve(undefined));
    req.on('close', () => resolve(undefined));
  });
}

/** `app` with the money routes' fast path in front of it. */
export function withMoneyFastPath(deps: HttpDeps, app: RequestListener): RequestListener {
  const { auth, config, limiters, log, metrics, payments } = deps;
  return (req, res) => {
    const route = req.method === 'POST' ? ROUTES.get(req.url ?? '') : undefined;
    if (!route || !isPlainJson(req.headers, config.httpBodyLimitBytes)) {
      app(req, res);
      return;
    }
    const path = req.url as string;
    const end = metrics.httpDuration.startTimer();
    const id = requestIdFrom(req.headers['x-request-id'] as string | undefined);
    const headers: Record<string, string> = { 'X-Request-Id': id };
    const answer = (status: number, body: unknown, errorCode?: string) => {
      const text = JSON.stringify(body);
      headers['Content-Type'] = 'application/json; charset=utf-8';
      headers['Content-Length'] = String(Buffer.byteLength(text));
      res.writeHead(status, headers).end(text);
      end({ method: 'POST', route: path });
      metrics.httpRequests.inc({ method: 'POST', route: path, status: String(status) });
      if (errorCode) metrics.errors.inc({ transport: 'http', code: errorCode });
    };
    const serve = async () => {
      const text = await readBody(req);
      if (text === undefined) return;
      const body = parseJsonBody(text);
      const user = await bearerPrincipal(auth, req.headers.authorization as string);
      const { ok, retryAfterMs } = limiters.api.take(`u:${user.id}`);
      if (!ok) {
        headers['Retry-After'] = String(Math.ceil(retryAfterMs / 1000));
        throw rateLimited(retryAfterMs);
      }
      const key = idempotencyKeyFrom(req.headers['idempotency-key'] as string | undefined);
      const outcome = await route(payments, user.id, body, key);
      if (outcome.replayed) headers['Idempotent-Replayed'] = 'true';
      if (outcome.ok) answer(outcome.status, outcome.data);
      else answer(outcome.status, { error: outcome.error }, outcome.error.code);
    };
    serve().catch((err: unknown) => {
      const body = toErrorBody(err);
      if (body.code === 'INTERNAL')
        log.child({ reqId: id }).error({ err, method: 'POST', url: path }, 'request failed');
      if (res.headersSent) return;
      answer(httpStatusOf[body.code], { error: body }, body.code);
    });
  };
}
