import { Registry } from 'prom-client';
import { createMediaPlane, type MediaPlane } from './index';
import { codeOf, nextEvent, testLog, testOptions } from './test-support';

describe('a media worker that dies', () => {
  let plane: MediaPlane;
  const registry = new Registry();
  beforeAll(async () => {
    plane = await createMediaPlane(testOptions({ maxConsumersPerRouter: 1 }), { log: testLog(), registry });
  });
  afterAll(() => plane.close());

  async function killWorker(index: number) {
    const before = (await plane.stats()).perWorker[index];
    const ready = nextEvent(plane, 'workerReady', (e) => e.index === index);
    process.kill(before.pid!, 'SIGKILL');
    return { before, ready };
  }

  it('is replaced on the same WebRtcServer ports; its rooms are reset and can be reopened', async () => {
    // Empty rooms spread over the workers: one on each.
    const a = await plane.openRoom('room-a');
    const b = await plane.openRoom('room-b');
    expect(a.workerIndex).not.toBe(b.workerIndex);
    await plane.joinPeer({ roomId: 'room-a', peerId: 'owner', canProduce: true });
    await plane.createWebRtcTransport({ roomId: 'room-a', peerId: 'owner', direction: 'send' });

    const reset = nextEvent(plane, 'roomMediaReset');
    const died = nextEvent(plane, 'workerDied', (e) => e.index === a.workerIndex);
    const { before, ready } = await killWorker(a.workerIndex);
    expect(await died).toMatchObject({ index: a.workerIndex, pid: before.pid });
    expect(await reset).toEqual({ roomId: 'room-a', reason: 'workerDied' });
    const replaced = await ready;
    expect(replaced.pid).not.toBe(before.pid);
    expect(replaced).toMatchObject({ udpPort: before.udpPort, tcpPort: before.tcpPort });

    // Room b lived on the other worker and is untouched; room a's peers are gone.
    expect(plane.isRoomOpen('room-b')).toBe(true);
    expect(plane.isRoomOpen('room-a')).toBe(false);
    expect(
      await codeOf(() => plane.createWebRtcTransport({ roomId: 'room-a', peerId: 'owner', direction: 'send' })),
    ).toBe('NOT_FOUND');

    const reopened = await plane.openRoom('room-a');
    await plane.joinPeer({ roomId: 'room-a', peerId: 'owner', canProduce: true });
    const send = await plane.createWebRtcTransport({ roomId: 'room-a', peerId: 'owner', direction: 'send' });
    const worker = (await plane.stats()).perWorker[reopened.workerIndex];
    expect(send.iceCandidates).toContainEqual(expect.objectContaining({ protocol: 'udp', port: worker.udpPort }));

    const stats = await plane.stats();
    expect(stats.perWorker[a.workerIndex]).toMatchObject({ state: 'ready', deaths: 1, pid: replaced.pid });
    expect(await registry.getSingleMetricAsString('lectern_media_worker_deaths_total')).toContain(' 1');
    expect(await registry.getSingleMetricAsString('lectern_media_room_resets_total')).toContain(' 1');
    plane.closeRoom('room-a');
    plane.closeRoom('room-b');
  });

  it('resets a room whose edge router lived on it, though its origin was elsewhere', async () => {
    const origin = await plane.openRoom('big');
    await plane.joinPeer({ roomId: 'big', peerId: 'v1', canProduce: false });
    const onEdge = await plane.joinPeer({ roomId: 'big', peerId: 'v2', canProduce: false });
    expect(onEdge.routerRole).toBe('edge');
    expect(onEdge.workerIndex).not.toBe(origin.workerIndex);

    const reset = nextEvent(plane, 'roomMediaReset', (e) => e.roomId === 'big');
    const { ready } = await killWorker(onEdge.workerIndex);
    await reset;
    await ready;
    expect(plane.isRoomOpen('big')).toBe(false);
    // Nothing of the room is left on the surviving worker either.
    expect((await plane.stats()).perWorker[origin.workerIndex]).toMatchObject({ routers: 0, transports: 0 });
    expect(plane.status()).toMatchObject({ available: true, workersReady: 2 });
  });
});

describe('a media worker that keeps dying', () => {
  it('is restarted at once the first time, then with a doubling delay', async () => {
    const base = 50;
    const plane = await createMediaPlane(testOptions({ numWorkers: 1, workerRestartDelayMs: base }), {
      log: testLog(),
    });
    try {
      const delays: number[] = [];
      for (let i = 0; i < 4; i++) {
        const { pid } = (await plane.stats()).perWorker[0];
        const died = nextEvent(plane, 'workerDied');
        const ready = nextEvent(plane, 'workerReady');
        process.kill(pid!, 'SIGKILL');
        delays.push((await died).restartDelayMs);
        expect((await ready).pid).not.toBe(pid);
      }
      // Four deaths within the window: a crash loop is slowed down, yet every worker was replaced.
      expect(delays).toEqual([0, base, 2 * base, 4 * base]);
      expect((await plane.stats()).perWorker[0]).toMatchObject({ state: 'ready', deaths: 4 });
    } finally {
      await plane.close();
    }
  });
});

describe('a call in flight when its worker dies', () => {
  let plane: MediaPlane;
  beforeAll(async () => {
    plane = await createMediaPlane(testOptions({ numWorkers: 2 }), { log: testLog(), registry: new Registry() });
  });
  afterAll(() => plane.close());

  it('is refused UNAVAILABLE (ask again), not CONFLICT (clients give up on that)', async () => {
    const stats = await plane.stats();
    const ready = Promise.all(stats.perWorker.map((w) => nextEvent(plane, 'workerReady', (e) => e.index === w.index)));
    // Every worker killed; the server has not noticed yet, so the room is placed on a dead one
    // and mediasoup aborts the request when the worker's channel closes.
    for (const w of stats.perWorker) process.kill(w.pid!, 'SIGKILL');
    expect(await codeOf(() => plane.openRoom('doomed'))).toBe('UNAVAILABLE');
    await ready;
    expect((await plane.openRoom('doomed')).roomId).toBe('doomed');
    plane.closeRoom('doomed');
  });
});
