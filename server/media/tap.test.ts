import { createSocket, type Socket } from 'node:dgram';
import { createMediaPlane, type MediaPlane, type MediaPlaneEvents, type RecordingTap } from './index';
import {
  codeOf,
  eventually,
  nextEvent,
  opusRtpParameters,
  sendVp8Frames,
  testLog,
  testOptions,
  vp8SimulcastRtpParameters,
} from './test-support';

/** A local RTP/RTCP receiver pair, as a recorder's ffmpeg would listen. */
async function receiver(): Promise<{ rtp: Socket; rtcp: Socket; packets: Buffer[]; close(): void }> {
  const bind = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => resolve(socket));
    });
  for (;;) {
    const rtp = await bind(0);
    const rtcp = await bind(rtp.address().port + 1).catch(() => null);
    if (!rtcp) {
      rtp.close();
      continue;
    }
    const packets: Buffer[] = [];
    rtp.on('message', (msg) => packets.push(msg));
    return {
      rtp,
      rtcp,
      packets,
      close() {
        rtp.close();
        rtcp.close();
      },
    };
  }
}

describe('recording taps (real mediasoup workers)', () => {
  let plane: MediaPlane;
  beforeAll(async () => {
    plane = await createMediaPlane(testOptions(), { log: testLog() });
  });
  afterAll(() => plane.close());

  it('sends producers as plain RTP to a local receiver without counting as a peer', async () => {
    const roomId = 'tap-room';
    await plane.openRoom(roomId);
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
    const mic = await plane.produce({
      ...owner,
      transportId: ingest.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: opusRtpParameters(),
    });

    const tap = await plane.openRecordingTap(roomId);
    expect(tap.roomId).toBe(roomId);
    expect(await codeOf(() => tap.consume('no-such-producer'))).toBe('NOT_FOUND');
    const video = await tap.consume(cam.producerId);
    expect(video).toMatchObject({ producerId: cam.producerId, kind: 'video', source: 'camera', type: 'simulcast' });
    expect(video.rtpParameters.codecs.map((c) => c.mimeType)).toEqual(['video/VP8']); // no RTX
    const audio = await tap.consume(mic.producerId);
    expect(audio).toMatchObject({ kind: 'audio', source: 'microphone', type: 'simple' });

    const out = await receiver();
    try {
      await tap.connect(video.id, { rtpPort: out.rtp.address().port, rtcpPort: out.rtcp.address().port });
      expect(await codeOf(() => tap.connect(video.id, { rtpPort: out.rtp.address().port, rtcpPort: 1 }))).toBe(
        'CONFLICT',
      );
      await tap.resume(video.id);
      await tap.requestKeyFrame(video.id);
      await tap.requestKeyFrame(audio.id); // a no-op for audio

      // Key frames on all three layers reach the receiver as one stream, under the consumer's own SSRC.
      const videoSsrc = video.rtpParameters.encodings![0].ssrc!;
      for (let frame = 0; frame < 60 && out.packets.length < 5; frame += 10) {
        await sendVp8Frames(ingest.ip, ingest.port, 10, frame);
        await new Promise((r) => setTimeout(r, 50));
      }
      await eventually(() => (out.packets.length >= 5 ? true : undefined));
      expect(out.packets.every((p) => p.readUInt32BE(8) === videoSsrc)).toBe(true);
      expect(out.packets[0][1] & 0x7f).toBe(video.rtpParameters.codecs[0].payloadType);

      // Not a viewer, not a peer: the room's counts are the owner's.
      const stats = await plane.stats();
      expect(stats.peers).toBe(1);
    } finally {
      out.close();
    }

    // A stream whose producer closes goes away with its transport; the tap stays usable.
    const before = (await plane.stats()).transports;
    plane.closeProducer({ ...owner, producerId: mic.producerId });
    expect(await codeOf(() => tap.resume(audio.id))).toBe('NOT_FOUND');
    await eventually(async () => ((await plane.stats()).transports === before - 1 ? true : undefined));
    tap.closeConsumer(video.id);
    tap.closeConsumer(video.id); // safe twice
    expect((await plane.stats()).transports).toBe(before - 2);

    const again = await tap.consume(cam.producerId);
    expect(again.producerPaused).toBe(false);
    tap.close();
    tap.close();
    expect(tap.closed).toBe(true);
    expect(await codeOf(() => tap.consume(cam.producerId))).toBe('NOT_FOUND');
    expect((await plane.stats()).transports).toBe(before - 2);
    plane.closeRoom(roomId);
  });

  it('announces roomClosing before the media goes, for every reason, and closes the taps with the room', async () => {
    const seen: Array<MediaPlaneEvents['roomClosing']> = [];
    let tapRef: RecordingTap | null = null;
    let tapOpenWhileClosing = false;
    const off = plane.on('roomClosing', (e) => {
      seen.push(e);
      tapOpenWhileClosing = tapRef !== null && !tapRef.closed;
    });

    // Ended: closeRoom.
    await plane.openRoom('ending');
    await plane.joinPeer({ roomId: 'ending', peerId: 'owner', canProduce: true });
    tapRef = await plane.openRecordingTap('ending');
    plane.closeRoom('ending');
    expect(seen.map((e) => [e.roomId, e.reason])).toEqual([['ending', 'ended']]);
    expect(tapOpenWhileClosing).toBe(true);
    expect(tapRef.closed).toBe(true);

    // Idle: the last peer leaves; a tap alone does not keep the room open.
    await plane.openRoom('idle');
    await plane.joinPeer({ roomId: 'idle', peerId: 'owner', canProduce: true });
    tapRef = await plane.openRecordingTap('idle');
    plane.closePeer({ roomId: 'idle', peerId: 'owner' });
    expect(seen.at(-1)).toMatchObject({ roomId: 'idle', reason: 'idle' });
    expect(plane.isRoomOpen('idle')).toBe(false);
    expect(tapRef.closed).toBe(true);
    expect(await codeOf(() => plane.openRecordingTap('idle'))).toBe('NOT_FOUND');
    off();
  });

  it('says workerDied before roomMediaReset when the worker dies', async () => {
    const other = await createMediaPlane(testOptions({ numWorkers: 1 }), { log: testLog() });
    try {
      const info = await other.openRoom('doomed');
      await other.joinPeer({ roomId: 'doomed', peerId: 'owner', canProduce: true });
      const tap = await other.openRecordingTap('doomed');
      const order: string[] = [];
      other.on('roomClosing', (e) => order.push(`closing:${e.reason}`));
      other.on('roomMediaReset', () => order.push('reset'));
      const reset = nextEvent(other, 'roomMediaReset');
      process.kill((await other.stats()).perWorker[info.workerIndex].pid!, 'SIGKILL');
      await reset;
      expect(order).toEqual(['closing:workerDied', 'reset']);
      expect(tap.closed).toBe(true);
      await nextEvent(other, 'workerReady');
      await other.openRoom('left-open');
      const closing = nextEvent(other, 'roomClosing');
      await other.close();
      expect(await closing).toEqual({ roomId: 'left-open', reason: 'planeClosed' });
    } finally {
      await other.close();
    }
  });
});
