import type { Server, Socket } from 'socket.io';
import type {
  AckResponse,
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
