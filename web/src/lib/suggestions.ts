import type { SuggestionItem } from '@lectern/client-sdk';
import type { SuggestionActivity } from '../../../protocol';
import { busy, h } from './dom';
import { describeError } from './errors';
import { money } from './format';
import { toast } from './toast';

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
}

/**
 * Cards for what the recommender suggests in the room (`suggestion` events), newest set first;
 * in the studio, what it has been suggesting in the room and how that landed
 * (`suggestion:activity`).
 */
export class SuggestionsPanel {
  readonly element: HTMLElement;
  private readonly cards = h('div', { class: 'cards' });
  private readonly owned = new Set<string>();
  private modelVersion = '';

  constructor(private readonly options: SuggestionsPanelOptions) {
    this.element = h(
      'section',
      { class: 'card suggestions', 'aria-label': options.title },
      h('h2', {}, options.title),
      this.cards,
    );
    this.cards.append(h('p', { class: 'empty muted' }, options.empty));
  }

  show(items: SuggestionItem[], modelVersion: string): void {
    this.modelVersion = modelVersion;
    if (!items.length) return;
    this.cards.replaceChildren(...items.map((item) => this.card(item)));
  }

  /** The studio's view: per item, viewers it was shown to, clicked by and bought by this session. */
  showActivity(items: SuggestionActivity[], modelVersion: string): void {
    this.modelVersion = modelVersion;
    if (!items.length) return;
    this.cards.replaceChildren(
      ...items.map((item) =>
        h(
          'article',
          { class: 'suggestion', 'data-content': item.contentId, title: `model ${modelVersion}` },
          h(
            'div',
            {},
            h('h3', {}, item.title),
            h(
              'p',
              { class: 'muted small' },
              `shown to ${item.shown} · clicked by ${item.clicked} · bought by ${item.purchased}`,
            ),
          ),
          h('div', { class: 'suggestion-buy' }, h('b', {}, money(item.price, this.options.currency))),
        ),
      ),
    );
  }

  markOwned(contentId: string): void {
    this.owned.add(contentId);
    for (const el of this.cards.querySelectorAll<HTMLButtonElement>(
      `[data-content="${CSS.escape(contentId)}"] button.buy`,
    )) {
      el.textContent = 'Owned ✓';
      el.disabled = true;
    }
  }

  private card(item: SuggestionItem): HTMLElement {
    const isSubscription = item.kind === 'subscription';
    const buy = this.options.onBuy
      ? h(
          'button',
          { type: 'button', class: 'primary small buy' },
          this.owned.has(item.contentId) ? 'Owned ✓' : isSubscription ? 'Subscribe' : 'Buy',
        )
      : null;
    if (buy && this.owned.has(item.contentId)) buy.disabled = true;
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
    const card = h(
      'article',
      { class: 'suggestion', 'data-content': item.contentId, title: `model ${this.modelVersion}` },
      h('div', {}, h('h3', {}, item.title), h('p', { class: 'muted small' }, item.reason)),
      h('div', { class: 'suggestion-buy' }, h('b', {}, money(item.price, this.options.currency)), buy),
    );
    if (this.options.onDismiss) {
      const close = h(
        'button',
        {
          type: 'button',
          class: 'ghost icon',
          'aria-label': `Not interested in ${item.title}`,
          title: 'Not interested',
        },
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
