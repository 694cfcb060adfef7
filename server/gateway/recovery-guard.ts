import type { Logger } from '../log';
import type { IoServer } from './types';

/** What Socket.IO keeps of a connection while it is away (socket.io-adapter's `Session`). */
export interface AwaySession {
  sid: string;
  pid: string;
  rooms: string[];
  data: unknown;
}

interface RecoveringAdapter {
  persistSession(session: AwaySession): void;
  restoreSession(pid: string, offset: string): Promise<(AwaySession & { missedPackets: unknown[] }) | null>;
}

/**
 * A connection that resumes within the recovery window gets the broadcasts it missed for the
 * channels it was in — sent by Socket.IO before any of our code runs. A viewer whose preview
 * ended, who was banned or refunded while away would hear the paid room's conversation they may
 * no longer see. So before a session is restored, `notAllowed` names the channels its user may
 * no longer be in (it fails closed: a check that throws should name them all); the session is
 * then stored again without them and restored from there, so neither their missed broadcasts
 * nor membership come back. The gateway's own restore then tells the client what changed.
 */
export function guardRecovery(
  io: IoServer,
  notAllowed: (session: AwaySession) => Promise<Set<string>>,
  log: Logger,
): void {
  const adapter = io.of('/').adapter as unknown as RecoveringAdapter;
  const restore = adapter.restoreSession.bind(adapter);
  adapter.restoreSession = async (pid, offset) => {
    const session = await restore(pid, offset);
    if (!session) return session;
    let drop: Set<string>;
    try {
      drop = await notAllowed(session);
    } catch (err) {
      log.warn({ err }, 'a resumed connection could not be checked: it starts afresh');
      return null;
    }
    if (![...drop].some((channel) => session.rooms.includes(channel))) return session;
    adapter.persistSession({
      sid: session.sid,
      pid: session.pid,
      rooms: session.rooms.filter((channel) => !drop.has(channel)),
      data: session.data,
    });
    return restore(pid, offset);
  };
}
