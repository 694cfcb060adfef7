import type { LeaderboardEntry, Tip } from '@lectern/client-sdk';
import { h } from './dom';
import { money, timeOfDay } from './format';

/** The studio's view of tips: a running feed, the session's total and its top tippers. */
export class TipsPanel {
  readonly element: HTMLElement;
  private readonly feed = h('ol', { class: 'tips-feed', 'aria-live': 'polite' });
  private readonly board = h('ol', { class: 'leaderboard' });
  private total = 0;

  constructor(
    private readonly currency: string,
    private readonly onTotal: (total: number) => void = () => {},
  ) {
    this.element = h(
      'section',
      { class: 'card', 'aria-label': 'Tips' },
      h('h2', {}, 'Tips'),
      h('h3', { class: 'muted small' }, 'Top supporters'),
      this.board,
      h('h3', { class: 'muted small' }, 'Latest'),
      this.feed,
    );
    this.leaderboard([]);
    this.feed.append(h('li', { class: 'empty muted' }, 'No tips yet.'));
  }

  add(tip: Tip): void {
    this.feed.querySelector('.empty')?.remove();
    this.total += tip.amount;
    this.onTotal(this.total);
    this.feed.prepend(
      h(
        'li',
        { class: tip.pinnedUntil ? 'pinned' : '' },
        h('b', {}, money(tip.amount, tip.currency)),
        ' from ',
        h('span', { class: 'author' }, tip.user.username),
        tip.message ? h('p', { class: 'tip-message' }, tip.message) : null,
        h('time', { class: 'muted small', dateTime: tip.createdAt }, timeOfDay(tip.createdAt)),
      ),
    );
    while (this.feed.children.length > 50) this.feed.lastElementChild?.remove();
  }

  leaderboard(top: LeaderboardEntry[]): void {
    if (!top.length) {
      this.board.replaceChildren(h('li', { class: 'empty muted' }, 'Nobody has tipped yet.'));
      return;
    }
    this.board.replaceChildren(
      ...top.map((entry) =>
        h('li', {}, h('span', { class: 'author' }, entry.user.username), h('b', {}, money(entry.total, this.currency))),
      ),
    );
  }
}
