import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { analyticsDrained } from '../analytics/drain';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok } from '../helpers/socket';
import { DESKTOP, launchBrowser, type OpenPage, openPage, photograph, RESULTS, SIZES, until } from './browser';

/**
 * "Live now for you" in Chromium: the home page ranks the live rooms for a viewer who watched
 * Ada twice before (her room first, saying so) and lists her scheduled room under "Upcoming for
 * you" (and not again under "Upcoming"); a guest gets the busiest rooms first; the watch page
 * opens "More live rooms" (this room left out) and shows them by itself when the room ends. Both
 * pages pass axe and are photographed at 1280×800 and 390×844
 * (test-results/for-you-<page>-<desktop|phone>.png), nothing scrolling sideways on the phone.
 */

jest.setTimeout(180_000);

let server: TestServer;
let browser: Browser;
const opened: OpenPage[] = [];
let ada: Account;
let amy: Account;
const rooms = {} as Record<'adaLive' | 'benLive' | 'cleoLive' | 'adaSoon' | 'benSoon', { id: string; title: string }>;

async function open(account?: Account, locale?: 'en' | 'zh-CN'): Promise<OpenPage> {
  const o = await openPage(browser, account, locale);
  opened.push(o);
  return o;
}

async function creator(name: string, displayName: string, tags: string[]): Promise<Account> {
  const account = await server.api.register('creator', `${name}_${randomUUID().slice(0, 6)}`);
  await server.api.request('PATCH', '/api/creators/me', { token: account.token, body: { displayName, tags } });
  return account;
}

async function live(owner: Account, fields: Record<string, unknown>) {
  const room = await server.api.room(owner.token, fields);
  expect((await server.api.post(`/api/rooms/${room.id}/start`, {}, owner.token)).status).toBe(200);
  return room as { id: string; title: string };
}

/** `n` signed-in viewers in the room now (the gateway counts them). */
async function audience(roomId: string, n: number) {
  for (let i = 0; i < n; i++) {
    const viewer = await server.api.register();
    await ok(await connect(server.url, viewer.token), 'room:join', { roomId });
  }
}

/** axe's serious and critical findings (none expected), at both sizes. */
async function axe(page: Page): Promise<string[]> {
  const found: string[] = [];
  for (const viewport of Object.values(SIZES)) {
    await page.setViewportSize(viewport);
    const results = await new AxeBuilder({ page: page as any }).analyze();
    for (const v of results.violations) {
      if (v.impact === 'serious' || v.impact === 'critical') {
        found.push(`${viewport.width}px [${v.impact}] ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
    }
  }
  await page.setViewportSize(DESKTOP);
  return found;
}

const pageErrors = (o: OpenPage) => o.errors.filter((e) => !/Failed to load resource/.test(e));
const titles = (page: Page, list: string) => page.locator(`${list} .room-tile h3`).allTextContents();

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  server = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1' });
  browser = await launchBrowser();

  ada = await creator('ada', 'Ada Lovelace', ['math']);
  const ben = await creator('ben', 'Ben Okafor', ['chess']);
  const cleo = await creator('cleo', 'Cleo Park', ['painting']);
  amy = await server.api.register('viewer', `amy_${randomUUID().slice(0, 6)}`);
  // Amy watched two of Ada's streams last week: she joined them as a viewer.
  for (const title of ['Monday: bisection', 'Wednesday: secants']) {
    const earlier = await live(ada, { title, tags: ['math'], record: false });
    const sock = await connect(server.url, amy.token);
    await ok(sock, 'room:join', { roomId: earlier.id });
    await ok(sock, 'room:leave', { roomId: earlier.id });
    sock.close();
    await server.api.post(`/api/rooms/${earlier.id}/end`, {}, ada.token);
  }
  await analyticsDrained(server.lectern);

  rooms.benLive = await live(ben, {
    title: 'Blitz openings, live',
    tags: ['chess'],
    access: 'ticket',
    ticketPrice: 500,
    description: 'Fast games and the ideas behind the first ten moves.',
  });
  rooms.cleoLive = await live(cleo, { title: 'Watercolour skies', tags: ['painting'] });
  rooms.adaLive = await live(ada, {
    title: 'Friday clinic: Newton’s method',
    tags: ['math'],
    description: 'Bring your hardest root-finding problem.',
  });
  await audience(rooms.benLive.id, 3);
  await audience(rooms.cleoLive.id, 1);
  const at = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();
  rooms.adaSoon = await server.api.room(ada.token, {
    title: 'Next week: splines',
    tags: ['math'],
    scheduledAt: at(30),
  });
  rooms.benSoon = await server.api.room(ben.token, { title: 'Endgame study', tags: ['chess'], scheduledAt: at(50) });
});

afterAll(async () => {
  closeAllSockets();
  await browser?.close();
  await server?.close();
});

afterEach(async () => {
  for (const o of opened.splice(0)) await o.context.close();
});

it('the home page: live rooms ranked for a viewer, each saying why, and her upcoming pick', async () => {
  const o = await open(amy);
  const { page } = o;
  await page.goto(server.url);
  await page.locator('body[data-loaded="true"]').waitFor();
  await page.getByRole('heading', { name: 'Live now for you' }).waitFor();

  expect(await titles(page, '#rooms')).toEqual([rooms.adaLive.title, rooms.benLive.title, rooms.cleoLive.title]);
  const first = page.locator('#rooms .room-tile').first();
  expect(await first.locator('.badge.live').textContent()).toBe('Live');
  expect(await first.locator('.room-tile-creator > span:not(.avatar)').textContent()).toBe('Ada Lovelace');
  expect(await first.locator('.room-tile-reason').textContent()).toMatch(/watched this creator/);
  expect(await first.locator('.room-tile-reason').getAttribute('data-reason')).toBe('watched_before');
  const ben = page.locator('#rooms .room-tile').nth(1);
  expect(await ben.locator('.watching-chip').textContent()).toBe('3 watching');
  expect(await ben.locator('.room-tile-reason').textContent()).toMatch(/^Popular/);
  expect(await ben.locator('.price-badge').textContent()).toBe('Ticket $5.00');

  // Ada's scheduled room is picked for her; the other one stays under "Upcoming", once each.
  await page.getByRole('heading', { name: 'Upcoming for you' }).waitFor();
  expect(await titles(page, '#upcoming-for-you')).toEqual([rooms.adaSoon.title]);
  expect(await page.locator('#upcoming-for-you .room-tile-reason').textContent()).toBe(
    'Coming up from a creator you watched',
  );
  expect(await titles(page, '#upcoming')).toEqual([rooms.benSoon.title]);

  // The card opens the room.
  expect(await first.locator('.room-tile-link').getAttribute('href')).toBe(`/watch/${rooms.adaLive.id}`);
  expect(await axe(page)).toEqual([]);
  await photograph(page, 'for-you-home-viewer');
  expect(pageErrors(o)).toEqual([]);
});

it('the home page in Chinese words the reasons itself', async () => {
  const { page } = await open(amy, 'zh-CN');
  await page.goto(server.url);
  await page.locator('body[data-loaded="true"]').waitFor();
  await page.getByRole('heading', { name: '正在直播 · 为你推荐' }).waitFor();
  expect(await page.locator('#rooms .room-tile-reason').allTextContents()).toEqual([
    '你看过这位主播的直播',
    '正在热播',
    '正在热播',
  ]);
  await page.getByRole('heading', { name: '为你挑选的预约直播' }).waitFor();
});

it('the home page for a guest: the busiest rooms first, nothing picked', async () => {
  const o = await open();
  const { page } = o;
  await page.goto(server.url);
  await page.locator('body[data-loaded="true"]').waitFor();
  await page.getByRole('heading', { name: 'Live now', exact: true }).waitFor();
  expect(await titles(page, '#rooms')).toEqual([rooms.benLive.title, rooms.cleoLive.title, rooms.adaLive.title]);
  expect(await page.locator('#rooms .room-tile-reason').allTextContents()).toEqual([
    'Popular now: 3 watching',
    'Popular now: 1 watching',
    'Be one of the first to watch',
  ]);
  expect(await page.locator('#upcoming-for-you-section').isHidden()).toBe(true);
  expect(await titles(page, '#upcoming')).toEqual([rooms.adaSoon.title, rooms.benSoon.title]);
  expect(await axe(page)).toEqual([]);
  await photograph(page, 'for-you-home-guest');
  expect(pageErrors(o)).toEqual([]);
});

it('the watch page: "More live rooms" leaves this room out, and shows by itself when the room ends', async () => {
  const o = await open(amy);
  const { page } = o;
  await page.goto(`${server.url}/watch/${rooms.adaLive.id}`);
  await until(
    async () => (await page.locator('#room-title').textContent()) === rooms.adaLive.title,
    'the room is shown',
  );
  const toggle = page.getByRole('button', { name: 'More live rooms' });
  const section = page.locator('#more-live');
  expect(await section.isHidden()).toBe(true);
  await toggle.click();
  await section.locator('.room-tile').first().waitFor();
  expect(await toggle.getAttribute('aria-expanded')).toBe('true');
  expect(await titles(page, '#more-live')).toEqual([rooms.benLive.title, rooms.cleoLive.title]);
  await toggle.click();
  expect(await section.isHidden()).toBe(true);

  // Ada ends the stream: the page says so and lists the other live rooms under the stage.
  expect((await server.api.post(`/api/rooms/${rooms.adaLive.id}/end`, {}, ada.token)).status).toBe(200);
  await page.locator('#overlay', { hasText: 'The stream has ended' }).waitFor();
  await section.locator('.room-tile').first().waitFor();
  expect(await section.isVisible()).toBe(true);
  expect(await toggle.isHidden()).toBe(true);
  expect(await titles(page, '#more-live')).toEqual([rooms.benLive.title, rooms.cleoLive.title]);
  expect(await section.locator('.room-tile-reason').first().textContent()).toMatch(/^Popular/);
  const seeOthers = page.locator('#overlay').getByRole('link', { name: 'See other live rooms' });
  expect(await seeOthers.getAttribute('href')).toBe('#more-live');
  expect(await axe(page)).toEqual([]);
  await photograph(page, 'for-you-watch-ended');

  // The list opens the next room.
  await section
    .locator('.room-tile')
    .first()
    .click({ position: { x: 40, y: 40 } });
  await page.waitForURL(`${server.url}/watch/${rooms.benLive.id}`);
  expect(pageErrors(o).filter((e) => !/media:|WebRTC|ICE/i.test(e))).toEqual([]);
});

it('a room that had ended before the page opened lists the live ones too', async () => {
  const { page } = await open();
  await page.goto(`${server.url}/watch/${rooms.adaLive.id}`);
  await page.locator('#overlay', { hasText: 'The stream has ended' }).waitFor();
  await page.locator('#more-live .room-tile').first().waitFor();
  expect(await titles(page, '#more-live')).toEqual([rooms.benLive.title, rooms.cleoLive.title]);
  await photograph(page, 'for-you-watch-ended-on-arrival');
});
