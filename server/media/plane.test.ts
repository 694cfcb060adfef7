import { Registry } from 'prom-client';
import { createMediaPlane, type MediaPlane } from './index';
import {
  codeOf,
  eventually,
  fakeDtlsParameters,
  nextEvent,
  opusRtpParameters,
  testLog,
  testOptions,
  vp8SimulcastRtpParameters,
} from './test-support';

describe('media plane (real mediasoup workers)', () => {
  let plane: MediaPlane;
  const registry = new Registry();

  beforeAll(async () => {
    plane = await createMediaPlane(testOptions(), { log: testLog(), registry });
  });
  afterAll(() => plane.close());

  it('starts available with a WebRtcServer per worker', async () => {
    expect(plane.status()).toMatchObject({ available: true, reason: null, workersReady: 2, workersConfigured: 2 });
    const stats = await plane.stats();
    expect(stats.workers).toBe(2);
    for (const w of stats.perWorker) {
      expect(w.state).toBe('ready');
      expect(w.udpPort).toBeGreaterThan(0);
      expect(w.tcpPort).toBeGreaterThan(0);
      expect(w.cpuMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('refuses to let a peer without canProduce publish (FORBIDDEN)', async () => {
    const roomId = 'room-forbidden';
    await plane.openRoom(roomId);
    const viewer = { roomId, peerId: 'viewer' };
    await plane.joinPeer({ ...viewer, canProduce: false });

    expect(await codeOf(() => plane.createWebRtcTransport({ ...viewer, direction: 'send' }))).toBe('FORBIDDEN');
    expect(await codeOf(() => plane.createPlainTransport(viewer))).toBe('FORBIDDEN');
    const recv = await plane.createWebRtcTransport({ ...viewer, direction: 'recv' });
    expect(
      await codeOf(() =>
        plane.produce({
          ...viewer,
          transportId: recv.id,
          kind: 'video',
          source: 'camera',
          rtpParameters: vp8SimulcastRtpParameters(),
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(plane.listProducers(roomId)).toEqual([]);
    plane.closeRoom(roomId);
  });

  it('runs the publish / consume dance for the owner and a viewer', async () => {
    const roomId = 'room-dance';
    const opened = await plane.openRoom(roomId);
    expect(await plane.openRoom(roomId)).toEqual(opened); // idempotent
    const owner = { roomId, peerId: 'owner' };
    const viewer = { roomId, peerId: 'viewer' };
    const joinedOwner = await plane.joinPeer({ ...owner, canProduce: true });
    expect(joinedOwner).toMatchObject({ routerRole: 'origin', routerId: opened.routerId, producers: [] });
    expect(await codeOf(() => plane.joinPeer({ ...owner, canProduce: true }))).toBe('CONFLICT');
    expect(plane.routerRtpCapabilities(owner).codecs?.map((c) => c.mimeType)).toEqual(
      expect.arrayContaining(['audio/opus', 'video/VP8', 'video/VP9', 'video/H264']),
    );

    // The send transport a browser would get: ICE candidates on the worker's WebRtcServer port.
    const send = await plane.createWebRtcTransport({ ...owner, direction: 'send' });
    const worker = (await plane.stats()).perWorker[opened.workerIndex];
    expect(send.iceCandidates).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ protocol: 'udp', address: '127.0.0.1', port: worker.udpPort }),
        expect.objectContaining({ protocol: 'tcp', address: '127.0.0.1', port: worker.tcpPort }),
      ]),
    );
    await plane.connectTransport({ ...owner, transportId: send.id, dtlsParameters: fakeDtlsParameters() });
    expect(
      await codeOf(() =>
        plane.connectTransport({ ...owner, transportId: send.id, dtlsParameters: fakeDtlsParameters() }),
      ),
    ).toBe('CONFLICT');
    const restarted = await plane.restartIce({ ...owner, transportId: send.id });
    expect(restarted.usernameFragment).not.toBe(send.iceParameters.usernameFragment);

    // Bad input is the caller's problem, in words it can act on.
    expect(
      await codeOf(() =>
        plane.produce({
          ...owner,
          transportId: send.id,
          kind: 'audio',
          source: 'camera',
          rtpParameters: opusRtpParameters(),
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await codeOf(() =>
        plane.produce({
          ...owner,
          transportId: send.id,
          kind: 'video',
          source: 'camera',
          rtpParameters: { codecs: [{ mimeType: 'video/AV2', payloadType: 99, clockRate: 90000 }], encodings: [{}] },
        }),
      ),
    ).toBe('INVALID_ARGUMENT');

    const added = nextEvent(plane, 'producerAdded', (e) => e.roomId === roomId);
    const mic = await plane.produce({
      ...owner,
      transportId: send.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: opusRtpParameters(),
    });
    expect(await added).toEqual({ roomId, ...mic });
    expect(mic).toMatchObject({ kind: 'audio', source: 'microphone', peerId: 'owner', paused: false });
    expect(
      await codeOf(() =>
        plane.produce({
          ...owner,
          transportId: send.id,
          kind: 'audio',
          source: 'microphone',
          rtpParameters: opusRtpParameters(),
        }),
      ),
    ).toBe('CONFLICT');

    const joinedViewer = await plane.joinPeer({ ...viewer, canProduce: false });
    expect(joinedViewer.producers).toEqual([mic]);
    const recv = await plane.createWebRtcTransport({ ...viewer, direction: 'recv' });
    const deviceCaps = joinedViewer.routerRtpCapabilities;
    expect(
      await codeOf(() =>
        plane.consume({ ...viewer, transportId: send.id, producerId: mic.producerId, rtpCapabilities: deviceCaps }),
      ),
    ).toBe('NOT_FOUND'); // someone else's transport
    expect(
      await codeOf(() =>
        plane.consume({ ...viewer, transportId: recv.id, producerId: mic.producerId, rtpCapabilities: { codecs: [] } }),
      ),
    ).toBe('INVALID_ARGUMENT');
    const consumer = await plane.consume({
      ...viewer,
      transportId: recv.id,
      producerId: mic.producerId,
      rtpCapabilities: deviceCaps,
    });
    expect(consumer).toMatchObject({ producerId: mic.producerId, kind: 'audio', type: 'simple', source: 'microphone' });
    await plane.resumeConsumer({ ...viewer, consumerId: consumer.id });
    await plane.pauseConsumer({ ...viewer, consumerId: consumer.id });

    const paused = nextEvent(plane, 'producerPaused');
    await plane.pauseProducer({ ...owner, producerId: mic.producerId });
    expect(await paused).toEqual({ roomId, peerId: 'owner', producerId: mic.producerId });
    const resumed = nextEvent(plane, 'producerResumed');
    await plane.resumeProducer({ ...owner, producerId: mic.producerId });
    expect(await resumed).toEqual({ roomId, peerId: 'owner', producerId: mic.producerId });

    // A paid preview ends: the consumers go and no new one is allowed until access returns.
    const revoked = nextEvent(plane, 'consumerClosed');
    expect(plane.revokeConsumers(viewer)).toBe(1);
    expect(await revoked).toMatchObject({ consumerId: consumer.id, reason: 'revoked' });
    expect(
      await codeOf(() =>
        plane.consume({ ...viewer, transportId: recv.id, producerId: mic.producerId, rtpCapabilities: deviceCaps }),
      ),
    ).toBe('FORBIDDEN');
    plane.allowConsume(viewer);
    const again = await plane.consume({
      ...viewer,
      transportId: recv.id,
      producerId: mic.producerId,
      rtpCapabilities: deviceCaps,
    });

    // The owner stops the microphone: viewers hear of the producer and lose their consumer.
    const producerClosed = nextEvent(plane, 'producerClosed');
    const consumerClosed = nextEvent(plane, 'consumerClosed');
    plane.closeProducer({ ...owner, producerId: mic.producerId });
    expect(await producerClosed).toEqual({ roomId, peerId: 'owner', producerId: mic.producerId });
    expect(await consumerClosed).toMatchObject({ consumerId: again.id, reason: 'producerClosed' });
    expect(plane.listProducers(roomId)).toEqual([]);

    plane.closePeer(viewer);
    plane.closePeer(viewer); // twice is fine
    expect(await codeOf(() => plane.createWebRtcTransport({ ...viewer, direction: 'recv' }))).toBe('NOT_FOUND');
    plane.closeRoom(roomId);
    plane.closeRoom(roomId);
    expect(await codeOf(() => plane.joinPeer({ ...viewer, canProduce: false }))).toBe('NOT_FOUND');
    const after = await plane.stats();
    expect(after).toMatchObject({ rooms: 0, peers: 0, routers: 0, transports: 0, producers: 0, consumers: 0 });
  });

  it('announces a publisher leaving as producers closing', async () => {
    const roomId = 'room-owner-leaves';
    await plane.openRoom(roomId);
    const owner = { roomId, peerId: 'owner' };
    await plane.joinPeer({ ...owner, canProduce: true });
    const ingest = await plane.createPlainTransport(owner);
    expect(ingest).toMatchObject({ ip: '127.0.0.1' });
    const cam = await plane.produce({
      ...owner,
      transportId: ingest.id,
      kind: 'video',
      source: 'camera',
      rtpParameters: vp8SimulcastRtpParameters(),
    });
    const closed = nextEvent(plane, 'producerClosed');
    plane.closePeer(owner);
    expect(await closed).toEqual({ roomId, peerId: 'owner', producerId: cam.producerId });
    plane.closeRoom(roomId);
  });

  it('opens a room once however many ask at the same time, and spreads rooms over workers', async () => {
    const same = await Promise.all([plane.openRoom('twice'), plane.openRoom('twice')]);
    expect(same[0]).toEqual(same[1]);
    plane.closeRoom('twice');
    const rooms = await Promise.all(['s1', 's2', 's3', 's4'].map((id) => plane.openRoom(id)));
    expect(rooms.map((r) => r.workerIndex).sort()).toEqual([0, 0, 1, 1]);
    for (const r of rooms) plane.closeRoom(r.roomId);
  });

  it('drops a peer closed while it was still joining, and a room closed while it was opening', async () => {
    await plane.openRoom('hasty');
    const joining = plane.joinPeer({ roomId: 'hasty', peerId: 'p', canProduce: false });
    plane.closePeer({ roomId: 'hasty', peerId: 'p' });
    expect(await codeOf(() => joining)).toBe('CONFLICT');
    expect(await codeOf(() => plane.routerRtpCapabilities({ roomId: 'hasty', peerId: 'p' }))).toBe('NOT_FOUND');
    plane.closeRoom('hasty');

    const opening = plane.openRoom('brief');
    plane.closeRoom('brief');
    expect(await codeOf(() => opening)).toBe('CONFLICT');
    expect(plane.isRoomOpen('brief')).toBe(false);
    expect(await plane.stats()).toMatchObject({ rooms: 0, peers: 0, routers: 0 });
  });

  it('closes a room’s media when its last peer leaves, and opens it again for the next', async () => {
    const first = await plane.openRoom('idle');
    await plane.joinPeer({ roomId: 'idle', peerId: 'a', canProduce: false });
    await plane.joinPeer({ roomId: 'idle', peerId: 'b', canProduce: true });
    plane.closePeer({ roomId: 'idle', peerId: 'b' });
    expect(plane.isRoomOpen('idle')).toBe(true); // a is still watching
    plane.closePeer({ roomId: 'idle', peerId: 'a' });
    expect(plane.isRoomOpen('idle')).toBe(false);
    expect(await plane.stats()).toMatchObject({ rooms: 0, peers: 0, routers: 0 });
    const again = await plane.openRoom('idle');
    expect(again.routerId).not.toBe(first.routerId);
    // A join cancelled by its own peer leaving leaves no empty room behind either.
    const joining = plane.joinPeer({ roomId: 'idle', peerId: 'c', canProduce: false });
    plane.closePeer({ roomId: 'idle', peerId: 'c' });
    expect(await codeOf(() => joining)).toBe('CONFLICT');
    expect(plane.isRoomOpen('idle')).toBe(false);
    expect(await plane.stats()).toMatchObject({ rooms: 0, routers: 0 });
  });

  it('exports lectern_media_* metrics', async () => {
    await plane.openRoom('room-metrics');
    const text = await registry.metrics();
    for (const name of [
      'lectern_media_available 1',
      'lectern_media_workers 2',
      'lectern_media_rooms 1',
      'lectern_media_routers{worker=',
      'lectern_media_transports{worker=',
      'lectern_media_producers{worker=',
      'lectern_media_consumers{worker=',
      'lectern_media_worker_cpu_seconds_total{worker="0"}',
      'lectern_media_worker_deaths_total 0',
    ]) {
      expect(text).toContain(name);
    }
    plane.closeRoom('room-metrics');
  });

  it('close() is idempotent, stops the workers and turns every media call into UNAVAILABLE', async () => {
    const other = await createMediaPlane(testOptions({ numWorkers: 1 }), { log: testLog(), registry: new Registry() });
    await other.openRoom('r');
    await other.joinPeer({ roomId: 'r', peerId: 'p', canProduce: true });
    const [pid] = (await other.stats()).perWorker.map((w) => w.pid!);
    await Promise.all([other.close(), other.close()]);
    await other.close();
    expect(other.status()).toMatchObject({ available: false, reason: 'the media plane is closed' });
    expect(await codeOf(() => other.openRoom('r'))).toBe('UNAVAILABLE');
    expect(await codeOf(() => other.joinPeer({ roomId: 'r', peerId: 'q', canProduce: false }))).toBe('UNAVAILABLE');
    other.closePeer({ roomId: 'r', peerId: 'p' });
    other.closeRoom('r');
    // The worker process is gone (signal 0 only probes).
    await eventually(() => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
  });
});
