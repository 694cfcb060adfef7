import { z } from 'zod';
import { ErrorCode } from '../../protocol';
import { creatorQuery } from '../analytics';
import { loginSchema, registerSchema } from '../auth';
import { catalogSchemas, listSchema as contentListSchema } from '../catalog';
import type { Config } from '../config';
import { followsQuerySchema } from '../follows';
import { paymentSchemas } from '../payments';
import { ordersQuerySchema } from '../payments/orders';
import { payoutSchemas } from '../payments/payouts';
import { querySchema as forYouQuery } from '../recommender/live/for-you';
import { listSchema as roomListSchema, roomSchemas } from '../rooms';
import { id, idempotencyKey } from '../validation';
import { progressSchema, trimSchema } from '../vod';
import { deliveriesQuery, registerSchema as webhookRegisterSchema } from '../webhooks/registry';
import { filenameQuery } from './routes/vod';

/**
 * The HTTP API as an OpenAPI 3.1 document (`GET /api/openapi.json`, docs/openapi.json), built
 * from the very zod schemas the services validate requests with. Every route the app serves is
 * listed here (tests/observability/openapi.test.ts walks the express router and fails on a route
 * missing from this table, or listed here and not served).
 */

/** Who may call a route: anyone, anyone (answer depends on who), any signed-in user, or these roles. */
export type Access = 'public' | 'optional' | 'user' | 'creator' | 'admin';

export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style, in full: `/api/rooms/:id`. */
  path: string;
  tag: string;
  summary: string;
  access: Access;
  /** The JSON body the route parses; none means the route takes no body (absent or `{}`). */
  body?: z.ZodType;
  /** The query the route parses; none means the route takes no query parameters. */
  query?: z.ZodType;
  /** A file sent as the raw body (or multipart field `file`) instead of JSON. */
  upload?: 'image' | 'video' | 'attachment';
  /** Moves money: `Idempotency-Key` is required (docs/http.md#idempotency). */
  idempotent?: boolean;
  /** The success status (200 unless said). */
  status?: 200 | 201 | 202 | 204;
  /** What a success answers (a sketch of the JSON body; docs/http.md has the details). */
  answer?: string;
}

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];

/** Every route of the API (and the operational endpoints), with the schemas that validate it. */
export function apiRoutes(config: Pick<Config, 'maxPrice' | 'maxTopupAmount'>): RouteDoc[] {
  const catalog = catalogSchemas(config);
  const rooms = roomSchemas(config);
  const payments = paymentSchemas(config);
  /** A row of the table for one method (`defaults` first, so a row can still override them). */
  const route =
    (method: RouteDoc['method'], defaults: Partial<RouteDoc> = {}) =>
    (path: string, tag: string, access: Access, summary: string, more: Partial<RouteDoc> = {}): RouteDoc => ({
      method,
      path,
      tag,
      access,
      summary,
      ...defaults,
      ...more,
    });
  const get = route('get');
  const post = route('post');
  const patch = route('patch');
  const put = route('put');
  const del = route('delete', { status: 204 });

  return [
    // Operations
    get('/healthz', 'operations', 'public', 'Health of the node and its dependencies', {
      answer: '`{status: "ok"|"degraded"|"unavailable", checks}`; 503 when unavailable',
    }),
    get('/metrics', 'operations', 'public', 'Prometheus metrics (`lectern_*`)', {
      answer: 'Prometheus text exposition; with METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`',
    }),
    get('/api/openapi.json', 'operations', 'public', 'This document', { answer: 'OpenAPI 3.1 JSON' }),
    get('/api/limits', 'operations', 'public', 'Settings clients need (currency, upload limits, tip pins)', {
      answer: '`{currency, tipPinThreshold, tipPinBaseSeconds, tipPinMaxSeconds, maxPrice, uploadMaxBytes, …}`',
    }),

    // Accounts
    post('/api/auth/register', 'accounts', 'public', 'Create an account', {
      body: registerSchema,
      status: 201,
      answer: '`{token, user}`',
    }),
    post('/api/auth/login', 'accounts', 'public', 'Sign in', { body: loginSchema, answer: '`{token, user}`' }),
    get('/api/me', 'accounts', 'user', 'The caller', { answer: '`{user}`' }),

    // Catalog
    get('/api/contents', 'catalog', 'public', 'List contents', { query: contentListSchema, answer: '`{contents}`' }),
    post('/api/contents', 'catalog', 'creator', 'Create a lesson, course or bundle', {
      body: catalog.create,
      status: 201,
      answer: '`{content}`',
    }),
    get(
      '/api/contents/:id',
      'catalog',
      'optional',
      'A content, whether the caller owns it, its video and upgrade price',
      {
        answer: '`{content, owned, …}`',
      },
    ),
    patch('/api/contents/:id', 'catalog', 'user', 'Change a content (its creator)', {
      body: catalog.update,
      answer: '`{content}`',
    }),
    del('/api/contents/:id', 'catalog', 'user', 'Archive a content (its creator); purchases keep it'),
    get('/api/creators/me/earnings', 'catalog', 'creator', "The creator's earnings by kind", {
      answer: '`{balance, currency, byKind, grossSales, platformFees}`',
    }),
    patch('/api/creators/me', 'catalog', 'user', "Change the caller's creator profile", {
      body: catalog.profile,
      answer: '`{profile}`',
    }),
    post('/api/creators/me/avatar', 'catalog', 'creator', 'Upload an avatar', {
      upload: 'image',
      status: 201,
      answer: '`{profile}` with the new `avatarUrl`',
    }),
    get('/api/creators/:id', 'catalog', 'optional', "A creator's profile, and whether the caller follows them", {
      answer: '`{profile, following}` (`profile.followers`: how many follow them; `following`: false for a guest)',
    }),
    put('/api/creators/:id/follow', 'catalog', 'user', 'Follow a creator (idempotent)', {
      answer: '`{following: true, followers}`',
    }),
    {
      ...del('/api/creators/:id/follow', 'catalog', 'user', 'Stop following a creator (idempotent)'),
      status: 200,
      answer: '`{following: false, followers}`',
    },
    get('/api/me/follows', 'accounts', 'user', 'The creators the caller follows, the latest first', {
      query: followsQuerySchema,
      answer: '`{follows: [{creator: {userId, displayName, avatarUrl}, followedAt, liveRoomId}]}`',
    }),

    // Rooms
    get('/api/rooms', 'rooms', 'public', 'List rooms', { query: roomListSchema, answer: '`{rooms}`' }),
    post('/api/rooms', 'rooms', 'user', 'Create a room', { body: rooms.create, status: 201, answer: '`{room}`' }),
    get('/api/rooms/for-you', 'rooms', 'optional', 'Live now for you: live and upcoming rooms ranked for the caller', {
      query: forYouQuery,
      answer: '`{rooms: [{room, score, reason}], upcoming}`',
    }),
    get('/api/rooms/:id', 'rooms', 'public', 'A room', { answer: '`{room}`' }),
    patch('/api/rooms/:id', 'rooms', 'user', 'Change a room (its owner, until it ends)', {
      body: rooms.update,
      answer: '`{room}`',
    }),
    post('/api/rooms/:id/cover', 'rooms', 'user', "Upload a room's cover (its owner)", {
      upload: 'image',
      status: 201,
      answer: '`{room}` with the new `coverUrl`',
    }),
    post('/api/rooms/:id/start', 'rooms', 'user', 'Go live (scheduled → live)', { answer: '`{room}`' }),
    post('/api/rooms/:id/end', 'rooms', 'user', 'End a room (→ ended)', { answer: '`{room}`' }),

    // Money
    get('/api/wallet', 'money', 'user', "The caller's wallet", { answer: '`{balance, currency}`' }),
    get('/api/wallet/transactions', 'money', 'user', 'Wallet history', {
      query: payments.history,
      answer: '`{entries}`',
    }),
    post('/api/wallet/topup', 'money', 'user', 'Top the wallet up', {
      body: payments.topUp,
      idempotent: true,
      answer: '`{balance}`',
    }),
    get('/api/purchases', 'money', 'user', "The caller's purchases", { answer: '`{purchases}`' }),
    post('/api/purchases', 'money', 'user', 'Buy a content or a room ticket', {
      body: payments.purchase,
      idempotent: true,
      status: 201,
      answer: '`{purchase, balance}`',
    }),
    get('/api/me/owned', 'money', 'user', 'Every content the caller owns', { answer: '`{contentIds}`' }),
    get('/api/orders', 'money', 'user', 'Receipts of every wallet movement', {
      query: ordersQuerySchema,
      answer: '`{orders}`',
    }),
    get('/api/subscriptions', 'money', 'user', "The caller's subscriptions", { answer: '`{subscriptions}`' }),
    post('/api/subscriptions', 'money', 'user', 'Subscribe to a creator', {
      body: payments.subscribe,
      idempotent: true,
      status: 201,
      answer: '`{purchase, subscription, balance}`',
    }),
    get('/api/earnings', 'money', 'creator', "The creator's balances and payout rules", {
      answer: '`{available, pending, paidOut, inFlight, debt, currency, …}`',
    }),
    post('/api/payouts', 'money', 'creator', 'Request a payout', {
      body: payoutSchemas.request,
      idempotent: true,
      status: 201,
      answer: '`{payout, available}`',
    }),
    get('/api/payouts', 'money', 'creator', "The creator's payouts", { answer: '`{payouts}`' }),
    get('/api/admin/payouts', 'money', 'admin', "Every creator's payouts", {
      query: payoutSchemas.list,
      answer: '`{payouts}`',
    }),
    post('/api/admin/payouts/:id/retry', 'money', 'admin', 'Send a failed payout again', {
      body: payoutSchemas.retry,
      idempotent: true,
      answer: '`{payout}`',
    }),
    post('/api/admin/purchases/:id/refund', 'money', 'admin', 'Refund a purchase', {
      idempotent: true,
      answer: '`{purchase}`',
    }),

    // Analytics
    get('/api/analytics/rooms/:roomId', 'analytics', 'user', "A session's metrics (its creator, admins)", {
      answer: '`{session, decomposition, bucketSeconds, series, generatedAt}`',
    }),
    get('/api/analytics/creator', 'analytics', 'user', "A creator's totals, daily sales and sessions", {
      query: creatorQuery,
      answer: '`{creatorId, totals, daily, watching, sessions, page, generatedAt}`',
    }),

    // Webhooks
    post('/api/webhooks', 'webhooks', 'user', 'Register a webhook (creators, admins)', {
      body: webhookRegisterSchema,
      status: 201,
      answer: '`{webhook, secret}`',
    }),
    get('/api/webhooks', 'webhooks', 'user', "The caller's webhooks", { answer: '`{webhooks}`' }),
    get('/api/webhooks/:id', 'webhooks', 'user', 'A webhook', { answer: '`{webhook}`' }),
    del('/api/webhooks/:id', 'webhooks', 'user', 'Remove a webhook and its deliveries'),
    get('/api/webhooks/:id/deliveries', 'webhooks', 'user', "A webhook's deliveries", {
      query: deliveriesQuery,
      answer: '`{deliveries}`',
    }),
    get('/api/webhooks/:id/deliveries/:deliveryId', 'webhooks', 'user', 'A delivery with its payload', {
      answer: '`{delivery}`',
    }),
    post('/api/webhooks/:id/deliveries/:deliveryId/redeliver', 'webhooks', 'user', 'Send a finished delivery again', {
      answer: '`{delivery}`',
    }),

    // Videos
    post('/api/contents/:id/media', 'videos', 'creator', "Upload a lesson's video", {
      upload: 'video',
      status: 202,
      answer: '`{media: {status: "processing"}}`',
    }),
    get('/api/contents/:id/media', 'videos', 'optional', "A lesson's video (a signed playlist URL when entitled)", {
      answer: '`{media}`',
    }),
    del('/api/contents/:id/media', 'videos', 'creator', "Remove a lesson's video"),
    post('/api/contents/:id/attachments', 'videos', 'creator', 'Attach a PDF or an image to a lesson', {
      upload: 'attachment',
      query: filenameQuery,
      status: 201,
      answer: '`{attachment}`',
    }),
    del('/api/contents/:id/attachments/:attachmentId', 'videos', 'creator', 'Remove an attachment'),
    post('/api/contents/:id/cover', 'videos', 'creator', "Upload a content's cover", {
      upload: 'image',
      status: 201,
      answer: '`{content}` with the new `coverUrl`',
    }),
    get('/api/rooms/:id/replay', 'videos', 'optional', "A room's replay", { answer: '`{media, …}`' }),
    patch('/api/rooms/:id/replay', 'videos', 'user', "Trim a room's replay (its owner)", {
      body: trimSchema,
      answer: '`{media}`',
    }),
    del('/api/rooms/:id/replay', 'videos', 'user', "Delete a room's replay (its owner)"),
    post('/api/rooms/:id/replay/lesson', 'videos', 'creator', "Make a lesson of a room's replay", {
      // The content's fields; the kind is always `lesson`.
      body: catalog.create.omit({ kind: true }),
      status: 201,
      answer: '`{content}`',
    }),
    post('/api/progress', 'videos', 'user', 'Save the watch position of a lesson or replay', {
      body: progressSchema,
      answer: '`{progress}`',
    }),
    get('/api/library', 'videos', 'user', "The caller's library: what they own and watched", { answer: '`{items}`' }),
  ];
}

type JsonSchema = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), as a client must send it. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...out } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return out;
}

/** `/api/rooms/:id` → `/api/rooms/{id}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operation(route: RouteDoc) {
  const parameters: unknown[] = [];
  for (const name of route.path.match(/:(\w+)/g) ?? []) {
    parameters.push({ name: name.slice(1), in: 'path', required: true, schema: jsonSchemaOf(id) });
  }
  if (route.query) {
    const q = jsonSchemaOf(route.query) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
    }
  }
  if (route.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
      description: 'The intent this request carries out; a retry with the same key and body is answered once',
      schema: jsonSchemaOf(idempotencyKey),
    });
  }

  let requestBody: unknown;
  if (route.body) {
    requestBody = { required: true, content: { 'application/json': { schema: jsonSchemaOf(route.body) } } };
  } else if (route.upload) {
    const binary = { type: 'string', contentMediaType: 'application/octet-stream' };
    const types =
      route.upload === 'image'
        ? IMAGE_TYPES
        : route.upload === 'video'
          ? ['video/*']
          : ['application/pdf', ...IMAGE_TYPES];
    requestBody = {
      required: true,
      content: {
        ...Object.fromEntries(types.map((t) => [t, { schema: binary }])),
        'multipart/form-data': {
          schema: { type: 'object', properties: { file: binary }, required: ['file'] },
        },
      },
    };
  }

  const status = route.status ?? 200;
  const responses: Record<string, unknown> = {
    [status]:
      status === 204
        ? { description: 'Done; no body' }
        : route.path === '/metrics'
          ? { description: route.answer, content: { 'text/plain': { schema: { type: 'string' } } } }
          : {
              description: route.answer ?? 'Success',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
    400: errorResponse('INVALID_ARGUMENT: the request is malformed (`details.issues` names each field)'),
  };
  if (route.access !== 'public' && route.access !== 'optional') {
    responses[401] = errorResponse('UNAUTHENTICATED: no, bad or expired token');
  }
  if (route.access === 'creator' || route.access === 'admin' || route.access === 'user') {
    responses[403] = errorResponse('FORBIDDEN: not allowed (role, ownership)');
  }
  if (route.path.includes(':')) responses[404] = errorResponse('NOT_FOUND: no such resource');
  if (route.path.startsWith('/api/')) responses[429] = errorResponse('RATE_LIMITED: slow down (`Retry-After`)');
  responses.default = errorResponse('Another error (docs/http.md lists every code and status)');

  const roles =
    route.access === 'creator' ? 'Creators and admins only. ' : route.access === 'admin' ? 'Admins only. ' : '';
  const security =
    route.access === 'public' ? [] : route.access === 'optional' ? [{}, { bearer: [] }] : [{ bearer: [] }];
  return {
    operationId: `${route.method}${route.path
      .replace(/^\/api/, '')
      .replace(/[:{}.]/g, '')
      .split(/[/-]/)
      .filter(Boolean)
      .map((part) => part[0].toUpperCase() + part.slice(1))
      .join('')}`,
    tags: [route.tag],
    summary: route.summary,
    ...(roles ? { description: roles.trim() } : {}),
    security,
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the API as this deployment's config shapes it (limits, prices). */
export function openApiDocument(config: Pick<Config, 'maxPrice' | 'maxTopupAmount'>) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of apiRoutes(config)) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Lectern HTTP API',
      version: '1',
      description:
        'JSON over HTTP; see docs/http.md. Money is integer minor units of the deployment currency. Every input is validated strictly: unknown fields are INVALID_ARGUMENT. Every response carries `X-Request-Id`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: ['operations', 'accounts', 'catalog', 'rooms', 'money', 'analytics', 'webhooks', 'videos'].map((name) => ({
      name,
    })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: jsonSchemaOf(
          z.object({
            error: z.object({
              code: z.enum(Object.values(ErrorCode) as [string, ...string[]]),
              message: z.string(),
              details: z.record(z.string(), z.unknown()).optional(),
            }),
          }),
        ),
      },
    },
  };
}
