import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { MediaUrlSigner } from '../../server/storage';
import { makeVideo, mediaDir } from '../helpers/media-files';
import { type Account, startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server';
import { mediaGet, uploadVideo, waitForMedia } from './helpers';

let server: TestServer;
let creator: Account;
let buyer: Account;
let stranger: Account;
const media = mediaDir();

beforeAll(async () => {
  server = await startTestServer({ MEDIA_UPLOAD_MAX_BYTES: String(5 * 1024 * 1024), HLS_SEGMENT_SECONDS: '1' });
  [creator, buyer, stranger] = await Promise.all([
    server.api.register('creator'),
    server.api.register('viewer'),
    server.api.register('viewer'),
  ]);
  await server.api.topUp(buyer.token, 10_000);
});
afterAll(async () => {
  await server?.close();
  media.cleanup();
});

describe('a lesson video', () => {
  let lessonId: string;
  let playlistUrl: string;

  beforeAll(async () => {
    lessonId = (await server.api.content(creator.token, { title: 'Eigenvalues', price: 900 })).id;
    const file = await makeVideo(media.file('lesson.mp4'), { seconds: 4 });
    const res = await uploadVideo(server, creator.token, lessonId, readFileSync(file), 'video/mp4');
    expect(res.status).toBe(202);
    expect(res.body.media).toMatchObject({ status: 'processing' });
    const ready = await waitForMedia(server, `/api/contents/${lessonId}/media`, creator.token);
    expect(ready).toMatchObject({ status: 'ready' });
    expect(ready.durationSeconds).toBeGreaterThan(3.5);
    expect(ready.durationSeconds).toBeLessThan(4.6);
    playlistUrl = ready.playlistUrl;
  });

  it('becomes HLS the creator can play: a VOD playlist of signed segments', async () => {
    expect(playlistUrl).toMatch(/^\/media\/a\/[0-9a-f-]{36}\/index\.m3u8\?u=.+&e=\d+&s=.+$/);
    const playlist = await mediaGet(server, playlistUrl);
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('content-type')).toContain('mpegurl');
    expect(playlist.headers.get('cache-control')).toContain('no-store');
    const text = await playlist.text();
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text).toContain('#EXT-X-ENDLIST');
    const segments = text.split('\n').filter((l) => l.startsWith('seg_'));
    expect(segments.length).toBeGreaterThanOrEqual(3);
    const segment = await mediaGet(
      server,
      `${new URL(segments[0], `http://x${playlistUrl}`).pathname}?${segments[0].split('?')[1]}`,
    );
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');
    expect(segment.headers.get('cache-control')).toContain('immutable');
    const bytes = Buffer.from(await segment.arrayBuffer());
    expect(bytes[0]).toBe(0x47); // MPEG-TS sync byte
  });

  it('answers Range requests with the bytes asked for', async () => {
    const text = await (await mediaGet(server, playlistUrl)).text();
    const segment = text.split('\n').find((l) => l.startsWith('seg_'))!;
    const url = `${playlistUrl.split('index.m3u8')[0]}${segment}`;
    const whole = Buffer.from(await (await mediaGet(server, url)).arrayBuffer());
    const part = await mediaGet(server, url, { range: 'bytes=188-375' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 188-375/${whole.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(188, 376))).toBe(true);
    const tail = await mediaGet(server, url, { range: 'bytes=-188' });
    expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(whole.length - 188))).toBe(true);
    const outside = await mediaGet(server, url, { range: `bytes=${whole.length + 10}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${whole.length}`);
  });

  it('is refused to a non-buyer (402) and a guest (401), and playable once bought', async () => {
    const guest = await server.api.get(`/api/contents/${lessonId}/media`);
    expect(guest.status).toBe(401);
    const nonBuyer = await server.api.get(`/api/contents/${lessonId}/media`, stranger.token);
    expect(nonBuyer.status).toBe(402);
    expect(nonBuyer.body.error.code).toBe('PAYMENT_REQUIRED');
    expect(nonBuyer.body.media).toBeUndefined();

    const bought = await server.api.post('/api/purchases', { contentId: lessonId }, buyer.token, randomUUID());
    expect(bought.status).toBe(201);
    const mine = await server.api.get(`/api/contents/${lessonId}/media`, buyer.token);
    expect(mine.status).toBe(200);
    expect(mine.body.media.playlistUrl).toContain(`u=${buyer.user.id}`);
    expect((await mediaGet(server, mine.body.media.playlistUrl)).status).toBe(200);
  });

  it('refuses forged, tampered and expired links', async () => {
    const url = new URL(playlistUrl, 'http://x');
    const forged = new URL(url);
    forged.searchParams.set('s', 'A'.repeat(43));
    expect((await mediaGet(server, forged.pathname + forged.search)).status).toBe(403);

    // Someone else's name on a valid signature.
    const renamed = new URL(url);
    renamed.searchParams.set('u', stranger.user.id);
    expect((await mediaGet(server, renamed.pathname + renamed.search)).status).toBe(403);

    // A signature for the playlist does not open a segment.
    const text = await (await mediaGet(server, playlistUrl)).text();
    const segment = text
      .split('\n')
      .find((l) => l.startsWith('seg_'))!
      .split('?')[0];
    expect((await mediaGet(server, url.pathname.replace('index.m3u8', segment) + url.search)).status).toBe(403);

    // Genuinely signed, but expired.
    const signer = new MediaUrlSigner(TEST_JWT_SECRET, true);
    const path = url.pathname.replace(/^\/media\//, '');
    const expired = await mediaGet(
      server,
      `/media/${path}?${signer.query(path, creator.user.id, Date.now() / 1000 - 5)}`,
    );
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as any).error.message).toMatch(/expired/);
    const fresh = await mediaGet(
      server,
      `/media/${path}?${signer.query(path, creator.user.id, Date.now() / 1000 + 60)}`,
    );
    expect(fresh.status).toBe(200);

    expect((await mediaGet(server, url.pathname)).status).toBe(403); // unsigned
  });

  it('serves nothing outside the packaged segments (no traversal, no sources)', async () => {
    const url = new URL(playlistUrl, 'http://x');
    const assetId = url.pathname.split('/')[3];
    for (const path of [
      `/media/a/${assetId}/..%2f..%2fsource`,
      `/media/a/${assetId}/source`,
      `/media/a/../../etc/passwd`,
      '/media/public/covers/../../assets',
      `/media/public/${assetId}`,
    ]) {
      const res = await mediaGet(server, `${path}${url.search}`);
      expect([403, 404]).toContain(res.status);
    }
  });
});

describe('uploads that cannot become a video', () => {
  it('a file that is not a video ends failed with NOT_A_VIDEO, leaving no HLS', async () => {
    const lesson = await server.api.content(creator.token, { title: 'Not a video' });
    const res = await uploadVideo(
      server,
      creator.token,
      lesson.id,
      Buffer.from('hello, I am text\n'.repeat(100)),
      'video/mp4',
    );
    expect(res.status).toBe(202);
    const failed = await waitForMedia(server, `/api/contents/${lesson.id}/media`, creator.token, 'failed');
    expect(failed.error?.code).toBe('NOT_A_VIDEO');
    expect(failed.playlistUrl).toBeUndefined();
    expect(await server.lectern.store.list(`assets/${failed.id}/`)).toEqual([]);
  });

  it('a truncated video ends failed, leaving nothing half-made', async () => {
    const lesson = await server.api.content(creator.token, { title: 'Truncated' });
    const whole = readFileSync(await makeVideo(media.file('whole.mp4'), { seconds: 4 }));
    const res = await uploadVideo(
      server,
      creator.token,
      lesson.id,
      whole.subarray(0, Math.floor(whole.length * 0.6)),
      'video/mp4',
    );
    expect(res.status).toBe(202);
    const failed = await waitForMedia(server, `/api/contents/${lesson.id}/media`, creator.token, 'failed');
    expect(['CORRUPT', 'NOT_A_VIDEO']).toContain(failed.error?.code);
    expect(await server.lectern.store.list(`assets/${failed.id}/`)).toEqual([]);
  });

  it('a file over the size limit is refused with 413 PAYLOAD_TOO_LARGE and nothing is kept', async () => {
    const lesson = await server.api.content(creator.token, { title: 'Too big' });
    const before = await server.lectern.database.db.selectFrom('media_assets').select('id').execute();
    const big = Buffer.alloc(6 * 1024 * 1024, 1);
    const res = await uploadVideo(server, creator.token, lesson.id, big, 'video/mp4');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const after = await server.lectern.database.db.selectFrom('media_assets').select('id').execute();
    expect(after).toEqual(before);
    expect((await server.api.get(`/api/contents/${lesson.id}`, creator.token)).body.content.hasVideo).toBe(false);
  });

  it('the same through multipart, streamed past the limit without Content-Length', async () => {
    const lesson = await server.api.content(creator.token, { title: 'Too big, multipart' });
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(6 * 1024 * 1024, 2)], { type: 'video/mp4' }), 'big.mp4');
    const res = await fetch(`${server.url}/api/contents/${lesson.id}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creator.token}` },
      body: form,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('only the creator uploads, only to a lesson, only as video/* or multipart', async () => {
    const lesson = await server.api.content(creator.token, { title: 'Mine' });
    const other = await server.api.register('creator');
    const body = Buffer.from('x');
    expect((await uploadVideo(server, other.token, lesson.id, body, 'video/mp4')).status).toBe(403);
    expect((await uploadVideo(server, buyer.token, lesson.id, body, 'video/mp4')).status).toBe(403);
    expect((await uploadVideo(server, undefined, lesson.id, body, 'video/mp4')).status).toBe(401);
    expect((await uploadVideo(server, creator.token, lesson.id, body, 'text/plain')).status).toBe(400);
    const course = await server.api.content(creator.token, { title: 'A course', kind: 'course', itemIds: [lesson.id] });
    expect((await uploadVideo(server, creator.token, course.id, body, 'video/mp4')).status).toBe(400);
  });
});

describe('free trials and multipart uploads', () => {
  it('a free-trial lesson of a course plays for guests; the course page lists the syllabus', async () => {
    const trial = await server.api.content(creator.token, { title: 'Intro', price: 300, freeTrial: true });
    const paid = await server.api.content(creator.token, { title: 'Deep dive', price: 700, notes: '# Secret notes' });
    const course = await server.api.content(creator.token, {
      title: 'Linear algebra',
      kind: 'course',
      price: 900,
      itemIds: [trial.id, paid.id],
    });
    const file = await makeVideo(media.file('trial.webm'), { seconds: 2, codec: 'vp8' });
    const form = new FormData();
    form.append('file', new Blob([readFileSync(file)], { type: 'video/webm' }), 'trial.webm');
    const up = await fetch(`${server.url}/api/contents/${trial.id}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creator.token}` },
      body: form,
    });
    expect(up.status).toBe(202);
    await waitForMedia(server, `/api/contents/${trial.id}/media`, creator.token);

    const asGuest = await server.api.get(`/api/contents/${trial.id}/media`);
    expect(asGuest.status).toBe(200);
    expect((await mediaGet(server, asGuest.body.media.playlistUrl)).status).toBe(200);

    const page = await server.api.get(`/api/contents/${course.id}`);
    expect(page.status).toBe(200);
    expect(page.body.owned).toBe(false);
    expect(page.body.syllabus.map((i: any) => [i.title, i.freeTrial, i.hasVideo])).toEqual([
      ['Intro', true, true],
      ['Deep dive', false, false],
    ]);
    expect(page.body.syllabus[0].durationSeconds).toBeGreaterThan(1.5);

    // Where a buyer stopped in each lesson shows on the course page.
    expect(page.body.canWatch).toBe(false);
    expect(page.body.syllabus[0].progress).toBeUndefined();
    // The notes are for those who own the lesson.
    expect((await server.api.get(`/api/contents/${paid.id}`, stranger.token)).body.notes).toBeUndefined();
    await server.api.post('/api/purchases', { contentId: course.id }, buyer.token, randomUUID());
    expect((await server.api.get(`/api/contents/${paid.id}`, buyer.token)).body.notes).toBe('# Secret notes');
    await server.api.post(
      '/api/progress',
      { contentId: trial.id, positionSeconds: 1, durationSeconds: 2 },
      buyer.token,
    );
    const mine = await server.api.get(`/api/contents/${course.id}`, buyer.token);
    expect(mine.body.canWatch).toBe(true);
    expect(mine.body.syllabus.map((i: any) => i.progress?.positionSeconds ?? null)).toEqual([1, null]);
  });

  it('only lessons can be free trials', async () => {
    const res = await server.api.post(
      '/api/contents',
      { title: 'A bundle', kind: 'bundle', price: 100, freeTrial: true },
      creator.token,
    );
    expect(res.status).toBe(400);
  });
});

it('tells the pages its upload limits and currency', async () => {
  const res = await server.api.get('/api/limits');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ currency: 'USD', uploadMaxBytes: 5 * 1024 * 1024, attachmentsPerContent: 20 });
});

describe('attachments and covers', () => {
  it('a PDF attachment is listed to all and downloadable by those who own the lesson', async () => {
    const lesson = await server.api.content(creator.token, { title: 'With slides', price: 400 });
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const up = await server.api.request('POST', `/api/contents/${lesson.id}/attachments?filename=slides.pdf`, {
      token: creator.token,
      raw: pdf as unknown as string,
      headers: { 'content-type': 'application/pdf' },
    });
    expect(up.status).toBe(201);
    expect(up.body.attachment).toMatchObject({ filename: 'slides.pdf', mime: 'application/pdf', bytes: pdf.length });

    const asStranger = await server.api.get(`/api/contents/${lesson.id}`, stranger.token);
    expect(asStranger.body.attachments).toEqual([
      { id: up.body.attachment.id, filename: 'slides.pdf', mime: 'application/pdf', bytes: pdf.length },
    ]);
    await server.api.post('/api/purchases', { contentId: lesson.id }, buyer.token, randomUUID());
    const asBuyer = await server.api.get(`/api/contents/${lesson.id}`, buyer.token);
    const file = await mediaGet(server, asBuyer.body.attachments[0].url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toContain('attachment');
    expect(Buffer.from(await file.arrayBuffer()).equals(pdf)).toBe(true);
  });

  it('refuses what is not a PDF or an image, whatever its Content-Type says', async () => {
    const lesson = await server.api.content(creator.token, { title: 'No scripts' });
    const res = await server.api.request('POST', `/api/contents/${lesson.id}/attachments?filename=x.pdf`, {
      token: creator.token,
      raw: '<script>alert(1)</script>',
      headers: { 'content-type': 'application/pdf' },
    });
    expect(res.status).toBe(400);
  });

  it('a cover image is re-encoded to a JPEG served publicly with long cache headers', async () => {
    const lesson = await server.api.content(creator.token, { title: 'Covered' });
    const png = media.file('cover.png');
    await makeVideo(png.replace('.png', '.mp4'), { seconds: 1 });
    const { execFileSync } = await import('node:child_process');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1600x900', '-frames:v', '1', png]);
    const res = await server.api.request('POST', `/api/contents/${lesson.id}/cover`, {
      token: creator.token,
      raw: readFileSync(png) as unknown as string,
      headers: { 'content-type': 'image/png' },
    });
    expect(res.status).toBe(201);
    expect(res.body.coverUrl).toMatch(/^\/media\/public\/covers\//);
    const cover = await fetch(`${server.url}${res.body.coverUrl}`);
    expect(cover.status).toBe(200);
    expect(cover.headers.get('content-type')).toBe('image/jpeg');
    expect(cover.headers.get('cache-control')).toContain('immutable');
    const bytes = Buffer.from(await cover.arrayBuffer());
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))).toBe(true);
    expect((await server.api.get(`/api/contents/${lesson.id}`)).body.content.coverUrl).toBe(res.body.coverUrl);
    writeFileSync(media.file('garbage.png'), 'not an image');
    const bad = await server.api.request('POST', `/api/contents/${lesson.id}/cover`, {
      token: creator.token,
      raw: 'not an image',
      headers: { 'content-type': 'image/png' },
    });
    expect(bad.status).toBe(400);
  });
});
