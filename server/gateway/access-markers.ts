import type { Capability } from '../../protocol';
import { accessChannel, asksFor, type IoServer, type IoSocket } from './types';

/** The two marker channels' names for one capability: for the members that asked, and the others. */
export interface MarkerNames {
  asked: string;
  plain: string;
}

export const markerChannel = (roomId: string, name: string) => `${accessChannel(roomId)}:${name}`;
const ACCESS_CHANNEL = /^room:(.+):access$/;

/**
 * Marker channels of a room's access channel for one capability: each member of the access
 * channel is in one of the two, by whether its connection asked for the capability, so one
 * broadcast per form reaches exactly the members that take it (`to(access).except(other)`).
 * Markers only ever leave members out of a broadcast, never reach anyone: a marker left behind (a
 * resumed session whose access channel was dropped) lets nobody hear the room; only the access
 * channel does.
 */
export class AccessMarkers {
  private readonly marker: RegExp;

  constructor(
    private readonly io: IoServer,
    capability: Capability,
    private readonly names: MarkerNames,
  ) {
    this.marker = new RegExp(`^room:(.+):access:(?:${names.asked}|${names.plain})$`);
    // Every member of an access channel is put in one marker channel of it, and leaves both
    // with it (a disconnect, a lost preview, a ban, the room's end).
    const nsp = io.of('/');
    const adapter = nsp.adapter;
    const mark = (socket: IoSocket, roomId: string) => {
      const asked = asksFor(socket, capability);
      adapter.addAll(socket.id, new Set([asked ? this.asked(roomId) : this.plain(roomId)]));
      adapter.del(socket.id, asked ? this.plain(roomId) : this.asked(roomId));
    };
    adapter.on('join-room', (channel: string, id: string) => {
      const roomId = ACCESS_CHANNEL.exec(channel)?.[1];
      if (!roomId) return;
      // A resumed session gets its channels back before it is connected: 'connection' marks it.
      const socket = nsp.sockets.get(id);
      if (socket) mark(socket, roomId);
    });
    adapter.on('leave-room', (channel: string, id: string) => {
      const roomId = ACCESS_CHANNEL.exec(channel)?.[1];
      if (!roomId) return;
      adapter.del(id, this.asked(roomId));
      adapter.del(id, this.plain(roomId));
    });
    // A resumed session: marked by what it asks for now; markers of access channels it did not
    // get back (dropped by the recovery guard) go.
    io.on('connection', (socket) => {
      if (!socket.recovered) return;
      for (const channel of [...socket.rooms]) {
        const roomId = ACCESS_CHANNEL.exec(channel)?.[1];
        if (roomId) mark(socket, roomId);
        const markedRoomId = this.marker.exec(channel)?.[1];
        if (markedRoomId && !socket.rooms.has(accessChannel(markedRoomId))) adapter.del(socket.id, channel);
      }
    });
  }

  /** The room's members that asked for the capability. */
  asked(roomId: string): string {
    return markerChannel(roomId, this.names.asked);
  }

  /** The room's members that did not. */
  plain(roomId: string): string {
    return markerChannel(roomId, this.names.plain);
  }

  /** Whether this node holds a member of the room that did not ask (other nodes' cannot be seen). */
  plainHere(roomId: string): boolean {
    return this.io.of('/').adapter.rooms.has(this.plain(roomId));
  }
}
