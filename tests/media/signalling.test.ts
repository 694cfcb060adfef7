import * as mediasoup from 'mediasoup';
import type { Consumer } from 'mediasoup/types';
import type { MediaJson } from '../../protocol';
import { fakeDtlsParameters, opusRtpParameters, vp8SimulcastRtpParameters } from '../../server/media/test-support';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, eventually, next, ok, refused } from '../helpers/socket';

/** Media signalling through the gateway against a real mediasoup worker (no browser). */

// The server's consumers as mediasoup has them (same module instance), to check their state.
const liveConsumers = new Map<string, Consumer>();
mediasoup.observer.on('newworker', (worker) =>
  worker.observer.on('newrouter', (router) =>
    router.observer.on('newtransport', (transport) =>
      transport.observer.on('newconsumer', (consumer) => {
        liveConsumers.set(consumer.id, consumer);
        consumer.observer.once('close', () => liveConsumers.delete(consumer.id));
      }),
    ),
  ),
);

let s: TestServer;
let owner: Account;
beforeAll(async () => {
  s = await startTestServer({
    MEDIA_ENABLED: 'true',
    MEDIA_WORKERS: '2',
    MEDIA_MAX_CONSUMERS_PER_ROUTER: '2',
    SOCKET_EVENTS_PER_SECOND: '1000',
  });
  owner = await s.api.register('creator');
});
afterEach(closeAllSockets);
afterAll(() => s.close());

/** A live room whose owner publishes VP8 (simulcast) and opus through an RTP ingest. */
async function broadcastingRoom(fields: Record<string, unknown> = {}) {
  const room = await s.api.room(owner.token, fields);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const studio = await connect(s.url, owner.token);
  await ok(studio, 'room:join', { roomId: room.id });
  const joined = await ok(studio, 'media:join', { roomId: room.id });
  expect(joined.canProduce).toBe(true);
  // The browser studio publishes over WebRTC (e2e tests); here an RTP ingest stands in for it.
  const peer = { roomId: room.id, peerId: studio.id! };
  const ingest = await s.lectern.media.createPlainTransport(peer);
  const video = await s.lectern.media.produce({
    ...peer,
    transportId: ingest.id,
    kind: 'video',
    rtpParameters: vp8SimulcastRtpParameters(),
    source: 'camera',
  });
  const audio = await s.lectern.media.produce({
    ...peer,
    transportId: ingest.id,
    kind: 'audio',
    rtpParameters: opusRtpParameters(),
    source: 'microphone',
  });
  return { room, studio, peer, ingest, producers: [video.producerId, audio.producerId] };
}

/** What a viewer's browser does: join media, open a receive transport, consume everything. */
async function watch(sock: ClientSocket, roomId: string) {
  const { routerRtpCapabilities, producers } = await ok(sock, 'media:join', { roomId });
  const transport = await ok(sock, 'media:transport:create', { roomId, direction: 'recv' });
  await ok(sock, 'media:transport:connect', {
    roomId,
    transportId: transport.id,
    dtlsParameters: fakeDtlsParameters() as MediaJson,
  });
  const consumers = [];
  for (const p of producers) {
    const c = await ok(sock, 'media:consume', {
      roomId,
      transportId: transport.id,
      producerId: p.producerId,
      rtpCapabilities: routerRtpCapabilities,
    });
    await ok(sock, 'media:consumer:resume', { roomId, consumerId: c.id });
    consumers.push(c);
  }
  return { transport, consumers, producers };
}

const counts = async () => {
  const st = await s.lectern.media.stats();
  return { transports: st.transports, consumers: st.consumers, producers: st.producers, peers: st.peers };
};

const backTo = (baseline: Awaited<ReturnType<typeof counts>>, what: string) =>
  eventually(async () => JSON.stringify(await counts()) === JSON.stringify(baseline), 10_000, what);

describe('media signalling', () => {
  it('lets viewers watch what the owner publishes, and tells them about new producers', async () => {
    const { room, producers } = await broadcastingRoom();
    const viewer = await connect(s.url, (await s.api.register()).token);
    await ok(viewer, 'room:join', { roomId: room.id });
    const { consumers, producers: seen } = await watch(viewer, room.id);
    expect(seen.map((p) => p.producerId).sort()).toEqual([...producers].sort());
    expect(consumers.map((c) => c.kind).sort()).toEqual(['audio', 'video']);
    expect(consumers.find((c) => c.kind === 'video')).toMatchObject({ type: 'simulcast', source: 'camera' });
    const video = consumers.find((c) => c.kind === 'video')!;
    await ok(viewer, 'media:consumer:layers', { roomId: room.id, consumerId: video.id, spatialLayer: 0 });
  });

  it('announces producers appearing, pausing and closing to the room', async () => {
    const { room, peer, ingest } = await broadcastingRoom();
    const viewer = await connect(s.url, (await s.api.register()).token);
    await ok(viewer, 'room:join', { roomId: room.id });
    await watch(viewer, room.id);
    const appeared = next(viewer, 'media:producer:new');
    const screen = await s.lectern.media.produce({
      ...peer,
      transportId: ingest.id,
      kind: 'video',
      rtpParameters: { ...vp8SimulcastRtpParameters(), encodings: [{ ssrc: 33330001 }] },
      source: 'screen',
    });
    expect(await appeared).toMatchObject({
      roomId: room.id,
      producerId: screen.producerId,
      kind: 'video',
      source: 'screen',
      paused: false,
    });
    const paused = next(viewer, 'media:producer:paused');
    await s.lectern.media.pauseProducer({ ...peer, producerId: screen.producerId });
    expect(await paused).toEqual({ roomId: room.id, producerId: screen.producerId });
    const closed = next(viewer, 'media:producer:closed');
    s.lectern.media.closeProducer({ ...peer, producerId: screen.producerId });
    expect(await closed).toEqual({ roomId: room.id, producerId: screen.producerId });
  });

  it('refuses publishing to anyone but the owner', async () => {
    const { room } = await broadcastingRoom();
    const viewer = await connect(s.url, (await s.api.register()).token);
    await ok(viewer, 'room:join', { roomId: room.id });
    expect((await ok(viewer, 'media:join', { roomId: room.id })).canProduce).toBe(false);
    expect(await refused(viewer, 'media:transport:create', { roomId: room.id, direction: 'send' })).toBe('FORBIDDEN');
    const recv = await ok(viewer, 'media:transport:create', { roomId: room.id, direction: 'recv' });
    expect(
      await refused(viewer, 'media:produce', {
        roomId: room.id,
        transportId: recv.id,
        kind: 'video',
        rtpParameters: vp8SimulcastRtpParameters() as unknown as MediaJson,
        source: 'camera',
      }),
    ).toBe('FORBIDDEN');
    const outsider = await connect(s.url, (await s.api.register()).token);
    expect(await refused(outsider, 'media:join', { roomId: room.id })).toBe('FORBIDDEN'); // not a member
  });

  it('refuses media to guests and viewers without access in a paid room', async () => {
    const { room } = await broadcastingRoom({ access: 'ticket', ticketPrice: 500, previewSeconds: 0 });
    const guest = await connect(s.url);
    expect((await ok(guest, 'room:join', { roomId: room.id })).access).toBe('none');
    expect(await refused(guest, 'media:join', { roomId: room.id })).toBe('PAYMENT_REQUIRED');
    const viewer = await connect(s.url, (await s.api.register()).token);
    await ok(viewer, 'room:join', { roomId: room.id });
    expect(await refused(viewer, 'media:join', { roomId: room.id })).toBe('PAYMENT_REQUIRED');
  });

  it('releases a viewer’s media when the preview ends, and serves it again once they buy a ticket', async () => {
    const { room } = await broadcastingRoom({ access: 'ticket', ticketPrice: 500, previewSeconds: 2 });
    const baseline = await counts();
    const account = await s.api.register();
    const viewer = await connect(s.url, account.token);
    expect((await ok(viewer, 'room:join', { roomId: room.id })).access).toBe('preview');
    const { consumers, transport } = await watch(viewer, room.id);
    const closed: string[] = [];
    viewer.on('media:consumer:closed', (p) => closed.push(`${p.consumerId}:${p.reason}`));
    await next(viewer, 'access:changed', (p) => p.access === 'none', 5000);
    // The consumers are closed first, each announced, and before access:changed arrives.
    expect(closed.sort()).toEqual(consumers.map((c) => `${c.id}:revoked`).sort());
    // Without a media:leave from the client, its transport and peer are gone too.
    await backTo(baseline, 'the viewer’s media released by the server');
    const { producers } = await s.lectern.media
      .listProducers(room.id)
      .reduce((acc, p) => ({ producers: [...acc.producers, p.producerId] }), { producers: [] as string[] });
    expect(
      await refused(viewer, 'media:consume', {
        roomId: room.id,
        transportId: transport.id,
        producerId: producers[0],
        rtpCapabilities: {},
      }),
    ).toBe('PAYMENT_REQUIRED');

    // A ticket bought after the preview: access returns and media:join works again.
    await s.api.topUp(account.token, 1000);
    const full = next(viewer, 'access:changed', (p) => p.access === 'full');
    await ok(viewer, 'purchase:create', { roomId: room.id, idempotencyKey: `ticket-${account.user.id}` });
    await full;
    const again = await watch(viewer, room.id);
    expect(again.consumers).toHaveLength(2);
  });

  it('releases the peer of a connection that drops while its media:join is in flight', async () => {
    const baseline = await counts();
    const rooms: string[] = [];
    for (let i = 0; i < 10; i++) {
      // A room nobody watches yet: media:join has to create its router, which takes a while.
      const room = await s.api.room(owner.token);
      rooms.push(room.id);
      const viewer = await connect(s.url, (await s.api.register()).token);
      await ok(viewer, 'room:join', { roomId: room.id });
      viewer.emit('media:join', { roomId: room.id }, () => undefined);
      viewer.close();
    }
    await backTo(baseline, 'no peer left behind');
    await eventually(() => rooms.every((id) => !s.lectern.media.isRoomOpen(id)), 10_000, 'no room media left open');
    const dump = await s.lectern.media.dump();
    expect(dump.workers.flatMap((w) => w.routers).filter((r) => rooms.includes(r.roomId!))).toEqual([]);
  });

  it('closes a room’s media when its last peer leaves, scheduled rooms included', async () => {
    const room = await s.api.room(owner.token); // scheduled: viewers wait on the page for it to start
    const routersOf = async () =>
      (await s.lectern.media.dump()).workers.flatMap((w) => w.routers).filter((r) => r.roomId === room.id);
    const a = await connect(s.url, (await s.api.register()).token);
    const b = await connect(s.url, (await s.api.register()).token);
    for (const v of [a, b]) {
      await ok(v, 'room:join', { roomId: room.id });
      await ok(v, 'media:join', { roomId: room.id });
    }
    expect(s.lectern.media.isRoomOpen(room.id)).toBe(true);
    await ok(a, 'media:leave', { roomId: room.id });
    expect(s.lectern.media.isRoomOpen(room.id)).toBe(true); // b still waits
    await ok(b, 'room:leave', { roomId: room.id });
    expect(s.lectern.media.isRoomOpen(room.id)).toBe(false);
    expect(await routersOf()).toEqual([]);
    // The next viewer opens it again; its disconnect closes it.
    await ok(a, 'media:join', { roomId: room.id });
    expect(await routersOf()).toHaveLength(1);
    a.close();
    await eventually(() => !s.lectern.media.isRoomOpen(room.id), 5000, 'closed on disconnect');
    expect(await routersOf()).toEqual([]);
  });

  it('restarts ICE and pauses and resumes a viewer’s consumer', async () => {
    const { room } = await broadcastingRoom();
    const viewer = await connect(s.url, (await s.api.register()).token);
    await ok(viewer, 'room:join', { roomId: room.id });
    const { transport, consumers } = await watch(viewer, room.id);
    const restarted = await ok(viewer, 'media:transport:restart-ice', { roomId: room.id, transportId: transport.id });
    const ice = (p: MediaJson) => (p as { usernameFragment: string }).usernameFragment;
    expect(ice(restarted.iceParameters)).not.toBe(ice(transport.iceParameters as MediaJson));

    const consumer = consumers[0];
    expect(liveConsumers.get(consumer.id)?.paused).toBe(false);
    await ok(viewer, 'media:consumer:pause', { roomId: room.id, consumerId: consumer.id });
    expect(liveConsumers.get(consumer.id)?.paused).toBe(true);
    await ok(viewer, 'media:consumer:resume', { roomId: room.id, consumerId: consumer.id });
    expect(liveConsumers.get(consumer.id)?.paused).toBe(false);

    // Only one's own transports and consumers.
    const other = await connect(s.url, (await s.api.register()).token);
    await ok(other, 'room:join', { roomId: room.id });
    await ok(other, 'media:join', { roomId: room.id });
    expect(await refused(other, 'media:consumer:pause', { roomId: room.id, consumerId: consumer.id })).toBe(
      'NOT_FOUND',
    );
    expect(await refused(other, 'media:transport:restart-ice', { roomId: room.id, transportId: transport.id })).toBe(
      'NOT_FOUND',
    );
    expect(liveConsumers.get(consumer.id)?.paused).toBe(false);
  });

  it('serves viewers past the router threshold from a second worker through pipeToRouter', async () => {
    const { room } = await broadcastingRoom();
    for (let i = 0; i < 3; i++) {
      const v = await connect(s.url, (await s.api.register()).token);
      await ok(v, 'room:join', { roomId: room.id });
      await watch(v, room.id);
    }
    const dump = await s.lectern.media.dump();
    const routers = dump.workers.flatMap((w) =>
      w.routers.filter((r) => r.roomId === room.id).map((r) => ({ worker: w.index, ...r })),
    );
    expect(new Set(routers.map((r) => r.worker)).size).toBe(2);
    const edge = routers.find((r) => r.role === 'edge')!;
    expect(edge.transports.some((t) => t.type === 'pipe')).toBe(true);
    expect(edge.transports.some((t) => t.type === 'webrtc' && t.consumerIds.length > 0)).toBe(true);
  });

  it('releases everything after 200 join/leave cycles', async () => {
    const { room } = await broadcastingRoom();
    const baseline = await counts();
    const viewer = await connect(s.url, (await s.api.register()).token);
    for (let i = 0; i < 200; i++) {
      await ok(viewer, 'room:join', { roomId: room.id });
      await watch(viewer, room.id);
      await ok(viewer, 'room:leave', { roomId: room.id });
    }
    await eventually(
      async () => JSON.stringify(await counts()) === JSON.stringify(baseline),
      10_000,
      'back to baseline',
    );
    // Disconnecting releases too.
    await ok(viewer, 'room:join', { roomId: room.id });
    await watch(viewer, room.id);
    viewer.close();
    await eventually(
      async () => JSON.stringify(await counts()) === JSON.stringify(baseline),
      10_000,
      'released on disconnect',
    );
  });

  it('tells the room to re-establish media when a worker dies, and serves again', async () => {
    const { room, studio } = await broadcastingRoom();
    const viewer = await connect(s.url, (await s.api.register()).token);
    await ok(viewer, 'room:join', { roomId: room.id });
    await watch(viewer, room.id);
    const stats = await s.lectern.media.stats();
    const origin = (await s.lectern.media.dump()).workers.find((w) =>
      w.routers.some((r) => r.roomId === room.id && r.role === 'origin'),
    )!;
    const reset = next(viewer, 'media:reset');
    process.kill(origin.pid, 'SIGKILL');
    expect(await reset).toEqual({ roomId: room.id });
    await eventually(
      async () => (await s.lectern.media.stats()).perWorker.every((w) => w.state === 'ready'),
      10_000,
      'worker replaced',
    );
    expect((await s.lectern.media.stats()).workers).toBe(stats.workers);
    expect((await ok(studio, 'media:join', { roomId: room.id })).canProduce).toBe(true);
    expect((await ok(viewer, 'media:join', { roomId: room.id })).routerRtpCapabilities).toBeTruthy();
  });

  it('exposes workers, routers, transports, producers, consumers and worker CPU on /metrics', async () => {
    const { room } = await broadcastingRoom();
    const viewer = await connect(s.url, (await s.api.register()).token);
    await ok(viewer, 'room:join', { roomId: room.id });
    await watch(viewer, room.id);
    const metrics = (await s.api.get('/metrics')).body as string;
    const value = (name: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(name) && !l.startsWith('#'))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    expect(value('lectern_media_workers')).toBe(2);
    for (const name of [
      'lectern_media_routers',
      'lectern_media_transports',
      'lectern_media_producers',
      'lectern_media_consumers',
    ]) {
      expect([name, value(name) > 0]).toEqual([name, true]);
    }
    expect(metrics).toMatch(/lectern_media_worker_cpu_seconds_total\{worker="0"\} [0-9.e-]+/);
  });

  it('ending the room releases its media', async () => {
    const { room } = await broadcastingRoom();
    const viewer = await connect(s.url, (await s.api.register()).token);
    await ok(viewer, 'room:join', { roomId: room.id });
    await watch(viewer, room.id);
    await s.api.post(`/api/rooms/${room.id}/end`, {}, owner.token);
    await eventually(() => !s.lectern.media.isRoomOpen(room.id), 5000, 'room media closed');
    const dump = await s.lectern.media.dump();
    expect(dump.workers.flatMap((w) => w.routers).some((r) => r.roomId === room.id)).toBe(false);
  });
});
