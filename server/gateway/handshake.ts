import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../../protocol';
import type { AuthService } from '../auth';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { IoServer, IoSocket } from './types';

/** A handshake refusal the client sees as `connect_error` with `err.data.code`. */
function refusal(code: ErrorCode, message: string): Error & { data: { code: ErrorCode; message: string } } {
  return Object.assign(new Error(message), { data: { code, message } });
}

/**
 * Browsers send Origin; only listed origins (or `*`) and same-origin pages may connect.
 * Non-browser clients send none and are judged by their token like everyone else.
 */
export function originAllowed(allowed: readonly string[], req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * The client's address behind `trustedHops` reverse proxies. Each proxy appends the address it
 * received the request from to X-Forwarded-For, so only the rightmost `trustedHops` entries are
 * facts; anything further left is whatever the client wrote, and the leftmost is freely forged.
 */
export function clientAddress(
  socketAddress: string,
  forwarded: string | string[] | undefined,
  trustedHops: number,
): string {
  if (trustedHops === 0 || forwarded === undefined) return socketAddress;
  const chain = [
    ...(Array.isArray(forwarded) ? forwarded.join(',') : forwarded)
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    socketAddress,
  ];
  return chain[Math.max(0, chain.length - 1 - trustedHops)];
}

/** setTimeout's longest delay; a later deadline is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function endAt(socket: IoSocket, at: number): void {
  const timer = setTimeout(
    () => (Date.now() >= at ? socket.disconnect(true) : endAt(socket, at)),
    Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())),
  );
  timer.unref();
  socket.once('disconnect', () => clearTimeout(timer));
}

/**
 * Authenticates at the handshake (`auth: {token}`; none makes a guest) and caps concurrent
 * connections per IP and per user on this node.
 */
export function installHandshake(io: IoServer, auth: AuthService, config: Config): void {
  const perIp = new Map<string, number>();
  const perUser = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string, by: number) => {
    const n = (map.get(key) ?? 0) + by;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  };

  io.use(async (socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    let user: IoSocket['data']['user'] = null;
    let expiresAt: number | undefined;
    if (token !== undefined && token !== null && token !== '') {
      if (typeof token !== 'string' || token.length > 4096) return next(refusal('UNAUTHENTICATED', 'malformed token'));
      try {
        const p = await auth.authenticate(token);
        user = { id: p.id, username: p.username, role: p.role };
        expiresAt = p.expiresAt;
      } catch (err) {
        // A token we could not check (the database is down) is not a bad token: say so, so the
        // client retries instead of dropping its session.
        if (err instanceof AppError && err.code === 'UNAUTHENTICATED') return next(refusal(err.code, err.message));
        return next(refusal('UNAVAILABLE', 'cannot check the token right now; try again'));
      }
    }
    const ip = clientAddress(
      socket.handshake.address,
      socket.handshake.headers['x-forwarded-for'],
      config.trustedProxyHops,
    );
    if ((perIp.get(ip) ?? 0) >= config.maxConnectionsPerIp) {
      return next(refusal('RATE_LIMITED', 'too many connections from this address'));
    }
    if (user && (perUser.get(user.id) ?? 0) >= config.maxConnectionsPerUser) {
      return next(refusal('RATE_LIMITED', 'too many connections for this user'));
    }
    // A client that hung up while its token was checked gets no 'disconnect' (it never
    // connected): counting it would keep its slot for ever. The slot goes back when the socket
    // disconnects or its connection closes, whichever comes first.
    const conn = socket.conn;
    if (conn.readyState !== 'open') return next(refusal('UNAVAILABLE', 'the connection closed during the handshake'));
    bump(perIp, ip, 1);
    if (user) bump(perUser, user.id, 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      bump(perIp, ip, -1);
      if (user) bump(perUser, user.id, -1);
    };
    socket.once('disconnect', release);
    conn.once('close', release);
    // A token is good until it expires, and so is the connection it opened: the client
    // connects again with a fresh one.
    if (expiresAt !== undefined) endAt(socket, expiresAt);
    socket.data.user = user;
    socket.data.rooms ??= [];
    socket.data.accessSeen ??= {};
    socket.data.address = ip;
    next();
  });
}
