import { type LeaderboardEntry, Limits, type Tip, type TipsSummed } from '@lectern/client-sdk';
import type { ServerLimits } from '../../../protocol';
import { busy, h } from './dom';
import { money, timeOfDay, toAmountText, toMinorUnits } from './format';
import { formatNumber, messages } from './i18n';

const t = messages({
  en: {
    tips: 'Tips',
    top: 'Top supporters',
    latest: 'Latest',
    none: 'No tips yet.',
    nobody: 'Nobody has tipped yet.',
    from: 'from',
    amount: 'Amount',
    message: 'Message (optional)',
    messagePlaceholder: 'Thanks for the lesson!',
    send: 'Send tip',
    quick: 'Quick tips',
    pinRule: (threshold: string, base: string, max: string) =>
      `Tips of ${threshold} or more pin your message above the chat for everyone: ${threshold} for ${base}, longer for more, up to ${max}.`,
    pins: (span: string) => `This tip pins your message for ${span}.`,
    addToPin: (more: string) => `Add ${more} to pin your message.`,
    confirmRule: (threshold: string) =>
      `Tips under ${threshold} are sent at once; from ${threshold} you confirm first.`,
    enterAmount: 'Enter an amount.',
    tooMuch: (max: string) => `At most ${max} per tip.`,
    pinsFor: (amount: string, span: string) => `${amount}, pins for ${span}`,
    seconds: (n: number) => (n === 1 ? '1 second' : `${formatNumber(n)} seconds`),
    minutes: (n: number) => (n === 1 ? '1 minute' : `${formatNumber(n)} minutes`),
    minutesSeconds: (m: number, s: number) => `${m} min ${s} s`,
    moreTips: (n: number, amount: string) => `+ ${formatNumber(n)} more ${n === 1 ? 'tip' : 'tips'}, ${amount} in all`,
  },
  'zh-CN': {
    tips: '打赏',
    top: '打赏榜',
    latest: '最新打赏',
    none: '还没有打赏。',
    nobody: '还没有人打赏。',
    from: '来自',
    amount: '金额',
    message: '留言（可选）',
    messagePlaceholder: '谢谢老师的讲解！',
    send: '发送打赏',
    quick: '常用金额',
    pinRule: (threshold: string, base: string, max: string) =>
      `打赏 ${threshold} 及以上，你的留言会在聊天上方向所有人置顶：${threshold} 置顶 ${base}，金额越高置顶越久，最长 ${max}。`,
    pins: (span: string) => `这笔打赏会将你的留言置顶 ${span}。`,
    addToPin: (more: string) => `再加 ${more} 即可置顶留言。`,
    confirmRule: (threshold: string) => `低于 ${threshold} 的打赏直接发送；${threshold} 及以上需要先确认。`,
    enterAmount: '请输入金额。',
    tooMuch: (max: string) => `每次打赏最多 ${max}。`,
    pinsFor: (amount: string, span: string) => `${amount}，置顶 ${span}`,
    seconds: (n: number) => `${formatNumber(n)} 秒`,
    minutes: (n: number) => `${formatNumber(n)} 分钟`,
    minutesSeconds: (m: number, s: number) => `${m} 分 ${s} 秒`,
    moreTips: (n: number, amount: string) => `+ 另有 ${formatNumber(n)} 笔打赏，共 ${amount}`,
  },
});

export type PinLimits = Pick<ServerLimits, 'tipPinThreshold' | 'tipPinBaseSeconds' | 'tipPinMaxSeconds'>;

/** How long a tip of `amount` pins its message, in seconds (0: it does not pin), as the server decides. */
export function pinSeconds(amount: number, limits: PinLimits): number {
  if (amount < limits.tipPinThreshold) return 0;
  return Math.min(limits.tipPinMaxSeconds, Math.floor((limits.tipPinBaseSeconds * amount) / limits.tipPinThreshold));
}

/** A gift storm's tips the server summed rather than listed: "+ 250 more tips, $2.50 in all". */
export function tipsSummedText(summed: TipsSummed): string {
  return t.moreTips(summed.count, money(summed.amount, summed.currency));
}

/** "30 seconds", "1 minute", "2 min 30 s". */
export function spanWords(seconds: number): string {
  if (seconds < 60) return t.seconds(seconds);
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return s ? t.minutesSeconds(m, s) : t.minutes(m);
}

/**
 * The viewer's tip form: quick amounts and any amount, an optional message, and what the amount
 * does — which tips pin their message and for how long (from the server's limits), and which ask
 * for a confirmation first (from the pin threshold up).
 */
export class TipForm {
  readonly element: HTMLFormElement;
  private readonly amount: HTMLInputElement;
  private readonly message: HTMLInputElement;
  private readonly effect = h('p', { class: 'tip-effect small', id: 'tip-effect' });
  private readonly rule = h('p', { class: 'muted small tip-rule' });
  private readonly submit = h('button', { type: 'submit', class: 'primary' }, t.send);
  private readonly error = h('p', { class: 'error small', role: 'alert' });

  constructor(
    private readonly currency: string,
    private readonly limits: PinLimits & { maxPrice?: number },
    onSend: (amount: number, message: string) => Promise<boolean>,
  ) {
    this.amount = h('input', {
      id: 'tip-amount',
      name: 'amount',
      type: 'number',
      min: '0.01',
      step: '0.01',
      value: toAmountText(200, currency),
      inputMode: 'decimal',
      'aria-describedby': 'tip-effect',
    });
    this.message = h('input', {
      id: 'tip-message',
      name: 'message',
      maxLength: Limits.tipMessageMax,
      autocomplete: 'off',
      placeholder: t.messagePlaceholder,
    });
    const threshold = limits.tipPinThreshold;
    const choices = [...new Set([100, 200, threshold, threshold * 2, threshold * 4])].sort((a, b) => a - b);
    const chips = h(
      'div',
      { class: 'chips', role: 'group', 'aria-label': t.quick },
      ...choices.map((cents) => {
        const pins = pinSeconds(cents, limits);
        return h(
          'button',
          {
            type: 'button',
            class: `chip${pins ? ' pins' : ''}`,
            'aria-label': pins ? t.pinsFor(money(cents, currency), spanWords(pins)) : undefined,
            onclick: () => {
              this.amount.value = toAmountText(cents, currency);
              this.describe();
              this.amount.focus();
            },
          },
          money(cents, currency),
        );
      }),
    );
    const base = spanWords(limits.tipPinBaseSeconds);
    this.rule.textContent = `${t.pinRule(money(threshold, currency), base, spanWords(limits.tipPinMaxSeconds))} ${t.confirmRule(money(threshold, currency))}`;
    this.element = h(
      'form',
      { class: 'form tip-form', id: 'tip-form' },
      chips,
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'tip-amount' }, t.amount, this.amount),
        h('label', { class: 'grow', for: 'tip-message' }, t.message, this.message),
      ),
      this.effect,
      this.rule,
      this.error,
      this.submit,
    );
    this.amount.addEventListener('input', () => this.describe());
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      const cents = toMinorUnits(this.amount.value, { currency });
      this.error.textContent = '';
      if (Number.isNaN(cents)) {
        this.error.textContent = t.enterAmount;
        return;
      }
      if (limits.maxPrice && cents > limits.maxPrice) {
        this.error.textContent = t.tooMuch(money(limits.maxPrice, currency));
        return;
      }
      void busy(this.submit, async () => {
        if (await onSend(cents, this.message.value.trim())) this.message.value = '';
      });
    });
    this.describe();
  }

  /** What this amount does, under the fields. */
  private describe(): void {
    const cents = toMinorUnits(this.amount.value, { currency: this.currency });
    if (Number.isNaN(cents)) {
      this.effect.textContent = '';
      return;
    }
    const pins = pinSeconds(cents, this.limits);
    this.effect.classList.toggle('pins', pins > 0);
    this.effect.textContent = pins
      ? t.pins(spanWords(pins))
      : t.addToPin(money(this.limits.tipPinThreshold - cents, this.currency));
  }

  setEnabled(enabled: boolean): void {
    for (const el of this.element.elements) (el as HTMLInputElement).disabled = !enabled;
  }
}

/** The studio's view of tips: a running feed, the session's total and its top tippers. */
export class TipsPanel {
  readonly element: HTMLElement;
  private readonly feed = h('ol', { class: 'tips-feed', tabIndex: 0, 'aria-label': t.latest });
  private readonly board = h('ol', { class: 'leaderboard' });
  private readonly summedLine = h('p', { class: 'tips-summed muted small', hidden: true });
  private readonly summed = { count: 0, amount: 0 };
  private total = 0;

  constructor(
    private readonly currency: string,
    private readonly onTotal: (total: number) => void = () => {},
  ) {
    this.element = h(
      'section',
      { class: 'card', 'aria-label': t.tips, id: 'tips-panel' },
      h('h2', {}, t.tips),
      h('h3', { class: 'muted small' }, t.top),
      this.board,
      h('h3', { class: 'muted small' }, t.latest),
      this.summedLine,
      this.feed,
    );
    this.leaderboard([]);
    this.feed.append(h('li', { class: 'empty muted' }, t.none));
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
        ` ${t.from} `,
        h('span', { class: 'author' }, tip.user.username),
        tip.message ? h('p', { class: 'tip-message' }, tip.message) : null,
        h('time', { class: 'muted small', dateTime: tip.createdAt }, timeOfDay(tip.createdAt)),
      ),
    );
    while (this.feed.children.length > 50) this.feed.lastElementChild?.remove();
  }

  /**
   * Tips summed in a gift storm: they count in the total, and in one line above the feed, kept
   * for the session (the feed's newest 50 would push a line of each delivery's out at once).
   */
  addSummed(summed: TipsSummed): void {
    this.feed.querySelector('.empty')?.remove();
    this.total += summed.amount;
    this.onTotal(this.total);
    this.summed.count += summed.count;
    this.summed.amount += summed.amount;
    this.summedLine.textContent = tipsSummedText({ ...summed, ...this.summed });
    this.summedLine.hidden = false;
  }

  leaderboard(top: readonly LeaderboardEntry[]): void {
    // The session's tips so far, for a page opened mid-session: the top tippers' totals (all of
    // them while there are at most ten tippers), never less than what this page heard.
    const known = top.reduce((n, entry) => n + entry.total, 0);
    if (known > this.total) {
      this.total = known;
      this.onTotal(this.total);
    }
    if (!top.length) {
      this.board.replaceChildren(h('li', { class: 'empty muted' }, t.nobody));
      return;
    }
    this.board.replaceChildren(
      ...top.map((entry) =>
        h('li', {}, h('span', { class: 'author' }, entry.user.username), h('b', {}, money(entry.total, this.currency))),
      ),
    );
  }
}
