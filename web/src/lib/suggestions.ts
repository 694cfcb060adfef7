import type { SuggestionItem } from '@lectern/client-sdk';
import type { SuggestionActivity } from '../../../protocol';
import { busy, h } from './dom';
import { describeError } from './errors';
import { money, perPeriod } from './format';
import { formatNumber, messages } from './i18n';
import { toast } from './toast';

const t = messages({
  en: {
    owned: 'Owned ✓',
    subscribed: 'Subscribed ✓',
    subscribe: 'Subscribe',
    buy: 'Buy',
    buyNamed: (title: string, price: string) => `Buy ${title} for ${price}`,
    subscribeNamed: (title: string, price: string) => `Subscribe: ${title}, ${price}`,
    notInterested: 'Not interested',
    notInterestedIn: (title: string) => `Not interested in ${title}`,
    activity: (shown: number, clicked: number, bought: number) =>
      `shown to ${formatNumber(shown)} · clicked by ${formatNumber(clicked)} · bought by ${formatNumber(bought)}`,
    fromLive: (name: string) => `From ${name}, live now`,
    subscribeLive: (name: string) => `Subscribe to ${name}, live now`,
    youLike: (tag: string) => `Because you like #${tag}`,
    related: (tag: string) => `Related to this stream: #${tag}`,
    moreFrom: (name: string) => `More from ${name}`,
    picked: 'Picked for you',
    lesson: 'Lesson',
    course: 'Course',
    bundle: 'Bundle',
    subscription: 'Subscription',
  },
  'zh-CN': {
    owned: '已拥有 ✓',
    subscribed: '已订阅 ✓',
    subscribe: '订阅',
    buy: '购买',
    buyNamed: (title: string, price: string) => `购买《${title}》，${price}`,
    subscribeNamed: (title: string, price: string) => `订阅：${title}，${price}`,
    notInterested: '不感兴趣',
    notInterestedIn: (title: string) => `对《${title}》不感兴趣`,
    activity: (shown: number, clicked: number, bought: number) =>
      `展示 ${formatNumber(shown)} 人 · 点击 ${formatNumber(clicked)} 人 · 购买 ${formatNumber(bought)} 人`,
    fromLive: (name: string) => `来自正在直播的 ${name}`,
    subscribeLive: (name: string) => `订阅正在直播的 ${name}`,
    youLike: (tag: string) => `因为你喜欢 #${tag}`,
    related: (tag: string) => `与本场直播相关：#${tag}`,
    moreFrom: (name: string) => `${name} 的更多内容`,
    picked: '为你推荐',
    lesson: '单节课',
    course: '系列课',
    bundle: '合集',
    subscription: '订阅',
  },
});

/** A content kind in words ("Lesson", "课程"). */
export function kindLabel(kind: SuggestionItem['kind']): string {
  return kind ? t[kind] : '';
}

/**
 * Why a card is shown, in the page's language. The recommender writes its reasons in English
 * for a few known shapes; anything else (never an internal name) becomes "Picked for you".
 */
export function plainReason(reason: string): string {
  const patterns: [RegExp, (m: string) => string][] = [
    [/^Subscribe to (.+), live now$/, t.subscribeLive],
    [/^From (.+), live now$/, t.fromLive],
    [/^Because you like #(.+)$/, t.youLike],
    [/^Related to this stream: #(.+)$/, t.related],
    [/^More from (.+)$/, t.moreFrom],
  ];
  for (const [pattern, words] of patterns) {
    const m = pattern.exec(reason);
    if (m) return words(m[1]);
  }
  return t.picked;
}

export interface SuggestionsPanelOptions {
  title: string;
  /** Shown until the first suggestion arrives. */
  empty: string;
  currency: string;
  /** Viewers buy from a card (resolves whether it is theirs now); the studio only looks. */
  onBuy?: (item: SuggestionItem) => Promise<boolean>;
  /** The viewer opened a card (buying starts with opening): the recommender learns from it. */
  onOpen?: (item: SuggestionItem) => void;
  /** The viewer closed a card: the card goes, and the recommender holds back for a while. */
  onDismiss?: (item: SuggestionItem) => void;
  /** A subscription's period in days, for "/month" after its price (30 when unknown). */
  periodDays?: (item: SuggestionItem) => number;
  /** The line under a card's title; by default the recommender's reason in plain words. */
  describe?: (item: SuggestionItem) => string;
}

/**
 * Cards for what the recommender suggests in the room (`suggestion` events), newest set first,
 * or a creator's catalogue; in the studio, what it has been suggesting in the room and how that
 * landed (`suggestion:activity`). What the viewer owns (or is subscribed to) says so.
 */
export class SuggestionsPanel {
  readonly element: HTMLElement;
  private readonly cards = h('div', { class: 'cards' });
  private readonly owned = new Set<string>();

  constructor(private readonly options: SuggestionsPanelOptions) {
    this.element = h(
      'section',
      { class: 'card suggestions', 'aria-label': options.title },
      h('h2', {}, options.title),
      this.cards,
    );
    this.cards.append(h('p', { class: 'empty muted' }, options.empty));
  }

  show(items: SuggestionItem[]): void {
    if (!items.length) return;
    this.cards.replaceChildren(...items.map((item) => this.card(item)));
  }

  /** The studio's view: per item, viewers it was shown to, clicked by and bought by this session. */
  showActivity(items: SuggestionActivity[]): void {
    if (!items.length) return;
    this.cards.replaceChildren(
      ...items.map((item) =>
        h(
          'article',
          { class: 'suggestion', 'data-content': item.contentId },
          h(
            'div',
            {},
            h('h3', {}, item.title),
            h('p', { class: 'muted small' }, t.activity(item.shown, item.clicked, item.purchased)),
          ),
          h('div', { class: 'suggestion-buy' }, h('b', {}, money(item.price, this.options.currency))),
        ),
      ),
    );
  }

  /** Marks what the viewer owns (`GET /api/me/owned`, subscriptions, a purchase just made). */
  markOwned(...ids: string[]): void {
    for (const id of ids) {
      this.owned.add(id);
      for (const el of this.cards.querySelectorAll<HTMLButtonElement>(
        `[data-content="${CSS.escape(id)}"] button.buy`,
      )) {
        el.textContent = el.dataset.kind === 'subscription' ? t.subscribed : t.owned;
        el.disabled = true;
        el.removeAttribute('aria-label');
      }
    }
  }

  private price(item: SuggestionItem): string {
    const price = money(item.price, this.options.currency);
    return item.kind === 'subscription' ? `${price}${perPeriod(this.options.periodDays?.(item) ?? 30)}` : price;
  }

  private card(item: SuggestionItem): HTMLElement {
    const isSubscription = item.kind === 'subscription';
    const owned = this.owned.has(item.contentId);
    const price = this.price(item);
    const buy = this.options.onBuy
      ? h(
          'button',
          {
            type: 'button',
            class: 'primary small buy',
            'data-kind': item.kind ?? '',
            'aria-label': owned
              ? undefined
              : isSubscription
                ? t.subscribeNamed(item.title, price)
                : t.buyNamed(item.title, price),
            disabled: owned,
          },
          owned ? (isSubscription ? t.subscribed : t.owned) : isSubscription ? t.subscribe : t.buy,
        )
      : null;
    buy?.addEventListener('click', () => {
      this.options.onOpen?.(item);
      void busy(buy, async () => {
        try {
          if (await this.options.onBuy?.(item)) this.markOwned(item.contentId);
        } catch (err) {
          toast(describeError(err), 'error');
        }
      }).then(() => {
        if (this.owned.has(item.contentId)) buy.disabled = true;
      });
    });
    const line = this.options.describe?.(item) ?? plainReason(item.reason);
    const card = h(
      'article',
      { class: 'suggestion', 'data-content': item.contentId },
      h('div', {}, h('h3', {}, item.title), h('p', { class: 'muted small' }, line)),
      h('div', { class: 'suggestion-buy' }, h('b', {}, price), buy),
    );
    if (this.options.onDismiss) {
      const close = h(
        'button',
        { type: 'button', class: 'ghost icon', 'aria-label': t.notInterestedIn(item.title), title: t.notInterested },
        '✕',
      );
      close.addEventListener('click', () => {
        card.remove();
        if (!this.cards.children.length) this.cards.append(h('p', { class: 'empty muted' }, this.options.empty));
        this.options.onDismiss?.(item);
      });
      card.append(close);
    }
    return card;
  }
}
