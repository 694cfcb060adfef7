import { mkdirSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets } from '../helpers/socket';
import { launchBrowser, type OpenPage, openPage, photograph, RESULTS, SIZES, until } from './browser';
import { seedWorld, type World } from './viewer-world';

/**
 * Accessibility and languages, in Chromium: axe-core finds no serious or critical violation on
 * the home page, the studio, the watch page (a live room) and the dashboard, at desktop and
 * phone sizes; the language switch of the top bar turns the site Chinese, every page stays
 * Chinese after a reload, and it switches back. The viewer's pages are photographed in both
 * languages at both sizes (test-results/i18n-<page>-<lang>-<size>.png), the deployment's
 * currency being CNY here.
 */

jest.setTimeout(180_000);

let server: TestServer;
let browser: Browser;
let world: World;
const opened: OpenPage[] = [];

async function open(account?: Account, locale?: 'en' | 'zh-CN'): Promise<OpenPage> {
  const o = await openPage(browser, account, locale);
  opened.push(o);
  return o;
}

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  server = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1', CURRENCY: 'CNY' });
  browser = await launchBrowser();
  world = await seedWorld(server);
});

afterAll(async () => {
  closeAllSockets();
  await browser?.close();
  await server?.close();
});

afterEach(async () => {
  for (const o of opened.splice(0)) await o.context.close();
});

/** Waits for the page's own content: its script has run and its first data is in. */
async function ready(page: Page, name: string): Promise<void> {
  const marker: Record<string, string> = {
    home: 'body[data-loaded="true"]',
    dashboard: '#overview:not([hidden])',
    watch: '#room-title',
    studio: '#account > *',
  };
  await page
    .locator(marker[name] ?? 'body')
    .first()
    .waitFor({ timeout: 20_000 });
  if (name === 'watch') {
    // The room's title replaces "Loading…" once the page has joined (the page is being reworked: lenient).
    await until(
      async () => !/^Loading/.test((await page.locator('#room-title').textContent()) ?? ''),
      'watch: the room is shown',
    ).catch(() => undefined);
  }
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await page.waitForTimeout(500);
}

interface Violation {
  id: string;
  impact?: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; failureSummary?: string; html: string }[];
}

/** axe's serious and critical findings, one readable paragraph each. */
function readable(violations: Violation[]): string[] {
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
        v.nodes
          .slice(0, 8)
          .map(
            (n) =>
              `    at ${n.target.join(' ')}\n      ${n.html.slice(0, 160)}\n      ${(n.failureSummary ?? '').replace(/\n/g, '\n      ')}`,
          )
          .join('\n') +
        (v.nodes.length > 8 ? `\n    … and ${v.nodes.length - 8} more` : ''),
    );
}

async function axe(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page: page as any }).analyze();
  return readable(results.violations as Violation[]);
}

const PAGES: { name: string; who: () => Account | undefined; url: () => string }[] = [
  { name: 'home', who: () => world.viewer, url: () => '/' },
  { name: 'dashboard', who: () => world.creator, url: () => '/dashboard' },
  { name: 'watch', who: () => world.viewer, url: () => `/watch/${world.rooms.ticket.id}` },
  { name: 'studio', who: () => world.creator, url: () => `/studio?room=${world.rooms.free.id}` },
];

describe('axe-core: no serious or critical violations', () => {
  for (const target of PAGES) {
    for (const [size, viewport] of Object.entries(SIZES)) {
      it(`${target.name} (${size})`, async () => {
        const o = await open(target.who());
        await o.page.setViewportSize(viewport);
        await o.page.goto(`${server.url}${target.url()}`);
        await ready(o.page, target.name);
        const found = await axe(o.page);
        if (found.length) {
          console.log(`axe: ${target.name} (${size}) has ${found.length} serious/critical:\n\n${found.join('\n\n')}`);
        }
        expect({ page: `${target.name} (${size})`, violations: found }).toEqual({
          page: `${target.name} (${size})`,
          violations: [],
        });
      });
    }
  }

  it('home, signed out (desktop): the sign-in form too', async () => {
    const o = await open();
    await o.page.goto(server.url);
    await ready(o.page, 'home');
    expect(await axe(o.page)).toEqual([]);
  });
});

describe('languages', () => {
  it('switches to Chinese with the top-bar select, stays Chinese on another page after a reload, and back', async () => {
    const { page, errors } = await open(world.viewer);
    await page.goto(server.url);
    await ready(page, 'home');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByRole('heading', { name: 'Live now' }).waitFor();

    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN'),
    ]);
    await ready(page, 'home');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.getByRole('heading', { name: '正在直播' }).waitFor();
    await page.getByRole('heading', { name: '即将开播' }).waitFor();
    // Money in the deployment's currency, in Chinese: the ticket room's card.
    await page.locator('.room-tile', { hasText: world.rooms.ticket.title }).getByText('已购票 ✓').waitFor();
    await page.locator('.room-tile', { hasText: world.rooms.free.title }).getByText('免费').waitFor();
    expect(await page.locator('.account').textContent()).toContain('我的内容');

    // Another page, reloaded: still Chinese.
    await page.goto(`${server.url}/content/${world.course.id}`);
    await page.reload();
    await page.getByRole('heading', { name: '课程目录' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('.buy-card').textContent()).toContain('¥7.00');
    await page.goto(`${server.url}/orders`);
    await page.getByRole('heading', { name: '我的订单' }).waitFor();

    // And back to English.
    await Promise.all([page.waitForEvent('load'), page.getByRole('combobox', { name: '语言' }).selectOption('en')]);
    await page.getByRole('heading', { name: 'Your orders' }).waitFor();
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Live now' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});

describe('the viewer’s pages in both languages (screenshots)', () => {
  const shots: { name: string; who: () => Account | undefined; url: () => string; wait: string }[] = [
    { name: 'home', who: () => world.viewer, url: () => '/', wait: 'body[data-loaded="true"]' },
    { name: 'home-guest', who: () => undefined, url: () => '/', wait: 'body[data-loaded="true"]' },
    { name: 'course', who: () => world.viewer, url: () => `/content/${world.course.id}`, wait: '.buy-card' },
    { name: 'lesson', who: () => world.viewer, url: () => `/content/${world.lessons.first.id}`, wait: '.owned-card' },
    {
      name: 'creator',
      who: () => world.viewer,
      url: () => `/creators/${world.creator.user.id}`,
      wait: 'body[data-loaded="true"]',
    },
    { name: 'library', who: () => world.viewer, url: () => '/library', wait: '.library-card' },
    { name: 'orders', who: () => world.viewer, url: () => '/orders', wait: 'body[data-loaded="true"]' },
    { name: 'replay', who: () => world.viewer, url: () => `/replay/${world.rooms.ended.id}`, wait: '.content-head' },
    { name: 'dashboard', who: () => world.creator, url: () => '/dashboard', wait: '#overview:not([hidden])' },
    {
      name: 'contents',
      who: () => world.creator,
      url: () => '/studio/contents',
      wait: '.manage-list li[data-content]',
    },
    {
      name: 'course-editor',
      who: () => world.creator,
      url: () => `/studio/contents?edit=${world.course.id}`,
      wait: '.syllabus-editor',
    },
  ];
  for (const locale of ['en', 'zh-CN'] as const) {
    it(`in ${locale}`, async () => {
      for (const shot of shots) {
        const o = await open(shot.who(), locale);
        await o.page.goto(`${server.url}${shot.url()}`);
        await o.page
          .locator(shot.wait)
          .first()
          .waitFor({ timeout: 20_000 })
          .catch((err) => {
            throw new Error(`${shot.name}: ${String(err)}\n${o.errors.join('\n')}`);
          });
        await o.page.waitForTimeout(400);
        expect(await o.page.locator('html').getAttribute('lang')).toBe(locale);
        await photograph(o.page, `i18n-${shot.name}-${locale}`);
        // The viewer's other pages are held to the same bar as the four above.
        expect({ page: shot.name, locale, violations: await axe(o.page) }).toEqual({
          page: shot.name,
          locale,
          violations: [],
        });
        expect(o.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
        await o.context.close();
      }
    });
  }

  it('the sign-in dialog and the payment confirmation, in Chinese', async () => {
    const guest = await open(undefined, 'zh-CN');
    await guest.page.goto(`${server.url}/content/${world.course.id}`);
    await guest.page.locator('.buy-card button.buy').click();
    await guest.page.getByRole('dialog', { name: '登录' }).waitFor();
    await photograph(guest.page, 'i18n-signin-zh-CN');

    const o = await open(world.viewer, 'zh-CN');
    await o.page.goto(`${server.url}/content/${world.course.id}`);
    await o.page.locator('.buy-card button.buy').click();
    const dialog = o.page.getByRole('dialog');
    await dialog.getByRole('button', { name: /^支付/ }).waitFor();
    await photograph(o.page, 'i18n-confirm-zh-CN');
    await dialog.getByRole('button', { name: '取消' }).click();
    await until(async () => (await o.page.getByRole('dialog').count()) === 0, 'the dialog closes');
  });
});
