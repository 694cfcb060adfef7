import type { RoomForYou, RoomListItem, RoomsForYou } from '../../../protocol';
import { renderAccount } from '../lib/account';
import { api } from '../lib/api';
import { authForm } from '../lib/auth';
import { byId, h, show } from '../lib/dom';
import { messages } from '../lib/i18n';
import { nothingOwned, type Owned, ownedAll } from '../lib/owned';
import { fillText } from '../lib/page-text';
import { roomGrid, suggestedGrid } from '../lib/room-cards';
import { isCreator, loadSession } from '../lib/session';
import { exposeForTests } from '../lib/test-hook';

/**
 * The home page: "Live now for you" — the rooms live now ranked for this viewer, each saying why
 * (`GET /api/rooms/for-you`; guests: the busiest first) — "Upcoming for you" when some scheduled
 * room is picked for them, and the other upcoming rooms (soonest first); sign in or create an
 * account; creators get their studio, content manager, dashboard and public page. A room that
 * ends leaves "Live now" at the next refresh: every 15 s while the page is visible, and at once
 * when it becomes visible again.
 */

const t = messages({
  en: {
    title: 'Lectern — live rooms',
    heroTitle: 'Learn live from people who know.',
    heroLead: 'Lessons, clinics and market calls, streamed live. Ask questions, tip, and keep what you buy.',
    creatorTitle: 'Your creator space',
    creatorLead:
      'Go live or plan a stream in the studio, sell lessons and replays, follow your sales, and keep your public page up to date.',
    openStudio: 'Open the studio',
    manageContents: 'Lessons, courses and replays',
    dashboard: 'Dashboard',
    yourPage: 'Your page',
    liveNow: 'Live now',
    liveForYou: 'Live now for you',
    upcomingForYou: 'Upcoming for you',
    upcoming: 'Upcoming',
    noneLive: 'Nobody is live right now. Check the upcoming streams below.',
    noneUpcoming: 'Nothing is scheduled yet. Check back soon.',
    noneElseUpcoming: 'Nothing else is scheduled yet.',
    failed: 'The room list could not be loaded. It is tried again in a moment.',
  },
  'zh-CN': {
    title: 'Lectern — 正在直播',
    heroTitle: '跟懂行的人，现场学。',
    heroLead: '课程、问诊、市场解读，全程直播。可以提问、打赏，买过的内容永久保留。',
    creatorTitle: '创作者空间',
    creatorLead: '在直播间工作台开播或预约直播，售卖课程和回放，查看销售情况，并维护你的个人主页。',
    openStudio: '打开直播间工作台',
    manageContents: '课程、系列课和回放',
    dashboard: '数据看板',
    yourPage: '我的主页',
    liveNow: '正在直播',
    liveForYou: '正在直播 · 为你推荐',
    upcomingForYou: '为你挑选的预约直播',
    upcoming: '即将开播',
    noneLive: '现在没有人在直播。看看下面即将开始的直播吧。',
    noneUpcoming: '暂时还没有预约的直播，稍后再来看看。',
    noneElseUpcoming: '暂时没有其他预约的直播。',
    failed: '直播列表加载失败，稍后会自动重试。',
  },
});

const REFRESH_MS = 15_000;
/** Upcoming rooms shown: the soonest. */
const UPCOMING_LIMIT = 12;
/** Live rooms shown, ranked for the viewer (the most the API gives). */
const LIVE_LIMIT = 50;

let owned: Owned = nothingOwned();
/** What of it the cards show: a change redraws them. */
let ownedSig = '';
/** Answers older than the latest asked are dropped (a slow one must not bring an ended room back). */
let asked = 0;
/** What each list shows now: it is redrawn only when that changes (no flicker, no lost focus). */
const shown = { live: '', upcomingForYou: '', upcoming: '' };

const signature = (rooms: RoomListItem[], reasons: (RoomForYou['reason'] | undefined)[] = []) =>
  ownedSig +
  JSON.stringify(
    rooms.map((r, i) => [
      r.id,
      r.status,
      r.title,
      r.viewerCount,
      r.coverUrl,
      r.scheduledAt,
      r.access,
      reasons[i]?.code,
      reasons[i]?.text,
    ]),
  );
const suggestedSignature = (list: RoomForYou[]) =>
  signature(
    list.map((s) => s.room),
    list.map((s) => s.reason),
  );

/** Tickets and subscriptions, asked again when the viewer comes back (they may have bought meanwhile). */
async function loadOwned(): Promise<void> {
  owned = await ownedAll();
  ownedSig = JSON.stringify([[...owned.tickets].sort(), [...owned.subscribedTo].sort()]);
}

async function renderRooms(): Promise<void> {
  const call = ++asked;
  const [forYou, upcoming] = await Promise.all([
    api<RoomsForYou>('GET', `/api/rooms/for-you?limit=${LIVE_LIMIT}`),
    api<{ rooms: RoomListItem[] }>('GET', `/api/rooms?upcoming=true&limit=${UPCOMING_LIMIT}`),
  ]);
  if (call !== asked) return;
  // Only rooms live now, in the order ranked for this viewer (a guest: the busiest first).
  const live = forYou.rooms.filter((s) => s.room.status === 'live');
  const liveSig = suggestedSignature(live);
  if (liveSig !== shown.live) {
    shown.live = liveSig;
    suggestedGrid(byId('rooms'), live, t.noneLive, { owned });
  }
  // Scheduled rooms picked for the viewer, then the others, soonest first (none shown twice).
  const picked = forYou.upcoming.filter((s) => s.room.status === 'scheduled');
  const pickedSig = suggestedSignature(picked);
  if (pickedSig !== shown.upcomingForYou) {
    shown.upcomingForYou = pickedSig;
    suggestedGrid(byId('upcoming-for-you'), picked, '', { owned });
    show(byId('upcoming-for-you-section'), picked.length > 0);
  }
  const pickedIds = new Set(picked.map((s) => s.room.id));
  const others = upcoming.rooms.filter((r) => !pickedIds.has(r.id));
  const upcomingSig = signature(others) + String(picked.length > 0);
  if (upcomingSig !== shown.upcoming) {
    shown.upcoming = upcomingSig;
    roomGrid(byId('upcoming'), others, picked.length ? t.noneElseUpcoming : t.noneUpcoming, { owned });
  }
  document.body.dataset.loaded = 'true';
}

function main(): void {
  const session = loadSession();
  const signin = byId('signin');
  const showSignIn = () => {
    show(signin, true);
    signin.scrollIntoView({ behavior: 'smooth' });
    signin.querySelector('input')?.focus();
  };
  renderAccount(byId('account'), session, { onSignIn: showSignIn });
  fillText(t);
  document.title = t.title;
  // A guest's list is the busiest rooms: "for you" only when it is.
  byId('live-heading').textContent = session ? t.liveForYou : t.liveNow;
  if (!session) {
    signin.append(authForm({ role: 'viewer', onSignedIn: () => location.reload() }));
    show(signin, true);
  }
  show(byId('creator-panel'), isCreator(session));
  if (session) byId<HTMLAnchorElement>('my-page').href = `/creators/${session.user.id}`;
  const refresh = () =>
    renderRooms().catch(() => {
      // Nothing stale stays on screen: a room shown as live may have ended meanwhile.
      shown.live = shown.upcomingForYou = shown.upcoming = '';
      const failed = () => h('p', { class: 'error' }, t.failed);
      byId('rooms').replaceChildren(failed());
      show(byId('upcoming-for-you-section'), false);
      byId('upcoming').replaceChildren(failed());
    });
  exposeForTests({ refresh });
  const refreshAll = () => loadOwned().finally(() => void refresh());
  // Tickets and subscriptions first, so the cards say what is the viewer's from the start.
  void refreshAll();
  setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refreshAll();
  });
  // Back to the page from another (the back button's cache): the list may be old.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) void refreshAll();
  });
}

main();
