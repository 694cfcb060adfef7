/**
 * The live recorder's cost: N rooms, each publishing a 720p30 VP8 + opus stream through the RTP
 * ingest (a pre-encoded clip sent as it is, so the streamers cost next to nothing), first without
 * then with recording. Reports the recorder ffmpeg's CPU per recorded room (from
 * /proc/<pid>/stat) and the mediasoup workers' CPU with and without the recording taps.
 * Needs a runnable mediasoup worker and ffmpeg; runs on its own, the bench server is unused.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createMediaPlane, type MediaPlane } from '../../server/media';
import { createRecorder } from '../../server/recording';
import {
  MemorySink,
  makeClip,
  type Streamer,
  sleep,
  startStreamer,
  waitFor,
} from '../../server/recording/test-support';
import { type BenchServer, json, post, request } from './harness';

const ROOMS = Number(process.env.BENCH_RECORDING_ROOMS ?? 4);
const SECONDS = Number(process.env.BENCH_RECORDING_SECONDS ?? 20);
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS = 100;

async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Memory of its own (private pages; the shared libraries' pages are shared by every ffmpeg). */
async function processPrivateMegabytes(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(rollup)?.[1] ?? 0);
  return (kb('Private_Clean') + kb('Private_Dirty')) / 1024;
}

async function workersCpuSeconds(plane: MediaPlane): Promise<number> {
  const stats = await plane.stats();
  return stats.perWorker.reduce((sum, w) => sum + (w.cpuMs ?? 0), 0) / 1000;
}

const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function recordingBench(_server?: unknown) {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-bench-recording-'));
  const log = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' });
  const plane = await createMediaPlane({ webRtcServerPort: 0, workerLogLevel: 'error' }, { log });
  const streamers: Streamer[] = [];
  // Recording is off until the measurement with recording: then rooms are refreshed, as when
  // creators turn recording on.
  let recording = false;
  const sink = new MemorySink(() => recording);
  const recorder = await createRecorder({
    plane,
    sink,
    log,
    options: { enabled: true, ffmpegPath: 'ffmpeg', workDir: join(dir, 'parts'), nodeId: 'bench' },
  });
  try {
    if (!plane.status().available) throw new Error(`media is unavailable: ${plane.status().reason}`);
    const clip = join(dir, 'clip.webm');
    await makeClip(clip, { size: '1280x720', fps: 30, seconds: 10, videoBitrate: '1500k' });
    const rooms = Array.from({ length: ROOMS }, (_, i) => `bench-rec-${i}`);
    for (const roomId of rooms) {
      await plane.openRoom(roomId);
      const owner = { roomId, peerId: `${roomId}-owner` };
      await plane.joinPeer({ ...owner, canProduce: true });
      streamers.push(await startStreamer(plane, owner, ['camera', 'microphone'], { clip }));
    }
    await sleep(3000); // streams settled

    // Without recording: what the workers spend on ingest alone.
    const idle0 = await workersCpuSeconds(plane);
    const idleStart = performance.now();
    await sleep(SECONDS * 1000);
    const idleWorkerCpu = (await workersCpuSeconds(plane)) - idle0;
    const idleSeconds = (performance.now() - idleStart) / 1000;

    // With recording.
    recording = true;
    const startedAt = performance.now();
    for (const roomId of rooms) recorder.refresh(roomId);
    const parts = await waitFor(() => {
      const running = recorder.parts().filter((p) => p.state === 'running');
      return running.length === ROOMS ? running : undefined;
    }, 60_000);
    const partStartSeconds = (performance.now() - startedAt) / 1000;
    await sleep(2000); // past the key frame requests and ffmpeg's probing
    const ffmpeg0 = await Promise.all(parts.map((p) => processCpuSeconds(p.pid!)));
    const rec0 = await workersCpuSeconds(plane);
    const recStart = performance.now();
    await sleep(SECONDS * 1000);
    const ffmpeg1 = await Promise.all(parts.map((p) => processCpuSeconds(p.pid!)));
    const recWorkerCpu = (await workersCpuSeconds(plane)) - rec0;
    const privateMegabytes = await Promise.all(parts.map((p) => processPrivateMegabytes(p.pid!)));
    const recSeconds = (performance.now() - recStart) / 1000;
    await recorder.close();

    const perRoomFfmpeg = ffmpeg1.map((c, i) => (c - ffmpeg0[i]) / recSeconds);
    const done = sink.parts.filter((p) => p.status === 'done');
    const bytes = await Promise.all(done.map((p) => stat(p.localPath!).then((s) => s.size)));
    const workerIdle = idleWorkerCpu / idleSeconds;
    const workerRec = recWorkerCpu / recSeconds;
    return {
      rooms: ROOMS,
      stream: '1280x720 30 fps VP8 ~1.5 Mbit/s + opus 64 kbit/s',
      seconds: SECONDS,
      secondsUntilEveryPartRuns: round(partStartSeconds, 2),
      ffmpegCpuSecondsPerSecondPerRoom: {
        mean: round(perRoomFfmpeg.reduce((a, b) => a + b, 0) / ROOMS),
        max: round(Math.max(...perRoomFfmpeg)),
      },
      ffmpegPrivateMegabytesPerRoom: round(Math.max(...privateMegabytes), 1),
      workerCpuSecondsPerSecond: {
        withoutRecording: round(workerIdle),
        withRecording: round(workerRec),
        addedPerRecordedRoom: round((workerRec - workerIdle) / ROOMS),
      },
      partsFinished: done.length,
      recordedMegabitsPerSecondPerRoom: round(
        (bytes.reduce((a, b) => a + b, 0) * 8) / 1e6 / ROOMS / (recSeconds + 2 + partStartSeconds),
        2,
      ),
    };
  } finally {
    await recorder.close();
    await Promise.all(streamers.map((s) => s.stop()));
    await plane.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Server settings of the replay benchmark: media on, one worker. */
export const REPLAY_BENCH_ENV = { MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1' };

/**
 * Seconds from the end of a live room to a playable replay: a room live for LIVE seconds with a
 * 720p30 camera and a microphone, recorded, ended through the API; then the time until
 * `GET /api/rooms/:id/replay` says ready (the compose job: layout, H.264/AAC, HLS).
 */
export async function replayBench(server: BenchServer) {
  const live = Number(process.env.BENCH_REPLAY_LIVE_SECONDS ?? 30);
  const { lectern } = server;
  const dir = await mkdtemp(join(tmpdir(), 'lectern-bench-replay-'));
  let streamer: Streamer | undefined;
  try {
    const creator = await json<{ token: string }>(
      await post(`${lectern.url}/api/auth/register`, {
        username: `bench_${Date.now().toString(36)}`,
        password: 'correct horse battery',
        role: 'creator',
      }),
    );
    const { room } = await json<{ room: { id: string } }>(
      await post(`${lectern.url}/api/rooms`, { title: 'Replay bench', access: 'free' }, creator.token),
    );
    await post(`${lectern.url}/api/rooms/${room.id}/start`, {}, creator.token);
    const clip = join(dir, 'clip.webm');
    await makeClip(clip, { size: '1280x720', fps: 30, seconds: 10, videoBitrate: '1500k' });
    await lectern.media.openRoom(room.id);
    const owner = { roomId: room.id, peerId: 'bench-owner' };
    await lectern.media.joinPeer({ ...owner, canProduce: true });
    streamer = await startStreamer(lectern.media, owner, ['camera', 'microphone'], { clip });
    await sleep(live * 1000);
    const endedAt = performance.now();
    await post(`${lectern.url}/api/rooms/${room.id}/end`, {}, creator.token);
    await streamer.stop();
    const media = await waitFor(async () => {
      const res = await json<{ media: { status: string; durationSeconds?: number } }>(
        await request('GET', `${lectern.url}/api/rooms/${room.id}/replay`, undefined, creator.token),
      );
      if (res.media.status === 'failed') throw new Error(`the replay failed: ${JSON.stringify(res.media)}`);
      return res.media.status === 'ready' ? res.media : undefined;
    }, 600_000);
    const seconds = (performance.now() - endedAt) / 1000;
    return {
      liveSeconds: live,
      stream: '1280x720 30 fps VP8 ~1.5 Mbit/s + opus',
      replaySeconds: media.durationSeconds,
      secondsFromEndToPlayable: round(seconds, 1),
      secondsPerReplayMinute: round((seconds / (media.durationSeconds ?? live)) * 60, 1),
    };
  } finally {
    await streamer?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// `npx tsx scripts/bench/recording.ts` runs it alone.
if (require.main === module) {
  recordingBench()
    .then((result) => {
      console.log(JSON.stringify({ recording: result }));
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
