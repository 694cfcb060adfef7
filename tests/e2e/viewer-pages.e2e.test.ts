import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets } from '../helpers/socket';
import { launchBrowser, type OpenPage, openPage, until } from './browser';
import { seedWorld, type World } from './viewer-world';

/**
 * What a viewer can trust on the pages, in Chromium: what they own shows as owned after a
 * reload (a course's lesson, the creator's cards, the home page's ticket and subscription); a
 * course partly owned costs the upgrade price, asked for once with the balance after; an empty
 * wallet opens the top-up; the order history lists every receipt and pages with Load more; a
 * wrong password and a taken username say so; a room that ends leaves "Live now".
 */

jest.setTimeout(120_000);

let server: TestServer;
let browser: Browser;
let world: World;
const opened: OpenPage[] = [];

const usd = (minor: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(minor / 100);

async function open(account?: Account): Promise<OpenPage> {
  const o = await openPage(browser, account);
  opened.push(o);
  return o;
}

beforeAll(async () => {
  server = await startTestServer();
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

it('owned things show as owned, after a reload too: the course’s lesson, the creator’s cards, the home page', async () => {
  const { page, errors } = await open(world.viewer);
  await page.goto(`${server.url}/content/${world.course.id}`);
  const owned = page.locator('.syllabus-item', { hasText: world.lessons.first.title }).locator('[data-owned]');
  await owned.waitFor();
  expect(await owned.textContent()).toBe('Owned');
  expect(
    await page.locator('.syllabus-item', { hasText: world.lessons.second.title }).locator('[data-owned]').count(),
  ).toBe(0);
  await page.reload();
  await owned.waitFor();

  await page.goto(`${server.url}/creators/${world.creator.user.id}`);
  await page.locator('body[data-loaded="true"]').waitFor();
  const card = (id: string) => page.locator(`.library-card[data-content="${id}"]`);
  expect(await card(world.lessons.first.id).locator('[data-owned]').textContent()).toBe('Owned');
  expect(await card(world.lessons.second.id).locator('[data-owned]').count()).toBe(0);
  expect(await card(world.lessons.second.id).textContent()).toContain(usd(900));
  await page.locator('.subscribed', { hasText: 'Subscribed ✓' }).waitFor();

  await page.goto(server.url);
  await page.locator('body[data-loaded="true"]').waitFor();
  const tile = (title: string) => page.locator('.room-tile', { hasText: title }).locator('.price-badge');
  expect(await tile(world.rooms.ticket.title).textContent()).toBe('Your ticket ✓');
  expect(await tile(world.rooms.upcoming.title).textContent()).toBe('Subscribed ✓');
  expect(await tile(world.rooms.free.title).textContent()).toBe('Free');
  expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
});

it('a course partly owned costs the upgrade price, confirmed once with the balance after, then it is owned', async () => {
  const buyer = await server.api.register('viewer');
  await server.api.topUp(buyer.token, 2000);
  expect(
    (await server.api.post('/api/purchases', { contentId: world.lessons.first.id }, buyer.token, randomUUID())).status,
  ).toBe(201);
  const { page } = await open(buyer);
  await page.goto(`${server.url}/content/${world.course.id}`);
  const card = page.locator('.buy-card');
  await card.locator('.upgrade-note').waitFor();
  expect(await card.locator('.upgrade-note').textContent()).toBe(`You pay ${usd(700)} — you own 1 of its 2 lessons`);
  expect(await card.locator('.price').textContent()).toBe(`${usd(1200)} ${usd(700)}`);

  await card.getByRole('button', { name: 'Buy' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  const sums = await dialog.locator('dd').allTextContents();
  expect(sums).toEqual([usd(700), usd(1500), usd(800)]);
  // Nothing is charged before the click on Pay.
  expect((await server.api.get('/api/wallet', buyer.token)).body.balance).toBe(1500);
  await dialog.getByRole('button', { name: `Pay ${usd(700)}` }).click();
  await page.locator('.owned-card', { hasText: 'Owned ✓' }).waitFor();
  await until(async () => (await page.locator('.wallet').getAttribute('data-balance')) === '800', 'balance');
  expect((await server.api.get('/api/wallet', buyer.token)).body.balance).toBe(800);
  await page.reload();
  await page.locator('.owned-card', { hasText: 'Owned ✓' }).waitFor();
});

it('a price changed while the dialog is open charges nothing; the dialog shows the new price to pay', async () => {
  const lesson = await server.api.content(world.creator.token, { title: 'Secant method', price: 500 });
  const buyer = await server.api.register('viewer');
  await server.api.topUp(buyer.token, 2000);
  const { page } = await open(buyer);
  await page.goto(`${server.url}/content/${lesson.id}`);
  await page.locator('.buy-card').getByRole('button', { name: 'Buy' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: `Pay ${usd(500)}` }).waitFor();
  const patched = await server.api.request('PATCH', `/api/contents/${lesson.id}`, {
    body: { price: 650 },
    token: world.creator.token,
  });
  expect(patched.status).toBe(200);

  await dialog.getByRole('button', { name: `Pay ${usd(500)}` }).click();
  await dialog.getByText(`The price has just changed to ${usd(650)}`).waitFor();
  expect(await dialog.locator('dd').allTextContents()).toEqual([usd(650), usd(2000), usd(1350)]);
  expect((await server.api.get('/api/wallet', buyer.token)).body.balance).toBe(2000);
  expect((await server.api.get('/api/purchases', buyer.token)).body.purchases).toEqual([]);

  await dialog.getByRole('button', { name: `Pay ${usd(650)}` }).click();
  await page.locator('.owned-card', { hasText: 'Owned ✓' }).waitFor();
  expect((await server.api.get('/api/wallet', buyer.token)).body.balance).toBe(1350);
});

it('an empty wallet opens the top-up, which says what it is for; cancelling charges nothing', async () => {
  const { page } = await open(world.broke);
  await page.goto(`${server.url}/content/${world.lessons.second.id}`);
  await page.locator('.buy-card').getByRole('button', { name: 'Buy' }).click();
  const dialog = page.getByRole('dialog', { name: 'Top up your wallet' });
  await dialog.waitFor();
  expect(await dialog.textContent()).toContain(usd(900));
  await dialog.getByRole('button', { name: 'Close' }).click();
  expect((await server.api.get('/api/purchases', world.broke.token)).body.purchases).toEqual([]);
});

it('the order history: every receipt with its sign, refunds, references, creators; Load more pages back', async () => {
  const shopper = await server.api.register('viewer');
  // 22 top-ups and 3 purchases: more than a page.
  for (let i = 0; i < 22; i++) await server.api.topUp(shopper.token, 100 + i);
  for (const lesson of [world.lessons.first, world.lessons.second, world.lessons.third]) {
    await server.api.post('/api/purchases', { contentId: lesson.id }, shopper.token, randomUUID());
  }
  const { page, errors } = await open(shopper);
  await page.goto(`${server.url}/orders`);
  await page.locator('body[data-loaded="true"]').waitFor();
  const rows = page.locator('li.order');
  expect(await rows.count()).toBe(20);
  const newest = rows.first();
  expect(await newest.locator('.order-kind').textContent()).toBe('Purchase');
  expect(await newest.locator('.order-title').textContent()).toBe(world.lessons.third.title);
  expect(await newest.locator('.order-amount').textContent()).toBe(`Paid −${usd(300)}`);
  expect(await newest.locator('.order-creator').getAttribute('href')).toBe(`/creators/${world.creator.user.id}`);
  const topUp = rows.nth(3);
  expect(await topUp.locator('.order-title').textContent()).toBe('Wallet top-up');
  expect(await topUp.locator('.order-amount').textContent()).toBe(`Received +${usd(121)}`);
  expect(await topUp.locator('.order-ref').textContent()).toMatch(/^Payment reference \S+/);

  await page.getByRole('button', { name: 'Load more' }).click();
  await until(async () => (await rows.count()) === 25, 'all 25 orders');
  expect(await page.getByRole('button', { name: 'Load more' }).isHidden()).toBe(true);
  expect(await page.locator('.orders-status').textContent()).toBe('All 25 orders shown.');
  // The first of the older ones has the focus.
  expect(await page.evaluate(() => (globalThis as any).document.activeElement?.dataset.order)).toBe(
    await rows.nth(20).getAttribute('data-order'),
  );

  // The viewer of the world: a refund, a tip, a ticket and a subscription.
  const v = await open(world.viewer);
  await v.page.goto(`${server.url}/orders`);
  await v.page.locator('body[data-loaded="true"]').waitFor();
  const kinds = await v.page.locator('li.order .order-kind').allTextContents();
  expect(kinds).toEqual(['Refund', 'Tip', 'Subscription', 'Purchase', 'Ticket', 'Purchase', 'Top-up']);
  const refunded = v.page.locator('li.order.is-refunded');
  expect(await refunded.locator('.order-title').textContent()).toBe(world.lessons.third.title);
  expect(await refunded.locator('.badge').textContent()).toBe('Refunded');
  expect(await v.page.locator('li.order-refund .order-amount').textContent()).toBe(`Received +${usd(300)}`);
  expect(await v.page.locator('li.order-subscription .order-title').textContent()).toBe('Subscription to Ada Lovelace');
  expect(await v.page.locator('li.order-tip .order-title').textContent()).toBe(`Tip in “${world.rooms.free.title}”`);
  expect([...errors, ...v.errors].filter((e) => !/Failed to load resource/.test(e))).toEqual([]);

  // Someone without any: the empty state.
  const fresh = await open(await server.api.register('viewer'));
  await fresh.page.goto(`${server.url}/orders`);
  await fresh.page.getByRole('heading', { name: 'No orders yet' }).waitFor();
});

it('a wrong password says so; a taken username says so', async () => {
  const { page } = await open();
  await page.goto(server.url);
  const form = page.locator('#signin form');
  await form.getByLabel('Username').fill(world.viewer.user.username);
  await form.getByLabel('Password').fill('not the password');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await form.getByRole('alert').getByText('Wrong username or password.').waitFor();
  expect(await form.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');

  await form.getByRole('button', { name: 'New here? Create an account' }).click();
  await form.getByLabel('Username').fill(world.viewer.user.username);
  await form.getByLabel('Password').fill('correct horse battery');
  await form.getByRole('button', { name: 'Create account' }).click();
  await form.getByRole('alert').getByText('That username is taken. Choose another one.').waitFor();

  await form.getByLabel('Username').fill('x');
  await form.getByRole('button', { name: 'Create account' }).click();
  await form
    .getByRole('alert')
    .getByText(/^A username is 3 to 32 letters/)
    .waitFor();
});

it('"Live now" drops a room when it ends: at the next refresh, and when the page is looked at again', async () => {
  const room = await server.api.room(world.creator.token, { title: 'Short-lived stream', access: 'free' });
  await server.api.post(`/api/rooms/${room.id}/start`, {}, world.creator.token);
  const { page } = await open();
  await page.goto(server.url);
  const card = page.locator(`#rooms .room-tile[data-room="${room.id}"]`);
  await card.waitFor();
  await server.api.post(`/api/rooms/${room.id}/end`, {}, world.creator.token);
  // The tab comes back into view: the list is asked again at once.
  await page.evaluate(() => (globalThis as any).document.dispatchEvent(new Event('visibilitychange')));
  await until(async () => (await card.count()) === 0, 'the ended room leaves Live now', 5000);
});
