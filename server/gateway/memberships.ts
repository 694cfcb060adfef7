import type { AccessLevel, RoomRole } from '../../protocol';
import type { IoSocket, SignedInUser } from './types';

/** One local connection's presence in one room, with its current access. */
export interface Membership {
  socket: IoSocket;
  roomId: string;
  user: SignedInUser | null;
  role: RoomRole;
  access: AccessLevel;
  /** When this connection entered the room (epoch ms). */
  joinedAt: number;
  previewEndsAt?: Date;
  /** Fires when the access must be decided again: the preview's or the subscription's end. */
  accessTimer?: NodeJS.Timeout;
}

/** The registry of who is in which room on this node: the one place the managers ask. */
export class Memberships {
  private readonly byRoom = new Map<string, Map<string, Membership>>();

  add(m: Membership): void {
    let room = this.byRoom.get(m.roomId);
    if (!room) {
      room = new Map();
      this.byRoom.set(m.roomId, room);
    }
    room.set(m.socket.id, m);
  }

  remove(socketId: string, roomId: string): Membership | undefined {
    const room = this.byRoom.get(roomId);
    const m = room?.get(socketId);
    if (!room || !m) return undefined;
    room.delete(socketId);
    if (room.size === 0) this.byRoom.delete(roomId);
    clearTimeout(m.accessTimer);
    return m;
  }

  get(socketId: string, roomId: string): Membership | undefined {
    return this.byRoom.get(roomId)?.get(socketId);
  }

  inRoom(roomId: string): Membership[] {
    return [...(this.byRoom.get(roomId)?.values() ?? [])];
  }

  ofUser(userId: string): Membership[] {
    const out: Membership[] = [];
    for (const room of this.byRoom.values()) for (const m of room.values()) if (m.user?.id === userId) out.push(m);
    return out;
  }

  /** Viewers on this node: every member but the room's owner. */
  viewerCount(roomId: string): number {
    let n = 0;
    for (const m of this.byRoom.get(roomId)?.values() ?? []) if (m.role !== 'owner') n++;
    return n;
  }

  roomIds(): string[] {
    return [...this.byRoom.keys()];
  }
}
