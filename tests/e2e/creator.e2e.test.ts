import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { mediaDir } from '../helpers/media-files';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok } from '../helpers/socket';
import { launchBrowser, type OpenPage, openPage, photograph, RESULTS, until } from './browser';

/**
 * Creators' pages and the schedule, through the pages people use: the home page lists the rooms
 * live now (cover, creator and avatar, how many are watching, access and price) and the upcoming
 * ones (with their start time); a room card and the watch page lead to the creator's page, where
 * a viewer subscribes (topping up a short wallet on the way) and the creator edits their profile.
 */

const run = promisify(execFile);
jest.setTimeout(120_000);

let server: TestServer;
let browser: Browser;
let media: ReturnType<typeof mediaDir>;
const opened: OpenPage[] = [];

let ada: Account;
let ben: Account;
const rooms: Record<string, { id: string; title: string }> = {};

async function open(account?: Account): Promise<OpenPage> {
  const o = await openPage(browser, account);
  opened.push(o);
  return o;
}

/** A still picture made by one of ffmpeg's test sources. */
async function picture(name: string, source: string): Promise<string> {
  const file = media.file(name);
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-frames:v', '1', file]);
  return file;
}

async function uploadImage(route: string, token: string, file: string): Promise<any> {
  const res = await server.api.request('POST', route, {
    token,
    raw: readFileSync(file) as unknown as string,
    headers: { 'content-type': 'image/png' },
  });
  if (res.status !== 201) throw new Error(`${route}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  media = mediaDir();
  // Media on: the watch page of a room that has not started shows what a viewer would see.
  server = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1' });
  browser = await launchBrowser();

  ada = await server.api.register('creator', `ada_${Date.now().toString(36)}`);
  ben = await server.api.register('creator', `ben_${Date.now().toString(36)}`);
  await server.api.request('PATCH', '/api/creators/me', {
    token: ada.token,
    body: {
      displayName: 'Dr. Ada Lovelace',
      bio: 'Numerical analysis and the art of computing by hand.\nLive office hours every Tuesday; worked examples every Friday.',
      tags: ['math', 'numerics'],
      links: [
        { label: 'Website', url: 'https://ada.example.org' },
        { label: 'Lecture notes', url: 'https://notes.example.org/numerics' },
      ],
      subscriptionPrice: 999,
      subscriptionPeriodDays: 30,
    },
  });
  await server.api.request('PATCH', '/api/creators/me', { token: ben.token, body: { displayName: 'Ben Okafor' } });
  await uploadImage('/api/creators/me/avatar', ada.token, await picture('ada.png', 'mandelbrot=size=600x600'));

  const make = async (key: string, token: string, fields: Record<string, unknown>, cover?: string) => {
    const room = await server.api.room(token, fields);
    if (cover) await uploadImage(`/api/rooms/${room.id}/cover`, token, cover);
    rooms[key] = room;
    return room;
  };
  await make(
    'adaLive',
    ada.token,
    {
      title: 'Root finding, live: Newton vs bisection',
      access: 'ticket',
      ticketPrice: 500,
      previewSeconds: 120,
      tags: ['math', 'numerics'],
    },
    await picture('c1.png', 'testsrc2=size=1280x720'),
  );
  await make('benLive', ben.token, { title: 'Reading a balance sheet', access: 'free', tags: ['finance'] });
  await make(
    'adaSoon',
    ada.token,
    { title: 'Office hours: your questions', access: 'free', scheduledAt: inHours(3), tags: ['math'] },
    await picture('c2.png', 'smptehdbars=size=1280x720'),
  );
  await make(
    'adaLater',
    ada.token,
    {
      title: 'Floating point, deep dive (subscribers)',
      access: 'subscribers',
      previewSeconds: 60,
      scheduledAt: inHours(30),
      description: 'Rounding, cancellation and how to avoid both.',
    },
    await picture('c3.png', 'cellauto=size=1280x720:rule=110'),
  );
  await make('benLater', ben.token, { title: 'Cash flow for beginners', access: 'free', scheduledAt: inHours(50) });
  for (const key of ['adaLive', 'benLive']) {
    await server.api.post(`/api/rooms/${rooms[key].id}/start`, {}, key.startsWith('ada') ? ada.token : ben.token);
  }
  // Two watching Ada, one watching Ben.
  for (const roomId of [rooms.adaLive.id, rooms.adaLive.id, rooms.benLive.id]) {
    const viewer = await server.api.register();
    await ok(await connect(server.url, viewer.token), 'room:join', { roomId });
  }
  const lesson = await server.api.content(ada.token, { title: 'Newton’s method in ten minutes', price: 450 });
  await uploadImage(`/api/contents/${lesson.id}/cover`, ada.token, await picture('c4.png', 'testsrc=size=1280x720'));
  await server.api.content(ada.token, { title: 'Numerical analysis, the course', kind: 'course', price: 4900 });
});

afterAll(async () => {
  closeAllSockets();
  await browser?.close();
  await server?.close();
  media?.cleanup();
});

afterEach(async () => {
  for (const o of opened.splice(0)) await o.context.close();
});

it('the home page lists live rooms (busiest first) and upcoming ones (soonest first) as cards', async () => {
  const { page, errors } = await open();
  await page.goto(server.url);
  await page.locator('body[data-loaded="true"]').waitFor();
  const live = page.locator('#rooms .room-tile');
  const upcoming = page.locator('#upcoming .room-tile');
  expect(await live.count()).toBe(2);
  expect(await live.locator('h3').allTextContents()).toEqual([rooms.adaLive.title, rooms.benLive.title]);
  const first = live.first();
  expect(await first.locator('.watching-chip').textContent()).toBe('2 watching');
  expect(await first.locator('.price-badge').textContent()).toBe('Ticket $5.00');
  expect(await first.locator('.room-tile-creator').textContent()).toBe('Dr. Ada Lovelace');
  expect(await first.locator('.room-tile-creator img.avatar').getAttribute('src')).toMatch(
    /^\/media\/public\/avatars\//,
  );
  expect(await first.locator('.cover img').getAttribute('src')).toMatch(/^\/media\/public\/room-covers\//);
  // Ben has neither an avatar nor a cover: his initial and a placeholder.
  expect(await live.nth(1).locator('.avatar.initial').textContent()).toBe('B');
  expect(await live.nth(1).locator('.cover.placeholder').count()).toBe(1);
  expect(await live.nth(1).locator('.price-badge').textContent()).toBe('Free');

  expect(await upcoming.locator('h3').allTextContents()).toEqual([
    rooms.adaSoon.title,
    rooms.adaLater.title,
    rooms.benLater.title,
  ]);
  expect(await upcoming.nth(1).locator('.price-badge').textContent()).toBe('Subscribers');
  expect(await upcoming.locator('.start-chip').count()).toBe(3);
  expect(await upcoming.locator('.watching-chip').count()).toBe(0);
  // Every image on the page loaded.
  await until(
    () =>
      page.evaluate(() => [...(globalThis as any).document.images].every((i: any) => i.complete && i.naturalWidth > 0)),
    'images loaded',
  );
  await photograph(page, 'creator-home');

  // The card opens the room; the creator's name on it opens their page.
  await first.locator('.room-tile-creator').click();
  await page.waitForURL(`${server.url}/creators/${ada.user.id}`);
  await page.locator('h1', { hasText: 'Dr. Ada Lovelace' }).waitFor();
  await page.goBack();
  await page.locator('body[data-loaded="true"]').waitFor();
  await page
    .locator('#upcoming .room-tile')
    .first()
    .click({ position: { x: 40, y: 40 } });
  await page.waitForURL(`${server.url}/watch/${rooms.adaSoon.id}`);
  expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
});

it('a creator sees their studio, dashboard and page from the home page', async () => {
  const { page } = await open(ada);
  await page.goto(server.url);
  const panel = page.locator('#creator-panel');
  await panel.waitFor();
  expect(await panel.getByRole('link', { name: 'Dashboard' }).getAttribute('href')).toBe('/dashboard');
  expect(await panel.getByRole('link', { name: 'Your page' }).getAttribute('href')).toBe(`/creators/${ada.user.id}`);
});

it('the watch page links the creator’s page', async () => {
  const { page } = await open();
  await page.goto(`${server.url}/watch/${rooms.adaLive.id}`);
  const link = page.locator('#room-meta a.creator-link');
  await link.waitFor();
  expect(await link.textContent()).toBe('Dr. Ada Lovelace');
  await link.click();
  await page.waitForURL(`${server.url}/creators/${ada.user.id}`);
  await page.locator('body[data-loaded="true"]').waitFor();
});

it('a viewer opening a scheduled paid room learns that the preview starts when it goes live', async () => {
  const viewer = await server.api.register('viewer');
  const { page } = await open(viewer);
  await page.goto(`${server.url}/watch/${rooms.adaLater.id}`);
  await page
    .locator('#overlay', { hasText: /Starts: .+\. Your free 1-minute preview starts when it goes live\./ })
    .waitFor();
  expect(await page.locator('#overlay button').textContent()).toBe('Subscribe for $9.99/month');
  expect(await page.locator('#room-meta a.creator-link').textContent()).toBe('Dr. Ada Lovelace');
  await photograph(page, 'creator-watch-scheduled');
});

it('a viewer subscribes from the creator’s page, topping up a short wallet on the way', async () => {
  const viewer = await server.api.register('viewer');
  const { page, errors } = await open(viewer);
  await page.goto(`${server.url}/creators/${ada.user.id}`);
  await page.locator('body[data-loaded="true"]').waitFor();
  await page.locator('.profile-bio', { hasText: 'Live office hours every Tuesday' }).waitFor();
  const links = page.locator('.profile-links a');
  expect(await links.evaluateAll((as: any[]) => as.map((a) => [a.getAttribute('href'), a.rel]))).toEqual([
    ['https://ada.example.org/', 'noopener noreferrer nofollow ugc'],
    ['https://notes.example.org/numerics', 'noopener noreferrer nofollow ugc'],
  ]);
  expect(await page.locator('#creator-live ~ .room-grid h3').allTextContents()).toEqual([rooms.adaLive.title]);
  expect(await page.locator('#creator-upcoming ~ .room-grid h3').allTextContents()).toEqual([
    rooms.adaSoon.title,
    rooms.adaLater.title,
  ]);
  expect(await page.locator('.library-card h3').allTextContents()).toEqual([
    'Numerical analysis, the course',
    'Newton’s method in ten minutes',
  ]);
  const subscribe = page.locator('#subscribe');
  expect(await subscribe.textContent()).toBe('Subscribe — $9.99/month');
  await until(
    () =>
      page.evaluate(() => [...(globalThis as any).document.images].every((i: any) => i.complete && i.naturalWidth > 0)),
    'images loaded',
  );
  await photograph(page, 'creator-profile');

  // The wallet is empty: the top-up opens, and the subscription goes through after it.
  await subscribe.click();
  const dialog = page.locator('dialog.dialog');
  await dialog.getByText(/Subscription to Dr\. Ada Lovelace.+costs \$9\.99/).waitFor();
  await dialog.getByRole('button', { name: 'Add money' }).click();
  await page.locator('.subscribed', { hasText: 'Subscribed ✓' }).waitFor();
  const { subscriptions } = (await server.api.get('/api/subscriptions', viewer.token)).body;
  expect(subscriptions).toEqual([expect.objectContaining({ creatorId: ada.user.id, status: 'active' })]);
  expect(Number(await page.locator('.wallet').getAttribute('data-balance'))).toBe(1000 - 999);
  // Reloaded, the page remembers.
  await page.reload();
  await page.locator('.subscribed').waitFor();
  // The one refusal is the short wallet's (402), which opened the top-up.
  expect(errors.filter((e) => !/status of 402/.test(e))).toEqual([]);
});

it('the creator edits their profile on their page: name, bio, links and picture', async () => {
  const { page, errors } = await open(ada);
  await page.goto(`${server.url}/creators/me`);
  await page.waitForURL(`${server.url}/creators/${ada.user.id}`);
  await page.locator('body[data-loaded="true"]').waitFor();
  expect(await page.locator('#subscribe').count()).toBe(0);
  await page.getByRole('button', { name: 'Edit profile' }).click();
  const form = page.locator('form.profile-form');
  await form.getByLabel('About you').fill('Numerical analysis, by hand and by machine.');
  await form.getByRole('button', { name: '+ Add a link' }).click();
  const row = form.locator('.link-row').nth(2);
  await row.getByLabel('Link label').fill('Course forum');
  await row.getByLabel('Link address').fill('forum.example.org/numerics');
  await photograph(page, 'creator-edit');

  // A bad address is said before anything is sent.
  await form.locator('.link-row').nth(1).getByLabel('Link address').fill('javascript:alert(1)');
  await form.getByRole('button', { name: 'Save profile' }).click();
  await form.getByText('“Lecture notes” needs a web address').waitFor();
  await form.locator('.link-row').nth(1).getByRole('button', { name: 'Remove this link' }).click();
  await form.getByRole('button', { name: 'Save profile' }).click();
  await page.getByText('Profile saved.').waitFor();
  expect(
    await page.locator('.profile-links a').evaluateAll((as: any[]) => as.map((a) => a.getAttribute('href'))),
  ).toEqual(['https://ada.example.org/', 'https://forum.example.org/numerics']);
  await page.locator('.profile-bio', { hasText: 'by hand and by machine' }).waitFor();

  // A new picture, re-encoded by the server, replaces the old one at once.
  const before = await page.locator('.profile-who img.avatar').getAttribute('src');
  await page.getByRole('button', { name: 'Edit profile' }).click();
  await page.getByLabel('Profile picture').setInputFiles(await picture('ada2.png', 'testsrc2=size=800x800'));
  await page.getByText('Picture saved.').waitFor();
  const after = await page.locator('.profile-who img.avatar').getAttribute('src');
  expect(after).toMatch(/^\/media\/public\/avatars\//);
  expect(after).not.toBe(before);
  const profile = (await server.api.get(`/api/creators/${ada.user.id}`)).body.profile;
  expect(profile).toMatchObject({ bio: 'Numerical analysis, by hand and by machine.', avatarUrl: after });
  expect(errors).toEqual([]);
});

it('the studio’s new-room form plans a room: start time, description and cover', async () => {
  const { page, errors } = await open(ben);
  await page.goto(`${server.url}/studio`);
  const form = page.locator('#create-room');
  await form.getByLabel('Title').fill('Budgeting clinic');
  await form.getByLabel('Who can watch').selectOption('ticket');
  await form.getByLabel('Ticket price').fill('3');
  // Tomorrow at 18:30, in the browser's time zone.
  const at = new Date();
  at.setDate(at.getDate() + 1);
  at.setHours(18, 30, 0, 0);
  const local = `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, '0')}-${String(at.getDate()).padStart(2, '0')}T18:30`;
  await form.getByLabel('Starts at').fill(local);
  await form.getByLabel('Description').fill('Bring your numbers; we go through them together.');
  await form.getByLabel('Cover image').setInputFiles(await picture('c5.png', 'testsrc2=size=1280x720'));
  await photograph(page, 'creator-studio-new-room');
  await form.getByRole('button', { name: 'Create room' }).click();
  await page.waitForURL(/\/studio\?room=/);
  const roomId = new URL(page.url()).searchParams.get('room')!;
  const { room } = (await server.api.get(`/api/rooms/${roomId}`)).body;
  expect(room).toMatchObject({
    status: 'scheduled',
    access: 'ticket',
    ticketPrice: 300,
    scheduledAt: at.toISOString(),
    description: 'Bring your numbers; we go through them together.',
    coverUrl: expect.stringMatching(/^\/media\/public\/room-covers\//),
  });
  // Listed with its start time among the creator's rooms.
  await page.goto(`${server.url}/studio`);
  await page
    .locator('#room-list li', { hasText: 'Budgeting clinic' })
    .getByText(/Starts Tomorrow, /)
    .waitFor();
  expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
});

it('an unknown creator says so', async () => {
  const { page } = await open();
  await page.goto(`${server.url}/creators/00000000-0000-4000-8000-000000000000`);
  await page.getByRole('heading', { name: 'No such creator' }).waitFor();
});
