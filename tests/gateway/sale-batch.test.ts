import { randomUUID } from 'node:crypto';
import type { SaleNotice } from '../../protocol';
import { batchedSalesChannel, eachSalesChannel } from '../../server/gateway/sales';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, eventually, record } from '../helpers/socket';

/**
 * A creator's sales feed in a storm (`auth.capabilities: ['sale:batch']`): every sale once, in
 * fewer events, to the connections that asked for batches; each sale as `sale:new` to the others.
 */
let s: TestServer;
let buyer: Account;
beforeAll(async () => {
  s = await startTestServer();
  buyer = await s.api.register();
  await s.api.topUp(buyer.token, 100_000);
});
afterEach(closeAllSockets);
afterAll(() => s.close());

const batching = (token: string) => connect(s.url, token, { capabilities: ['sale:batch'] });
const channel = (name: string) => s.lectern.gateway.io.of('/').adapter.rooms.get(name);

/** What a batching connection heard: the sales of each `sale:new` and `sale:batch`, in order. */
function heardSales(sock: Awaited<ReturnType<typeof connect>>) {
  const heard = { sales: [] as SaleNotice[], singles: 0, batches: 0 };
  sock.on('sale:new', (sale) => {
    heard.singles++;
    heard.sales.push(sale);
  });
  sock.on('sale:batch', ({ sales }) => {
    heard.batches++;
    heard.sales.push(...sales);
  });
  return heard;
}

/** `n` of the creator's lessons bought at once (one money batch after another). */
async function storm(creator: Account, n: number): Promise<string[]> {
  const lessons = await Promise.all(Array.from({ length: n }, () => s.api.content(creator.token, { price: 100 })));
  const bought = await Promise.all(
    lessons.map((lesson) => s.api.post('/api/purchases', { contentId: lesson.id }, buyer.token, randomUUID())),
  );
  for (const b of bought) expect(b.status).toBe(201);
  return bought.map((b) => b.body.purchase.id);
}

it('a plain connection hears each sale as sale:new; a batching one the same sales, once each, in fewer events', async () => {
  const creator = await s.api.register('creator');
  const plain = await connect(s.url, creator.token);
  const batched = await batching(creator.token);
  const plainHeard = record(plain, 'sale:new');
  const plainBatches = record(plain, 'sale:batch');
  const batchedHeard = heardSales(batched);

  // A quiet feed: a lone sale comes at once, as sale:new, to both.
  const [first] = await storm(creator, 1);
  await eventually(() => plainHeard.length === 1 && batchedHeard.sales.length === 1, 5000, 'the lone sale');
  expect(batchedHeard.batches).toBe(0);
  expect(batchedHeard.sales[0]).toEqual(plainHeard[0]);
  expect(plainHeard[0].id).toBe(first);

  const sold = await storm(creator, 40);
  await eventually(() => plainHeard.length === 41 && batchedHeard.sales.length === 41, 5000, 'every sale');
  const ids = (sales: SaleNotice[]) => sales.map((sale) => sale.id);
  expect(new Set(ids(plainHeard))).toEqual(new Set([first, ...sold]));
  // The same notices, in the order the server sent them, each once.
  expect(batchedHeard.sales).toEqual(plainHeard);
  expect(batchedHeard.batches).toBeGreaterThan(0);
  expect(batchedHeard.batches).toBeLessThan(20);
  expect(plainBatches).toEqual([]);
});

it('with only batching connections, a storm costs a broadcast per batch, not per sale', async () => {
  const creator = await s.api.register('creator');
  const batched = await batching(creator.token);
  const heard = heardSales(batched);
  const adapter = s.lectern.gateway.io.of('/').adapter;
  const broadcast = adapter.broadcast.bind(adapter);
  const events: string[] = [];
  adapter.broadcast = (packet, opts) => {
    if (opts.rooms.has(`user:${creator.user.id}`)) events.push(packet.data[0]);
    broadcast(packet, opts);
  };
  try {
    const sold = await storm(creator, 40);
    await eventually(() => heard.sales.length === 40, 5000, 'every sale');
    expect(new Set(heard.sales.map((sale) => sale.id))).toEqual(new Set(sold));
  } finally {
    adapter.broadcast = broadcast;
  }
  // Each broadcast was heard once: none went out for nobody (a sale:new per sale for plain connections).
  expect(events.filter((e) => e === 'sale:new').length).toBe(heard.singles);
  expect(events.filter((e) => e === 'sale:batch').length).toBe(heard.batches);
  expect(events.length).toBeLessThan(20);
});

it("a creator's connections are in one sales marker each, by what they asked for, and leave it on disconnect", async () => {
  const creator = await s.api.register('creator');
  const plain = await connect(s.url, creator.token);
  const batched = await batching(creator.token);
  expect([...(channel(eachSalesChannel(creator.user.id)) ?? [])]).toEqual([plain.id]);
  expect([...(channel(batchedSalesChannel(creator.user.id)) ?? [])]).toEqual([batched.id]);
  plain.close();
  batched.close();
  await eventually(
    () => !channel(eachSalesChannel(creator.user.id)) && !channel(batchedSalesChannel(creator.user.id)),
    5000,
    'the disconnects',
  );
});
