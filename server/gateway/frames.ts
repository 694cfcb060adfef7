import type { IoServer } from './types';

type Room = string;
type SocketId = string;

/** The parts of socket.io-adapter's in-memory `Adapter` (every adapter extends it) used here. */
interface BroadcastingAdapter {
  rooms: Map<Room, Set<SocketId>>;
  nsp: { sockets: Map<SocketId, unknown> };
  _encode?(packet: unknown, options: { wsPreEncodedFrame?: Buffer[] }): unknown;
  apply?(opts: { rooms: Set<Room>; except?: Set<Room> }, callback: (socket: unknown) => void): void;
}

/**
 * Trims Socket.IO's per-recipient work on broadcasts (`io.to(room).emit`), which is what a big
 * room's chat costs; what clients receive is byte for byte the same.
 *
 * - One buffer per frame. Socket.IO encodes a broadcast once and builds its WebSocket frame once
 *   too, as two buffers (header, payload) that every recipient then writes with cork, two writes
 *   and uncork: a `writev` and the stream machinery around it, per recipient. Joined (one copy
 *   per broadcast), each recipient's send is a single plain `write` (ws's `sendFrame` takes either).
 * - One room, no copies. To find the recipients the adapter collects every socket id it has sent
 *   to in a new Set (so that a socket in two of the rooms gets the packet once), and copies the
 *   members of the excepted rooms into another. A single room holds each socket once: its members
 *   are walked as they are, and the excepted rooms asked about each.
 *
 * Worth about 15 % of the server's CPU per delivered message in scripts/bench/fanout.ts
 * (docs/benchmarks.md). A Socket.IO without these internals is left as it is.
 */
export function fastBroadcasts(io: IoServer): void {
  const adapter = io.of('/').adapter as unknown as BroadcastingAdapter;
  const encode = adapter._encode?.bind(adapter);
  if (encode) {
    adapter._encode = (packet, options) => {
      const encoded = encode(packet, options);
      const frame = options.wsPreEncodedFrame;
      if (frame?.length === 2) options.wsPreEncodedFrame = [Buffer.concat(frame)];
      return encoded;
    };
  }
  const apply = adapter.apply?.bind(adapter);
  if (apply && adapter.rooms instanceof Map && adapter.nsp?.sockets instanceof Map) {
    adapter.apply = (opts, callback) => {
      if (opts.rooms.size !== 1) return apply(opts, callback);
      const [room] = opts.rooms;
      const members = adapter.rooms.get(room);
      if (!members) return;
      // The excepted rooms are asked about each member rather than copied into a new Set.
      const except: Set<SocketId>[] = [];
      for (const name of opts.except ?? []) {
        const excepted = adapter.rooms.get(name);
        if (excepted) except.push(excepted);
      }
      for (const id of members) {
        if (except.length > 0 && except.some((excepted) => excepted.has(id))) continue;
        const socket = adapter.nsp.sockets.get(id);
        if (socket) callback(socket);
      }
    };
  }
}
