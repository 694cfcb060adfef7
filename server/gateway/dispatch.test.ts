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

describe('a connection that keeps sending past RATE_LIMITED', () => {
  /** A stand-in connection: its listeners, whether it is still open, the acks it got. */
  function fakeSocket() {
    const listeners = new Map<string, (...args: unknown[]) => void>();
    let any: ((event: string, ...args: unknown[]) => void) | undefined;
    const socket = {
      id: 'sock-1',
      connected: true,
      data: { user: { id: 'user-1' }, address: '192.0.2.1' },
      disconnects: 0,
      on: (event: string, fn: (...args: unknown[]) => void) => listeners.set(event, fn),
      onAny: (fn: typeof any) => {
        any = fn;
      },
      disconnect() {
        this.disconnects++;
        this.connected = false;
      },
    };
    const acks: string[] = [];
    const ack = (r: { ok: boolean; error?: { code: string } }) => acks.push(r.ok ? 'ok' : r.error!.code);
    const emit = (event: string, ...args: unknown[]) => {
      any?.(event, ...args);
      listeners.get(event)?.(...args);
    };
    return { socket, acks, ack, emit };
  }

  function dispatcher(admit: () => { ok: boolean; retryAfterMs: number }, now = () => 0) {
    const handlers = Object.fromEntries(
      (Object.keys(eventSchemas) as ClientEvent[]).map((e) => [e, async () => ({})]),
    ) as unknown as Handlers;
    return new Dispatcher(
      handlers,
      admit,
      pino({ level: 'silent' }),
      { onOutcome: () => {}, ready: () => undefined },
      { burst: 5, perSecond: 1 },
      now,
    );
  }
  const refuse = () => ({ ok: false, retryAfterMs: 100 });
  const leave = { roomId: '00000000-0000-4000-8000-000000000000' };

  it('is refused with RATE_LIMITED, then disconnected', () => {
    const { socket, acks, ack, emit } = fakeSocket();
    dispatcher(refuse).attach(socket as unknown as IoSocket);
    for (let i = 0; i < 5; i++) emit('room:leave', leave, ack);
    expect(acks).toEqual(Array(5).fill('RATE_LIMITED'));
    expect(socket.disconnects).toBe(0);
    emit('room:leave', leave, ack);
    // The last refusal is answered, then the connection closed.
    expect(acks).toEqual(Array(6).fill('RATE_LIMITED'));
    expect(socket.disconnects).toBe(1);
  });

  it('counts unknown events and events without an ack too', () => {
    const { socket, emit } = fakeSocket();
    dispatcher(refuse).attach(socket as unknown as IoSocket);
    for (let i = 0; i < 3; i++) emit('room:leave', leave);
    for (let i = 0; i < 3; i++) emit('no-such-event', {}, () => {});
    expect(socket.disconnects).toBe(1);
  });

  it('is not disconnected for refusals spread out in time, nor when admitted', () => {
    let now = 0;
    const { socket, acks, ack, emit } = fakeSocket();
    dispatcher(refuse, () => now).attach(socket as unknown as IoSocket);
    for (let i = 0; i < 50; i++) {
      emit('room:leave', leave, ack);
      now += 1000; // one refusal a second: the flood limit's sustained rate
    }
    expect(acks).toHaveLength(50);
    expect(socket.disconnects).toBe(0);

    const polite = fakeSocket();
    dispatcher(() => ({ ok: true, retryAfterMs: 0 })).attach(polite.socket as unknown as IoSocket);
    for (let i = 0; i < 50; i++) polite.emit('no-such-event', {}, polite.ack);
    expect(polite.acks).toEqual(Array(50).fill('INVALID_ARGUMENT'));
    expect(polite.socket.disconnects).toBe(0);
  });
});
