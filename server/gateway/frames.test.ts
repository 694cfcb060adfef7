import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { fastBroadcasts } from './frames';
import type { IoServer } from './types';

/** Broadcasts after `fastBroadcasts`: the same recipients, the same bytes on the wire. */
let http: HttpServer;
let io: IoServer;
let url: string;
const clients: Socket[] = [];

beforeAll(async () => {
  http = createServer();
  io = new Server(http, { serveClient: false }) as unknown as IoServer;
  fastBroadcasts(io);
  io.on('connection', (socket) => {
    for (const room of String(socket.handshake.auth.rooms ?? socket.handshake.query.rooms ?? '').split(',')) {
      if (room) void socket.join(room);
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await new Promise((resolve) => io.close(resolve));
});

async function client(rooms: string[]): Promise<{ heard: unknown[] }> {
  const socket = connectClient(url, { auth: { rooms: rooms.join(',') }, transports: ['websocket'], forceNew: true });
  clients.push(socket);
  const heard: unknown[] = [];
  socket.on('news' as never, (p: unknown) => {
    heard.push(p);
  });
  await new Promise((resolve) => socket.once('connect', () => resolve(undefined)));
  return { heard };
}

const settle = () => new Promise((r) => setTimeout(r, 100));

it('reaches a room’s members once, leaves out the excepted, de-duplicates across rooms', async () => {
  const a = await client(['a']);
  const ab = await client(['a', 'b']);
  const b = await client(['b']);
  const aMarked = await client(['a', 'marked']);
  const emit = (to: ReturnType<IoServer['to']>, n: number) => (to as any).emit('news', { n });
  emit(io.to('a'), 1);
  emit(io.to('a').except('marked'), 2);
  emit(io.to(['a', 'b']), 3);
  emit(io.to('nobody'), 4);
  await settle();
  expect(a.heard).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  expect(ab.heard).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  expect(b.heard).toEqual([{ n: 3 }]);
  expect(aMarked.heard).toEqual([{ n: 1 }, { n: 3 }]);
});

it('sends the frame Socket.IO would have: one text message, the encoded packet', async () => {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket&rooms=raw`);
  const frames: string[] = [];
  ws.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    const text = data.toString();
    frames.push(text);
    if (text.startsWith('0')) ws.send('40');
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(frames.some((f) => f.startsWith('40'))).toBe(true);
  (io.to('raw') as any).emit('news', { text: 'é'.repeat(200) });
  await settle();
  expect(frames.at(-1)).toBe(`42["news",{"text":"${'é'.repeat(200)}"}]`);
  // Past 64 KiB the frame header is 10 bytes long.
  (io.to('raw') as any).emit('news', { text: 'x'.repeat(70_000) });
  await settle();
  expect(frames.at(-1)).toBe(`42["news",{"text":"${'x'.repeat(70_000)}"}]`);
  ws.close();
});
