import type { LecternClient } from '../client';
import { Emitter } from '../emitter';
import { coalescing } from './coalesce';
import { MediaLink } from './link';

/** Life of a room's media on this side: being set up, flowing, waiting for access, or over. */
export type MediaState = 'connecting' | 'connected' | 'reconnecting' | 'blocked' | 'ended' | 'closed';

export interface RoomMediaEvents {
  /** The state changed (see {@link MediaState}). */
  state: (p: { state: MediaState }) => void;
  /** A background step (re-establishing after a reset, restarting ICE) failed. */
  error: (p: { error: Error }) => void;
}

type Listener = (payload: any) => void;

/** Shortest and longest wait before trying again after a failed re-establishment (a worker restarting). */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;
/**
 * Refusals that another attempt would only repeat; anything else is retried with back-off:
 * UNAVAILABLE, ICE, and CONFLICT too — the room's media changed under the attempt (a worker
 * died mid-way, a reset raced the join), which the next attempt sees settled.
 */
const FINAL_CODES = new Set(['FORBIDDEN', 'BANNED', 'NOT_FOUND', 'UNAUTHENTICATED', 'INVALID_ARGUMENT']);

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/**
 * What publishing and watching share: one {@link MediaLink} at a time, replaced whenever the
 * server's side of it is gone — `media:reset` (a media worker died), a reconnect the server
 * could not or could recover (either way its media peer was released), ICE that cannot be
 * restored — and closed for good when the room ends.
 */
export abstract class RoomMedia<
  Events extends RoomMediaEvents & { [K in keyof Events]: (payload: any) => void },
> extends Emitter<Events> {
  protected link: MediaLink | undefined;
  private currentState: MediaState = 'connecting';
  private readonly offs: (() => void)[] = [];
  private disconnected = false;
  /** Until the first attempt is over, failures go to the caller of `start()` rather than `error`. */
  private starting = true;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay = RETRY_MIN_MS;
  /** Re-establishing is asked for from many places; bursts collapse into one fresh attempt. */
  protected readonly reestablish: () => Promise<void>;

  protected constructor(
    protected readonly client: LecternClient,
    readonly roomId: string,
  ) {
    super();
    this.reestablish = coalescing(async () => {
      if (this.finished) return;
      this.setState(this.starting ? 'connecting' : 'reconnecting');
      clearTimeout(this.retryTimer);
      try {
        await this.establish();
        this.retryDelay = RETRY_MIN_MS;
      } catch (err) {
        if (this.starting) throw err;
        this.report(err);
        this.retryLater(err);
      } finally {
        this.starting = false;
      }
    });
    this.listen('media:reset', () => void this.reestablish());
    this.listen('room:ended', () => this.finish('ended'));
    // Taken out of the room for good (banned): the server released this connection's media, and
    // trying again would only be refused. (`unavailable` is rejoined by the client, then `rejoined`.)
    this.listen('room:left', ({ reason }: { reason: string }) => {
      if (reason !== 'unavailable') this.finish(reason === 'ended' ? 'ended' : 'closed');
    });
    this.offs.push(
      client.on('disconnected', () => {
        this.disconnected = true;
        if (!this.finished) this.setState('reconnecting');
      }),
      // The server released this connection's media when it dropped. A recovered session is
      // back in the room at once; otherwise wait until the SDK has joined the room again.
      client.on('connected', ({ recovered }) => {
        if (this.disconnected && recovered) void this.reestablish();
        this.disconnected = false;
      }),
      client.on('rejoined', ({ room }) => {
        if (room.id === this.roomId) void this.reestablish();
      }),
    );
  }

  /** @internal The first attempt, run by `publish()` / `watch()`: rejects with its error and closes the handle. */
  async start(): Promise<void> {
    try {
      await this.reestablish();
    } catch (err) {
      this.finish('closed');
      throw err;
    }
  }

  get state(): MediaState {
    return this.currentState;
  }

  protected get finished(): boolean {
    return this.currentState === 'ended' || this.currentState === 'closed';
  }

  /** Builds a fresh link and everything on it; the previous link is already torn down. */
  protected abstract setUp(link: MediaLink): Promise<void>;
  /** Drops what hangs on the current link (tracks, producers, consumers). */
  protected abstract tearDown(reason: 'reset' | 'revoked' | 'ended' | 'closed'): void;

  /** Replaces the link: tear down, `media:join` again, set up. Throws what the first step threw. */
  protected async establish(): Promise<void> {
    this.dropLink('reset');
    const link = await MediaLink.open(this.client, this.roomId);
    if (this.finished) return link.close();
    this.link = link;
    try {
      await this.setUp(link);
    } catch (err) {
      if (this.link !== link) return; // replaced or dropped meanwhile: that newer state wins
      throw err;
    }
    if (this.link === link && !this.finished) this.setState('connected');
  }

  /** Tries again with a doubling delay, unless the server's answer would not change. */
  private retryLater(err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code;
    if (this.finished || (typeof code === 'string' && FINAL_CODES.has(code))) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(delay * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => void this.reestablish(), delay);
  }

  /** For the link's transports: ICE is gone for good, start over. */
  protected readonly onTransportLost = (reason: unknown): void => {
    this.report(reason);
    void this.reestablish();
  };

  protected dropLink(reason: 'reset' | 'revoked' | 'ended' | 'closed'): void {
    this.tearDown(reason);
    this.link?.close();
    this.link = undefined;
  }

  /** Subscribes to a server event for this room; unsubscribed on close. */
  protected listen(event: Parameters<LecternClient['on']>[0], listener: Listener): void {
    const forThisRoom = (p: { roomId?: string }) => {
      if (p?.roomId === this.roomId && !this.finished) listener(p);
    };
    this.offs.push(this.client.on(event, forThisRoom as never));
  }

  protected setState(state: MediaState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    (this.emit as (e: 'state', p: { state: MediaState }) => void)('state', { state });
  }

  protected report(err: unknown): void {
    if (this.finished) return;
    (this.emit as (e: 'error', p: { error: Error }) => void)('error', { error: asError(err) });
  }

  /** Ends for good: the room ended, or the owner closed this handle. */
  protected finish(state: 'ended' | 'closed'): void {
    if (this.finished) return;
    clearTimeout(this.retryTimer);
    this.dropLink(state);
    for (const off of this.offs.splice(0)) off();
    this.setState(state);
  }
}
