import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { makeVideo, mediaDir } from '../helpers/media-files';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { launchBrowser, type OpenPage, openPage, photograph, RESULTS, until } from './browser';

/**
 * Paid contents you can watch, through the pages people use: a creator makes a lesson in the
 * content manager and uploads its video (upload progress, then packaging, then ready); a buyer
 * buys it on its page and the HLS player plays it, remembers where they stopped and resumes
 * there; a non-buyer meets the paywall. Then the replay: a stream recorded from the studio
 * becomes a replay that a ticket holder plays from their library and that is refused to someone
 * without a ticket.
 */

const run = promisify(execFile);
// Uploads, packaging and a live stream's replay take longer than a unit test.
jest.setTimeout(240_000);

interface PlayerSnapshot {
  state: string;
  engine: string;
  currentTime: number;
  duration: number;
  paused: boolean;
  frames: number;
  /** Signed links renewed after a refusal. */
  reloads: number;
}

let server: TestServer;
let browser: Browser;
let media: ReturnType<typeof mediaDir>;
const opened: OpenPage[] = [];
const measured: Record<string, unknown> = {};

const snapshot = (page: Page): Promise<PlayerSnapshot | null> =>
  page.evaluate(() => (globalThis as any).__lectern?.player?.() ?? null);

async function open(account?: Account): Promise<OpenPage> {
  const o = await openPage(browser, account);
  opened.push(o);
  return o;
}

function failWithPageErrors(o: OpenPage) {
  return (err: unknown) => {
    throw new Error(`${String(err)}\npage said:\n${o.errors.slice(-20).join('\n')}`);
  };
}

/**
 * Waits until the page's player is playing: time advancing and decoded frames increasing. A
 * browser that wants a tap before playing with sound gets one, on the page's own Play button.
 */
async function waitForPlaying(page: Page, who: string): Promise<{ before: PlayerSnapshot; after: PlayerSnapshot }> {
  let last: PlayerSnapshot | null = null;
  try {
    const before = await until(
      async () => {
        last = await snapshot(page);
        if (last?.paused && (await page.getByRole('button', { name: 'Play', exact: true }).isVisible())) {
          await page.getByRole('button', { name: 'Play', exact: true }).click();
        }
        return last && !last.paused && last.frames > 0 && last.currentTime > 0 ? last : undefined;
      },
      `${who}: the player starts`,
      30_000,
    );
    const after = await until(
      async () => {
        last = await snapshot(page);
        return last && last.currentTime >= before.currentTime + 1 && last.frames >= before.frames + 10
          ? last
          : undefined;
      },
      `${who}: time and frames advancing`,
      20_000,
    );
    return { before, after };
  } catch (err) {
    throw new Error(`${(err as Error).message} (last player state: ${JSON.stringify(last)})`);
  }
}

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  media = mediaDir();
  server = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1' });
  browser = await launchBrowser();
});

afterAll(async () => {
  console.log(`vod e2e measurements: ${JSON.stringify(measured, null, 2)}`);
  await browser?.close();
  await server?.close();
  media?.cleanup();
});

describe('lessons: upload, buy, watch', () => {
  let creator: Account;
  let contentId: string;
  const title = `Eigenvectors, slowly ${randomUUID().slice(0, 4)}`;

  it('a creator creates a lesson in the content manager and uploads its video, cover and a file', async () => {
    creator = await server.api.register('creator');
    const video = await makeVideo(media.file('lesson.mp4'), { seconds: 12, size: '640x360' });
    const cover = media.file('cover.png');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360', '-frames:v', '1', cover]);
    const pdf = media.file('worksheet.pdf');
    writeFileSync(pdf, '%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

    const studio = await open(creator);
    const { page } = studio;
    await page.goto(`${server.url}/studio/contents`);
    await page.getByRole('link', { name: 'New lesson' }).click();
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Description').fill('What an eigenvector is, and why it matters.\nWith worked examples.');
    await page.getByLabel('Price (USD)').fill('4.50');
    await page.getByLabel('Tags').fill('math, linear algebra');
    await page
      .getByLabel('Notes', { exact: true })
      .fill(
        '# Key ideas\n\n- **Av = λv**\n- `eig(A)` in code\n\n<script>window.__xss = 1</script>\n\n[more](javascript:alert(1))',
      );
    await page.getByRole('button', { name: 'Create lesson' }).click();
    await page.waitForURL(/\/studio\/contents\?edit=/);
    contentId = new URL(page.url()).searchParams.get('edit')!;
    expect(contentId).toMatch(/^[0-9a-f-]{36}$/);

    // Watch the video panel's status line change: upload percentages, packaging, ready.
    await page.locator('.panel-video', { hasText: 'No video yet.' }).waitFor();
    await page.evaluate(() => {
      const w = globalThis as any;
      w.__statuses = [];
      const status = w.document.querySelector('.panel-video [role=status]');
      new w.MutationObserver(() => w.__statuses.push(status.textContent)).observe(status, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await page.getByLabel('Video file').setInputFiles(video);
    await page.getByRole('button', { name: 'Upload video' }).click();
    const uploadStarted = Date.now();
    await page
      .locator('.panel-video[data-status="ready"]')
      .waitFor({ timeout: 90_000 })
      .catch(failWithPageErrors(studio));
    measured.uploadToReadyMs = Date.now() - uploadStarted;
    const statuses = (await page.evaluate(() => (globalThis as any).__statuses)) as string[];
    measured.videoStatuses = [...new Set(statuses)];
    expect(statuses.some((s) => /^Uploading the video: \d+%/.test(s))).toBe(true);
    expect(statuses.at(-1)).toMatch(/^Ready/);
    // The creator's preview is there.
    await page.locator('.panel-video video').waitFor();

    await page.getByLabel('Cover image').setInputFiles(cover);
    await page.getByRole('button', { name: 'Upload cover' }).click();
    await page.getByText('Cover saved.').waitFor();
    await page.getByLabel('Add a file').setInputFiles(pdf);
    await page.getByRole('button', { name: 'Attach file' }).click();
    await page.locator('.files', { hasText: 'worksheet.pdf' }).waitFor();

    const content = (await server.api.get(`/api/contents/${contentId}`)).body.content;
    expect(content).toMatchObject({ title, price: 450, hasVideo: true, tags: ['math', 'linear algebra'] });
    expect(content.durationSeconds).toBeGreaterThan(10);
    expect(content.coverUrl).toMatch(/^\/media\/public\//);

    await page.goto(`${server.url}/studio/contents`);
    await page.locator('.manage-list', { hasText: title }).waitFor();
    await photograph(page, 'vod-content-manager');
    await page.goto(`${server.url}/studio/contents?edit=${contentId}`);
    await page.locator('.panel-video[data-status="ready"]').waitFor();
    await photograph(page, 'vod-lesson-editor');
  });

  it('a viewer without it sees the paywall, and an empty wallet opens the top-up', async () => {
    const stranger = await server.api.register('viewer');
    const o = await open(stranger);
    const { page } = o;
    await page.goto(`${server.url}/content/${contentId}`);
    await page.getByRole('heading', { name: 'Buy this lesson to watch it' }).waitFor();
    await page.getByRole('heading', { name: title }).waitFor();
    expect(await page.locator('video').count()).toBe(0);
    expect(await page.locator('.markdown').count()).toBe(0);
    // File names are listed, locked; there is no link to them.
    await page.locator('.files', { hasText: 'worksheet.pdf' }).waitFor();
    expect(await page.locator('.files a').count()).toBe(0);
    expect((await server.api.get(`/api/contents/${contentId}/media`, stranger.token)).status).toBe(402);
    await photograph(page, 'vod-paywall');

    await page.locator('.buy-card').getByRole('button', { name: 'Buy' }).click();
    await page.getByRole('dialog', { name: 'Top up your wallet' }).waitFor();
  });

  it('a buyer buys it on its page; the player plays it, with the notes rendered safely and the file to download', async () => {
    const buyer = await server.api.register('viewer');
    await server.api.topUp(buyer.token, 1000);
    const o = await open(buyer);
    const { page } = o;
    await page.goto(`${server.url}/content/${contentId}`);
    await page.locator('.buy-card').getByRole('button', { name: 'Buy' }).click();
    // Spending asks once: the price and what the wallet holds after.
    await page.getByRole('dialog').getByRole('button', { name: 'Pay $4.50' }).click();
    const { before, after } = await waitForPlaying(page, 'buyer').catch(failWithPageErrors(o));
    measured.buyer = {
      engine: after.engine,
      time: `${before.currentTime} -> ${after.currentTime}`,
      frames: `${before.frames} -> ${after.frames}`,
    };
    expect(after.engine).toBe('hls.js');
    expect(after.frames).toBeGreaterThan(before.frames);
    await until(async () => (await page.locator('.wallet').getAttribute('data-balance')) === '550', 'buyer: balance');

    // The notes: Markdown rendered, the script and the javascript: link inert.
    await page.locator('.markdown h3', { hasText: 'Key ideas' }).waitFor();
    expect(await page.locator('.markdown li strong').first().textContent()).toBe('Av = λv');
    expect(await page.locator('.markdown code').first().textContent()).toBe('eig(A)');
    expect(await page.locator('.markdown script').count()).toBe(0);
    expect(await page.locator('.markdown a').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();
    expect(await page.locator('.markdown').textContent()).toContain('<script>window.__xss = 1</script>');
    const fileLink = page.getByRole('link', { name: 'worksheet.pdf' });
    expect(await fileLink.getAttribute('href')).toMatch(/^\/media\/f\/.+\?u=.+&e=\d+&s=/);

    // Pausing reports the position; a reload resumes there.
    await until(async () => ((await snapshot(page))?.currentTime ?? 0) > 4, 'buyer: a few seconds in');
    const pausedAt = await page.evaluate(() => {
      const video = (globalThis as any).document.querySelector('video');
      video.pause();
      return video.currentTime as number;
    });
    const saved = await until(async () => {
      const res = await server.api.get(`/api/contents/${contentId}`, buyer.token);
      const p = res.body.progress;
      return p && Math.abs(p.positionSeconds - pausedAt) < 1 ? p : undefined;
    }, 'buyer: progress saved on pause');
    measured.progressSaved = saved;
    await photograph(page, 'vod-player');

    await page.reload();
    await page.locator('.resume-chip', { hasText: 'Resumed at' }).waitFor();
    const resumed = await until(async () => {
      const s = await snapshot(page);
      return s && s.currentTime > 0 ? s : undefined;
    }, 'buyer: resumed after a reload');
    expect(resumed.currentTime).toBeGreaterThanOrEqual(saved.positionSeconds - 1);

    // Signed links expire: a refused segment (403) makes the player ask for a fresh link and carry on.
    let refused = 0;
    await page.route(/\/seg_\d+\.ts/, (route) =>
      refused++ === 0 ? route.fulfill({ status: 403, body: 'expired' }) : route.continue(),
    );
    await page.reload();
    const renewed = await waitForPlaying(page, 'buyer after an expired link').catch(failWithPageErrors(o));
    expect(refused).toBeGreaterThan(1);
    expect((await snapshot(page))?.reloads).toBeGreaterThanOrEqual(1);
    measured.afterExpiredLink = { reloads: (await snapshot(page))?.reloads, time: renewed.after.currentTime };
    await page.unroute(/\/seg_\d+\.ts/);

    // The library lists it with how far they got.
    await page.goto(`${server.url}/library`);
    const card = page.locator('.library-card', { hasText: title }).first();
    await card.waitFor();
    expect(await card.getByRole('progressbar').getAttribute('aria-valuenow')).not.toBe('0');
    await photograph(page, 'vod-library');
    await card.click();
    await page.waitForURL(`**/content/${contentId}`);
    await waitForPlaying(page, 'buyer from the library').catch(failWithPageErrors(o));
  });
});

describe('replays: recorded in the studio, played from the library', () => {
  it('the studio goes live (recorded), ends; the replay plays for a ticket holder from the library and is refused to a non-buyer', async () => {
    const creator = await server.api.register('creator');
    const studio = await open(creator);
    const { page } = studio;
    await page.goto(`${server.url}/studio`);
    const form = page.locator('#create-room');
    await form.getByLabel('Title').fill('Office hours, recorded');
    await form.getByLabel('Who can watch').selectOption('ticket');
    await form.getByLabel('Ticket price').fill('3');
    await form.getByLabel('Free preview (seconds)').fill('0');
    expect(await form.getByLabel('Record this stream (replay afterwards)').isChecked()).toBe(true);
    await form.getByRole('button', { name: 'Create room' }).click();
    await page.waitForURL(/\/studio\?room=/);
    const roomId = new URL(page.url()).searchParams.get('room')!;
    expect((await server.api.get(`/api/rooms/${roomId}`)).body.room.record).toBe(true);

    await until(
      () => page.evaluate(() => (globalThis as any).document.getElementById('preview').videoWidth > 0),
      'studio: camera preview',
    ).catch(failWithPageErrors(studio));
    await page.getByRole('button', { name: 'Go live' }).click();
    await until(async () => (await page.locator('#publish-status').textContent()) === 'Live', 'studio: live').catch(
      failWithPageErrors(studio),
    );
    await page.locator('#recording').waitFor();

    // A ticket holder buys while it is live (tickets are sold only then).
    const holder = await server.api.register('viewer');
    await server.api.topUp(holder.token, 1000);
    expect((await server.api.post('/api/purchases', { roomId }, holder.token, randomUUID())).status).toBe(201);

    // A few seconds on air, then the end.
    await page.waitForTimeout(8000);
    await page.getByRole('button', { name: 'End stream' }).click();
    await page.getByRole('button', { name: 'End now' }).click();
    await page.locator('#ended-view').waitFor();
    expect(await page.getByRole('link', { name: 'Watch the replay' }).getAttribute('href')).toBe(`/replay/${roomId}`);
    const endedAt = Date.now();

    // The recording becomes the replay.
    const room = await until(
      async () => {
        const r = (await server.api.get(`/api/rooms/${roomId}`)).body.room;
        return r.hasReplay ? r : undefined;
      },
      'the room has a replay (is the live recorder wired?)',
      30_000,
    );
    expect(room.status).toBe('ended');
    await until(
      async () => {
        const res = await server.api.get(`/api/rooms/${roomId}/replay`, creator.token);
        if (res.body.media?.status === 'failed') throw new Error(`replay failed: ${JSON.stringify(res.body.media)}`);
        return res.body.media?.status === 'ready';
      },
      'the replay is ready',
      120_000,
      1000,
    );
    measured.replayReadyMsAfterEnd = Date.now() - endedAt;

    // The ticket holder finds it in the library and plays it.
    const o = await open(holder);
    await o.page.goto(`${server.url}/library`);
    const card = o.page.locator('.library-card', { hasText: 'Office hours, recorded' });
    await card.waitFor();
    await card.click();
    await o.page.waitForURL(`**/replay/${roomId}`);
    const { before, after } = await waitForPlaying(o.page, 'ticket holder: replay').catch(failWithPageErrors(o));
    measured.replay = {
      time: `${before.currentTime} -> ${after.currentTime}`,
      frames: `${before.frames} -> ${after.frames}`,
    };
    await photograph(o.page, 'vod-replay');

    // Someone without a ticket is told why not.
    const stranger = await server.api.register('viewer');
    const s = await open(stranger);
    await s.page.goto(`${server.url}/replay/${roomId}`);
    await s.page.getByRole('heading', { name: 'This replay is for ticket holders' }).waitFor();
    expect((await snapshot(s.page))?.state).toBe('refused');
    expect((await server.api.get(`/api/rooms/${roomId}/replay`, stranger.token)).status).toBe(402);
    await photograph(s.page, 'vod-replay-paywall');

    // The creator manages it in the content manager.
    await page.goto(`${server.url}/studio/contents#replays`);
    await page.locator(`.replay-card[data-room="${roomId}"]`, { hasText: 'Ready' }).waitFor();
    await photograph(page, 'vod-replays-manager');
  });
});
