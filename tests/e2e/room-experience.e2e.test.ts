import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Locator, Page } from 'playwright-core';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { connect, ok } from '../helpers/socket';
import { launchBrowser, type OpenPage, openPage, until } from './browser';

/**
 * The room viewers expect, through the pages, on a desktop (1280×860) and a phone (390×844), in a
 * deployment that sells in yuan: a Super Chat (a tip over the pin threshold, confirmed with its
 * price and the balance after) reaches another viewer and a late joiner in the pinned bar with its
 * time left, and the chat as a tip line; a poll goes from the studio to a viewer's one final vote
 * to live results on both pages, and closes with final results; the phone layout puts the chat
 * right under the video with its input in view and nothing scrolling sideways; danmaku flies when
 * switched on; the watch page speaks Chinese. The tests run in order and build on each other.
 */

const RESULTS = path.resolve(__dirname, '../../test-results');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const TICKET = 300;

let server: TestServer;
let browser: Browser;
let owner: Account;
let roomId: string;
let lessonId: string;
let studio: OpenPage;
/** Desktop viewer: sends the Super Chat. */
let amy: { account: Account; open: OpenPage };
/** Phone viewer: sees it arrive, votes from the Polls tab. */
let ben: { account: Account; open: OpenPage };
const opened: OpenPage[] = [];

function failWithPageErrors(open: OpenPage) {
  return async (err: unknown) => {
    const toasts = await open.page
      .locator('.toasts')
      .textContent()
      .catch(() => '');
    throw new Error(`${String(err)}\ntoasts: ${toasts}\npage said:\n${open.errors.slice(-20).join('\n')}`);
  };
}

async function open(account?: Account, viewport = DESKTOP, locale?: string): Promise<OpenPage> {
  const o = await openPage(browser, account, locale);
  await o.page.setViewportSize(viewport);
  opened.push(o);
  return o;
}

async function ticketHolder(name: string, viewport = DESKTOP, before?: (account: Account) => Promise<void>) {
  const account = await server.api.register('viewer', `${name}_${randomUUID().slice(0, 4)}`);
  await server.api.topUp(account.token, 5000);
  expect((await server.api.post('/api/purchases', { roomId }, account.token, randomUUID())).status).toBe(201);
  await before?.(account);
  const o = await open(account, viewport);
  await o.page.goto(`${server.url}/watch/${roomId}`);
  await o.page.locator('#room-title', { hasText: 'Linear algebra' }).waitFor();
  return { account, open: o };
}

/** True when nothing scrolls sideways; otherwise what sticks out, to say so in the failure. */
const noSidewaysScroll = async (page: Page): Promise<true | string> => {
  const wide = await page.evaluate(() => {
    const g = globalThis as any;
    if (g.document.documentElement.scrollWidth <= g.innerWidth) return [];
    return [...g.document.querySelectorAll('body *')]
      .filter((el: any) => el.getBoundingClientRect().right > g.innerWidth + 1)
      .slice(0, 8)
      .map((el: any) => `${el.tagName}#${el.id}.${el.className} right=${Math.round(el.getBoundingClientRect().right)}`);
  });
  return wide.length ? wide.join('; ') : true;
};

/** Screenshots at both sizes (back to `restore` after); on the phone nothing may scroll sideways. */
async function screenshots(page: Page, name: string, restore = DESKTOP): Promise<void> {
  const top = () => page.evaluate(() => (globalThis as any).scrollTo(0, 0));
  await page.setViewportSize(DESKTOP);
  await top();
  await page.screenshot({ path: path.join(RESULTS, `room-${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await top();
  expect(await noSidewaysScroll(page)).toBe(true);
  await page.screenshot({ path: path.join(RESULTS, `room-${name}-phone.png`) });
  await page.setViewportSize(restore);
}

/** Serious and critical axe-core violations on the page as it is now, as readable lines. */
async function axeProblems(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page: page as never }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const pinnedItem = (page: Page, text: string): Locator => page.locator('#pinned-bar .pinned-item', { hasText: text });

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  server = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1', CURRENCY: 'CNY' });
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const o of opened) await o.context.close().catch(() => {});
  await browser?.close();
  await server?.close();
});

describe('the room viewers expect', () => {
  it('the owner goes live from the studio; ticket holders watch on a desktop and a phone', async () => {
    owner = await server.api.register('creator', `ada_${randomUUID().slice(0, 4)}`);
    const room = await server.api.room(owner.token, {
      title: 'Linear algebra, live',
      access: 'ticket',
      ticketPrice: TICKET,
      previewSeconds: 600,
      tags: ['math'],
    });
    roomId = room.id;
    studio = await open(owner);
    await studio.page.goto(`${server.url}/studio?room=${roomId}`);
    await until(
      () => studio.page.evaluate(() => (globalThis as any).document.getElementById('preview').videoWidth > 0),
      'studio: camera preview',
    ).catch(failWithPageErrors(studio));
    await studio.page.getByRole('button', { name: 'Go live' }).click();
    await until(
      async () => (await studio.page.locator('#publish-status').textContent()) === 'Live',
      'studio: live',
    ).catch(failWithPageErrors(studio));

    // A lesson of the creator's that amy already owns: the room says so, also after a reload.
    const lesson = await server.api.content(owner.token, { title: 'Eigenvalues, recorded', price: 700 });
    lessonId = lesson.id;
    amy = await ticketHolder('amy', DESKTOP, async (account) => {
      await server.api.post('/api/purchases', { contentId: lesson.id }, account.token, randomUUID());
    });
    const owned = amy.open.page.locator(`[data-content="${lesson.id}"] button.buy`);
    await owned.filter({ hasText: 'Owned ✓' }).waitFor();
    expect(await owned.isDisabled()).toBe(true);
    ben = await ticketHolder('ben', PHONE);
    await ben.open.page.getByRole('button', { name: 'Tip', exact: true }).waitFor();
  });

  it('a Super Chat: the tip form says what pins, the viewer confirms, everyone sees it pinned with its time left', async () => {
    const page = amy.open.page;
    const form = page.locator('#tip-form');
    // The rule, from the server's limits: CN¥5.00 pins for 30 seconds, longer for more.
    await form.getByText(/Tips of CN¥5\.00 or more pin your message/).waitFor();
    await form.getByLabel('Amount').fill('10');
    await form.locator('#tip-effect', { hasText: 'This tip pins your message for 1 minute.' }).waitFor();
    await form.getByLabel('Message (optional)').fill('Please explain SVD next');
    await page.getByRole('button', { name: 'Send tip' }).click();

    // One confirmation: the price, the balance and what is left after (50.00 − 3.00 ticket − 7.00 lesson − 10.00).
    const dialog = page.getByRole('dialog', { name: 'Confirm and pay' });
    await dialog.waitFor();
    expect(await dialog.locator('.spend-sum').textContent()).toContain('CN¥30.00');
    await dialog.getByRole('button', { name: 'Pay CN¥10.00' }).click();
    await dialog.waitFor({ state: 'detached' });
    await until(async () => (await page.locator('.wallet').getAttribute('data-balance')) === '3000', 'amy: balance');

    // In the chat, styled apart, for the sender and for another viewer; pinned above the chat.
    await page.locator('.chat-list li.chat-tip', { hasText: 'Please explain SVD next' }).waitFor();
    const phone = ben.open.page;
    await pinnedItem(phone, 'Please explain SVD next').waitFor();
    expect(await pinnedItem(phone, 'Please explain SVD next').textContent()).toMatch(/CN¥10\.00.*\d:\d\d left/);
    await phone.locator('.chat-list li.chat-tip', { hasText: 'Please explain SVD next' }).waitFor();
    await pinnedItem(studio.page, 'Please explain SVD next').waitFor();
    await studio.page.locator('.tips-feed', { hasText: 'Please explain SVD next' }).waitFor();

    // A late joiner finds it pinned, with the time left counting down.
    const cho = await ticketHolder('cho');
    const late = pinnedItem(cho.open.page, 'Please explain SVD next');
    await late.waitFor();
    const left = await late.locator('.pinned-left').textContent();
    expect(left).toMatch(/^\d:\d\d left$/);
    await until(async () => (await late.locator('.pinned-left').textContent()) !== left, 'the time left to count down');

    // A small tip goes at once, without a dialog, and shows in the chat.
    await cho.open.page.locator('#tip-form').getByLabel('Amount').fill('2');
    await cho.open.page.locator('#tip-form').getByLabel('Message (optional)').fill('thanks!');
    await cho.open.page.getByRole('button', { name: 'Send tip' }).click();
    await phone.locator('.chat-list li.chat-tip', { hasText: 'thanks!' }).waitFor();
    expect(await cho.open.page.getByRole('dialog').count()).toBe(0);

    // Buying from "From this creator": one confirmation with the price and the balance after.
    const card = cho.open.page.locator(`[data-content="${lessonId}"]`);
    await card.locator('button.buy').click();
    const confirm = cho.open.page.getByRole('dialog', { name: 'Confirm and pay' });
    expect(await confirm.locator('.spend-sum').textContent()).toMatch(/CN¥7\.00.*CN¥45\.00.*CN¥38\.00/);
    await confirm.getByRole('button', { name: 'Pay CN¥7.00' }).click();
    await card.locator('button.buy', { hasText: 'Owned ✓' }).waitFor();

    await screenshots(page, 'watch-superchat');
    await screenshots(studio.page, 'studio-superchat');
  });

  it('a poll: created in the studio, voted once on the phone, results live on both pages, then closed', async () => {
    const s = studio.page;
    const polls = s.locator('#polls-panel');
    await polls.getByLabel('Question').fill('What next?');
    await polls.getByLabel('Option 1', { exact: true }).fill('Eigenvalues');
    await polls.getByLabel('Option 2', { exact: true }).fill('SVD');
    await polls.getByRole('button', { name: 'Add an option' }).click();
    await polls.getByLabel('Option 3', { exact: true }).fill('Least squares');
    await polls.getByRole('button', { name: 'Start poll' }).click();
    await polls.locator('.poll', { hasText: 'What next?' }).waitFor();

    // The phone: one tap on Polls, the rule said, one vote.
    const phone = ben.open.page;
    await phone.getByRole('button', { name: /^Polls/ }).click();
    const poll = phone.locator('#polls-panel .poll', { hasText: 'What next?' });
    await poll.getByText('One vote each, and it is final').waitFor();
    await poll.getByRole('button', { name: 'Vote for “SVD”' }).click();
    await poll.getByText('Thanks: your vote is in. Votes are final.').waitFor();
    await poll.getByRole('listitem', { name: /SVD: 100% \(1 vote\) · your vote/ }).waitFor();
    expect(await poll.getByRole('button', { name: /Vote for/ }).count()).toBe(0);

    // Another vote; both pages follow.
    const amyPoll = amy.open.page.locator('#polls-panel .poll', { hasText: 'What next?' });
    await amyPoll.getByRole('button', { name: 'Vote for “Eigenvalues”' }).click();
    for (const page of [s, phone]) {
      await page
        .locator('#polls-panel .poll', { hasText: 'What next?' })
        .getByRole('listitem', { name: /^Eigenvalues: 50% \(1 vote\)/ })
        .waitFor();
    }
    await screenshots(phone, 'watch-poll', PHONE);
    await screenshots(s, 'studio-poll');
    // With the pinned message, tips in the chat and a poll on screen: no serious accessibility problems.
    expect(await axeProblems(amy.open.page)).toEqual([]);
    expect(await axeProblems(phone)).toEqual([]);
    expect(await axeProblems(s)).toEqual([]);

    // A viewer in the free preview sees why they cannot vote.
    const dan = await server.api.register('viewer', `dan_${randomUUID().slice(0, 4)}`);
    const previewer = await open(dan);
    await previewer.page.goto(`${server.url}/watch/${roomId}`);
    await previewer.page.locator('#polls-panel', { hasText: 'a free preview cannot vote' }).waitFor();

    await polls.getByRole('button', { name: 'Close the poll “What next?”' }).click();
    await phone
      .locator('#polls-panel .poll.closed', { hasText: 'What next?' })
      .getByText('Closed: final results')
      .waitFor();
  });

  it('on a phone the chat is right under the video, its input in view, nothing scrolls sideways', async () => {
    const phone = ben.open.page;
    await phone.getByRole('button', { name: 'Chat', exact: true }).click();
    const stage = (await phone.locator('#stage').boundingBox())!;
    const chat = (await phone.locator('#chat-panel').boundingBox())!;
    const input = (await phone.getByLabel('Chat message').boundingBox())!;
    expect(chat.y).toBeGreaterThanOrEqual(stage.y + stage.height);
    // Only the pinned bar and the tabs between them.
    expect(chat.y - (stage.y + stage.height)).toBeLessThan(160);
    expect(input.y + input.height).toBeLessThanOrEqual(PHONE.height);
    expect(await noSidewaysScroll(phone)).toBe(true);
    // Near the limit the input counts characters.
    expect(await phone.locator('#chat-count').isVisible()).toBe(false);
    await phone.getByLabel('Chat message').fill('x'.repeat(450));
    await phone.locator('#chat-count', { hasText: '450/500' }).waitFor();
    // The newest message is in view.
    await phone.getByLabel('Chat message').fill('hello from the phone');
    await phone.locator('.chat-form').getByRole('button', { name: 'Send' }).click();
    await phone.locator('.chat-list li', { hasText: 'hello from the phone' }).waitFor();
    expect(await phone.locator('.chat-list li', { hasText: 'hello from the phone' }).isVisible()).toBe(true);

    // The input stays in view while the page scrolls.
    await phone.evaluate(() => (globalThis as any).scrollBy(0, 200));
    const after = (await phone.getByLabel('Chat message').boundingBox())!;
    expect(after.y + after.height).toBeLessThanOrEqual(PHONE.height);
    await phone.evaluate(() => (globalThis as any).scrollTo(0, 0));

    // Tips, questions and polls are one tap away.
    await phone.getByRole('button', { name: 'Tip', exact: true }).click();
    await phone.locator('#tip-form').waitFor();
    await phone.getByRole('button', { name: 'Q&A', exact: true }).click();
    await phone.getByLabel('Your question').waitFor();
    await phone.getByRole('button', { name: 'Chat', exact: true }).click();
    await phone.screenshot({ path: path.join(RESULTS, 'room-watch-chat-phone.png') });
  });

  it('danmaku: off by default, switched on, chat flies over the video', async () => {
    const page = amy.open.page;
    const toggle = page.getByRole('button', { name: 'Chat over the video' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    await ben.open.page.getByLabel('Chat message').fill('flying over the video');
    await ben.open.page.locator('.chat-form').getByRole('button', { name: 'Send' }).click();
    await page.locator('.danmaku .danmaku-line', { hasText: 'flying over the video' }).waitFor();
    await page.locator('#stage').screenshot({ path: path.join(RESULTS, 'room-danmaku-desktop.png') });
    await toggle.click();
  });

  it('questions: no upvote on one’s own, answered ones stay, marked answered', async () => {
    const page = amy.open.page;
    await page.getByLabel('Your question').fill('Is every matrix diagonalizable?');
    await page.getByRole('button', { name: 'Ask' }).click();
    const own = page.locator('.questions li', { hasText: 'Is every matrix' });
    await own.waitFor();
    expect(await own.getByRole('button').count()).toBe(0);
    const other = ben.open.page;
    await other.getByRole('button', { name: 'Q&A', exact: true }).click();
    const theirs = other.locator('.questions li', { hasText: 'Is every matrix' });
    await theirs.getByRole('button', { name: /Upvote/ }).click();
    await theirs.getByRole('button', { name: 'You upvoted this' }).waitFor();
    await studio.page
      .locator('.questions li', { hasText: 'Is every matrix' })
      .getByRole('button', { name: /answered/ })
      .click();
    await page.locator('.questions li.answered', { hasText: 'Is every matrix' }).getByText('Answered ✓').waitFor();
    await other.getByRole('button', { name: 'Chat', exact: true }).click();
    // Opened again (a reload, a late joiner): the join answer brings it back, still answered.
    const again = await open(amy.account, DESKTOP);
    await again.page.goto(`${server.url}/watch/${roomId}`);
    await again.page
      .locator('.questions li.answered', { hasText: 'Is every matrix' })
      .getByText('Answered ✓')
      .waitFor({ state: 'attached' });
    await again.context.close();
  });

  it('the watch page in Chinese: labels, money in yuan, dates', async () => {
    const zh = await open(amy.account, DESKTOP, 'zh-CN');
    const { page } = zh;
    await page.goto(`${server.url}/watch/${roomId}`);
    await page.locator('html[lang="zh-CN"]').waitFor();
    await page.locator('#support h2', { hasText: '支持主播' }).waitFor();
    await page.getByRole('button', { name: '发送打赏' }).waitFor();
    await page.locator('#chat-title', { hasText: '聊天' }).waitFor();
    await page.locator('#polls-title', { hasText: '投票' }).waitFor();
    expect(await page.locator('#tip-form').textContent()).toContain('¥5.00');
    expect(await page.locator('#tip-form').textContent()).not.toContain('CN¥');
    // Closed polls are not sent to a page opened after them: the panel says there are none.
    await page.locator('#polls-panel', { hasText: '暂无投票。' }).waitFor();
    await page.setViewportSize(PHONE);
    await page.getByRole('button', { name: '聊天', exact: true }).waitFor();
    await page.setViewportSize(DESKTOP);
    await screenshots(page, 'zh');
    expect(zh.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);

    // The studio too.
    const zhStudio = await open(owner, DESKTOP, 'zh-CN');
    await zhStudio.page.goto(`${server.url}/studio?room=${roomId}`);
    await zhStudio.page.getByRole('button', { name: '恢复推流' }).waitFor();
    await zhStudio.page.locator('#polls-panel').getByRole('button', { name: '开始投票' }).waitFor();
    await zhStudio.page.getByText('人在看').first().waitFor();
    await screenshots(zhStudio.page, 'zh-studio');
    await zhStudio.context.close();
  });

  it('a gift storm: the chat lists tips and sums the rest in one line; the studio counts every fen', async () => {
    const total = async () => Number((await studio.page.locator('#tip-total').textContent())?.replace(/[^\d]/g, ''));
    const before = await total();
    const fans = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const account = await server.api.register('viewer', `fan${i}_${randomUUID().slice(0, 4)}`);
        await server.api.topUp(account.token, 5000);
        expect((await server.api.post('/api/purchases', { roomId }, account.token, randomUUID())).status).toBe(201);
        const sock = await connect(server.url, account.token);
        await ok(sock, 'room:join', { roomId });
        return sock;
      }),
    );
    // 200 small tips at once: deliveries of more than 50 reach the pages summed past the newest 50.
    const sent = await Promise.all(
      fans.flatMap((sock, i) =>
        Array.from({ length: 20 }, (_, j) =>
          ok(sock, 'tip:send', { roomId, amount: 1 + ((i + j) % 7), idempotencyKey: randomUUID() }),
        ),
      ),
    );
    for (const sock of fans) sock.close();
    const sum = sent.reduce((n, r) => n + r.tip.amount, 0);
    // The studio's session total: the listed tips and the summed ones, to the fen.
    await until(async () => (await total()) === before + sum, 'the studio total').catch(failWithPageErrors(studio));
    for (const page of [amy.open.page, ben.open.page, studio.page]) {
      const line = page.locator('.chat-list li.chat-tip.summed').first();
      await line.waitFor({ state: 'attached' });
      expect(await line.textContent()).toMatch(/^\+ \d+ more tips?, CN¥\d+\.\d\d in all$/);
      // At most the newest 50 of a storm's tips are listed before each sum (and the chat keeps 200 lines).
      expect(await page.locator('.chat-list li.chat-tip:not(.summed)').count()).toBeLessThan(sent.length);
    }
    expect(await studio.page.locator('#tips-panel .tips-summed').textContent()).toMatch(/^\+ \d+ more tips?, CN¥/);
    await screenshots(amy.open.page, 'watch-gift-storm');
    await screenshots(studio.page, 'studio-gift-storm');
  });

  it('when the streamer ends the stream, the Live badge goes and the room says so', async () => {
    await studio.page.getByRole('button', { name: 'End stream' }).click();
    await studio.page.getByRole('button', { name: 'End now' }).click();
    const page = amy.open.page;
    await page.locator('#overlay', { hasText: 'The stream has ended' }).waitFor();
    expect(await page.locator('#live-badge').isVisible()).toBe(false);
    expect(await page.locator('#support').isVisible()).toBe(false);
    await ben.open.page.locator('#overlay', { hasText: 'The stream has ended' }).waitFor();
    expect(await noSidewaysScroll(ben.open.page)).toBe(true);
    await ben.open.page.screenshot({ path: path.join(RESULTS, 'room-ended-phone.png') });
  });
});
