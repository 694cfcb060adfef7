import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { freePort } from '../../tests/helpers/process';
import { type EngagementEvent, newEvent } from './types';

/**
 * Helpers for the event log's tests (not used at runtime): sample events, key prefixes that
 * keep test files apart on the shared Redis, bounded waits, and a private redis-server that a
 * test may stop and start.
 */

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own for one test file (and one run), so files can run in parallel. */
export function testKeyPrefix(file: string): string {
  return `lectern:test:${file}:${process.pid}:${randomBytes(3).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN + UNLINK; never FLUSHALL on a shared server). */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url);
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) deleted += await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/** Polls `condition` until it holds (returns its value) or `timeoutMs` passes (throws). */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 10, what = 'condition' } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Truthy<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A metric's value from the registry (the first series matching `labels`). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const series = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return series?.value;
}

export const ROOM_ID = '00000000-0000-4000-8000-000000000001';

/** A valid chat event; `seq` lands in `data.length` so tests can check order. */
export function chatEvent(seq = 1, roomId = ROOM_ID): EngagementEvent {
  return newEvent('chat.sent', { roomId, userId: randomUUID(), data: { messageId: randomUUID(), length: seq } });
}

export function chatEvents(count: number, from = 1): EngagementEvent[] {
  return Array.from({ length: count }, (_, i) => chatEvent(from + i));
}

/** The sequence number `chatEvent` put in an event. */
export function seqOf(event: EngagementEvent | null): number {
  if (event?.type !== 'chat.sent') throw new Error(`not a chat event: ${JSON.stringify(event)}`);
  return event.data.length;
}

export const uniqueName = (base: string) => `${base}-${randomBytes(4).toString('hex')}`;

/** A redis-server of the test's own on a free loopback port, no persistence; stop and start it at will. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(readonly port: number) {}

  /** A server on a port of its own, not started yet (to test a log that starts with Redis down). */
  static async reserve(): Promise<PrivateRedis> {
    return new PrivateRedis(await freePort());
  }

  static async start(): Promise<PrivateRedis> {
    const redis = await PrivateRedis.reserve();
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(() => ping(this.port), { timeoutMs: 10_000, what: `redis-server on port ${this.port}` });
  }

  /** Kills the server (SIGKILL: as abrupt as a crash) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.kill('SIGKILL');
    await this.exited;
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}
