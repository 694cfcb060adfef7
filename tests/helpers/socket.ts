import { io, type Socket } from 'socket.io-client';
import type { AckResponse, ClientToServerEvents, ServerToClientEvents } from '../../protocol';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
type Data<E extends keyof ClientToServerEvents> =
  Parameters<Parameters<ClientToServerEvents[E]>[1]>[0] extends AckResponse<infer T> ? T : never;

const open = new Set<ClientSocket>();

/**
 * A raw socket.io-client connection, as an outside client would open it; `capabilities` are
 * asked for in the handshake (`auth.capabilities`, e.g. `['chat:batch']`).
 */
export function connect(
  url: string,
  token?: string,
  options: { origin?: string; capabilities?: string[] } = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, {
    auth: { ...(token ? { token } : {}), ...(options.capabilities ? { capabilities: options.capabilities } : {}) },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(options.origin ? { extraHeaders: { origin: options.origin } } : {}),
  });
  open.add(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Emits and resolves with the ack envelope. */
export function send<E extends keyof ClientToServerEvents>(
  socket: ClientSocket,
  event: E,
  payload: Payload<E>,
): Promise<AckResponse<Data<E>>> {
  return (socket.timeout(10_000) as any).emitWithAck(event, payload);
}

/** Emits and returns the data, failing the test on an error ack. */
export async function ok<E extends keyof ClientToServerEvents>(
  socket: ClientSocket,
  event: E,
  payload: Payload<E>,
): Promise<Data<E>> {
  const res = await send(socket, event, payload);
  if (!res.ok) throw new Error(`${event} failed: ${res.error.code} ${res.error.message}`);
  return res.data;
}

/** Emits and returns the error code, failing the test on success. */
export async function refused<E extends keyof ClientToServerEvents>(
  socket: ClientSocket,
  event: E,
  payload: Payload<E>,
): Promise<string> {
  const res = await send(socket, event, payload);
  if (res.ok) throw new Error(`${event} unexpectedly succeeded`);
  return res.error.code;
}

/** Resolves with the next matching server event. */
export function next<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  match: (p: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener as any);
      reject(new Error(`no ${String(event)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (p: Parameters<ServerToClientEvents[E]>[0]) => {
      if (!match(p)) return;
      clearTimeout(timer);
      socket.off(event, listener as any);
      resolve(p);
    };
    socket.on(event, listener as any);
  });
}

/** Records every payload of an event as it arrives. */
export function record<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(event, ((p: Parameters<ServerToClientEvents[E]>[0]) => seen.push(p)) as any);
  return seen;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await sleep(25);
  }
}

export function closeAllSockets(): void {
  for (const s of open) s.close();
  open.clear();
}

/**
 * Drops the connection's network, runs `meanwhile` once the server (`io`) has seen the drop,
 * then connects it again (recovered or not: see `sock.recovered`).
 */
export async function dropAndReconnect(
  io: { of(nsp: '/'): { sockets: Map<string, unknown> } },
  sock: ClientSocket,
  meanwhile: () => unknown,
): Promise<void> {
  const id = sock.id!;
  sock.io.reconnection(false);
  (sock.io as any).engine.close();
  await eventually(() => !io.of('/').sockets.has(id), 5000, 'server saw the drop');
  await meanwhile();
  sock.io.reconnection(true);
  const back = new Promise((r) => sock.once('connect', () => r(undefined)));
  sock.connect();
  await back;
}

/** `dropAndReconnect`, and checks the server recovered the session. */
export async function dropAndResume(
  io: { of(nsp: '/'): { sockets: Map<string, unknown> } },
  sock: ClientSocket,
  meanwhile: () => Promise<unknown>,
): Promise<void> {
  await dropAndReconnect(io, sock, meanwhile);
  expect(sock.recovered).toBe(true);
}
