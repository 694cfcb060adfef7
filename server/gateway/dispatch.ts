import type { z } from 'zod';
import type { AckResponse } from '../../protocol';
import { AppError, rateLimited, toErrorBody } from '../errors';
import type { Logger } from '../log';
import type { TakeResult } from '../ratelimit';
import { parse } from '../validation';
import { eventSchemas } from './schemas';
import type { ClientEvent, IoSocket, PayloadOf, ResultOf } from './types';

export type Handler<E extends ClientEvent> = (socket: IoSocket, payload: PayloadOf<E>) => Promise<ResultOf<E>>;
/** A handler for every client event of the protocol: one missing is a compile error. */
export type Handlers = { [E in ClientEvent]: Handler<E> };
type AnyHandler = (socket: IoSocket, payload: unknown) => Promise<unknown>;

export interface DispatchHooks {
  /** Called once per handled event with its outcome code (`ok` or an error code). */
  onOutcome(event: string, outcome: string): void;
  /** Resolves when the connection's state is restored (after a recovered reconnect). */
  ready(socket: IoSocket): Promise<void> | undefined;
}

/**
 * The gateway's edge for client events: each event gets a rate limit (`admit`), strict
 * payload validation, its handler, and exactly one ack `{ok, data}` / `{ok:false, error}`.
 * Nothing a client sends — wrong types, unknown events, missing acks, handler failures — can
 * throw out of here, so one bad client never affects another.
 */
export class Dispatcher {
  private readonly handlers: Map<string, AnyHandler>;

  constructor(
    handlers: Handlers,
    /** Takes one event from the caller's budget (per user, or per guest connection and address). */
    private readonly admit: (socket: IoSocket) => TakeResult,
    private readonly log: Logger,
    private readonly hooks: DispatchHooks,
  ) {
    this.handlers = new Map(Object.entries(handlers) as [string, AnyHandler][]);
  }

  attach(socket: IoSocket): void {
    for (const [event, handler] of this.handlers) {
      const schema = eventSchemas[event as ClientEvent] as z.ZodType;
      socket.on(event as ClientEvent, (...args: unknown[]) => void this.run(socket, event, schema, handler, args));
    }
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && this.handlers.has(event)) return;
      const ack = args.at(-1);
      this.hooks.onOutcome('unknown', 'INVALID_ARGUMENT');
      if (typeof ack === 'function') {
        reply(ack as (r: AckResponse<unknown>) => void, {
          ok: false,
          error: { code: 'INVALID_ARGUMENT', message: `unknown event ${String(event).slice(0, 64)}` },
        });
      }
    });
  }

  private async run(socket: IoSocket, event: string, schema: z.ZodType, handler: AnyHandler, args: unknown[]) {
    const ack = args.at(-1);
    if (typeof ack !== 'function') {
      // Every event takes an ack; without one the client cannot learn the outcome, so nothing runs.
      this.hooks.onOutcome(event, 'NO_ACK');
      return;
    }
    let response: AckResponse<unknown>;
    try {
      const { ok, retryAfterMs } = this.admit(socket);
      if (!ok) throw rateLimited(retryAfterMs);
      if (args.length !== 2) throw new AppError('INVALID_ARGUMENT', 'expected one payload object and an ack');
      const payload = parse(schema, args[0]);
      await this.hooks.ready(socket);
      const data = await handler(socket, payload);
      response = { ok: true, data };
    } catch (err) {
      const error = toErrorBody(err);
      if (error.code === 'INTERNAL') this.log.error({ err, event, socket: socket.id }, 'socket event failed');
      response = { ok: false, error };
    }
    this.hooks.onOutcome(event, response.ok ? 'ok' : response.error.code);
    reply(ack as (r: AckResponse<unknown>) => void, response);
  }
}

function reply(ack: (r: AckResponse<unknown>) => void, response: AckResponse<unknown>): void {
  try {
    ack(response);
  } catch {
    // The connection went away between the event and its answer.
  }
}
