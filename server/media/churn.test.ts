import { createMediaPlane, type JoinedPeer, type MediaPlane } from './index';
import { fakeDtlsParameters, opusRtpParameters, testLog, testOptions, vp8SimulcastRtpParameters } from './test-support';

const CYCLES = 200;

describe('peers joining and leaving', () => {
  let plane: MediaPlane;
  beforeAll(async () => {
    plane = await createMediaPlane(testOptions({ maxConsumersPerRouter: 2 }), { log: testLog() });
  });
  afterAll(() => plane.close());

  /** A viewer's whole life: join, recv transport, connect, consume everything, resume, leave. */
  async function visit(roomId: string, peerId: string, producerIds: string[], revoke: boolean): Promise<JoinedPeer> {
    const viewer = { roomId, peerId };
    const joined = await plane.joinPeer({ ...viewer, canProduce: false });
    const recv = await plane.createWebRtcTransport({ ...viewer, direction: 'recv' });
    await plane.connectTransport({ ...viewer, transportId: recv.id, dtlsParameters: fakeDtlsParameters() });
    for (const producerId of producerIds) {
      const c = await plane.consume({
        ...viewer,
        transportId: recv.id,
        producerId,
        rtpCapabilities: joined.routerRtpCapabilities,
      });
      await plane.resumeConsumer({ ...viewer, consumerId: c.id });
    }
    if (revoke) expect(plane.revokeConsumers(viewer)).toBe(producerIds.length);
    plane.closePeer(viewer);
    return joined;
  }

  it(`leaves no transport, consumer or router behind after ${CYCLES} join/leave cycles`, async () => {
    const roomId = 'churn';
    const origin = await plane.openRoom(roomId);
    const owner = { roomId, peerId: 'owner' };
    await plane.joinPeer({ ...owner, canProduce: true });
    const ingest = await plane.createPlainTransport(owner);
    const producerIds = [
      (
        await plane.produce({
          ...owner,
          transportId: ingest.id,
          kind: 'video',
          source: 'camera',
          rtpParameters: vp8SimulcastRtpParameters(),
        })
      ).producerId,
      (
        await plane.produce({
          ...owner,
          transportId: ingest.id,
          kind: 'audio',
          source: 'microphone',
          rtpParameters: opusRtpParameters(),
        })
      ).producerId,
    ];
    const baseline = await plane.stats();

    // First half: the origin has room, viewers land there.
    const roles = new Set<string>();
    for (let i = 0; i < CYCLES / 2; i++) roles.add((await visit(roomId, `a${i}`, producerIds, i % 5 === 0)).routerRole);
    expect(roles).toEqual(new Set(['origin']));
    expect(await plane.stats()).toEqual({ ...baseline, perWorker: expect.any(Array) });

    // Second half: a resident viewer fills the origin (2 consumers), so every visitor gets an
    // edge router on the other worker, piped from the origin, torn down when it leaves.
    const resident = { roomId, peerId: 'resident' };
    const residentJoin = await plane.joinPeer({ ...resident, canProduce: false });
    const recv = await plane.createWebRtcTransport({ ...resident, direction: 'recv' });
    for (const producerId of producerIds) {
      await plane.consume({
        ...resident,
        transportId: recv.id,
        producerId,
        rtpCapabilities: residentJoin.routerRtpCapabilities,
      });
    }
    roles.clear();
    for (let i = 0; i < CYCLES / 2; i++) roles.add((await visit(roomId, `b${i}`, producerIds, i % 5 === 0)).routerRole);
    expect(roles).toEqual(new Set(['edge']));
    plane.closePeer(resident);

    // Observer counts are back where they started...
    const after = await plane.stats();
    expect(after).toMatchObject({ routers: 1, transports: 1, producers: 2, consumers: 0, peers: 1, rooms: 1 });
    expect(after).toEqual({ ...baseline, perWorker: expect.any(Array) });
    // ...and so is the workers' own view: one router (the origin) holding the ingest transport
    // and its two producers, nobody consuming them.
    const dump = await plane.dump();
    const routers = dump.workers.flatMap((w) => w.routers);
    expect(routers.map((r) => r.id)).toEqual([origin.routerId]);
    expect(routers[0].transports).toEqual([expect.objectContaining({ id: ingest.id, type: 'plain', consumerIds: [] })]);
    expect(routers[0].mapConsumerIdProducerId).toEqual([]);
    expect(routers[0].mapProducerIdConsumerIds.map((m) => m.values)).toEqual([[], []]);

    plane.closeRoom(roomId);
    const dumpAfterClose = await plane.dump();
    expect(dumpAfterClose.workers.map((w) => w.routerIds)).toEqual([[], []]);
  });
});
