import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { User } from '../../protocol';
import { type Lectern, type StartOptions, startLectern } from '../../server/app';
import { loadConfig } from '../../server/config';
import { createTestDatabase, type TestDatabase } from './db';
import { TEST_LOG_LEVEL } from './env';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Account {
  token: string;
  user: User;
}

/** A small HTTP client for the JSON API, as an outside client would use it. */
export class Api {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; key?: string; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined || options.raw !== undefined) headers['content-type'] ??= 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.key) headers['idempotency-key'] = options.key;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (e.g. /metrics)
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  get = <T = any>(path: string, token?: string) => this.request<T>('GET', path, { token });
  post = <T = any>(path: string, body: unknown, token?: string, key?: string) =>
    this.request<T>('POST', path, { body, token, key });

  async register(
    role: 'viewer' | 'creator' = 'viewer',
    username = `${role}_${randomUUID().slice(0, 8)}`,
  ): Promise<Account> {
    const res = await this.post('/api/auth/register', { username, password: 'correct horse battery', role });
    if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async topUp(token: string, amount: number): Promise<number> {
    const res = await this.post('/api/wallet/topup', { amount }, token, randomUUID());
    if (res.status !== 200) throw new Error(`topup failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.balance;
  }

  async content(token: string, fields: Record<string, unknown> = {}) {
    const res = await this.post(
      '/api/contents',
      { title: 'A lesson', kind: 'lesson', price: 500, tags: ['math'], ...fields },
      token,
    );
    if (res.status !== 201) throw new Error(`content failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.content;
  }

  async room(token: string, fields: Record<string, unknown> = {}) {
    const res = await this.post('/api/rooms', { title: 'A room', access: 'free', ...fields }, token);
    if (res.status !== 201) throw new Error(`room failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.room;
  }
}

export interface TestServer {
  lectern: Lectern;
  api: Api;
  url: string;
  database: TestDatabase;
  /** Registers a user and makes them admin; returns a token carrying the admin role. */
  admin(): Promise<Account>;
  close(): Promise<void>;
}

/** A real server on port 0 over its own copy of the migrated test database. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<TestServer> {
  const database = await createTestDatabase();
  // Media store, recordings and job scratch space of this server alone, removed with it.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lectern-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: '0',
    LOG_LEVEL: TEST_LOG_LEVEL,
    MIGRATE_ON_START: 'false',
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
    // Media tests turn workers on; the rest do not need them. Port 0: parallel servers never collide.
    MEDIA_ENABLED: 'false',
    MEDIA_PORT: '0',
    // Recommender tests turn it on (tests/recommender); elsewhere it would only add pushes and a trainer.
    RECOMMENDER_ENABLED: 'false',
    ...env,
  });
  const lectern = await startLectern(config, options);
  const api = new Api(lectern.url);
  return {
    lectern,
    api,
    url: lectern.url,
    database,
    async admin() {
      const account = await api.register('viewer');
      await lectern.services.auth.setRole(account.user.username, 'admin');
      const res = await api.post('/api/auth/login', {
        username: account.user.username,
        password: 'correct horse battery',
      });
      return res.body;
    },
    async close() {
      await lectern.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
