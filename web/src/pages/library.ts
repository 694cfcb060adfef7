import type { LibraryItem } from '../../../protocol';
import { api } from '../lib/api';
import { byId, h } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { duration, shortDate } from '../lib/format';
import { coverOf, KIND_LABELS, progressBar, startShell } from '../lib/shell';
import { toast } from '../lib/toast';

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
        ? 'Replay · ticket'
        : item.via === 'subscription'
          ? 'Replay · subscription'
          : 'Replay';
  const status = processing
    ? h('span', { class: 'badge status' }, 'Processing…')
    : failed
      ? h('span', { class: 'badge status' }, 'Not available')
      : p?.completed
        ? h('span', { class: 'badge done' }, 'Watched ✓')
        : p && p.positionSeconds > 0
          ? h('span', { class: 'muted small' }, `${duration(Math.max(0, length - p.positionSeconds))} left`)
          : null;
  const cover = coverOf(item.kind === 'content' ? item.coverUrl : null, item.title, 'cover');
  if (item.durationSeconds) cover.append(h('span', { class: 'cover-duration' }, duration(item.durationSeconds)));
  return h(
    'a',
    { class: `library-card${processing || failed ? ' dim' : ''}`, href },
    cover,
    p && !processing ? progressBar(fraction, `Watched ${Math.round(fraction * 100)}%`) : null,
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
          ? h('span', { class: 'muted small' }, shortDate(item.endedAt))
          : item.kind === 'content'
            ? h('span', { class: 'muted small' }, `Bought ${shortDate(item.acquiredAt)}`)
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
        h('h2', {}, 'Nothing here yet'),
        h(
          'p',
          { class: 'muted' },
          'Lessons and courses you buy, and the replays of streams you watched, show up here to watch any time.',
        ),
        h('a', { class: 'button primary', href: '/' }, 'See who is live'),
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
        h('h2', { id: 'continue-heading' }, 'Continue watching'),
        h('div', { class: 'library-grid' }, ...started.map(card)),
      ),
    );
  }
  sections.push(
    h(
      'section',
      { 'aria-labelledby': 'all-heading' },
      h('h2', { id: 'all-heading' }, sections.length ? 'Everything' : 'Your lessons and replays'),
      h('div', { class: 'library-grid' }, ...items.map(card)),
    ),
  );
  grid.replaceChildren(...sections);
  return items;
}

async function main(): Promise<void> {
  const { session, signIn } = startShell();
  if (!session) {
    byId('library').replaceChildren(
      h(
        'section',
        { class: 'card narrow' },
        h('h2', {}, 'Sign in to see your library'),
        h('p', { class: 'muted' }, 'What you buy and the replays you can watch are kept with your account.'),
        h('button', { type: 'button', class: 'primary', onclick: signIn }, 'Sign in'),
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
        h('p', { class: 'error', role: 'alert' }, `Your library could not be loaded. ${describeError(err)}`),
      );
    }
  };
  await refresh();
}

main().catch((err) => {
  console.error(err);
  toast(codeOf(err) ? describeError(err) : 'Something went wrong: reload the page to try again.', 'error');
});
