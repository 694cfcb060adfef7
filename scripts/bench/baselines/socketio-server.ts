/**
 * The bare Socket.IO baseline of the fan-out benchmark (scripts/bench/fanout.ts): a client joins
 * the room named in its handshake (`auth: {room}`) on connect, and every `chat` event it sends
 * goes to the whole room as `chat:message` (`io.to(room).emit`) — no validation, no rate limits,
 * no persistence, no access rules. Socket.IO's defaults otherwise (in-memory adapter, no
 * connection state recovery, no per-message deflate).
 *
 *   node --import tsx scripts/bench/baselines/socketio-server.ts [port]
 *
 * Prints `listening <url>` once it serves.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false });

io.on('connection', (socket) => {
  const room = String(socket.handshake.auth?.room ?? 'lobby');
  void socket.join(room);
  socket.on('chat', (message: { roomId?: string }) => {
    io.to(String(message?.roomId ?? room)).emit('chat:message', message);
  });
});

httpServer.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = httpServer.address() as { port: number };
  console.log(`listening http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => {
  io.close();
  process.exit(0);
});
