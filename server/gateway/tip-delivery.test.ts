import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectClient, type Socket } from 'socket.io-client';
import { TIP_LIST_MAX, type Tip, type TipsSummed } from '../../protocol';
import { summarizeTips, TipDelivery } from './tip-delivery';
import { accessChannel, type IoServer } from './types';

let n = 0;
function tip(p: Partial<Tip> = {}): Tip {
  n++;
  return {
    id: `t${n}`,
    roomId: 'r',
    user: { id: `u${n}`, username: `u${n}` } as Tip['user'],
    amount: n,
    currency: 'USD',
    message: null,
    pinnedUntil: null,
    createdAt: new Date(1_700_000_000_000 + n).toISOString(),
    ...p,
  };
}

const pinnedUntil = new Date(1_800_000_000_000).toISOString();
const ids = (tips: readonly Tip[]) => tips.map((t) => t.id);
const sum = (tips: readonly Tip[]) => tips.reduce((s, t) => s + t.amount, 0);

describe('summarizeTips', () => {
  test('a delivery within the limit is not summed', () => {
    const tips = Array.from({ length: 5 }, () => tip());
    expect(summarizeTips(tips, 5)).toBeNull();
  });

  test('past the limit, the newest are listed in order and the rest summed to the cent', () => {
    const tips = Array.from({ length: 8 }, () => tip());
    const out = summarizeTips(tips, 3);
    expect(out).not.toBeNull();
    expect(ids(out!.tips)).toEqual(ids(tips.slice(5)));
    expect(out!.more).toEqual({ count: 5, amount: sum(tips.slice(0, 5)), currency: 'USD' });
    expect(sum(out!.tips) + out!.more.amount).toBe(sum(tips));
  });

  test('every paid pinned tip is listed, whatever the limit, and tips with a message come before those without', () => {
    const pinned = tip({ pinnedUntil, message: 'pin me' });
    const said = tip({ message: 'thank you' });
    const rest = Array.from({ length: 6 }, () => tip());
    const late = tip({ pinnedUntil });
    const tips = [pinned, said, ...rest, late];
    const out = summarizeTips(tips, 2);
    // The message, then the newest plain one; both pinned; in the order they were sent.
    expect(ids(out!.tips)).toEqual(ids([pinned, said, rest[5], late]));
    expect(out!.more.count).toBe(5);
    expect(out!.more.amount).toBe(sum(rest.slice(0, 5)));
  });

  test('more messages than the limit: the newest of them, and no plain tip', () => {
    const tips = Array.from({ length: 6 }, (_, i) => tip(i % 2 ? { message: `m${i}` } : {}));
    const out = summarizeTips(tips, 2);
    expect(ids(out!.tips)).toEqual(ids([tips[3], tips[5]]));
    expect(out!.more.count).toBe(4);
  });

  test('a delivery of only pinned tips is listed whole', () => {
    const tips = Array.from({ length: 4 }, () => tip({ pinnedUntil }));
    expect(summarizeTips(tips, 2)).toBeNull();
  });
});

/**
 * The delivery over real Socket.IO connections in the room's access channel: those that asked for
 * `tip:summary` and those that did not. The interval is long and `close()` flushes, so a storm is
 * one delivery of exactly the tips pushed.
 */
describe('TipDelivery', () => {
  let http: HttpServer;
  let io: IoServer;
  let url: string;
  const clients: Socket[] = [];
  const room = 'r';

  beforeAll(async () => {
    http = createServer();
    io = new Server(http, { serveClient: false }) as unknown as IoServer;
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await new Promise((resolve) => io.close(resolve));
  });

  /** A member of the room with access; what it heard, flattened: tips listed, and the sums. */
  async function member(capabilities: string[]) {
    const socket = connectClient(url, { auth: { capabilities }, transports: ['websocket'], forceNew: true });
    clients.push(socket);
    const heard = { tips: [] as Tip[], summed: [] as TipsSummed[], events: 0 };
    socket.on('tip:new' as never, (tip: Tip) => {
      heard.events++;
      heard.tips.push(tip);
    });
    socket.on('tip:batch' as never, (p: { tips: Tip[]; more?: TipsSummed }) => {
      heard.events++;
      heard.tips.push(...p.tips);
      if (p.more) heard.summed.push(p.more);
    });
    await new Promise((resolve) => socket.once('connect', () => resolve(undefined)));
    await io.in(socket.id!).socketsJoin(accessChannel(room));
    return heard;
  }

  /** Counts the broadcasts of tips the adapter is asked to make. */
  function countBroadcasts() {
    const adapter = io.of('/').adapter;
    const broadcast = adapter.broadcast.bind(adapter);
    const count = { n: 0 };
    adapter.broadcast = (packet, opts) => {
      if (String(packet.data?.[0]).startsWith('tip:')) count.n++;
      broadcast(packet, opts);
    };
    return { count, restore: () => (adapter.broadcast = broadcast) };
  }

  const settle = () => new Promise((r) => setTimeout(r, 100));

  it('past the limit, a summing member hears the pinned and the newest tips and the rest summed; a plain one every tip', async () => {
    const delivery = new TipDelivery(io, false, 10_000);
    const plain = await member([]);
    const summing = await member(['tip:summary']);
    const lone = tip({ roomId: room });
    delivery.push(lone);
    await settle();
    expect(ids(plain.tips)).toEqual([lone.id]);
    expect(ids(summing.tips)).toEqual([lone.id]);

    const storm = Array.from({ length: 120 }, (_, i) => tip({ roomId: room, ...(i === 3 ? { pinnedUntil } : {}) }));
    for (const t of storm) delivery.push(t);
    delivery.close();
    await settle();
    expect(ids(plain.tips)).toEqual(ids([lone, ...storm]));
    expect(plain.summed).toEqual([]);
    const listed = summing.tips.slice(1);
    expect(ids(listed)).toEqual(ids([storm[3], ...storm.slice(-TIP_LIST_MAX)]));
    expect(summing.summed).toEqual([{ count: 120 - 1 - TIP_LIST_MAX, amount: expect.any(Number), currency: 'USD' }]);
    // Exact to the cent: listed and summed together are the storm.
    expect(sum(listed) + summing.summed[0].amount).toBe(sum(storm));
    expect(summing.events).toBe(2);
    expect(plain.events).toBe(2);
  });

  it('within the limit, or with no plain member here, a delivery is one broadcast', async () => {
    const delivery = new TipDelivery(io, false, 10_000);
    const clustered = new TipDelivery(io, true, 10_000);
    const summing = await member(['tip:summary']);
    const other = await member(['tip:summary', 'chat:batch']);
    const { count, restore } = countBroadcasts();
    try {
      const few = Array.from({ length: TIP_LIST_MAX }, () => tip({ roomId: room }));
      for (const t of few) delivery.push(t);
      delivery.close();
      await settle();
      expect(count.n).toBe(1);
      expect(summing.summed).toEqual([]);
      const storm = Array.from({ length: 2 * TIP_LIST_MAX }, () => tip({ roomId: room }));
      for (const t of storm) delivery.push(t);
      delivery.close();
      await settle();
      expect(count.n).toBe(2);
      expect(summing.summed).toHaveLength(1);
      expect(other.summed).toEqual(summing.summed);
      // On a cluster another node may hold plain members: the full list goes out too.
      for (const t of storm) clustered.push({ ...t, id: `${t.id}-again` });
      clustered.close();
      await settle();
      expect(count.n).toBe(4);
      expect(summing.summed).toHaveLength(2);
    } finally {
      restore();
    }
  });
});
