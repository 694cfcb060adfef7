import pino from 'pino';
import { Dispatcher, type Handlers } from './dispatch';
import { eventSchemas } from './schemas';
import type { ClientEvent, IoSocket } from './types';

// The gateway's handler table is `Handlers`: a mapped type over the protocol's client events.
// A table without a handler for one of them must not compile (`npm run typecheck` checks this
// file: were it to compile, the directive below would be an error itself).
// @ts-expect-error — every event but 'room:join' lacks a handler
const incomplete: Handlers = { 'room:join': async () => ({}) as never };

it('a connection listens for every client event of the protocol, each with its handler', () => {
  const events = Object.keys(eventSchemas) as ClientEvent[];
  const handlers = Object.fromEntries(events.map((e) => [e, async () => ({})])) as unknown as Handlers;
  const listened: string[] = [];
  const socket = { on: (event: string) => listened.push(event), onAny: () => {} } as unknown as IoSocket;
  new Dispatcher(handlers, () => ({ ok: true, retryAfterMs: 0 }), pino({ level: 'silent' }), {
    onOutcome: () => {},
    ready: () => undefined,
  }).attach(socket);
  expect(listened.sort()).toEqual([...events].sort());
  expect(Object.keys(incomplete)).toEqual(['room:join']);
});
