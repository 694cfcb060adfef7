import { startTestServer, type TestServer } from '../helpers/server';
import { uploadVideo } from './helpers';

/** A node without ffmpeg: says so in /healthz, refuses uploads with UNAVAILABLE, serves the rest. */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ FFMPEG_PATH: '/nonexistent/ffmpeg', FFPROBE_PATH: '/nonexistent/ffprobe' });
});
afterAll(() => server?.close());

it('reports ffmpeg as missing in /healthz, degraded but serving', async () => {
  const health = await server.api.get('/healthz');
  expect(health.status).toBe(200);
  expect(health.body.status).toBe('degraded');
  expect(health.body.checks.ffmpeg).toMatchObject({ ok: false, required: false });
  expect(health.body.checks.ffmpeg.detail).toMatch(/ffmpeg/);
});

it('refuses a video upload with UNAVAILABLE and keeps nothing', async () => {
  const creator = await server.api.register('creator');
  const lesson = await server.api.content(creator.token);
  const res = await uploadVideo(server, creator.token, lesson.id, Buffer.from('x'.repeat(1000)), 'video/mp4');
  expect(res.status).toBe(503);
  expect(res.body.error.code).toBe('UNAVAILABLE');
  expect(await server.lectern.database.db.selectFrom('media_assets').select('id').execute()).toEqual([]);
  // Everything else works: rooms go live.
  const room = await server.api.room(creator.token);
  expect((await server.api.post(`/api/rooms/${room.id}/start`, {}, creator.token)).status).toBe(200);
});
