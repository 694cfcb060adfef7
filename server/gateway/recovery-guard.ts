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

/** socket.io-adapter's in-process `SessionAwareAdapter`: every broadcast kept, oldest first. */
interface KeepingAdapter {
  packets?: unknown[];
  broadcast(packet: unknown, opts: unknown): void;
}

/**
 * Bounds what the in-process adapter keeps for resuming connections to about `max` broadcasts.
 * It keeps every broadcast for the whole recovery window (and up to a minute more, its cleanup's
 * period), so a storm — a sale notice per sale to the creator, a chat message per message — grew
 * the heap by every one of them: in a purchase storm, tens of thousands of packets, each with
 * its rooms and payload, promoted to the old generation for minutes. A cluster's Redis stream is
 * capped the same way (`maxLen`). A connection whose last broadcast is gone is not resumed: it
 * starts afresh and joins its rooms again, as after a longer absence. Trimmed a tenth at a time,
 * so the array is shifted once per `max / 10` broadcasts, not on each.
 */
export function capRecovery(io: IoServer, max: number): void {
  const adapter = io.of('/').adapter as unknown as KeepingAdapter;
  if (!Array.isArray(adapter.packets)) return; // recovery is off, or not this adapter
  const broadcast = adapter.broadcast.bind(adapter);
  const slack = Math.max(1, Math.floor(max / 10));
  adapter.broadcast = (packet, opts) => {
    broadcast(packet, opts);
    const packets = adapter.packets!;
    if (packets.length > max + slack) packets.splice(0, packets.length - max);
  };
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
