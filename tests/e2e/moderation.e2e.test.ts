import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { launchBrowser, type OpenPage, openPage, until } from './browser';

/**
 * Moderation through the pages, while live: the owner in the studio and a moderator on the
 * watch page delete a message, time a viewer out, ban them and unban them from the list; the
 * owner appoints and revokes a moderator; slow mode, subscribers-only chat and the word filter
 * reach a viewer. Every action starts from the ⋯ menu of a chat line (or the moderation
 * panel's lists), and each viewer sees its effect at once. The tests run in order and build on
 * each other, like the stream they follow.
 */

const RESULTS = path.resolve(__dirname, '../../test-results');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

let server: TestServer;
let browser: Browser;
let roomId: string;
let owner: Account;
let studio: OpenPage;
/** The viewer who is timed out and banned. */
let amy: { account: Account; open: OpenPage; name: string };
/** The viewer who becomes a moderator. */
let ben: { account: Account; open: OpenPage; name: string };
/** A bystander: sees messages vanish, writes under the room's rules. */
let cho: { account: Account; open: OpenPage; name: string };
const measured: Record<string, unknown> = {};

interface PageState {
  access: string;
  role: string;
  removed: boolean;
  mutedUntil?: string;
  tracks: { source: string; kind: string }[];
}
const pageState = (page: Page): Promise<PageState> => page.evaluate(() => (globalThis as any).__lectern.state());

function failWithPageErrors(open: OpenPage) {
  return async (err: unknown) => {
    const state = await pageState(open.page).catch(() => undefined);
    const toasts = await open.page
      .locator('.toasts')
      .textContent()
      .catch(() => '');
    throw new Error(
      `${String(err)}\nstate: ${JSON.stringify(state)}\ntoasts: ${toasts}\npage said:\n${open.errors.slice(-20).join('\n')}`,
    );
  };
}

/** The camera video decodes frames, and more of them a moment later. */
async function playing(open: OpenPage, who: string): Promise<void> {
  const frames = async () => {
    const all = (await open.page.evaluate(() => (globalThis as any).__lectern?.stats?.() ?? [])) as {
      source: string;
      framesDecoded: number;
    }[];
    return all.find((s) => s.source === 'camera')?.framesDecoded ?? 0;
  };
  const first = await until(async () => (await frames()) > 0 && (await frames()), `${who}: video frames`, 20_000).catch(
    failWithPageErrors(open),
  );
  await until(async () => (await frames()) > first + 5, `${who}: video playing on`, 15_000).catch(
    failWithPageErrors(open),
  );
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Chat message').fill(text);
  await page.locator('.chat-form').getByRole('button', { name: 'Send' }).click();
}

const line = (page: Page, text: string): Locator => page.locator('.chat-list li', { hasText: text });

/** Opens the ⋯ menu of the chat line saying `text` (written by `author`); returns the menu. */
async function menuOf(page: Page, text: string, author: string): Promise<Locator> {
  const l = line(page, text);
  await l.getByRole('button', { name: `Moderate ${author}’s message` }).click();
  const menu = l.getByRole('group', { name: `Moderate ${author}` });
  await menu.waitFor();
  return menu;
}

const panel = (page: Page): Locator => page.locator('section.moderation');

/** Screenshots at desktop and phone sizes; on the phone nothing may scroll sideways. */
async function screenshots(page: Page, name: string, prepare?: () => Promise<void>): Promise<void> {
  // Scrolled back to the top: a full-page shot of a scrolled page draws the sticky top bar midway.
  const top = () => page.evaluate(() => (globalThis as any).scrollTo(0, 0));
  await prepare?.();
  await top();
  await page.screenshot({ path: path.join(RESULTS, `moderation-${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await prepare?.();
  await top();
  const overflow = await page.evaluate(() => {
    const d = (globalThis as any).document.documentElement;
    return d.scrollWidth - d.clientWidth;
  });
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(RESULTS, `moderation-${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

async function viewer(name: string) {
  const account = await server.api.register('viewer', `${name}_${randomUUID().slice(0, 4)}`);
  const open = await openPage(browser, account);
  await open.page.goto(`${server.url}/watch/${roomId}`);
  await open.page.locator('#room-title', { hasText: 'Office hours' }).waitFor();
  return { account, open, name: account.user.username };
}

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  server = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1' });
  browser = await launchBrowser();
});

afterAll(async () => {
  console.log(`moderation e2e: ${JSON.stringify(measured)}`);
  await browser?.close();
  await server?.close();
});

describe('moderation through the pages', () => {
  it('the owner goes live and three viewers watch', async () => {
    owner = await server.api.register('creator', `ada_${randomUUID().slice(0, 4)}`);
    const room = await server.api.room(owner.token, { title: 'Office hours: eigenvalues' });
    roomId = room.id;
    studio = await openPage(browser, owner);
    await studio.page.goto(`${server.url}/studio?room=${roomId}`);
    // The camera first (the fake one), then live: what is sent is what the preview shows.
    await until(
      () => studio.page.evaluate(() => (globalThis as any).document.getElementById('preview').videoWidth > 0),
      'studio: camera preview',
    ).catch(failWithPageErrors(studio));
    await studio.page.getByRole('button', { name: 'Go live' }).click();
    await until(
      async () => (await studio.page.locator('#publish-status').textContent()) === 'Live',
      'studio: live',
    ).catch(failWithPageErrors(studio));
    // The owner sees the moderation panel with the room's rules; there is nothing to undo yet.
    await panel(studio.page).waitFor();
    expect(await panel(studio.page).getByLabel('Slow mode').inputValue()).toBe('0');
    await panel(studio.page).getByText('Nobody is banned.').waitFor();

    amy = await viewer('amy');
    ben = await viewer('ben');
    cho = await viewer('cho');
    await playing(amy.open, 'amy');
    // Viewers get no moderation tools.
    expect(await panel(amy.open.page).isVisible()).toBe(false);
    expect((await pageState(amy.open.page)).role).toBe('viewer');
  });

  it('the owner deletes a message from its chat line, and it vanishes for every viewer', async () => {
    await say(amy.open.page, 'buy cheap followers here');
    await line(studio.page, 'buy cheap followers').waitFor();
    await line(cho.open.page, 'buy cheap followers').waitFor();
    // A viewer's line has no menu.
    expect(await line(cho.open.page, 'buy cheap followers').getByRole('button').count()).toBe(0);

    const menu = await menuOf(studio.page, 'buy cheap followers', amy.name);
    await screenshots(studio.page, 'studio-menu', async () => {
      await line(studio.page, 'buy cheap followers').scrollIntoViewIfNeeded();
    });
    await menu.getByRole('button', { name: `Delete ${amy.name}’s message` }).click();
    for (const page of [amy.open.page, cho.open.page, studio.page]) {
      await line(page, 'buy cheap followers').waitFor({ state: 'detached' });
    }
  });

  it('the owner times a viewer out: the viewer sees until when, even after a reload; lifting it lets them chat', async () => {
    const { page } = amy.open;
    await say(page, 'this is boring!!!');
    const menu = await menuOf(studio.page, 'this is boring', amy.name);
    await menu.getByRole('button', { name: `Time out ${amy.name} for 5 minutes` }).click();

    const input = page.getByLabel('Chat message');
    await until(async () => input.isDisabled(), 'amy: chat input disabled');
    expect(await input.getAttribute('placeholder')).toMatch(/^Timed out until \d/);
    await page.locator('.chat-rules', { hasText: 'A moderator timed you out until' }).waitFor();
    const state = await pageState(page);
    expect(Date.parse(state.mutedUntil!)).toBeGreaterThan(Date.now() + 4 * 60_000);
    expect(await page.getByLabel('Your question').isDisabled()).toBe(true);
    // Watching goes on.
    expect(state.removed).toBe(false);
    await screenshots(page, 'muted');

    // The studio lists the timeout.
    const timedOut = panel(studio.page).locator('.mod-people').first();
    await panel(studio.page).getByRole('heading', { name: 'Timed out (1)' }).waitFor();
    await timedOut.getByText(amy.name).waitFor();

    // A reload keeps the muted state (the join answer says until when).
    await page.reload();
    await until(async () => page.getByLabel('Chat message').isDisabled(), 'amy after reload: still muted');
    await page.locator('.chat-rules', { hasText: 'timed you out until' }).waitFor();

    await panel(studio.page)
      .getByRole('button', { name: `Lift ${amy.name}’s timeout` })
      .click();
    await until(async () => !(await page.getByLabel('Chat message').isDisabled()), 'amy: chat input enabled again');
    await panel(studio.page).getByRole('heading', { name: 'Timed out (0)' }).waitFor();
    await say(page, 'sorry, I will behave');
    await line(studio.page, 'sorry, I will behave').waitFor();
  });

  it('the owner bans a viewer who is watching: the player stops and the viewer sees at once that they were removed', async () => {
    const { page } = amy.open;
    await playing(amy.open, 'amy before the ban');
    const menu = await menuOf(studio.page, 'sorry, I will behave', amy.name);
    const clickedAt = Date.now();
    await menu.getByRole('button', { name: `Ban ${amy.name} from this room` }).click();

    await page
      .locator('#overlay.removed', { hasText: 'You were removed from this room by a moderator' })
      .waitFor({ timeout: 5000 });
    measured.banShownAfterMs = Date.now() - clickedAt;
    const state = await pageState(page);
    expect(state.removed).toBe(true);
    expect(state.tracks).toEqual([]);
    expect(await page.locator('#overlay .spinner').count()).toBe(0);
    expect(await page.getByLabel('Chat message').isDisabled()).toBe(true);
    expect(await page.getByLabel('Chat message').getAttribute('placeholder')).toBe('Removed from this room');
    expect(await page.getByRole('button', { name: 'Like' }).isDisabled()).toBe(true);
    expect(await page.locator('#support').isVisible()).toBe(false);
    expect(await page.locator('#live-badge').isVisible()).toBe(false);
    await screenshots(page, 'removed');

    await panel(studio.page).getByRole('heading', { name: 'Banned (1)' }).waitFor();
    // The studio's viewer count drops (amy's connection left the room).
    await until(async () => (await studio.page.locator('#viewer-count').textContent()) === '2', 'studio: 2 watching');
  });

  it('the owner unbans from the list; the viewer is told and rejoins', async () => {
    const { page } = amy.open;
    await panel(studio.page)
      .getByRole('button', { name: `Unban ${amy.name}` })
      .click();
    await page.locator('#overlay', { hasText: 'You can come back' }).waitFor();
    await panel(studio.page).getByRole('heading', { name: 'Banned (0)' }).waitFor();
    await page.getByRole('button', { name: 'Rejoin the room' }).click();
    await playing(amy.open, 'amy after the unban');
    expect((await pageState(page)).removed).toBe(false);
    await say(page, 'thanks for letting me back');
    await line(studio.page, 'thanks for letting me back').waitFor();
  });

  it('the owner makes a viewer a moderator from their chat line; their page shows the tools at once', async () => {
    const { page } = ben.open;
    await say(page, 'happy to help moderate');
    await say(studio.page, 'Welcome, everyone');
    await line(page, 'Welcome, everyone').waitFor();
    const menu = await menuOf(studio.page, 'happy to help moderate', ben.name);
    await menu.getByRole('button', { name: `Make ${ben.name} a moderator` }).click();

    await panel(page).waitFor();
    expect((await pageState(page)).role).toBe('moderator');
    await page.getByText('You are a moderator of this room now.').waitFor();
    // Lines already in the chat get their menu; the owner's do not (nobody moderates the owner).
    await line(page, 'thanks for letting me back')
      .getByRole('button', { name: `Moderate ${amy.name}’s message` })
      .waitFor();
    expect(await line(page, 'Welcome, everyone').getByRole('button').count()).toBe(0);
    await panel(page).getByRole('heading', { name: 'Moderators (1)' }).waitFor();
    await panel(studio.page).getByRole('heading', { name: 'Moderators (1)' }).waitFor();
    // A moderator cannot appoint or remove moderators.
    const own = await menuOf(page, 'thanks for letting me back', amy.name);
    expect(await own.getByRole('button', { name: /moderator/ }).count()).toBe(0);
    await own.press('Escape');
    await own.waitFor({ state: 'detached' });
  });

  it('a moderator on the watch page deletes, times out, bans and unbans', async () => {
    const mod = ben.open.page;
    await say(cho.open.page, 'oops, wrong chat window');
    const del = await menuOf(mod, 'oops, wrong chat', cho.name);
    await del.getByRole('button', { name: `Delete ${cho.name}’s message` }).click();
    await line(cho.open.page, 'oops, wrong chat').waitFor({ state: 'detached' });
    await line(studio.page, 'oops, wrong chat').waitFor({ state: 'detached' });

    await say(amy.open.page, 'FIRST FIRST FIRST');
    const timeout = await menuOf(mod, 'FIRST FIRST', amy.name);
    await screenshots(mod, 'moderator', async () => {
      await line(mod, 'FIRST FIRST').scrollIntoViewIfNeeded();
    });
    await timeout.getByRole('button', { name: `Time out ${amy.name} for 1 minute` }).click();
    await until(async () => amy.open.page.getByLabel('Chat message').isDisabled(), 'amy: muted by the moderator');
    await panel(studio.page).getByRole('heading', { name: 'Timed out (1)' }).waitFor();
    // The open menu now offers to lift it.
    const again = await menuOf(mod, 'FIRST FIRST', amy.name);
    await again.getByRole('button', { name: `Lift ${amy.name}’s timeout` }).click();
    await until(async () => !(await amy.open.page.getByLabel('Chat message').isDisabled()), 'amy: unmuted');

    const ban = await menuOf(mod, 'FIRST FIRST', amy.name);
    await ban.getByRole('button', { name: `Ban ${amy.name} from this room` }).click();
    await amy.open.page.locator('#overlay', { hasText: 'You were removed from this room by a moderator' }).waitFor();
    await panel(studio.page).getByRole('heading', { name: 'Banned (1)' }).waitFor();
    await panel(mod)
      .getByRole('button', { name: `Unban ${amy.name}` })
      .click();
    await amy.open.page.locator('#overlay', { hasText: 'You can come back' }).waitFor();
    await panel(studio.page).getByRole('heading', { name: 'Banned (0)' }).waitFor();
  });

  it('slow mode, the word filter and subscribers-only chat, set from either page, reach a viewer at once', async () => {
    const viewerPage = cho.open.page;
    const rules = viewerPage.locator('.chat-rules');
    const note = viewerPage.locator('.chat > p.muted.small');

    // Slow mode, from the studio: the moderator's panel follows.
    await panel(studio.page).getByLabel('Slow mode').selectOption('30');
    await rules.filter({ hasText: 'Slow mode: one message every 30 seconds' }).waitFor();
    await until(async () => (await panel(ben.open.page).getByLabel('Slow mode').inputValue()) === '30', 'ben: 30 s');
    await say(viewerPage, 'first under slow mode');
    await line(studio.page, 'first under slow mode').waitFor();
    await say(viewerPage, 'second, too soon');
    await note.filter({ hasText: /Slow mode is on: you can write again in \d+ seconds?\./ }).waitFor();

    // The word filter, from the moderator's page: the studio's list follows.
    await panel(ben.open.page).getByLabel('Block a word').fill('Spoiler');
    await panel(ben.open.page).getByRole('button', { name: 'Block', exact: true }).click();
    await panel(studio.page).locator('.word-chips', { hasText: 'spoiler' }).waitFor();
    await say(viewerPage, 'big spoiler ahead');
    await note.filter({ hasText: 'Your message has a word this room does not allow.' }).waitFor();

    // Subscribers-only, from the studio.
    await panel(studio.page).getByLabel('Subscribers-only chat').check();
    await rules.filter({ hasText: 'Only subscribers can chat' }).waitFor();
    await say(viewerPage, 'may I still talk?');
    await note.filter({ hasText: 'Only subscribers can chat in this room right now.' }).waitFor();
    await screenshots(viewerPage, 'rules', async () => {
      await viewerPage.locator('.chat-form').scrollIntoViewIfNeeded();
    });
    await screenshots(studio.page, 'studio-panel', async () => {
      await panel(studio.page).scrollIntoViewIfNeeded();
    });

    // The settings as they are now, for a moderator opening the page afresh.
    await ben.open.page.reload();
    await panel(ben.open.page).waitFor();
    expect(await panel(ben.open.page).getByLabel('Slow mode').inputValue()).toBe('30');
    expect(await panel(ben.open.page).getByLabel('Subscribers-only chat').isChecked()).toBe(true);
    await panel(ben.open.page).locator('.word-chips', { hasText: 'spoiler' }).waitFor();

    // Everything back off: the viewer may chat again.
    await panel(studio.page).getByLabel('Subscribers-only chat').uncheck();
    await panel(studio.page).getByLabel('Slow mode').selectOption('0');
    await panel(studio.page).getByRole('button', { name: 'Allow “spoiler” again' }).click();
    await panel(studio.page).getByText('No words blocked.').waitFor();
    await until(async () => (await rules.isVisible()) === false, 'cho: no rules shown');
    await say(viewerPage, 'a spoiler is fine now');
    await line(studio.page, 'a spoiler is fine now').waitFor();
  });

  it('the owner revokes the moderator from the list; their tools go away at once', async () => {
    const { page } = ben.open;
    await panel(studio.page)
      .getByRole('button', { name: `Remove ${ben.name} as moderator` })
      .click();
    await panel(page).waitFor({ state: 'hidden' });
    await page.getByText('You no longer moderate this room.').waitFor();
    expect((await pageState(page)).role).toBe('viewer');
    expect(await page.locator('.chat-list .line-toggle').count()).toBe(0);
    await panel(studio.page).getByRole('heading', { name: 'Moderators (0)' }).waitFor();
  });
});
