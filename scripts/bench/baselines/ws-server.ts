/**
 * The plain `ws` baseline of the fan-out benchmark (scripts/bench/fanout.ts): a client joins the
 * room named in its URL (`/?room=r`), and each text message it sends is relayed as it is to
 * every other open client of that room — the broadcast loop of ws's README, nothing else.
 *
 *   node --import tsx scripts/bench/baselines/ws-server.ts [port]
 *
 * Prints `listening <url>` once it serves.
 */
import { createServer } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';

const httpServer = createServer();
const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false });
const rooms = new Map<string, Set<WebSocket>>();

wss.on('connection', (ws, req) => {
  const room = new URL(req.url ?? '/', 'http://x').searchParams.get('room') ?? 'lobby';
  const members = rooms.get(room) ?? new Set<WebSocket>();
  rooms.set(room, members);
  members.add(ws);
  ws.on('message', (data, isBinary) => {
    for (const client of members) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  });
});

httpServer.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = httpServer.address() as { port: number };
  console.log(`listening http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => {
  wss.close();
  process.exit(0);
});
