import type { z } from 'zod';
import type { AckResponse } from '../../protocol';
import { AppError, rateLimited, toErrorBody } from '../errors';
import type { Logger } from '../log';
import { type TakeResult, TokenBucketLimiter } from '../ratelimit';
import { parse } from '../validation';
import { eventSchemas } from './schemas';
import type { ClientEvent, IoSocket, PayloadOf, ResultOf } from './types';

export type Handler<E extends ClientEvent> = (socket: IoSocket, payload: PayloadOf<E>) => Promise<ResultOf<E>>;
/** A handler for every client event of the protocol: one missing is a compile error. */
export type Handlers = { [E in ClientEvent]: Handler<E> };
type AnyHandler = (socket: IoSocket, payload: unknown) => Promise<unknown>;

export interface DispatchHooks {
  /**
   * Called once per handled event with its outcome code (`ok` or an error code) and, for an event
   * that was acked, the seconds from its arrival to its ack.
   */
  onOutcome(event: string, outcome: string, ackSeconds?: number): void;
  /** Resolves when the connection's state is restored (after a recovered reconnect). */
  ready(socket: IoSocket): Promise<void> | undefined;
}

/**
 * How many events refused for the rate limit a connection may keep sending before it is closed:
 * a burst of refusals, then a sustained rate of them. A client that backs off when told
 * RATE_LIMITED (the SDK waits `retryAfterMs`) never comes near it; one that keeps firing does.
 */
export interface FloodLimit {
  burst: number;
  perSecond: number;
}
export const DEFAULT_FLOOD_LIMIT: FloodLimit = { burst: 100, perSecond: 10 };

/**
 * The gateway's edge for client events: each event gets a rate limit (`admit`), strict
 * payload validation, its handler, and exactly one ack `{ok, data}` / `{ok:false, error}`.
 * Nothing a client sends — wrong types, unknown events, missing acks, handler failures — can
 * throw out of here, so one bad client never affects another. Every event spends the budget,
 * unknown ones and those without an ack included; a connection that keeps sending past its
 * refusals (`FloodLimit`) is told RATE_LIMITED once more and disconnected.
 */
export class Dispatcher {
  private readonly handlers: Map<string, AnyHandler>;
  /** Per connection: the refusals it may still run up before it is closed. */
  private readonly refusals: TokenBucketLimiter;

  constructor(
    handlers: Handlers,
    /** Takes one event from the caller's budget (per user, or per guest connection and address). */
    private readonly admit: (socket: IoSocket) => TakeResult,
    private readonly log: Logger,
    private readonly hooks: DispatchHooks,
    flood: FloodLimit = DEFAULT_FLOOD_LIMIT,
    now: () => number = Date.now,
  ) {
    this.handlers = new Map(Object.entries(handlers) as [string, AnyHandler][]);
    this.refusals = new TokenBucketLimiter(flood.burst, flood.perSecond, now);
  }

  attach(socket: IoSocket): void {
    for (const [event, handler] of this.handlers) {
      const schema = eventSchemas[event as ClientEvent] as z.ZodType;
      socket.on(event as ClientEvent, (...args: unknown[]) => void this.run(socket, event, schema, handler, args));
    }
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && this.handlers.has(event)) return;
      const ack = args.at(-1);
      const admitted = this.admit(socket);
      const error = admitted.ok
        ? { code: 'INVALID_ARGUMENT' as const, message: `unknown event ${String(event).slice(0, 64)}` }
        : toErrorBody(rateLimited(admitted.retryAfterMs));
      this.hooks.onOutcome('unknown', error.code);
      if (typeof ack === 'function') reply(ack as (r: AckResponse<unknown>) => void, { ok: false, error });
      if (!admitted.ok) this.refused(socket, 'unknown');
    });
  }

  private async run(socket: IoSocket, event: string, schema: z.ZodType, handler: AnyHandler, args: unknown[]) {
    const arrived = performance.now();
    const ack = args.at(-1);
    const admitted = this.admit(socket);
    if (typeof ack !== 'function') {
      // Every event takes an ack; without one the client cannot learn the outcome, so nothing runs.
      this.hooks.onOutcome(event, admitted.ok ? 'NO_ACK' : 'RATE_LIMITED');
      if (!admitted.ok) this.refused(socket, event);
      return;
    }
    let response: AckResponse<unknown>;
    try {
      if (!admitted.ok) throw rateLimited(admitted.retryAfterMs);
      if (args.length !== 2) throw new AppError('INVALID_ARGUMENT', 'expected one payload object and an ack');
      const payload = parse(schema, args[0]);
      await this.hooks.ready(socket);
      const data = await handler(socket, payload);
      response = { ok: true, data };
    } catch (err) {
      const error = toErrorBody(err);
      if (error.code === 'INTERNAL') {
        this.log.error({ err, event, socket: socket.id, userId: socket.data.user?.id }, 'socket event failed');
      }
      response = { ok: false, error };
    }
    const outcome = response.ok ? 'ok' : response.error.code;
    const seconds = (performance.now() - arrived) / 1000;
    this.hooks.onOutcome(event, outcome, seconds);
    // Per event: the record is built only when someone reads it.
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug({ socket: socket.id, userId: socket.data.user?.id, event, outcome, seconds }, 'socket event');
    }
    reply(ack as (r: AckResponse<unknown>) => void, response);
    if (!admitted.ok) this.refused(socket, event);
  }

  /** One more event refused for the rate limit; past the flood limit the connection is closed. */
  private refused(socket: IoSocket, event: string): void {
    if (!socket.connected || this.refusals.take(socket.id).ok) return;
    this.refusals.forget(socket.id, true);
    this.log.warn(
      { socket: socket.id, userId: socket.data.user?.id, address: socket.data.address, event },
      'event flood: connection closed',
    );
    // After the refusal's ack, which goes out first.
    socket.disconnect(true);
  }
}

function reply(ack: (r: AckResponse<unknown>) => void, response: AckResponse<unknown>): void {
  try {
    ack(response);
  } catch {
    // The connection went away between the event and its answer.
  }
}
