import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { launchBrowser, type OpenPage, openPage, until } from './browser';

/**
 * The media plane end to end, through the pages people use: a creator goes live from the
 * studio page (fake camera and microphone, simulcast), ticket holders watch it in viewer pages,
 * chat, likes, tips and questions reach the studio, a viewer without a ticket watches the
 * free preview and is cut off after it, buys a ticket and watches again, every page recovers
 * from a crashed media worker by itself, and everyone sees the stream end. The tests run in
 * order and build on each other, like the stream they follow.
 */

interface VideoStats {
  producerId: string;
  source: string;
  framesDecoded: number;
  frameWidth?: number;
  frameHeight?: number;
  bytesReceived: number;
}
interface PageState {
  access: 'full' | 'preview' | 'none';
  previewEndsAt?: number;
  ended: boolean;
  media: string;
  tracks: { source: string; kind: string; readyState: string }[];
}

// Short enough to keep the run quick, long enough for a loaded 2-core machine to start the video inside it.
const PREVIEW_SECONDS = 6;
const TICKET_PRICE = 300;
const RESULTS = path.resolve(__dirname, '../../test-results');

let server: TestServer;
let browser: Browser;
let studio: OpenPage;
let ticketHolders: { account: Account; open: OpenPage }[] = [];
let previewer: { account: Account; open: OpenPage };
let roomId: string;
const creatorName = `teacher_${randomUUID().slice(0, 6)}`;
const measured: Record<string, unknown> = {};

// The page hooks (web/src/lib/test-hook.ts), read from the browser.
const cameraStats = async (page: Page): Promise<VideoStats | undefined> => {
  const all = (await page.evaluate(() => (globalThis as any).__lectern?.stats?.() ?? [])) as VideoStats[];
  return all.find((s) => s.source === 'camera');
};
const pageState = (page: Page): Promise<PageState> => page.evaluate(() => (globalThis as any).__lectern.state());

/**
 * Waits until the camera video is decoding: frames counted, then `more` frames on the same
 * track, and a resolution. `notFrom`: only a track of another producer counts (the streamer
 * published again). Says what it last saw when it gives up.
 */
async function waitForPlayback(
  page: Page,
  who: string,
  options: { notFrom?: string; more?: number } = {},
): Promise<{ before: VideoStats; after: VideoStats; firstAt: number; playingAt: number }> {
  let last: VideoStats | undefined;
  const sample = async () => {
    last = await cameraStats(page);
    return last;
  };
  const seen = async () =>
    ` (last stats: ${JSON.stringify(last) ?? 'none'}, state: ${JSON.stringify(await pageState(page))})`;
  try {
    const before = await until(async () => {
      const s = await sample();
      return s && s.framesDecoded > 0 && s.producerId !== options.notFrom ? s : undefined;
    }, `${who}: first decoded frames`);
    const firstAt = Date.now();
    const after = await until(
      async () => {
        const s = await sample();
        const more =
          s?.producerId === before.producerId && s.framesDecoded >= before.framesDecoded + (options.more ?? 10);
        return more && s.frameWidth && s.frameHeight ? s : undefined;
      },
      `${who}: decoded frames increasing`,
      10_000,
    );
    return { before, after, firstAt, playingAt: Date.now() };
  } catch (err) {
    throw new Error(`${(err as Error).message}${await seen()}`);
  }
}

async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? '';
}

async function buyTicketOverHttp(account: Account): Promise<void> {
  await server.api.topUp(account.token, 1000);
  const res = await server.api.post('/api/purchases', { roomId }, account.token, randomUUID());
  expect(res.status).toBe(201);
}

function failWithPageErrors(open: OpenPage) {
  return (err: unknown) => {
    throw new Error(`${String(err)}\npage said:\n${open.errors.slice(-20).join('\n')}`);
  };
}

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  server = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1' });
  browser = await launchBrowser();
});

afterAll(async () => {
  console.log(`e2e measurements: ${JSON.stringify(measured, null, 2)}`);
  await browser?.close();
  await server?.close();
});

describe('live stream through the pages', () => {
  it('the creator registers, creates a ticketed room and goes live from the studio', async () => {
    studio = await openPage(browser);
    const { page } = studio;
    await page.goto(`${server.url}/studio`);
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByLabel('Username').fill(creatorName);
    await page.getByLabel('Password').fill('correct horse battery');
    expect(await page.getByLabel('I want to').inputValue()).toBe('creator');
    await page.getByRole('button', { name: 'Create account' }).click();

    const form = page.locator('#create-room');
    await form.getByLabel('Title').fill('Linear algebra, live');
    await form.getByLabel('Who can watch').selectOption('ticket');
    await form.getByLabel('Ticket price').fill(String(TICKET_PRICE / 100));
    await form.getByLabel('Free preview (seconds)').fill(String(PREVIEW_SECONDS));
    await form.getByRole('button', { name: 'Create room' }).click();
    await page.waitForURL(/\/studio\?room=/);
    roomId = new URL(page.url()).searchParams.get('room')!;
    expect(roomId).toMatch(/^[0-9a-f-]{36}$/);

    // The local preview shows the fake camera before anything is sent.
    await until(
      () => page.evaluate(() => (globalThis as any).document.getElementById('preview').videoWidth > 0),
      'studio: camera preview',
    ).catch(failWithPageErrors(studio));
    expect(await textOf(page, '#publish-status')).toBe('Not live');

    await page.getByRole('button', { name: 'Go live' }).click();
    await until(async () => (await textOf(page, '#publish-status')) === 'Live', 'studio: live').catch(
      failWithPageErrors(studio),
    );
    expect((await server.api.get(`/api/rooms/${roomId}`)).body.room.status).toBe('live');
    await page.locator('#live-badge').waitFor({ state: 'visible' });

    // Simulcast: the camera leaves the browser as several layers of different sizes.
    const layers = await until(async () => {
      const out = (await page.evaluate(() => (globalThis as any).__lectern.outboundStats())) as {
        rid?: string;
        frameWidth?: number;
        framesEncoded: number;
      }[];
      return out.length >= 2 && out.filter((l) => l.framesEncoded > 0).length >= 2 ? out : undefined;
    }, 'studio: simulcast layers encoding');
    measured.sentLayers = layers.map((l) => `${l.rid}:${l.frameWidth ?? '?'}w/${l.framesEncoded}f`);
    expect(new Set(layers.map((l) => l.rid)).size).toBe(layers.length);
  });

  it('two ticket holders watch the video in their viewer pages', async () => {
    const accounts = [await server.api.register('viewer'), await server.api.register('viewer')];
    for (const account of accounts) await buyTicketOverHttp(account);
    ticketHolders = await Promise.all(
      accounts.map(async (account) => ({ account, open: await openPage(browser, account) })),
    );
    await Promise.all(ticketHolders.map(({ open }) => open.page.goto(`${server.url}/watch/${roomId}`)));

    const played = await Promise.all(
      ticketHolders.map(({ open }, i) => waitForPlayback(open.page, `viewer ${i + 1}`).catch(failWithPageErrors(open))),
    );
    played.forEach(({ before, after }, i) => {
      expect(after.framesDecoded).toBeGreaterThan(before.framesDecoded);
      expect(after.frameWidth).toBeGreaterThan(0);
      expect(after.frameHeight).toBeGreaterThan(0);
      expect(after.bytesReceived).toBeGreaterThan(before.bytesReceived);
      measured[`viewer${i + 1}`] = {
        framesDecoded: `${before.framesDecoded} -> ${after.framesDecoded}`,
        resolution: `${after.frameWidth}x${after.frameHeight}`,
      };
    });
    for (const { open } of ticketHolders) {
      const state = await pageState(open.page);
      expect(state.access).toBe('full');
      expect(state.tracks.map((t) => `${t.source}:${t.readyState}`).sort()).toEqual(['camera:live', 'microphone:live']);
      expect(await open.page.locator('#overlay').isVisible()).toBe(false);
    }
    // The studio counts them.
    await until(async () => (await textOf(studio.page, '#viewer-count')) === '2', 'studio: two viewers');
  });

  it('chat, likes, tips and questions travel between a viewer page and the studio', async () => {
    const { account, open } = ticketHolders[0];
    const viewer = open.page;

    await viewer.getByLabel('Chat message').fill('Hello from the front row');
    await viewer.locator('.chat-form').getByRole('button', { name: 'Send' }).click();
    await studio.page.locator('.chat-list', { hasText: 'Hello from the front row' }).waitFor();

    for (let i = 0; i < 3; i++) await viewer.getByRole('button', { name: 'Like' }).click();
    await until(async () => Number(await textOf(studio.page, '#like-count')) >= 3, 'studio: likes');

    await viewer.locator('#tip-form').getByLabel('Amount').fill('2');
    await viewer.locator('#tip-form').getByLabel('Message (optional)').fill('Great lesson');
    await viewer.getByRole('button', { name: 'Send tip' }).click();
    await studio.page.locator('.tips-feed', { hasText: 'Great lesson' }).waitFor();
    await studio.page.locator('.leaderboard', { hasText: account.user.username }).waitFor();
    // 10.00 topped up, 3.00 for the ticket, 2.00 tipped.
    await until(
      async () => (await viewer.locator('.wallet').getAttribute('data-balance')) === '500',
      'viewer: balance',
    );

    await viewer.getByLabel('Your question').fill('What is an eigenvector?');
    await viewer.getByRole('button', { name: 'Ask' }).click();
    const question = studio.page.locator('.questions li', { hasText: 'What is an eigenvector?' });
    await question.waitFor();
    await question.getByRole('button', { name: /answered/ }).click();
    // Answered questions stay in view, marked answered.
    await viewer.locator('.questions li.answered', { hasText: 'What is an eigenvector?' }).waitFor();

    const file = path.join(RESULTS, 'viewer.png');
    await viewer.screenshot({ path: file, fullPage: true });
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
    await studio.page.screenshot({ path: path.join(RESULTS, 'studio.png'), fullPage: true });
  });

  it('a viewer without a ticket plays during the free preview and stops at the paywall after it', async () => {
    const account = await server.api.register('viewer');
    previewer = { account, open: await openPage(browser, account) };
    const { page } = previewer.open;
    const openedAt = Date.now();
    await page.goto(`${server.url}/watch/${roomId}`);

    const state = await until(async () => {
      const s = await pageState(page);
      return s.previewEndsAt ? s : undefined;
    }, 'preview viewer: preview access');
    expect(state.access).toBe('preview');
    await page.locator('#preview-banner', { hasText: 'Free preview' }).waitFor();

    const { before, after, firstAt, playingAt } = await waitForPlayback(page, 'preview viewer', { more: 5 }).catch(
      failWithPageErrors(previewer.open),
    );
    // It really played inside the preview window, not after it.
    expect(playingAt).toBeLessThan(state.previewEndsAt!);
    expect(after.framesDecoded).toBeGreaterThan(before.framesDecoded);
    const track = await page.evaluateHandle(
      () => (globalThis as any).document.getElementById('main-video').srcObject.getVideoTracks()[0],
    );
    expect(await track.evaluate((t: any) => t.readyState)).toBe('live');

    await page.locator('#overlay.paywall', { hasText: 'Get a ticket to keep watching' }).waitFor({ timeout: 15_000 });
    const cutAt = Date.now();
    const cut = await pageState(page);
    expect(cut.access).toBe('none');
    expect(cut.tracks).toEqual([]);
    // The track it was playing has ended and nothing is decoded any more.
    expect(await track.evaluate((t: any) => t.readyState)).toBe('ended');
    expect(await cameraStats(page)).toBeUndefined();
    expect(await page.locator('#preview-banner').isVisible()).toBe(false);
    measured.preview = {
      framesDecoded: `${before.framesDecoded} -> ${after.framesDecoded}`,
      resolution: `${after.frameWidth}x${after.frameHeight}`,
      firstFrameMsAfterOpening: firstAt - openedAt,
      pageTimeline: await page.evaluate(() => (globalThis as any).__lectern.timeline),
      previewMsAfterOpening: state.previewEndsAt! - openedAt,
      playingMsBeforePreviewEnd: state.previewEndsAt! - playingAt,
      paywallMsAfterPreviewEnd: cutAt - state.previewEndsAt!,
    };
  });

  it('buying a ticket at the paywall (after topping up) brings the video back and the conversation in', async () => {
    const { page } = previewer.open;
    // Coming back after the preview: access none from the start, so no conversation is sent.
    await page.reload();
    await page.locator('#overlay.paywall').waitFor();
    expect(await page.locator('.chat-list', { hasText: 'Hello from the front row' }).count()).toBe(0);
    await page.locator('#paywall-buy').click();
    // An empty wallet: the top-up dialog opens and the purchase carries on after it.
    const dialog = page.getByRole('dialog', { name: 'Top up your wallet' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: '$10.00' }).click();
    await dialog.getByRole('button', { name: 'Add money' }).click();
    await dialog.waitFor({ state: 'detached' });

    const { before, after } = await waitForPlayback(page, 'ticket bought after preview').catch(
      failWithPageErrors(previewer.open),
    );
    expect(after.framesDecoded).toBeGreaterThan(before.framesDecoded);
    expect((await pageState(page)).access).toBe('full');
    expect(await page.locator('#overlay').isVisible()).toBe(false);
    await page.locator('.chat-list', { hasText: 'Hello from the front row' }).waitFor();
    await until(
      async () => (await page.locator('.wallet').getAttribute('data-balance')) === '700',
      'balance after ticket',
    );
    measured.afterTicket = { framesDecoded: `${before.framesDecoded} -> ${after.framesDecoded}` };
  });

  it('after a media worker crash the studio and every viewer re-establish by themselves', async () => {
    const viewers = [...ticketHolders.map((t) => t.open), previewer.open];
    const before = await Promise.all(viewers.map(async (open) => (await cameraStats(open.page))!.producerId));
    const worker = (await server.lectern.media.dump()).workers.find((w) => w.routers.some((r) => r.roomId === roomId));
    expect(worker).toBeDefined();
    process.kill(worker!.pid, 'SIGKILL');

    // The server says `media:reset`; the studio publishes again and the viewers consume the new producers.
    const resumed = await Promise.all(
      viewers.map((open, i) =>
        waitForPlayback(open.page, `viewer ${i + 1} after the crash`, { notFrom: before[i] }).catch(
          failWithPageErrors(open),
        ),
      ),
    );
    for (const [i, { before: first, after }] of resumed.entries()) {
      expect(after.producerId).not.toBe(before[i]);
      expect(after.framesDecoded).toBeGreaterThan(first.framesDecoded);
    }
    await until(async () => (await textOf(studio.page, '#publish-status')) === 'Live', 'studio: live again');
    measured.afterWorkerCrash = resumed.map(({ before: b, after: a }) => `${b.framesDecoded} -> ${a.framesDecoded}`);
  });

  it('when the streamer ends the stream, every viewer sees it end', async () => {
    await studio.page.getByRole('button', { name: 'End stream' }).click();
    await studio.page.getByRole('button', { name: 'End now' }).click();
    await studio.page.locator('#ended-view').waitFor();
    expect(await textOf(studio.page, '#ended-summary')).toContain('Up to 3 watching');

    for (const open of [...ticketHolders.map((t) => t.open), previewer.open]) {
      await open.page.locator('#overlay', { hasText: 'The stream has ended' }).waitFor();
      const state = await pageState(open.page);
      expect(state.ended).toBe(true);
      expect(state.tracks).toEqual([]);
      expect(await open.page.locator('#support').isVisible()).toBe(false);
      expect(await open.page.getByLabel('Chat message').isDisabled()).toBe(true);
    }
    expect((await server.api.get(`/api/rooms/${roomId}`)).body.room.status).toBe('ended');
    await ticketHolders[0].open.page.screenshot({ path: path.join(RESULTS, 'viewer-ended.png') });
  });
});
