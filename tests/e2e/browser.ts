import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Account } from '../helpers/server';

/** Debian's Chromium; set CHROMIUM_PATH for another build. Never a downloaded one. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium with a fake camera (a moving test pattern) and microphone (a beep) that
 * are granted without a prompt. No `--allow-loopback-in-peer-connection`: the media server's
 * 127.0.0.1 candidates are reached as an ordinary browser reaches them on `npm start`.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
      // Pages in background tabs must keep decoding and running timers like a foreground one.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
  });
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors and console errors of the page, for failure messages. */
  errors: string[];
}

/**
 * A page in a browser profile of its own (its own localStorage), signed in as `account` the
 * way the pages keep a session, or a guest; in `locale` (the pages' language choice) if given.
 */
export async function openPage(browser: Browser, account?: Account, locale?: string): Promise<OpenPage> {
  const context = await browser.newContext({ viewport: DESKTOP });
  if (account) {
    await context.addInitScript((session) => {
      (globalThis as any).localStorage.setItem('lectern.session', JSON.stringify(session));
    }, account);
  }
  if (locale) {
    await context.addInitScript((l) => (globalThis as any).localStorage.setItem('lectern.locale', l), locale);
  }
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') errors.push(`console.${msg.type()}: ${msg.text()}`);
  });
  return { context, page, errors };
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` saying what was awaited. */
export async function until<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 15_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The sizes pages are checked and photographed at. */
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const SIZES = { desktop: DESKTOP, phone: PHONE } as const;
/** Where the screenshots go, for people to look at (not compared by the tests). */
export const RESULTS = path.resolve(__dirname, '../../test-results');

/**
 * Full-page screenshots at desktop and phone size (`<name>-desktop.png`, `<name>-phone.png`),
 * each from the top (a sticky top bar is otherwise drawn where the page was scrolled to), after
 * the layout settles (charts follow their container's size); at neither size may anything scroll
 * sideways. The page is left at desktop size.
 */
export async function photograph(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await page.waitForTimeout(400);
    const overflow = await page.evaluate(() => {
      const d = (globalThis as any).document.documentElement;
      return d.scrollWidth - d.clientWidth;
    });
    expect({ page: name, size, overflow }).toEqual({ page: name, size, overflow: 0 });
    await page.screenshot({ path: path.join(RESULTS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}
