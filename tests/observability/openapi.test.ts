import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../server/config';
import { createHttpApp, type HttpDeps } from '../../server/http';
import { openApiDocument, openApiPath } from '../../server/http/openapi';
import { createMetrics } from '../../server/metrics';
import { TokenBucketLimiter } from '../../server/ratelimit';
import { startTestServer, type TestServer } from '../helpers/server';

/**
 * The OpenAPI document is the API: every route the app serves is in it and nothing else is
 * (a new route without its entry in server/http/openapi.ts fails here), docs/openapi.json is the
 * generator's output, and what the document's request schemas call invalid the server refuses.
 */

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  anyOf?: Schema[];
};
interface Operation {
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, unknown>;
}
type Document = { openapi: string; info: { title: string }; paths: Record<string, Record<string, Operation>> };

let s: TestServer;
let doc: Document;
let adminToken: string;
/** Real resources of the admin the checks act as, for routes that find their resource before validating. */
const fixtures: Record<string, string> = {};
beforeAll(async () => {
  s = await startTestServer({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOKS_ENABLED: 'false' });
  const res = await s.api.get('/api/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = res.body;
  const admin = await s.admin();
  adminToken = admin.token;
  fixtures.creators = admin.user.id;
  fixtures.contents = (await s.api.content(admin.token)).id;
  fixtures.rooms = (await s.api.room(admin.token)).id;
  const webhook = await s.api.post(
    '/api/webhooks',
    { url: 'http://127.0.0.1:9/hook', events: ['room.started'] },
    admin.token,
  );
  expect(webhook.status).toBe(201);
  fixtures.webhooks = webhook.body.webhook.id;
});
afterAll(() => s.close());

/** `METHOD /path` of every operation in the document. */
const documented = () =>
  Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));

/** Every route of an express app (string paths; the regex routes of `/media/` are not API). */
function served(stack: any[], prefix = ''): string[] {
  return stack.flatMap((layer: any) => {
    if (layer.route) {
      const paths: unknown[] = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
      return paths
        .filter((p): p is string => typeof p === 'string')
        .flatMap((p) => methods.map((m) => `${m.toUpperCase()} ${openApiPath(prefix + p)}`));
    }
    if (Array.isArray(layer.handle?.stack)) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      return served(layer.handle.stack, prefix + mount);
    }
    return [];
  });
}

/** The express app as the server builds it, with stand-ins for the services (routes only capture them). */
function appRoutes(): string[] {
  const config = loadConfig({});
  const deps = {
    config,
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    limiters: { auth: new TokenBucketLimiter(1, 1), api: new TokenBucketLimiter(1, 1) },
  } as Partial<HttpDeps> as HttpDeps;
  const app = createHttpApp(deps) as any;
  return served(app.router.stack).filter(
    (r) => / \/api\//.test(r) || r.endsWith(' /healthz') || r.endsWith(' /metrics'),
  );
}

describe('the OpenAPI document', () => {
  it('is served as OpenAPI 3.1 with every operation described', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.title).toBeTruthy();
    expect(Object.keys(doc.paths).length).toBeGreaterThan(40);
    const ids = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(['get', 'post', 'patch', 'put', 'delete']).toContain(method);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
        // Every `{param}` of the path is a declared path parameter, and nothing else is.
        const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        const declared = (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name);
        expect(declared.sort()).toEqual(inPath);
      }
    }
  });

  it('lists every route the app serves, and only those', () => {
    const routes = appRoutes();
    expect(routes.length).toBeGreaterThan(40);
    const inDoc = new Set(documented());
    const inApp = new Set(routes);
    expect({ undocumented: routes.filter((r) => !inDoc.has(r)) }).toEqual({ undocumented: [] });
    expect({ notServed: documented().filter((r) => !inApp.has(r)) }).toEqual({ notServed: [] });
  });

  it('is what docs/openapi.json holds (npm run docs:openapi)', () => {
    const committed = JSON.parse(readFileSync(path.join(__dirname, '../../docs/openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument(loadConfig({})))));
    // The test server runs at the default limits: it serves the same document.
    expect(doc).toEqual(committed);
  });
});

/** A value of another JSON type than the schema's. */
function wrongValue(schema: Schema): unknown {
  const type = schema.anyOf?.map((x) => x.type).find((t) => t && t !== 'null') ?? schema.type;
  switch (Array.isArray(type) ? type[0] : type) {
    case 'string':
      return 12345;
    case 'integer':
    case 'number':
      return 'not a number';
    case 'boolean':
      return 'yes';
    case 'array':
    case 'object':
      return 'not a list';
    default:
      return undefined;
  }
}

/** A query value the parameter's schema refuses, as a string. */
function wrongQueryValue(
  schema: Schema & { format?: string; enum?: unknown[]; maxLength?: number },
): string | undefined {
  if (schema.type === 'integer' || schema.type === 'number') return 'abc';
  if (schema.enum) return '__not_one_of_them__';
  if (schema.format === 'uuid') return 'not-a-uuid';
  if (schema.maxLength !== undefined) return 'x'.repeat(schema.maxLength + 1);
  return undefined;
}

/** Routes whose body is checked only after a resource the test does not have (a finished replay). */
const BODY_AFTER_LOOKUP: Record<string, string> = {
  'POST /api/rooms/{id}/replay/lesson': 'the replay must exist before its fields are read',
};

describe('validation matches the document', () => {
  const operations = () =>
    Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path: p, op })),
    );

  async function call(
    method: string,
    p: string,
    op: Operation,
    options: { body?: unknown; raw?: string; query?: Record<string, string> },
  ) {
    // The first id of a path is the admin's resource of that kind where there is one; others only look right.
    const collection = /^\/api\/(?:analytics\/)?(\w+)\//.exec(p)?.[1] ?? '';
    let first = true;
    const url =
      p.replace(/\{\w+\}/g, () => {
        const real = first ? fixtures[collection] : undefined;
        first = false;
        return real ?? randomUUID();
      }) + (options.query ? `?${new URLSearchParams(options.query)}` : '');
    const needsToken = op.security.length > 0 && !op.security.some((x) => Object.keys(x).length === 0);
    const headers: Record<string, string> = {};
    if (op.parameters?.some((x) => x.name === 'Idempotency-Key')) headers['idempotency-key'] = randomUUID();
    return s.api.request(method, url, {
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(needsToken ? { token: adminToken } : {}),
      headers,
    });
  }

  const expectRefused = (res: { status: number; body: any }, what: string, at?: string) => {
    expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({
      what,
      status: 400,
      code: 'INVALID_ARGUMENT',
    });
    if (at) {
      const paths: string[] = res.body.error.details.issues.map((i: { path: string }) => i.path);
      expect({ what, paths }).toEqual({
        what,
        paths: expect.arrayContaining([expect.stringMatching(new RegExp(`^${at}(\\.|$)`))]),
      });
    }
  };

  it('refuses JSON bodies the document calls invalid', async () => {
    let checked = 0;
    for (const { method, path: p, op } of operations()) {
      const schema = op.requestBody?.content['application/json']?.schema;
      if (!schema || BODY_AFTER_LOOKUP[`${method} ${p}`]) continue;
      const what = `${method} ${p}`;
      if (schema.additionalProperties === false) {
        expectRefused(await call(method, p, op, { body: { __unknown__: 1 } }), `${what} unknown field`);
      }
      if (schema.required?.length || schema.anyOf) {
        expectRefused(await call(method, p, op, { body: {} }), `${what} empty`);
      }
      for (const [field, fieldSchema] of Object.entries(schema.properties ?? {})) {
        const wrong = wrongValue(fieldSchema);
        if (wrong === undefined) continue;
        expectRefused(await call(method, p, op, { body: { [field]: wrong } }), `${what} ${field}`, field);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('refuses query parameters the document calls invalid, and undocumented ones', async () => {
    let checked = 0;
    for (const { method, path: p, op } of operations()) {
      if (!p.startsWith('/api/') || p === '/api/openapi.json') continue;
      const what = `${method} ${p}`;
      const query = (op.parameters ?? []).filter((x) => x.in === 'query');
      if (method === 'GET' || query.length > 0) {
        expectRefused(await call(method, p, op, { query: { __unknown__: '1' } }), `${what} ?__unknown__`);
      }
      for (const param of query) {
        const wrong = wrongQueryValue(param.schema);
        if (wrong === undefined) continue;
        expectRefused(
          await call(method, p, op, { query: { [param.name]: wrong } }),
          `${what} ?${param.name}`,
          param.name,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('refuses a body on the routes the document gives none', async () => {
    let checked = 0;
    for (const { method, path: p, op } of operations()) {
      if (method === 'GET' || op.requestBody || !p.startsWith('/api/')) continue;
      expectRefused(await call(method, p, op, { body: { unexpected: true } }), `${method} ${p} with a body`, 'body');
      checked++;
    }
    expect(checked).toBeGreaterThan(8);
  });
});
