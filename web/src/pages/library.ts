import type { LibraryItem } from '../../../protocol';
import { api } from '../lib/api';
import { byId, h } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { duration, shortDate } from '../lib/format';
import { messages } from '../lib/i18n';
import { fillText } from '../lib/page-text';
import { coverOf, KIND_LABELS, progressBar, startShell } from '../lib/shell';
import { toast } from '../lib/toast';

const t = messages({
  en: {
    title: 'Library — Lectern',
    library: 'Library',
    yourLibrary: 'Your library',
    loading: 'Loading…',
    replayTicket: 'Replay · ticket',
    replaySubscription: 'Replay · subscription',
    replay: 'Replay',
    processing: 'Processing…',
    notAvailable: 'Not available',
    watched: 'Watched ✓',
    left: (time: string) => `${time} left`,
    watchedPercent: (n: number) => `Watched ${n}%`,
    bought: (date: string) => `Bought ${date}`,
    streamed: (date: string) => `Streamed ${date}`,
    emptyTitle: 'Nothing here yet',
    emptyText: 'Lessons and courses you buy, and the replays of streams you watched, show up here to watch any time.',
    seeLive: 'See who is live',
    continueWatching: 'Continue watching',
    everything: 'Everything',
    yours: 'Your lessons and replays',
    signInTitle: 'Sign in to see your library',
    signInText: 'What you buy and the replays you can watch are kept with your account.',
    signIn: 'Sign in',
    notLoaded: 'Your library could not be loaded.',
    reload: 'Something went wrong: reload the page to try again.',
  },
  'zh-CN': {
    title: '我的内容 — Lectern',
    library: '我的内容',
    yourLibrary: '我的内容',
    loading: '加载中…',
    replayTicket: '回放 · 门票',
    replaySubscription: '回放 · 订阅',
    replay: '回放',
    processing: '处理中…',
    notAvailable: '无法观看',
    watched: '已看完 ✓',
    left: (time: string) => `还剩 ${time}`,
    watchedPercent: (n: number) => `已观看 ${n}%`,
    bought: (date: string) => `购于 ${date}`,
    streamed: (date: string) => `直播于 ${date}`,
    emptyTitle: '这里还什么都没有',
    emptyText: '你购买的课程、系列课，以及看过的直播的回放，都会出现在这里，随时可以观看。',
    seeLive: '看看谁在直播',
    continueWatching: '继续观看',
    everything: '全部',
    yours: '你的课程和回放',
    signInTitle: '登录后查看我的内容',
    signInText: '你购买的内容和可观看的回放都保存在你的账号里。',
    signIn: '登录',
    notLoaded: '我的内容加载失败。',
    reload: '出了点问题，请刷新页面重试。',
  },
});

/**
 * The library (`/library`): everything the viewer can watch because they have it — lessons,
 * courses and bundles they bought, replays of rooms they had a ticket to, subscribed to or were
 * in for free — with how far they got, each opening the player.
 */

const REFRESH_WHILE_PROCESSING_MS = 10_000;

function card(item: LibraryItem): HTMLElement {
  const href = item.kind === 'content' ? `/content/${item.contentId}` : `/replay/${item.roomId}`;
  const processing = item.kind === 'replay' && item.status === 'processing';
  const failed = item.kind === 'replay' && item.status === 'failed';
  const p = item.progress;
  const length = p?.durationSeconds || item.durationSeconds || 0;
  const fraction = p ? (p.completed ? 1 : length ? p.positionSeconds / length : 0) : 0;
  const kind =
    item.kind === 'content'
      ? KIND_LABELS[item.contentKind]
      : item.via === 'ticket'
        ? t.replayTicket
        : item.via === 'subscription'
          ? t.replaySubscription
          : t.replay;
  const status = processing
    ? h('span', { class: 'badge status' }, t.processing)
    : failed
      ? h('span', { class: 'badge status' }, t.notAvailable)
      : p?.completed
        ? h('span', { class: 'badge done' }, t.watched)
        : p && p.positionSeconds > 0
          ? h('span', { class: 'muted small' }, t.left(duration(Math.max(0, length - p.positionSeconds))))
          : null;
  const cover = coverOf(item.kind === 'content' ? item.coverUrl : null, item.title, 'cover');
  if (item.durationSeconds) cover.append(h('span', { class: 'cover-duration' }, duration(item.durationSeconds)));
  return h(
    'a',
    { class: `library-card${processing || failed ? ' dim' : ''}`, href },
    cover,
    p && !processing ? progressBar(fraction, t.watchedPercent(Math.round(fraction * 100))) : null,
    h(
      'div',
      { class: 'library-body' },
      h('span', { class: 'muted small' }, kind),
      h('h3', {}, item.title),
      h('p', { class: 'muted small' }, item.creatorName),
      h(
        'div',
        { class: 'library-foot' },
        status,
        item.kind === 'replay' && item.endedAt
          ? h('span', { class: 'muted small' }, t.streamed(shortDate(item.endedAt)))
          : item.kind === 'content'
            ? h('span', { class: 'muted small' }, t.bought(shortDate(item.acquiredAt)))
            : null,
      ),
    ),
  );
}

async function render(): Promise<LibraryItem[]> {
  const { items } = await api<{ items: LibraryItem[] }>('GET', '/api/library');
  const grid = byId('library');
  if (!items.length) {
    grid.replaceChildren(
      h(
        'div',
        { class: 'card empty-state' },
        h('h2', {}, t.emptyTitle),
        h('p', { class: 'muted' }, t.emptyText),
        h('a', { class: 'button primary', href: '/' }, t.seeLive),
      ),
    );
    return items;
  }
  const started = items.filter((i) => i.progress && !i.progress.completed && i.progress.positionSeconds > 0);
  const sections: HTMLElement[] = [];
  // "Continue watching" first, when there is something else besides.
  if (started.length && started.length < items.length) {
    sections.push(
      h(
        'section',
        { 'aria-labelledby': 'continue-heading' },
        h('h2', { id: 'continue-heading' }, t.continueWatching),
        h('div', { class: 'library-grid' }, ...started.map(card)),
      ),
    );
  }
  sections.push(
    h(
      'section',
      { 'aria-labelledby': 'all-heading' },
      h('h2', { id: 'all-heading' }, sections.length ? t.everything : t.yours),
      h('div', { class: 'library-grid' }, ...items.map(card)),
    ),
  );
  grid.replaceChildren(...sections);
  return items;
}

async function main(): Promise<void> {
  const { session, signIn } = startShell();
  fillText(t);
  document.title = t.title;
  if (!session) {
    byId('library').replaceChildren(
      h(
        'section',
        { class: 'card narrow' },
        h('h2', {}, t.signInTitle),
        h('p', { class: 'muted' }, t.signInText),
        h('button', { type: 'button', class: 'primary', onclick: signIn }, t.signIn),
      ),
    );
    return;
  }
  const refresh = async () => {
    try {
      const items = await render();
      // Replays still being prepared: look again in a little while.
      if (items.some((i) => i.kind === 'replay' && i.status === 'processing')) {
        setTimeout(() => void refresh(), REFRESH_WHILE_PROCESSING_MS);
      }
    } catch (err) {
      byId('library').replaceChildren(
        h('p', { class: 'error', role: 'alert' }, `${t.notLoaded} ${describeError(err)}`),
      );
    }
  };
  await refresh();
}

main().catch((err) => {
  console.error(err);
  toast(codeOf(err) ? describeError(err) : t.reload, 'error');
});
