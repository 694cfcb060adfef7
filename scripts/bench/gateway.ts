/** Realtime benchmarks: chat fan-out, likes aggregation, join storms. */
import { io, type Socket } from 'socket.io-client';
import type { ChatMessage } from '../../protocol';
import { type BenchServer, call, json, percentiles } from './harness';

type Client = Socket;

async function account(url: string, role: 'viewer' | 'creator' = 'viewer'): Promise<{ token: string; id: string }> {
  const username = `${role}_${Math.random().toString(36).slice(2, 10)}`;
  const res = await json<{ token: string; user: { id: string } }>(
    await fetch(`${url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'bench-password', role }),
    }),
  );
  return { token: res.token, id: res.user.id };
}

async function liveRoom(url: string, token: string): Promise<string> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const { room } = await json<{ room: { id: string } }>(
    await fetch(`${url}/api/rooms`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: 'bench', access: 'free' }),
    }),
  );
  await json(await fetch(`${url}/api/rooms/${room.id}/start`, { method: 'POST', headers }));
  return room.id;
}

function connect(url: string, token?: string): Promise<Client> {
  const socket = io(url, {
    auth: token ? { token } : {},
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Joins `count` sockets (guests) to a room, `concurrency` at a time; returns sockets and join latencies. */
async function joinMany(url: string, roomId: string, count: number, concurrency: number) {
  const sockets: Client[] = [];
  const latencies: number[] = [];
  for (let i = 0; i < count; i += concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count - i) }, async () => {
        const s = await connect(url);
        const t = performance.now();
        await call(s, 'room:join', { roomId });
        latencies.push(performance.now() - t);
        sockets.push(s);
      }),
    );
  }
  return { sockets, latencies };
}

export async function joinStorm(server: BenchServer, viewers = 500) {
  const url = server.lectern.url;
  const owner = await account(url, 'creator');
  const roomId = await liveRoom(url, owner.token);
  const started = performance.now();
  const { sockets, latencies } = await joinMany(url, roomId, viewers, 100);
  const seconds = (performance.now() - started) / 1000;
  for (const s of sockets) s.close();
  return { viewers, joinsPerSecond: Math.round(viewers / seconds), joinLatencyMs: percentiles(latencies) };
}

/** Talkers send chat messages into a room of `viewers` listeners; latency is send → last viewer received. */
export async function chatFanout(server: BenchServer, viewers = 200, talkers = 10, messages = 300) {
  const url = server.lectern.url;
  const owner = await account(url, 'creator');
  const roomId = await liveRoom(url, owner.token);
  const { sockets: listeners } = await joinMany(url, roomId, viewers, 100);
  const speakers: Client[] = [];
  for (let i = 0; i < talkers; i++) {
    const s = await connect(url, (await account(url)).token);
    await call(s, 'room:join', { roomId });
    speakers.push(s);
  }
  const sentAt = new Map<string, number>();
  const remaining = new Map<string, number>();
  const delivery: number[] = [];
  const ack: number[] = [];
  let deliveries = 0;
  for (const l of listeners) {
    l.on('chat:message', (m: ChatMessage) => {
      deliveries++;
      const left = (remaining.get(m.text) ?? viewers) - 1;
      remaining.set(m.text, left);
      if (left === 0) delivery.push(performance.now() - (sentAt.get(m.text) ?? 0));
    });
  }
  const started = performance.now();
  await Promise.all(
    speakers.map(async (s, i) => {
      for (let n = i; n < messages; n += talkers) {
        const text = `m${n}`;
        const t = performance.now();
        sentAt.set(text, t);
        await call(s, 'chat:send', { roomId, text });
        ack.push(performance.now() - t);
      }
    }),
  );
  const deadline = Date.now() + 30_000;
  while (delivery.length < messages && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - started) / 1000;
  for (const s of [...listeners, ...speakers]) s.close();
  return {
    viewers,
    talkers,
    messages,
    messagesPerSecond: Math.round(messages / seconds),
    deliveriesPerSecond: Math.round(deliveries / seconds),
    fullyDelivered: delivery.length,
    ackLatencyMs: percentiles(ack),
    deliveryLatencyMs: percentiles(delivery),
  };
}

/** Every viewer taps; counts how many `like:count` messages each viewer receives for all the taps. */
export async function likeStorm(server: BenchServer, viewers = 200, tapsPerViewer = 50) {
  const url = server.lectern.url;
  const owner = await account(url, 'creator');
  const roomId = await liveRoom(url, owner.token);
  const tappers: Client[] = [];
  for (let i = 0; i < viewers; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, viewers - i) }, async () => {
        const s = await connect(url, (await account(url)).token);
        await call(s, 'room:join', { roomId });
        tappers.push(s);
      }),
    );
  }
  let received = 0;
  let lastTotal = 0;
  tappers[0].on('like:count', (p: { total: number }) => {
    received++;
    lastTotal = p.total;
  });
  const taps = viewers * tapsPerViewer;
  const started = performance.now();
  // Each viewer taps one at a time (the worst case: an SDK would batch them).
  await Promise.all(
    tappers.map(async (s) => {
      for (let i = 0; i < tapsPerViewer; i++) await call(s, 'like:send', { roomId, count: 1 });
    }),
  );
  const deadline = Date.now() + 10_000;
  while (lastTotal < taps && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - started) / 1000;
  for (const s of tappers) s.close();
  return {
    viewers,
    taps,
    tapsPerSecond: Math.round(taps / seconds),
    totalCounted: lastTotal,
    likeCountMessagesPerViewer: received,
    deliveriesSavedVersusPerTap: `${Math.round(taps / Math.max(1, received))}x`,
  };
}
