import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createMediaPlane, type MediaPlane } from '../media';
import { fakeDtlsParameters, testLog, testOptions } from '../media/test-support';
import { createRecorder, type Recorder, type RecorderOptions } from './index';
import {
  ffprobe,
  firstPacketFlags,
  MemorySink,
  packetCount,
  type SinkPart,
  type Streamer,
  sleep,
  startStreamer,
  waitFor,
} from './test-support';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the live recorder (real mediasoup worker, real ffmpeg)', () => {
  let plane: MediaPlane;
  let workDir: string;
  const streamers: Streamer[] = [];
  const recorders: Recorder[] = [];

  beforeAll(async () => {
    plane = await createMediaPlane(testOptions({ maxConsumersPerRouter: 1 }), { log: testLog() });
    workDir = await mkdtemp(join(tmpdir(), 'lectern-recorder-'));
  });
  afterEach(async () => {
    await Promise.all(streamers.splice(0).map((s) => s.stop()));
    await Promise.all(recorders.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    await plane.close();
    await rm(workDir, { recursive: true, force: true });
  });

  async function recorder(sink: MemorySink, overrides: Partial<RecorderOptions> = {}, registry?: Registry) {
    const r = await createRecorder({
      plane,
      sink,
      log: testLog(),
      registry,
      options: {
        enabled: true,
        ffmpegPath: 'ffmpeg',
        workDir,
        nodeId: 'test-node',
        timings: { restartInitialMs: 300, touchIntervalMs: 1000 },
        ...overrides,
      },
    });
    recorders.push(r);
    return r;
  }

  async function goLive(roomId: string, sources: Parameters<typeof startStreamer>[2]) {
    await plane.openRoom(roomId);
    const owner = { roomId, peerId: `${roomId}-owner` };
    await plane.joinPeer({ ...owner, canProduce: true });
    const streamer = await startStreamer(plane, owner, sources);
    streamers.push(streamer);
    return { owner, streamer };
  }

  /** The room's part `seq` once it is running with `tracks` tracks. */
  const runningPart = (r: Recorder, roomId: string, seq: number, tracks: number) =>
    waitFor(() =>
      r
        .parts()
        .find((p) => p.roomId === roomId && p.seq === seq && p.state === 'running' && p.tracks.length === tracks),
    );

  const finished = (sink: MemorySink, roomId: string, seq: number) =>
    waitFor(() => sink.partsOf(roomId).find((p) => p.seq === seq && p.status !== 'recording'));

  async function expectMedia(part: SinkPart, videos: number, audios: number) {
    expect(part).toMatchObject({ status: 'done' });
    const probed = await ffprobe(part.localPath!);
    expect(probed.streams.filter((s) => s.codec_type === 'video').map((s) => s.codec_name)).toEqual(
      Array(videos).fill('vp8'),
    );
    expect(probed.streams.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name)).toEqual(
      Array(audios).fill('opus'),
    );
    for (const s of probed.streams) expect(await packetCount(part.localPath!, String(s.index))).toBeGreaterThan(0);
    expect(await firstPacketFlags(part.localPath!, 'v')).toMatch(/^K/);
    return probed;
  }

  it('records a room’s camera and microphone into one Matroska part, closed when the room’s media closes', async () => {
    const sink = new MemorySink();
    const registry = new Registry();
    const r = await recorder(sink, {}, registry);
    expect(r.status()).toEqual({ available: true, reason: null, active: 0 });
    const roomId = 'rec-basic';
    await goLive(roomId, ['camera', 'microphone']);

    const part = await runningPart(r, roomId, 1, 2);
    expect(part.tracks).toEqual([
      { source: 'camera', kind: 'video', stream: 0 },
      { source: 'microphone', kind: 'audio', stream: 1 },
    ]);
    expect(r.status().active).toBe(1);
    expect(await registry.getSingleMetricAsString('lectern_recordings_active')).toMatch(/ 1$/m);
    // The recorder's consumers are no viewers: the room has only its owner.
    expect((await plane.stats()).peers).toBe(1);
    const recordedFrom = Date.now();
    await sleep(4000);
    const recordedSeconds = (Date.now() - recordedFrom) / 1000;

    plane.closeRoom(roomId);
    const done = await finished(sink, roomId, 1);
    expect(sink.partsOf(roomId)).toHaveLength(1);
    expect(done.localPath).toBe(join(workDir, `asset-${roomId}`, '1.mkv'));
    expect(done.touches).toBeGreaterThan(0); // a long part is kept from looking abandoned
    const probed = await expectMedia(done, 1, 1);
    expect(probed.durationSeconds).toBeGreaterThan(recordedSeconds / 2);
    expect(probed.durationSeconds).toBeLessThan(recordedSeconds + 5);
    expect(r.status().active).toBe(0);
    expect(alive(part.pid!)).toBe(false);
    // The SDP was the recorder's own; only the part's file is left for the sink.
    expect(await readdir(join(workDir, `asset-${roomId}`))).toEqual(['1.mkv']);
  });

  it('starts a new part with both videos when the screen share starts, and one without it when it pauses', async () => {
    const sink = new MemorySink();
    const r = await recorder(sink);
    const roomId = 'rec-screen';
    const { owner } = await goLive(roomId, ['camera', 'microphone']);
    await runningPart(r, roomId, 1, 2);
    await sleep(2500);

    streamers.push(await startStreamer(plane, owner, ['screen']));
    const second = await runningPart(r, roomId, 2, 3);
    expect(second.tracks).toEqual([
      { source: 'screen', kind: 'video', stream: 0 },
      { source: 'camera', kind: 'video', stream: 1 },
      { source: 'microphone', kind: 'audio', stream: 2 },
    ]);
    await expectMedia(await finished(sink, roomId, 1), 1, 1);
    await sleep(3000);

    // The share is paused: the next part goes on without it.
    const screen = streamers.at(-1)!.producerIds.screen;
    await plane.pauseProducer({ ...owner, producerId: screen });
    const third = await runningPart(r, roomId, 3, 2);
    expect(third.tracks.map((t) => t.source)).toEqual(['camera', 'microphone']);
    await expectMedia(await finished(sink, roomId, 2), 2, 1);
    await sleep(2000);

    plane.closeRoom(roomId);
    await expectMedia(await finished(sink, roomId, 3), 1, 1);
    expect(sink.partsOf(roomId)).toHaveLength(3);
  });

  it('ends a part with what its ffmpeg wrote when it dies, and goes on in a new part', async () => {
    const sink = new MemorySink();
    const registry = new Registry();
    const r = await recorder(sink, {}, registry);
    const roomId = 'rec-crash';
    await goLive(roomId, ['camera', 'microphone']);
    const first = await runningPart(r, roomId, 1, 2);
    await sleep(3000);

    process.kill(first.pid!, 'SIGKILL');
    await expectMedia(await finished(sink, roomId, 1), 1, 1);
    const second = await runningPart(r, roomId, 2, 2);
    expect(second.pid).not.toBe(first.pid);
    await sleep(3000);
    plane.closeRoom(roomId);
    await expectMedia(await finished(sink, roomId, 2), 1, 1);
    expect(await registry.getSingleMetricAsString('lectern_recorder_restarts_total')).toMatch(/ 1$/m);
    expect(await registry.getSingleMetricAsString('lectern_recorder_failures_total')).toMatch(/ 0$/m);
  });

  it('gives up on a room whose ffmpeg keeps dying, and says so in its metrics', async () => {
    const sink = new MemorySink();
    const registry = new Registry();
    const r = await recorder(sink, { timings: { restartInitialMs: 100, maxDeaths: 3 } }, registry);
    const roomId = 'rec-crash-loop';
    await goLive(roomId, ['camera', 'microphone']);
    for (let seq = 1; seq <= 3; seq++) {
      const part = await runningPart(r, roomId, seq, 2);
      process.kill(part.pid!, 'SIGKILL');
      await finished(sink, roomId, seq);
    }
    await waitFor(async () =>
      / 1$/m.test(await registry.getSingleMetricAsString('lectern_recorder_failures_total')) ? true : undefined,
    );
    expect(await registry.getSingleMetricAsString('lectern_recorder_restarts_total')).toMatch(/ 2$/m);
    await sleep(1000);
    expect(r.parts()).toEqual([]);
    expect(sink.partsOf(roomId)).toHaveLength(3);
    expect(r.status()).toMatchObject({ available: true, active: 0 }); // other rooms still record
    plane.closeRoom(roomId);
  });

  it('without ffmpeg reports itself unavailable, records nothing, and the room streams to its viewers', async () => {
    const sink = new MemorySink();
    const r = await recorder(sink, { ffmpegPath: '/nonexistent/ffmpeg' });
    expect(r.status()).toMatchObject({ available: false, active: 0 });
    expect(r.status().reason).toMatch(/ffmpeg not found/);

    const roomId = 'rec-no-ffmpeg';
    const { streamer } = await goLive(roomId, ['camera', 'microphone']);
    // Two viewers: with one consumer per router, the second is served from an edge router that
    // the origin feeds over a pipe, where RTP arriving is observable.
    const viewers = ['v1', 'v2'].map((peerId) => ({ roomId, peerId }));
    const joined = [];
    for (const viewer of viewers) joined.push(await plane.joinPeer({ ...viewer, canProduce: false }));
    const edge = joined[1];
    expect(edge.routerRole).toBe('edge');
    const recv = await plane.createWebRtcTransport({ ...viewers[1], direction: 'recv' });
    await plane.connectTransport({ ...viewers[1], transportId: recv.id, dtlsParameters: fakeDtlsParameters() });
    const consumer = await plane.consume({
      ...viewers[1],
      transportId: recv.id,
      producerId: streamer.producerIds.camera,
      rtpCapabilities: edge.routerRtpCapabilities,
    });
    await plane.resumeConsumer({ ...viewers[1], consumerId: consumer.id });
    await waitFor(async () => {
      const router = (await plane.dump()).workers[edge.workerIndex].routers.find((x) => x.id === edge.routerId);
      return (router?.transports.find((t) => t.type === 'pipe')?.rtpBytesReceived ?? 0) > 10_000 ? true : undefined;
    });
    await sleep(1000);
    expect(sink.parts).toEqual([]);
    expect(r.parts()).toEqual([]);
    plane.closeRoom(roomId);
  });

  it('records rooms side by side and stops every ffmpeg when it closes', async () => {
    const sink = new MemorySink((roomId) => roomId !== 'rec-off');
    const r = await recorder(sink);
    const rooms = ['rec-a', 'rec-b'];
    for (const roomId of rooms) await goLive(roomId, ['camera', 'microphone']);
    await goLive('rec-off', ['camera']); // its creator turned recording off
    const parts = await Promise.all(rooms.map((roomId) => runningPart(r, roomId, 1, 2)));
    expect(new Set(parts.map((p) => p.pid)).size).toBe(2);
    await sleep(3000);
    expect(r.parts().map((p) => p.roomId)).toEqual(expect.arrayContaining(rooms));
    expect(r.parts()).toHaveLength(2);

    await r.close();
    await r.close(); // safe twice
    for (const p of parts) expect(alive(p.pid!)).toBe(false);
    for (const roomId of rooms) await expectMedia(sink.partsOf(roomId)[0], 1, 1);
    expect(sink.partsOf('rec-off')).toEqual([]);
    expect(r.status()).toMatchObject({ available: false, active: 0 });
    for (const roomId of [...rooms, 'rec-off']) plane.closeRoom(roomId);
  });
});
