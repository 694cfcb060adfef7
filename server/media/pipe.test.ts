import { type ConsumerParams, createMediaPlane, type JoinedPeer, type MediaPlane } from './index';
import {
  eventually,
  fakeDtlsParameters,
  nextEvent,
  opusRtpParameters,
  sendVp8Frames,
  testLog,
  testOptions,
  vp8SimulcastRtpParameters,
} from './test-support';

describe('a room past one router (pipeToRouter across workers)', () => {
  let plane: MediaPlane;
  beforeAll(async () => {
    // Two consumers per router: the third viewer must be served from the other worker.
    plane = await createMediaPlane(testOptions({ maxConsumersPerRouter: 2 }), { log: testLog() });
  });
  afterAll(() => plane.close());

  it('serves new viewers from an edge router fed by the origin, with RTP flowing through', async () => {
    const roomId = 'big-room';
    const origin = await plane.openRoom(roomId);
    const owner = { roomId, peerId: 'owner' };
    await plane.joinPeer({ ...owner, canProduce: true });
    const ingest = await plane.createPlainTransport(owner);
    const cam = await plane.produce({
      ...owner,
      transportId: ingest.id,
      kind: 'video',
      source: 'camera',
      rtpParameters: vp8SimulcastRtpParameters(),
    });

    const viewers = ['v1', 'v2', 'v3'].map((peerId) => ({ roomId, peerId }));
    const joined: JoinedPeer[] = [];
    const consumers: Array<ConsumerParams & { recvId: string }> = [];
    for (const viewer of viewers) {
      const j = await plane.joinPeer({ ...viewer, canProduce: false });
      joined.push(j);
      const recv = await plane.createWebRtcTransport({ ...viewer, direction: 'recv' });
      await plane.connectTransport({ ...viewer, transportId: recv.id, dtlsParameters: fakeDtlsParameters() });
      const c = await plane.consume({
        ...viewer,
        transportId: recv.id,
        producerId: cam.producerId,
        rtpCapabilities: j.routerRtpCapabilities,
      });
      expect(c.type).toBe('simulcast');
      await plane.resumeConsumer({ ...viewer, consumerId: c.id });
      consumers.push({ ...c, recvId: recv.id });
    }
    expect(joined.map((j) => j.routerRole)).toEqual(['origin', 'origin', 'edge']);
    const edge = joined[2];
    expect(edge.workerIndex).not.toBe(origin.workerIndex);
    expect(edge.routerId).not.toBe(origin.routerId);

    // The worker's own view: the third viewer's consumer is on the edge router and its producer
    // there is the pipe producer (same id as the origin's, on a pipe transport); the origin
    // feeds it through a pipe consumer.
    const dump = await plane.dump();
    const edgeRouter = dump.workers[edge.workerIndex].routers.find((r) => r.id === edge.routerId)!;
    expect(edgeRouter).toMatchObject({ roomId, role: 'edge' });
    expect(edgeRouter.mapConsumerIdProducerId).toContainEqual({ key: consumers[2].id, value: cam.producerId });
    const pipeIn = edgeRouter.transports.find((t) => t.type === 'pipe')!;
    expect(pipeIn.producerIds).toEqual([cam.producerId]);
    const originRouter = dump.workers[origin.workerIndex].routers.find((r) => r.id === origin.routerId)!;
    const pipeOut = originRouter.transports.find((t) => t.type === 'pipe')!;
    expect(pipeOut.consumerIds).toHaveLength(1);
    expect(originRouter.mapProducerIdConsumerIds.find((m) => m.key === cam.producerId)?.values).toEqual(
      expect.arrayContaining([consumers[0].id, consumers[1].id, pipeOut.consumerIds[0]]),
    );

    // RTP in over UDP (three simulcast streams of VP8 key frames) crosses to the edge worker:
    // the ingest receives it, the origin's pipe sends it, the edge's pipe receives it.
    const sent = await sendVp8Frames(ingest.ip, ingest.port, 30);
    const flowing = await eventually(async () => {
      const workers = (await plane.dump()).workers;
      const edgePipe = workers[edge.workerIndex].routers
        .find((r) => r.id === edge.routerId)!
        .transports.find((t) => t.type === 'pipe')!;
      return edgePipe.rtpBytesReceived >= sent ? workers : undefined;
    });
    const originTransports = flowing[origin.workerIndex].routers.find((r) => r.id === origin.routerId)!.transports;
    expect(originTransports.find((t) => t.id === ingest.id)!.rtpBytesReceived).toBeGreaterThanOrEqual(sent);
    expect(originTransports.find((t) => t.type === 'pipe')!.rtpBytesSent).toBeGreaterThanOrEqual(sent);
    // Until a browser completes DTLS the viewer's consumer sends nothing; its stats say so.
    const edgeStats = await plane.consumerStats({ ...viewers[2], consumerId: consumers[2].id });
    expect(edgeStats).toContainEqual(expect.objectContaining({ type: 'outbound-rtp', mimeType: 'video/VP8' }));
    await plane.setPreferredLayers({ ...viewers[2], consumerId: consumers[2].id, spatialLayer: 0, temporalLayer: 0 });

    // A producer added later is piped too, before viewers hear of it.
    const added = nextEvent(plane, 'producerAdded');
    const mic = await plane.produce({
      ...owner,
      transportId: ingest.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: opusRtpParameters(),
    });
    expect(await added).toMatchObject({ producerId: mic.producerId });
    const audio = await plane.consume({
      ...viewers[2],
      transportId: consumers[2].recvId,
      producerId: mic.producerId,
      rtpCapabilities: edge.routerRtpCapabilities,
    });
    expect(audio.kind).toBe('audio');

    // Closing it at the origin reaches the viewer on the edge.
    const closedOnEdge = nextEvent(plane, 'consumerClosed', (e) => e.consumerId === audio.id);
    plane.closeProducer({ ...owner, producerId: mic.producerId });
    expect(await closedOnEdge).toMatchObject({ peerId: 'v3', reason: 'producerClosed' });

    // The last viewer of the edge leaves: the edge router and its pipes go away.
    plane.closePeer(viewers[2]);
    const stats = await plane.stats();
    expect(stats.perWorker[edge.workerIndex]).toMatchObject({ routers: 0, transports: 0, consumers: 0 });
    expect(stats.perWorker[origin.workerIndex]).toMatchObject({ routers: 1, transports: 3, consumers: 2 });
    plane.closeRoom(roomId);
    expect(await plane.stats()).toMatchObject({ routers: 0, transports: 0, producers: 0, consumers: 0 });
  });

  it('counts what viewers will consume, so a burst of joins spreads before anyone consumes', async () => {
    const roomId = 'burst-room';
    await plane.openRoom(roomId);
    const joins = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((peerId) => plane.joinPeer({ roomId, peerId, canProduce: false })),
    );
    // One planned consumer each (no producer yet counts as one): two fill the origin, two the
    // edge on the only other worker; the fifth overfills the least-loaded router (the origin).
    expect(joins.map((j) => j.routerRole)).toEqual(['origin', 'origin', 'edge', 'edge', 'origin']);
    plane.closeRoom(roomId);
  });
});
