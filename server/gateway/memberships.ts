import type { AccessLevel, RoomRole } from '../../protocol';
import type { IoSocket, SignedInUser } from './types';

/**
 * Where a connection stands in a room. `joining`: its access is being decided; `preview`,
 * `full`, `none`: decided; `leaving`: on its way out, for good. Access is whatever `preview` or
 * `full` says and nothing otherwise, so every state that is not a decision — still deciding,
 * could not decide, leaving — grants none.
 */
export type SessionState = 'joining' | AccessLevel | 'leaving';

const DECIDED: readonly SessionState[] = ['preview', 'full', 'none'];
/** The moves a session may make: a decision from any state but `leaving`; `leaving` from any. */
const NEXT: Record<SessionState, readonly SessionState[]> = {
  joining: [...DECIDED, 'leaving'],
  preview: [...DECIDED, 'leaving'],
  full: [...DECIDED, 'leaving'],
  none: [...DECIDED, 'leaving'],
  leaving: [],
};

/** One local connection's presence in one room: its session. */
export class Membership {
  private current: SessionState = 'joining';
  role: RoomRole;
  /** When this connection entered the room (epoch ms). */
  readonly joinedAt = Date.now();
  previewEndsAt?: Date;
  /** Fires when the access must be decided again: the preview's or the subscription's end. */
  accessTimer?: NodeJS.Timeout;

  constructor(
    readonly socket: IoSocket,
    readonly roomId: string,
    readonly user: SignedInUser | null,
    role: RoomRole,
  ) {
    this.role = role;
  }

  get state(): SessionState {
    return this.current;
  }

  get access(): AccessLevel {
    return this.current === 'full' || this.current === 'preview' ? this.current : 'none';
  }

  get leaving(): boolean {
    return this.current === 'leaving';
  }

  /** Records a decision; true when the client must hear of it (its access or preview end moved). */
  decide(access: AccessLevel, previewEndsAt?: Date): boolean {
    const before = this.access;
    const endsBefore = this.previewEndsAt?.getTime();
    this.move(access);
    this.previewEndsAt = access === 'preview' ? previewEndsAt : undefined;
    this.stopTimer();
    return before !== this.access || endsBefore !== this.previewEndsAt?.getTime();
  }

  /** The session ends; false if it had already. */
  leave(): boolean {
    if (this.current === 'leaving') return false;
    this.move('leaving');
    this.stopTimer();
    return true;
  }

  stopTimer(): void {
    clearTimeout(this.accessTimer);
    this.accessTimer = undefined;
  }

  private move(to: SessionState): void {
    if (!NEXT[this.current].includes(to)) throw new Error(`a room session cannot go from ${this.current} to ${to}`);
    this.current = to;
  }
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

  /** Takes the session out of the registry (its owner ends it); undefined if it was not there. */
  remove(socketId: string, roomId: string): Membership | undefined {
    const room = this.byRoom.get(roomId);
    const m = room?.get(socketId);
    if (!room || !m) return undefined;
    room.delete(socketId);
    if (room.size === 0) this.byRoom.delete(roomId);
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
