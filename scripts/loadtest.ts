/**
 * A load generator for a running Lectern server, built on plain socket.io-client — what a
 * platform engineer's own tools (Artillery, k6 with a Socket.IO extension, any language's
 * client) would do.
 *
 *   npm run loadtest -- --url http://127.0.0.1:3000 --clients 300 --seconds 30 --chat-per-minute 6 --likes-per-second 2
 *
 * It registers one creator and opens a live room (or uses --room), connects `clients` viewers
 * (signed in, so they may chat), and for `seconds` each one chats and taps likes at the given
 * rates. It prints one JSON object: connection and join latencies, chat ack and fan-out
 * latencies, likes, errors by code. Bounded in clients and time; loopback only unless
 * --allow-remote is given (never point it at a server you do not own).
 */
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { AckResponse } from '../protocol';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const url = arg('url', 'http://127.0.0.1:3000');
const clients = Math.min(5000, Number(arg('clients', '100')));
const seconds = Math.min(600, Number(arg('seconds', '20')));
const chatPerMinute = Number(arg('chat-per-minute', '6'));
const likesPerSecond = Number(arg('likes-per-second', '1'));
const allowRemote = process.argv.includes('--allow-remote');

function pct(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Math.round((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0) * 10) / 10;
  return { count: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

async function http<T>(path: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const register = (role: string) =>
  http<{ token: string }>('/api/auth/register', {
    username: `lt_${randomUUID().slice(0, 12)}`,
    password: 'load-test-password',
    role,
  });

async function main(): Promise<void> {
  const host = new URL(url).hostname;
  if (!allowRemote && !['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new Error(`refusing to load ${host}: pass --allow-remote for a server you own`);
  }
  let roomId = arg('room', '');
  if (!roomId) {
    const creator = await register('creator');
    roomId = (await http<{ room: { id: string } }>('/api/rooms', { title: 'load test', access: 'free' }, creator.token))
      .room.id;
    await http(`/api/rooms/${roomId}/start`, {}, creator.token);
  }

  const connectMs: number[] = [];
  const joinMs: number[] = [];
  const ackMs: number[] = [];
  const fanoutMs: number[] = [];
  const errors: Record<string, number> = {};
  const sockets: Socket[] = [];
  const fail = (code: string) => {
    errors[code] = (errors[code] ?? 0) + 1;
  };
  const call = async (s: Socket, event: string, payload: unknown, samples?: number[]) => {
    const t = performance.now();
    try {
      const res = (await s.timeout(10_000).emitWithAck(event, payload)) as AckResponse<unknown>;
      if (!res.ok) fail(res.error.code);
      else samples?.push(performance.now() - t);
    } catch {
      fail('TIMEOUT');
    }
  };

  for (let i = 0; i < clients; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, clients - i) }, async () => {
        const { token } = await register('viewer');
        const t = performance.now();
        const s = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
        await new Promise<void>((resolve, reject) => {
          s.once('connect', () => resolve());
          s.once('connect_error', reject);
        });
        connectMs.push(performance.now() - t);
        await call(s, 'room:join', { roomId }, joinMs);
        s.on('chat:message', (m: { text: string }) => {
          const sent = Number(m.text.split(':')[1]);
          if (sent) fanoutMs.push(Date.now() - sent);
        });
        sockets.push(s);
      }),
    );
  }

  const started = Date.now();
  const timers: NodeJS.Timeout[] = [];
  let likes = 0;
  for (const s of sockets) {
    if (chatPerMinute > 0) {
      const every = 60_000 / chatPerMinute;
      timers.push(
        setTimeout(function chat() {
          void call(s, 'chat:send', { roomId, text: `lt:${Date.now()}` }, ackMs);
          timers.push(setTimeout(chat, every));
        }, Math.random() * every),
      );
    }
    if (likesPerSecond > 0) {
      timers.push(
        setInterval(() => {
          likes += likesPerSecond;
          void call(s, 'like:send', { roomId, count: Math.max(1, Math.round(likesPerSecond)) });
        }, 1000),
      );
    }
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  for (const t of timers) clearTimeout(t);
  await new Promise((r) => setTimeout(r, 1000));
  for (const s of sockets) s.close();

  console.log(
    JSON.stringify({
      url,
      roomId,
      clients: sockets.length,
      seconds: (Date.now() - started) / 1000,
      connectMs: pct(connectMs),
      joinMs: pct(joinMs),
      chatAckMs: pct(ackMs),
      chatFanoutMs: pct(fanoutMs),
      likesSent: likes,
      errors,
    }),
  );
  process.exit(0);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
