import { randomUUID } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { analyticsDrained } from '../analytics/drain';
import { makeRecordingPart, mediaDir } from '../helpers/media-files';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { mediaGet, waitForMedia } from './helpers';

/**
 * A room's recording as the recorder hands it over (parts through the RecordingSink), turned into
 * the replay when the room ends, and who may watch it. The recorder itself, with mediasoup and a
 * live stream, is tested in server/recording and the browser e2e suite.
 */
let server: TestServer;
let creator: Account;
const media = mediaDir();
let partFile: string;

beforeAll(async () => {
  server = await startTestServer({ HLS_SEGMENT_SECONDS: '1' });
  creator = await server.api.register('creator');
  partFile = await makeRecordingPart(media.file('part.mkv'), 3);
});
afterAll(async () => {
  await server?.close();
  media.cleanup();
});

/** A live room recorded in `parts` parts, then ended; resolves once its replay is ready. */
async function recordedRoom(fields: Record<string, unknown>, parts = 1) {
  const room = await server.api.room(creator.token, fields);
  expect((await server.api.post(`/api/rooms/${room.id}/start`, {}, creator.token)).status).toBe(200);
  const sink = server.lectern.vod.recordings;
  const recording = await sink.openRecording(room.id);
  expect(recording).not.toBeNull();
  for (let i = 0; i < parts; i++) {
    const seq = await sink.startPart(recording!.assetId, [
      { source: 'camera', kind: 'video', stream: 0 },
      { source: 'microphone', kind: 'audio', stream: 1 },
    ]);
    const copy = media.file(`part-${randomUUID()}.mkv`);
    copyFileSync(partFile, copy);
    await sink.finishPart(recording!.assetId, seq, { localPath: copy });
  }
  expect((await server.api.post(`/api/rooms/${room.id}/end`, {}, creator.token)).status).toBe(200);
  const replay = await waitForMedia(server, `/api/rooms/${room.id}/replay`, creator.token);
  return { room, replay };
}

describe('a room replay', () => {
  it('is made from every part when the room ends, back to back', async () => {
    const { room, replay } = await recordedRoom({ access: 'free' }, 2);
    expect(replay.durationSeconds).toBeGreaterThan(5.5);
    expect(replay.durationSeconds).toBeLessThan(6.6);
    expect((await server.api.get(`/api/rooms/${room.id}`)).body.room.hasReplay).toBe(true);
    // The raw parts are not kept once the replay exists.
    expect(await server.lectern.store.list(`assets/${replay.id}/parts/`)).toEqual([]);
  });

  it('of a free room plays for everyone, guests too', async () => {
    const { room } = await recordedRoom({ access: 'free' });
    const asGuest = await server.api.get(`/api/rooms/${room.id}/replay`);
    expect(asGuest.status).toBe(200);
    expect((await mediaGet(server, asGuest.body.media.playlistUrl)).status).toBe(200);
    expect(asGuest.body.media.trim).toBeUndefined(); // the trim is the creator's business
  });

  it('of a ticket room plays for ticket holders only', async () => {
    const room = await server.api.room(creator.token, { access: 'ticket', ticketPrice: 500 });
    const [holder, other] = await Promise.all([server.api.register(), server.api.register()]);
    await server.api.topUp(holder.token, 1000);
    expect((await server.api.post('/api/purchases', { roomId: room.id }, holder.token, randomUUID())).status).toBe(201);
    await server.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const sink = server.lectern.vod.recordings;
    const { assetId } = (await sink.openRecording(room.id))!;
    const seq = await sink.startPart(assetId, [
      { source: 'camera', kind: 'video', stream: 0 },
      { source: 'microphone', kind: 'audio', stream: 1 },
    ]);
    const copy = media.file('ticket-part.mkv');
    copyFileSync(partFile, copy);
    await sink.finishPart(assetId, seq, { localPath: copy });
    // While live the replay is not there yet: it says it is being recorded.
    const during = await server.api.get(`/api/rooms/${room.id}/replay`, holder.token);
    expect(during.body.media).toMatchObject({ status: 'processing', stage: 'recording' });
    await server.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);
    await waitForMedia(server, `/api/rooms/${room.id}/replay`, creator.token);

    const mine = await server.api.get(`/api/rooms/${room.id}/replay`, holder.token);
    expect(mine.status).toBe(200);
    expect(mine.body.media.status).toBe('ready');
    expect(mine.body.progress).toBeNull();
    const refused = await server.api.get(`/api/rooms/${room.id}/replay`, other.token);
    expect(refused.status).toBe(402);
    expect(refused.body.error.details).toBeUndefined();
    expect((await server.api.get(`/api/rooms/${room.id}/replay`)).status).toBe(401);
    // Once the creator sells it as a lesson, the refusal says where to buy it.
    const lesson = await server.api.post(
      `/api/rooms/${room.id}/replay/lesson`,
      { title: 'Replay', price: 300 },
      creator.token,
    );
    const offered = await server.api.get(`/api/rooms/${room.id}/replay`, other.token);
    expect(offered.status).toBe(402);
    expect(offered.body.error.details).toEqual({ lessonId: lesson.body.content.id });
    // Where the holder stopped comes back with the replay.
    await server.api.post('/api/progress', { roomId: room.id, positionSeconds: 2, durationSeconds: 3 }, holder.token);
    expect((await server.api.get(`/api/rooms/${room.id}/replay`, holder.token)).body.progress).toMatchObject({
      positionSeconds: 2,
      completed: false,
    });
    // It is in the holder's library.
    const library = await server.api.get('/api/library', holder.token);
    expect(library.body.items).toEqual([
      expect.objectContaining({ kind: 'replay', roomId: room.id, via: 'ticket', status: 'ready' }),
    ]);
  });

  it('of a subscribers room plays for subscribers while subscribed', async () => {
    await server.api.request('PATCH', '/api/creators/me', {
      token: creator.token,
      body: { subscriptionPrice: 300, subscriptionPeriodDays: 30 },
    });
    const { room } = await recordedRoom({ access: 'subscribers' });
    const fan = await server.api.register();
    await server.api.topUp(fan.token, 1000);
    expect((await server.api.get(`/api/rooms/${room.id}/replay`, fan.token)).status).toBe(402);
    const sub = await server.api.post('/api/subscriptions', { creatorId: creator.user.id }, fan.token, randomUUID());
    expect(sub.status).toBe(201);
    expect((await server.api.get(`/api/rooms/${room.id}/replay`, fan.token)).status).toBe(200);
    // The period ends: so does the replay.
    await server.lectern.database.db
      .updateTable('subscriptions')
      .set({ current_period_end: new Date(Date.now() - 1000) })
      .where('subscriber_id', '=', fan.user.id)
      .execute();
    expect((await server.api.get(`/api/rooms/${room.id}/replay`, fan.token)).status).toBe(402);
  });

  it('can be trimmed by its creator: the playlist keeps only the segments inside', async () => {
    const { room, replay } = await recordedRoom({ access: 'free' }, 2);
    const full = replay.durationSeconds!;
    const trimmed = await server.api.request('PATCH', `/api/rooms/${room.id}/replay`, {
      token: creator.token,
      body: { startSeconds: 1, endSeconds: 4 },
    });
    expect(trimmed.status).toBe(200);
    expect(trimmed.body.media.trim).toMatchObject({ startSeconds: 1, endSeconds: 4 });
    expect(trimmed.body.media.durationSeconds).toBeGreaterThanOrEqual(2.9);
    expect(trimmed.body.media.durationSeconds).toBeLessThan(full - 1.5);
    // Lists say the same length as the player (whole segments).
    const lesson = await server.api.post(
      `/api/rooms/${room.id}/replay/lesson`,
      { title: 'Trimmed', price: 100 },
      creator.token,
    );
    expect(lesson.body.content.durationSeconds).toBe(trimmed.body.media.durationSeconds);
    const text = await (await mediaGet(server, trimmed.body.media.playlistUrl)).text();
    const durations = text
      .split('\n')
      .filter((l) => l.startsWith('#EXTINF:'))
      .map((l) => Number.parseFloat(l.slice(8)));
    expect(durations.reduce((a, b) => a + b, 0)).toBeCloseTo(trimmed.body.media.durationSeconds, 2);

    const other = await server.api.register('creator');
    const foreign = await server.api.request('PATCH', `/api/rooms/${room.id}/replay`, {
      token: other.token,
      body: { startSeconds: 0, endSeconds: null },
    });
    expect(foreign.status).toBe(403);
    const backwards = await server.api.request('PATCH', `/api/rooms/${room.id}/replay`, {
      token: creator.token,
      body: { startSeconds: 3, endSeconds: 2 },
    });
    expect(backwards.status).toBe(400);
  });

  it('can be sold as a lesson, and deleted from the room while the lesson keeps it', async () => {
    const { room, replay } = await recordedRoom({ access: 'free' });
    const sold = await server.api.post(
      `/api/rooms/${room.id}/replay/lesson`,
      { title: 'The replay, as a lesson', price: 800, description: 'Recorded live', tags: ['math'] },
      creator.token,
    );
    expect(sold.status).toBe(201);
    expect(sold.body.content).toMatchObject({ kind: 'lesson', price: 800, hasVideo: true });
    expect(sold.body.content.durationSeconds).toBeCloseTo(replay.durationSeconds!, 0);

    const buyer = await server.api.register();
    await server.api.topUp(buyer.token, 1000);
    expect((await server.api.get(`/api/contents/${sold.body.content.id}/media`, buyer.token)).status).toBe(402);
    await server.api.post('/api/purchases', { contentId: sold.body.content.id }, buyer.token, randomUUID());
    const lesson = await server.api.get(`/api/contents/${sold.body.content.id}/media`, buyer.token);
    expect(lesson.status).toBe(200);

    const deleted = await server.api.request('DELETE', `/api/rooms/${room.id}/replay`, { token: creator.token });
    expect(deleted.status).toBe(204);
    expect((await server.api.get(`/api/rooms/${room.id}/replay`, creator.token)).status).toBe(404);
    expect((await server.api.get(`/api/rooms/${room.id}`)).body.room.hasReplay).toBe(false);
    const still = await server.api.get(`/api/contents/${sold.body.content.id}/media`, buyer.token);
    expect(still.body.media.status).toBe('ready');
    expect((await mediaGet(server, still.body.media.playlistUrl)).status).toBe(200);
  });

  it('sold as a lesson by an admin is the room owner’s lesson, and its sales are theirs', async () => {
    const { room } = await recordedRoom({ access: 'free' });
    const admin = await server.admin();
    const sold = await server.api.post(
      `/api/rooms/${room.id}/replay/lesson`,
      { title: 'Made by support', price: 600 },
      admin.token,
    );
    expect(sold.status).toBe(201);
    expect(sold.body.content).toMatchObject({ creatorId: creator.user.id, hasVideo: true });
    // Another creator still may not.
    const other = await server.api.register('creator');
    const foreign = await server.api.post(`/api/rooms/${room.id}/replay/lesson`, { title: 'x', price: 1 }, other.token);
    expect(foreign.status).toBe(403);
    // A buyer pays the room's owner, not the admin who made the lesson.
    const buyer = await server.api.register();
    await server.api.topUp(buyer.token, 1000);
    const bought = await server.api.post(
      '/api/purchases',
      { contentId: sold.body.content.id },
      buyer.token,
      randomUUID(),
    );
    expect(bought.body.purchase.creatorId).toBe(creator.user.id);
  });

  it('deleted when nothing else uses it takes its files with it', async () => {
    const { room, replay } = await recordedRoom({ access: 'free' });
    expect((await server.lectern.store.list(`assets/${replay.id}/`)).length).toBeGreaterThan(0);
    await server.api.request('DELETE', `/api/rooms/${room.id}/replay`, { token: creator.token });
    expect(await server.lectern.store.list(`assets/${replay.id}/`)).toEqual([]);
    expect((await mediaGet(server, replay.playlistUrl)).status).toBe(404);
  });

  it('is not made for a room recorded with recording off, nor for a room that recorded nothing', async () => {
    const off = await server.api.room(creator.token, { access: 'free', record: false });
    await server.api.post(`/api/rooms/${off.id}/start`, {}, creator.token);
    expect(await server.lectern.vod.recordings.openRecording(off.id)).toBeNull();
    await server.api.post(`/api/rooms/${off.id}/end`, {}, creator.token);
    expect((await server.api.get(`/api/rooms/${off.id}/replay`, creator.token)).status).toBe(404);

    const silent = await server.api.room(creator.token, { access: 'free' });
    await server.api.post(`/api/rooms/${silent.id}/start`, {}, creator.token);
    const { assetId } = (await server.lectern.vod.recordings.openRecording(silent.id))!;
    const seq = await server.lectern.vod.recordings.startPart(assetId, []);
    await server.lectern.vod.recordings.finishPart(assetId, seq, { error: 'ffmpeg wrote nothing' });
    await server.api.post(`/api/rooms/${silent.id}/end`, {}, creator.token);
    const failed = await waitForMedia(server, `/api/rooms/${silent.id}/replay`, creator.token, 'failed');
    expect(failed.error!.code).toBe('EMPTY_RECORDING');
  });
});

describe('watch progress and the library', () => {
  it('remembers where a viewer stopped and records the completion once', async () => {
    const { room, replay } = await recordedRoom({ access: 'free' });
    const viewer = await server.api.register();
    const first = await server.api.post(
      '/api/progress',
      { roomId: room.id, positionSeconds: 1, durationSeconds: replay.durationSeconds },
      viewer.token,
    );
    expect(first.status).toBe(200);
    expect(first.body.progress).toMatchObject({ positionSeconds: 1, completed: false });
    const last = await server.api.post(
      '/api/progress',
      { roomId: room.id, positionSeconds: replay.durationSeconds! - 0.1, durationSeconds: replay.durationSeconds },
      viewer.token,
    );
    expect(last.body.progress.completed).toBe(true);
    const row = await server.lectern.database.db
      .selectFrom('watch_progress')
      .selectAll()
      .where('user_id', '=', viewer.user.id)
      .executeTakeFirstOrThrow();
    expect(row.completed_at).not.toBeNull();
    // Reaching the end again is not a second completion.
    await server.api.post(
      '/api/progress',
      { roomId: room.id, positionSeconds: replay.durationSeconds!, durationSeconds: replay.durationSeconds },
      viewer.token,
    );
    // The creator watching their own replay keeps a position but is not counted as a viewer.
    await server.api.post(
      '/api/progress',
      { roomId: room.id, positionSeconds: replay.durationSeconds!, durationSeconds: replay.durationSeconds },
      creator.token,
    );
    // The dashboard's completion per replay, from the engagement stream.
    await analyticsDrained(server.lectern);
    const report = await server.api.get('/api/analytics/creator', creator.token);
    expect(report.body.watching).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ itemKind: 'replay', itemId: room.id, viewers: 1, completions: 1, completionRate: 1 }),
      ]),
    );
    expect(
      (
        await server.api.post(
          '/api/progress',
          { roomId: room.id, contentId: room.id, positionSeconds: 1, durationSeconds: 2 },
          viewer.token,
        )
      ).status,
    ).toBe(400);
    expect(
      (await server.api.post('/api/progress', { roomId: room.id, positionSeconds: 1, durationSeconds: 2 })).status,
    ).toBe(401);
  });
});
