import type { SuggestionItem } from '@lectern/client-sdk';
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
}

/** Cards for what the recommender suggests in the room (`suggestion` events), newest set first. */
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

  markOwned(contentId: string): void {
    this.owned.add(contentId);
    for (const el of this.cards.querySelectorAll<HTMLButtonElement>(
      `[data-content="${CSS.escape(contentId)}"] button`,
    )) {
      el.textContent = 'Owned ✓';
      el.disabled = true;
    }
  }

  private card(item: SuggestionItem): HTMLElement {
    const buy = this.options.onBuy
      ? h('button', { type: 'button', class: 'primary small' }, this.owned.has(item.contentId) ? 'Owned ✓' : 'Buy')
      : null;
    if (buy && this.owned.has(item.contentId)) buy.disabled = true;
    buy?.addEventListener('click', () => {
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
    return h(
      'article',
      { class: 'suggestion', 'data-content': item.contentId, title: `model ${this.modelVersion}` },
      h('div', {}, h('h3', {}, item.title), h('p', { class: 'muted small' }, item.reason)),
      h('div', { class: 'suggestion-buy' }, h('b', {}, money(item.price, this.options.currency)), buy),
    );
  }
}
