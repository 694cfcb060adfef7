/**
 * What the load generator asks the server's HTTP API: accounts, rooms, wallet top-ups and the
 * Prometheus metrics it reports the server's CPU and memory from.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { monoMs } from './histogram';

/** A refusal the operator must act on (a server limit, a wrong URL), with what to do. */
export class SetupError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface Account {
  token: string;
  user: { id: string; username: string };
}

const PASSWORD = 'load-test-password';

export class Api {
  /** Requests made, by outcome (`201`, `429`, `ECONNREFUSED`…). */
  readonly outcomes: Record<string, number> = {};

  constructor(readonly baseUrl: string) {}

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers: Record<string, string> = {},
    timeoutMs = 30_000,
  ): Promise<{ status: number; body: T }> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      this.outcomes[code] = (this.outcomes[code] ?? 0) + 1;
      throw new SetupError(
        `${method} ${path}: ${code}`,
        code === 'ECONNREFUSED' ? `nothing listens at ${this.baseUrl}: is the server running?` : undefined,
      );
    }
    this.outcomes[res.status] = (this.outcomes[res.status] ?? 0) + 1;
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T };
  }

  private async expect<T>(
    status: number,
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<T> {
    const res = await this.request<T>(method, path, body, token, headers);
    if (res.status === status) return res.body;
    const detail = JSON.stringify(res.body)?.slice(0, 300);
    if (res.status === 429) {
      throw new SetupError(
        `${method} ${path}: 429 RATE_LIMITED ${detail}`,
        'the server rate-limits this address: every simulated viewer comes from 127.0.0.1, so start it with raised ' +
          'AUTH_RATE_LIMIT_PER_MINUTE and HTTP_RATE_LIMIT_PER_MINUTE (run with --server-env to see the values)',
      );
    }
    throw new SetupError(`${method} ${path}: ${res.status} ${detail}`);
  }

  healthz(): Promise<{ status: number; body: unknown }> {
    return this.request('GET', '/healthz');
  }

  register(role: 'viewer' | 'creator'): Promise<Account> {
    const username = `lt_${role[0]}_${randomBytes(8).toString('hex')}`;
    return this.expect(201, 'POST', '/api/auth/register', { username, password: PASSWORD, role });
  }

  /** A free live room owned by `token`'s creator. */
  async liveRoom(token: string, title: string): Promise<string> {
    const { room } = await this.expect<{ room: { id: string } }>(
      201,
      'POST',
      '/api/rooms',
      { title, access: 'free', record: false },
      token,
    );
    await this.expect(200, 'POST', `/api/rooms/${room.id}/start`, {}, token);
    return room.id;
  }

  async endRoom(token: string, roomId: string): Promise<void> {
    await this.expect(200, 'POST', `/api/rooms/${roomId}/end`, {}, token);
  }

  async topUp(token: string, amount: number): Promise<void> {
    await this.expect(200, 'POST', '/api/wallet/topup', { amount }, token, { 'idempotency-key': randomUUID() });
  }

  /** The server's process CPU seconds and resident memory, or why they could not be read. */
  async serverProcess(metricsToken?: string, timeoutMs = 30_000): Promise<ServerSample | { error: string }> {
    const res = await this.request<string>(
      'GET',
      '/metrics',
      undefined,
      undefined,
      metricsToken ? { authorization: `Bearer ${metricsToken}` } : {},
      timeoutMs,
    ).catch((err: Error) => ({ status: 0, body: err.message }));
    if (res.status === 401 || res.status === 403) return { error: 'unauthorized: pass --metrics-token' };
    if (res.status !== 200 || typeof res.body !== 'string') return { error: `/metrics answered ${res.status}` };
    const value = (name: string) => {
      const m = new RegExp(`^\\w*${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(res.body);
      return m ? Number(m[1]) : undefined;
    };
    const cpuSeconds = value('process_cpu_seconds_total');
    const rssBytes = value('process_resident_memory_bytes');
    if (cpuSeconds === undefined || rssBytes === undefined) return { error: 'no process metrics in /metrics' };
    const lag = value('nodejs_eventloop_lag_p99_seconds');
    return { at: monoMs(), cpuSeconds, rssBytes, eventLoopLagP99Ms: lag === undefined ? undefined : lag * 1000 };
  }
}

export interface ServerSample {
  /** monoMs() when read. */
  at: number;
  cpuSeconds: number;
  rssBytes: number;
  eventLoopLagP99Ms?: number;
}

/** Runs `fn` over `items` with at most `concurrency` at once; stops at the first failure. */
export async function pool<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  onProgress?: (done: number) => void,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  let failure: unknown;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failure ??= err;
        return;
      }
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failure !== undefined) throw failure;
  return out;
}
