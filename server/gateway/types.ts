import type { Server, Socket } from 'socket.io';
import type {
  AckResponse,
  Capability,
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from '../../protocol';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type SignedInUser = NonNullable<SocketData['user']>;

export type ClientEvent = keyof ClientToServerEvents;
export type PayloadOf<E extends ClientEvent> = Parameters<ClientToServerEvents[E]>[0];
export type ResultOf<E extends ClientEvent> =
  Parameters<Parameters<ClientToServerEvents[E]>[1]>[0] extends AckResponse<infer T> ? T : never;

/** Socket.IO rooms ("channels") the gateway uses. */
export const roomChannel = (roomId: string) => `room:${roomId}`;
/** The members of a room with access (`full` or `preview`): what is said in the room goes here. */
export const accessChannel = (roomId: string) => `room:${roomId}:access`;
export const userChannel = (userId: string) => `user:${userId}`;

/** The connection asked for this capability in its handshake (`auth.capabilities`). */
export function asksFor(socket: IoSocket, capability: Capability): boolean {
  const capabilities: unknown = socket.handshake.auth?.capabilities;
  return Array.isArray(capabilities) && capabilities.includes(capability);
}
