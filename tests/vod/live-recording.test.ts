import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Streamer, sleep, startStreamer } from '../../server/recording/test-support';
import { probeJson } from '../helpers/media-files';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { mediaGet, waitForMedia } from './helpers';

/**
 * The whole path on one node, with a real mediasoup worker and real ffmpeg: a room goes live, its
 * owner publishes camera and microphone (ffmpeg into an RTP ingest stands in for the browser),
 * the recorder writes parts while live, the room ends, and its replay becomes playable HLS.
 */
let server: TestServer;
let creator: Account;
const streamers: Streamer[] = [];

beforeAll(async () => {
  server = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1', HLS_SEGMENT_SECONDS: '2' });
  creator = await server.api.register('creator');
});
afterAll(async () => {
  await Promise.all(streamers.map((s) => s.stop()));
  await server?.close();
});

async function goLive(fields: Record<string, unknown>) {
  const room = await server.api.room(creator.token, fields);
  expect((await server.api.post(`/api/rooms/${room.id}/start`, {}, creator.token)).status).toBe(200);
  const { media } = server.lectern;
  await media.openRoom(room.id);
  const owner = { roomId: room.id, peerId: `owner-${randomUUID()}` };
  await media.joinPeer({ ...owner, canProduce: true });
  const streamer = await startStreamer(media, owner, ['camera', 'microphone'], { size: '320x240', fps: 15 });
  streamers.push(streamer);
  return { room, streamer };
}

it('records a live room and turns the recording into its replay when it ends', async () => {
  const { room, streamer } = await goLive({ access: 'ticket', ticketPrice: 400 });
  // The recorder is writing a part with both tracks while the room is live.
  const until = Date.now() + 20_000;
  while (!server.lectern.recorder.parts().some((p) => p.roomId === room.id && p.state === 'running')) {
    if (Date.now() > until) throw new Error('the recorder did not start a part');
    await sleep(100);
  }
  const [part] = server.lectern.recorder.parts().filter((p) => p.roomId === room.id);
  expect(part.tracks.map((t) => t.source)).toEqual(['camera', 'microphone']);
  const during = await server.api.get(`/api/rooms/${room.id}/replay`, creator.token);
  expect(during.body.media).toMatchObject({ status: 'processing', stage: 'recording' });

  await sleep(5_000);
  await server.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);
  await streamer.stop();
  const replay = await waitForMedia(server, `/api/rooms/${room.id}/replay`, creator.token, 'ready', 90_000);
  // About the time it was live (the part starts a moment after the first packets).
  expect(replay.durationSeconds).toBeGreaterThan(3);
  expect(replay.durationSeconds).toBeLessThan(9);

  // What a player gets: the playlist, then a segment with video and audio from the start.
  const playlist = await (await mediaGet(server, replay.playlistUrl)).text();
  const first = playlist.split('\n').find((l) => l.startsWith('seg_'))!;
  const base = replay.playlistUrl.split('index.m3u8')[0];
  const segment = Buffer.from(await (await mediaGet(server, `${base}${first}`)).arrayBuffer());
  const file = path.join(tmpdir(), `lectern-replay-${randomUUID()}.ts`);
  writeFileSync(file, segment);
  try {
    const probed = await probeJson(file);
    const kinds = probed.streams.map((s: { codec_type: string }) => s.codec_type).sort();
    expect(kinds).toEqual(['audio', 'video']);
    expect(probed.streams.find((s: { codec_type: string }) => s.codec_type === 'video').codec_name).toBe('h264');
  } finally {
    rmSync(file, { force: true });
  }
  expect((await server.api.get(`/api/rooms/${room.id}/replay`)).status).toBe(401);
});

it('does not record a room whose creator turned recording off', async () => {
  const { room, streamer } = await goLive({ access: 'free', record: false });
  await sleep(2_500);
  expect(server.lectern.recorder.parts().filter((p) => p.roomId === room.id)).toEqual([]);
  await server.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);
  await streamer.stop();
  expect((await server.api.get(`/api/rooms/${room.id}/replay`, creator.token)).status).toBe(404);
});

it('says in /healthz that it records', async () => {
  const health = await server.api.get('/healthz');
  expect(health.body.checks.recording).toMatchObject({ ok: true });
  expect(health.body.checks.ffmpeg).toMatchObject({ ok: true });
});
