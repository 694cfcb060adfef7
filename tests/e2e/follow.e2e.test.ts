import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets } from '../helpers/socket';
import { DESKTOP, launchBrowser, type OpenPage, openPage, RESULTS, SIZES } from './browser';

/**
 * Following a creator in Chromium: on the watch page, Follow next to the creator's name becomes
 * Following (`aria-pressed`) and stays so after a reload; the creator's page shows the follower
 * count and lets the viewer unfollow; a guest is asked to sign in; both languages. Photographs at
 * 1280×800 and 390×844 (test-results/follow-<page>-<locale>-<desktop|phone>.png), nothing
 * scrolling sideways on the phone, and axe finds nothing serious around the button.
 */

jest.setTimeout(120_000);

let server: TestServer;
let browser: Browser;
const opened: OpenPage[] = [];
let ada: Account;
let room: { id: string; title: string };

async function open(account?: Account, locale: 'en' | 'zh-CN' = 'en'): Promise<OpenPage> {
  const o = await openPage(browser, account, locale);
  opened.push(o);
  return o;
}

/** Both sizes, scrolled so that the Follow button is in view (on a phone the watch page is long). */
async function photograph(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await page.waitForTimeout(400);
    await page.locator('#follow').scrollIntoViewIfNeeded();
    await page.evaluate(() => (globalThis as any).scrollBy(0, -120));
    await page.waitForTimeout(100);
    const overflow = await page.evaluate(() => {
      const d = (globalThis as any).document.documentElement;
      return d.scrollWidth - d.clientWidth;
    });
    expect({ page: name, size, overflow }).toEqual({ page: name, size, overflow: 0 });
    await page.screenshot({ path: path.join(RESULTS, `follow-${name}-${size}.png`) });
  }
  await page.setViewportSize(DESKTOP);
}

async function axe(page: Page, selector: string): Promise<string[]> {
  const results = await new AxeBuilder({ page: page as any }).include(selector).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `[${v.impact}] ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const followers = async () => (await server.api.get(`/api/creators/${ada.user.id}`)).body.profile.followers;

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  server = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1' });
  browser = await launchBrowser();
  ada = await server.api.register('creator', `ada_${randomUUID().slice(0, 6)}`);
  await server.api.request('PATCH', '/api/creators/me', {
    token: ada.token,
    body: { displayName: 'Ada Lovelace', tags: ['math'], bio: 'Numerical methods, live on Fridays.' },
  });
  room = await server.api.room(ada.token, { title: 'Friday clinic: Newton’s method', tags: ['math'], record: false });
  expect((await server.api.post(`/api/rooms/${room.id}/start`, {}, ada.token)).status).toBe(200);
});

afterAll(async () => {
  closeAllSockets();
  await browser?.close();
  await server?.close();
});

afterEach(async () => {
  for (const o of opened.splice(0)) await o.context.close();
});

it('the watch page: Follow becomes Following, survives a reload, and reads in Chinese', async () => {
  const amy = await server.api.register('viewer', `amy_${randomUUID().slice(0, 6)}`);
  const { page } = await open(amy);
  await page.goto(`${server.url}/watch/${room.id}`);
  const button = page.locator('#room-meta button#follow');
  await button.waitFor();
  // Next to the creator's name.
  expect(await page.locator('#room-meta .creator-line .creator-link').textContent()).toBe('Ada Lovelace');
  expect(await button.textContent()).toBe('+ Follow');
  expect(await button.getAttribute('aria-pressed')).toBe('false');
  await page.getByRole('button', { name: 'Follow', exact: true, pressed: false }).waitFor();
  await photograph(page, 'watch-en-before');

  await button.click();
  await page.locator('#room-meta button#follow[aria-pressed="true"]').waitFor();
  expect(await button.textContent()).toBe('✓ Following');
  expect(await followers()).toBe(1);

  await page.reload();
  await page.locator('#room-meta button#follow').waitFor();
  expect(await page.locator('#room-meta button#follow').getAttribute('aria-pressed')).toBe('true');
  await page.getByRole('button', { name: 'Following', exact: true, pressed: true }).waitFor();
  expect(await axe(page, '#room-meta')).toEqual([]);
  await photograph(page, 'watch-en');

  const zh = (await open(amy, 'zh-CN')).page;
  await zh.goto(`${server.url}/watch/${room.id}`);
  await zh.locator('#room-meta button#follow[aria-pressed="true"]').waitFor();
  expect(await zh.locator('#room-meta button#follow').textContent()).toBe('✓ 已关注');
  await photograph(zh, 'watch-zh');

  // The creator does not follow themselves: no button in their own room.
  const own = (await open(ada)).page;
  await own.goto(`${server.url}/watch/${room.id}`);
  await own.locator('#room-meta .creator-link').waitFor();
  expect(await own.locator('#room-meta button#follow').count()).toBe(0);

  await server.api.request('DELETE', `/api/creators/${ada.user.id}/follow`, { token: amy.token });
});

it('the creator page: the follower count, unfollowing and following again, in both languages', async () => {
  const ben = await server.api.register('viewer', `ben_${randomUUID().slice(0, 6)}`);
  await server.api.request('PUT', `/api/creators/${ada.user.id}/follow`, { token: ben.token });
  const { page } = await open(ben);
  await page.goto(`${server.url}/creators/${ada.user.id}`);
  await page.locator('body[data-loaded="true"]').waitFor();
  const button = page.locator('.profile-head button#follow');
  expect(await button.getAttribute('aria-pressed')).toBe('true');
  expect(await page.locator('#followers').textContent()).toBe('1 follower');
  expect(await axe(page, '.profile-head')).toEqual([]);
  await photograph(page, 'creator-en');

  await button.click();
  await page.locator('.profile-head button#follow[aria-pressed="false"]').waitFor();
  expect(await page.locator('#followers').textContent()).toBe('0 followers');
  expect(await followers()).toBe(0);
  await button.click();
  await page.locator('.profile-head button#follow[aria-pressed="true"]').waitFor();
  expect(await page.locator('#followers').textContent()).toBe('1 follower');

  const zh = (await open(ben, 'zh-CN')).page;
  await zh.goto(`${server.url}/creators/${ada.user.id}`);
  await zh.locator('body[data-loaded="true"]').waitFor();
  expect(await zh.locator('.profile-head button#follow').textContent()).toBe('✓ 已关注');
  expect(await zh.locator('#followers').textContent()).toBe('1 位关注者');
  await photograph(zh, 'creator-zh');
});

it('a guest who clicks Follow is asked to sign in', async () => {
  const { page } = await open();
  await page.goto(`${server.url}/creators/${ada.user.id}`);
  await page.locator('body[data-loaded="true"]').waitFor();
  await page.locator('.profile-head button#follow').click();
  await page.getByRole('dialog').waitFor();
  expect(await page.getByRole('dialog').locator('input[type="password"]').count()).toBe(1);

  const watch = (await open()).page;
  await watch.goto(`${server.url}/watch/${room.id}`);
  await watch.locator('#room-meta button#follow').click();
  await watch.getByRole('dialog').waitFor();
  expect(await followers()).toBe(1); // unchanged: only Ben follows
});
