import type { Tip } from '@lectern/client-sdk';
import { h } from './dom';
import { clock, money } from './format';
import { messages } from './i18n';

const t = messages({
  en: {
    pinned: 'Pinned messages',
    left: (time: string) => `${time} left`,
    leftLabel: (time: string) => `pinned for ${time} more`,
    announce: (who: string, amount: string, message: string) => `Pinned by ${who}, ${amount}: ${message}`,
  },
  'zh-CN': {
    pinned: '置顶留言',
    left: (time: string) => `剩余 ${time}`,
    leftLabel: (time: string) => `还将置顶 ${time}`,
    announce: (who: string, amount: string, message: string) => `${who} 置顶了留言（${amount}）：${message}`,
  },
});

/**
 * Paid messages pinned now (Super Chat), for everyone in the room: oldest first — the order they
 * were paid for — each with its time left, until it runs out. A new pin is announced politely to
 * screen readers (the ticking times are not).
 */
export class PinnedBar {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'pinned-list', tabIndex: 0, 'aria-label': t.pinned });
  private readonly announcer = h('p', { class: 'visually-hidden', 'aria-live': 'polite', role: 'status' });
  private tips: readonly Tip[] = [];
  private readonly seen = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    this.element = h(
      'section',
      { class: 'pinned-bar', id: 'pinned-bar', 'aria-label': t.pinned, hidden: true },
      this.list,
      this.announcer,
    );
  }

  /** The pinned messages now (the LiveRoom's `pinned`); `announce` says the new ones aloud. */
  set(tips: readonly Tip[], announce = true): void {
    const fresh = tips.filter((tip) => !this.seen.has(tip.id));
    for (const tip of tips) this.seen.add(tip.id);
    this.tips = tips.filter((tip) => tip.pinnedUntil && Date.parse(tip.pinnedUntil) > Date.now());
    if (announce && fresh.length) {
      const last = fresh[fresh.length - 1];
      this.announcer.textContent = t.announce(
        last.user.username,
        money(last.amount, last.currency),
        last.message ?? '',
      );
    }
    this.draw();
  }

  private draw(): void {
    clearInterval(this.timer);
    this.element.hidden = this.tips.length === 0;
    this.list.replaceChildren(
      ...this.tips.map((tip) =>
        h(
          'li',
          { class: 'pinned-item', 'data-tip': tip.id },
          h('span', { class: 'pinned-amount' }, money(tip.amount, tip.currency)),
          h('span', { class: 'author' }, tip.user.username),
          tip.message ? h('span', { class: 'pinned-text' }, tip.message) : null,
          h('span', { class: 'pinned-left small', 'data-until': tip.pinnedUntil ?? '' }),
        ),
      ),
    );
    this.tick();
    if (this.tips.length) this.timer = setInterval(() => this.tick(), 1000);
  }

  /** The times left; a message whose time is up goes (the LiveRoom drops it too). */
  private tick(): void {
    const now = Date.now();
    if (this.tips.some((tip) => Date.parse(tip.pinnedUntil ?? '') <= now)) {
      this.tips = this.tips.filter((tip) => Date.parse(tip.pinnedUntil ?? '') > now);
      this.draw();
      return;
    }
    for (const el of this.list.querySelectorAll<HTMLElement>('.pinned-left')) {
      const left = clock(Date.parse(el.dataset.until ?? '') - now);
      el.textContent = t.left(left);
      el.setAttribute('aria-label', t.leftLabel(left));
    }
  }
}
