import { newIdempotencyKey } from '@lectern/client-sdk';
import type { CreatorProfile, Earnings, Payout } from '../../../protocol';
import { ApiError, api } from './api';
import {
  currencyDigits,
  formatCount,
  formatDateTime,
  formatFromNow,
  type MoneyFormat,
  parseAmount,
} from './dashboard-format';
import { busy, h } from './dom';
import { describeError } from './errors';
import { messages } from './i18n';
import { toast } from './toast';

const t = messages({
  en: {
    pending: 'On its way',
    paid: 'Paid',
    failed: 'Failed',
    days: (n: number) => `${n} days`,
    hours: (n: number) => (n === 1 ? '1 hour' : `${n} hours`),
    minutes: (n: number) => (n === 1 ? '1 minute' : `${n} minutes`),
    insufficient: (amount: string) => `You have ${amount} available to pay out: ask for that much or less.`,
    notThatMuch: 'You do not have that much available to pay out.',
    minimum: (amount: string) => `The smallest payout is ${amount}.`,
    wouldPass: (cap: string, remaining: string) =>
      `That would pass your limit of ${cap} paid out in 24 hours: you can still take out ${remaining} now.`,
    reached: (cap: string) => `You have reached your limit of ${cap} paid out in 24 hours. Try again tomorrow.`,
    yourEarnings: 'Your earnings',
    requestPayout: 'Request payout',
    yourPayouts: 'Your payouts',
    noPayouts: 'No payouts yet.',
    allOfIt: 'All of it',
    payOut: 'Pay out',
    amount: (currency: string) => `Amount (${currency})`,
    earningsAndPayouts: 'Earnings and payouts',
    earningsNotLoaded: 'Could not load your earnings:',
    enterAmount: (a: string, b: string) => `Enter the amount to pay out, such as ${a} or ${b}.`,
    requested: (amount: string) => `Payout of ${amount} requested.`,
    nextRelease: (relative: string, at: string) => `next release ${relative} (${at})`,
    nothingWaiting: 'nothing waiting',
    available: 'Available to pay out',
    availableSub: 'yours to take out now',
    pendingTile: 'Pending',
    paidOut: 'Paid out',
    onItsWay: (amount: string) => `${amount} more on its way to you`,
    sentSoFar: 'sent to you so far',
    owedBack: 'Owed back',
    owedSub: 'repaid from your next earnings',
    holdNote: (period: string) =>
      `What you earn from a sale is its price minus the platform’s fee. It stays pending for ${period} after the sale (a refund can still take it back), then becomes available to pay out.`,
    debtNote: (amount: string) =>
      `A refund came after its earnings had been paid out, and took ${amount} more than you had available. Your next earnings repay this first; nothing is taken from your bank.`,
    rules: (min: string, cap: string) => `At least ${min} per payout, and at most ${cap} paid out in any 24 hours.`,
    paidAt: (at: string) => `Paid ${at}`,
    backInBalance: 'The money is back in your available balance.',
    providerSending: 'The payment provider is sending it.',
    attempt: (n: string) => `attempt ${n}`,
    requestedAt: (at: string) => `Requested ${at} · `,
    failedPayouts: 'Failed payouts',
    noFailed: 'No failed payouts.',
    allCreators: 'Payouts (all creators)',
    adminNote:
      'Failed payouts, newest first. Their money went back to the creator; Retry sends it again as a new attempt (it needs that much available).',
    noneOnItsWay: 'No payout is on its way right now.',
    someOnTheirWay: (n: number, count: string, amount: string) =>
      n === 1 ? `1 payout is on its way (${amount}).` : `${count} payouts are on their way (${amount}).`,
    payoutsNotLoaded: 'Could not load the payouts:',
    creatorShort: (id: string) => `creator ${id}`,
    retry: 'Retry',
    sentAgain: (amount: string) => `Payout of ${amount} sent again.`,
    creatorShort2: 'The creator does not have that much available any more.',
    failedAt: (requested: string, failed: string, reason: string) =>
      `Requested ${requested}; failed ${failed}: ${reason}`,
    noReason: 'no reason given',
  },
  'zh-CN': {
    pending: '处理中',
    paid: '已到账',
    failed: '失败',
    days: (n: number) => `${n} 天`,
    hours: (n: number) => `${n} 小时`,
    minutes: (n: number) => `${n} 分钟`,
    insufficient: (amount: string) => `你目前可提现 ${amount}：提现金额不能超过这个数。`,
    notThatMuch: '你的可提现金额不足。',
    minimum: (amount: string) => `单笔提现最低 ${amount}。`,
    wouldPass: (cap: string, remaining: string) =>
      `这会超过 24 小时内 ${cap} 的提现上限：你现在最多还能提现 ${remaining}。`,
    reached: (cap: string) => `你已达到 24 小时内 ${cap} 的提现上限，请明天再试。`,
    yourEarnings: '你的收入',
    requestPayout: '申请提现',
    yourPayouts: '提现记录',
    noPayouts: '还没有提现记录。',
    allOfIt: '全部',
    payOut: '提现',
    amount: (currency: string) => `金额（${currency}）`,
    earningsAndPayouts: '收入与提现',
    earningsNotLoaded: '收入加载失败：',
    enterAmount: (a: string, b: string) => `请输入提现金额，例如 ${a} 或 ${b}。`,
    requested: (amount: string) => `已申请提现 ${amount}。`,
    nextRelease: (relative: string, at: string) => `下次入账：${relative}（${at}）`,
    nothingWaiting: '没有待入账的收入',
    available: '可提现',
    availableSub: '现在就可以提现',
    pendingTile: '待入账',
    paidOut: '已提现',
    onItsWay: (amount: string) => `另有 ${amount} 正在转给你`,
    sentSoFar: '累计已转给你',
    owedBack: '待偿还',
    owedSub: '将从你之后的收入中扣回',
    holdNote: (period: string) =>
      `每笔销售的收入是售价减去平台服务费。销售后会先保留 ${period}（期间仍可能因退款被收回），之后才可以提现。`,
    debtNote: (amount: string) =>
      `有一笔退款发生在收入已提现之后，比你的可提现余额多扣了 ${amount}。这部分会优先从你之后的收入中扣回，不会从你的银行账户扣款。`,
    rules: (min: string, cap: string) => `单笔提现最低 ${min}，任意 24 小时内最多提现 ${cap}。`,
    paidAt: (at: string) => `到账时间 ${at}`,
    backInBalance: '这笔钱已退回你的可提现余额。',
    providerSending: '支付机构正在转账。',
    attempt: (n: string) => `第 ${n} 次尝试`,
    requestedAt: (at: string) => `申请于 ${at} · `,
    failedPayouts: '失败的提现',
    noFailed: '没有失败的提现。',
    allCreators: '提现（所有创作者）',
    adminNote:
      '失败的提现，最新的在前。这些钱已退回创作者账户；“重试”会作为一次新的尝试再次发起（需要有足够的可提现余额）。',
    noneOnItsWay: '现在没有正在处理的提现。',
    someOnTheirWay: (_n: number, count: string, amount: string) => `${count} 笔提现正在处理（${amount}）。`,
    payoutsNotLoaded: '提现记录加载失败：',
    creatorShort: (id: string) => `创作者 ${id}`,
    retry: '重试',
    sentAgain: (amount: string) => `已重新发起 ${amount} 的提现。`,
    creatorShort2: '这位创作者的可提现余额已经不够了。',
    failedAt: (requested: string, failed: string, reason: string) => `申请于 ${requested}；失败于 ${failed}：${reason}`,
    noReason: '未说明原因',
  },
});

/**
 * The dashboard's money out: the creator's earnings by where they are (available, pending until
 * their release, paid out, owed back after a refund), a payout form and the payouts with their
 * status; for admins, every creator's failed payouts with a Retry button. Lists refresh by
 * themselves while a payout is on its way. API: docs/money.md#earnings-and-payouts.
 */

const POLL_MS = 2000;

const STATUS_TEXT: Record<Payout['status'], string> = {
  pending: t.pending,
  paid: t.paid,
  failed: t.failed,
};

function statusBadge(payout: Payout): HTMLElement {
  return h('span', { class: `badge payout-${payout.status}` }, STATUS_TEXT[payout.status]);
}

/** A small tile: a plain label, the figure, a line saying what it means. */
function tile(label: string, value: string, sub: string, className = ''): HTMLElement {
  return h(
    'div',
    { class: `kpi ${className}` },
    h('span', { class: 'kpi-label' }, label),
    h('span', { class: 'kpi-value' }, value),
    h('span', { class: 'kpi-sub' }, sub),
  );
}

/** Words for a refused payout request, from the server's code and details. */
/** "3 days", "12 hours", "30 minutes": how long earnings are held, in words. */
export function holdPeriod(hours: number): string {
  if (hours >= 48 && hours % 24 === 0) return t.days(hours / 24);
  if (hours >= 1) return t.hours(Math.round(hours));
  return t.minutes(Math.max(1, Math.round(hours * 60)));
}

export function payoutRefusal(err: unknown, earnings: Earnings | null, money: MoneyFormat): string {
  if (!(err instanceof ApiError)) return describeError(err);
  const d = err.details;
  if (err.code === 'INSUFFICIENT_FUNDS') {
    return earnings ? t.insufficient(money(earnings.available)) : t.notThatMuch;
  }
  if (err.code === 'INVALID_ARGUMENT' && typeof d.min === 'number') return t.minimum(money(d.min));
  if (err.code === 'CONFLICT' && typeof d.dailyCap === 'number') {
    const remaining = typeof d.remaining === 'number' ? d.remaining : 0;
    return remaining > 0 ? t.wouldPass(money(d.dailyCap), money(remaining)) : t.reached(money(d.dailyCap));
  }
  return describeError(err);
}

export class PayoutsPanel {
  readonly element: HTMLElement;
  private readonly tiles = h('div', { class: 'kpis few', role: 'group', 'aria-label': t.yourEarnings });
  private readonly debtNote = h('p', { class: 'notice small debt-note', hidden: true });
  private readonly holdNote = h('p', { class: 'muted small' });
  private readonly rules = h('p', { class: 'muted small' });
  private readonly amount = h('input', {
    name: 'amount',
    inputmode: 'decimal',
    autocomplete: 'off',
    required: true,
  });
  private readonly error = h('p', { class: 'error', role: 'alert' });
  private readonly submit = h('button', { type: 'submit', class: 'primary' }, t.requestPayout);
  private readonly history = h('ol', { class: 'payout-list', 'aria-label': t.yourPayouts });
  private readonly empty = h('p', { class: 'muted empty' }, t.noPayouts);
  private earnings: Earnings | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `hideWhenEmpty`: an admin without earnings of their own does not need the panel. */
  constructor(
    private readonly money: MoneyFormat,
    private readonly currency: string,
    private readonly options: { hideWhenEmpty?: boolean } = {},
  ) {
    const all = h(
      'button',
      {
        type: 'button',
        class: 'ghost small',
        onclick: () => {
          if (!this.earnings) return;
          const digits = currencyDigits(currency);
          this.amount.value = (this.earnings.available / 10 ** digits).toFixed(digits);
          this.amount.focus();
        },
      },
      t.allOfIt,
    );
    this.amount.id = 'payout-amount';
    this.amount.placeholder = (0).toFixed(currencyDigits(currency));
    this.amount.setAttribute('aria-describedby', 'payout-rules');
    this.rules.id = 'payout-rules';
    const form = h(
      'form',
      { class: 'payout-form', 'aria-labelledby': 'payout-heading', novalidate: true },
      h('h3', { id: 'payout-heading' }, t.payOut),
      h('label', { for: this.amount.id }, t.amount(currency)),
      h('span', { class: 'amount-row' }, this.amount, all),
      this.rules,
      this.error,
      this.submit,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(this.submit, () => this.request());
    });
    this.element = h(
      'section',
      { class: 'card payouts', 'aria-labelledby': 'earnings-heading' },
      h('h2', { id: 'earnings-heading' }, t.earningsAndPayouts),
      this.tiles,
      this.holdNote,
      this.debtNote,
      h(
        'div',
        { class: 'payout-grid' },
        form,
        h('div', { class: 'payout-history' }, h('h3', {}, t.yourPayouts), this.empty, this.history),
      ),
    );
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    try {
      const [earnings, { payouts }] = await Promise.all([
        api<Earnings>('GET', '/api/earnings'),
        api<{ payouts: Payout[] }>('GET', '/api/payouts'),
      ]);
      this.earnings = earnings;
      this.render(earnings, payouts);
      this.element.hidden =
        !!this.options.hideWhenEmpty &&
        payouts.length === 0 &&
        earnings.available + earnings.pending + earnings.paidOut + earnings.debt === 0;
      // While a payout is on its way, look again until it is paid or failed.
      if (earnings.inFlight > 0 || payouts.some((p) => p.status === 'pending')) {
        this.timer = setTimeout(() => void this.refresh(), POLL_MS);
      }
    } catch (err) {
      this.error.textContent = `${t.earningsNotLoaded} ${describeError(err)}`;
    }
  }

  private async request(): Promise<void> {
    this.error.textContent = '';
    const digits = currencyDigits(this.currency);
    const amount = parseAmount(this.amount.value, digits);
    if (Number.isNaN(amount)) {
      this.error.textContent = t.enterAmount('25', digits ? (25.5).toFixed(digits) : '250');
      return;
    }
    try {
      // A new key for each click: a retry of this request (a lost answer) pays once.
      const { payout } = await api<{ payout: Payout; available: number }>(
        'POST',
        '/api/payouts',
        { amount },
        { idempotencyKey: newIdempotencyKey() },
      );
      this.amount.value = '';
      toast(t.requested(this.money(payout.amount)), 'success');
    } catch (err) {
      this.error.textContent = payoutRefusal(err, this.earnings, this.money);
    }
    await this.refresh();
  }

  private render(e: Earnings, payouts: readonly Payout[]): void {
    const money = this.money;
    const pendingSub = e.nextReleaseAt
      ? t.nextRelease(formatFromNow(e.nextReleaseAt), formatDateTime(e.nextReleaseAt))
      : t.nothingWaiting;
    this.tiles.replaceChildren(
      tile(t.available, money(e.available), t.availableSub, 'available'),
      tile(t.pendingTile, money(e.pending), pendingSub, 'pending'),
      tile(t.paidOut, money(e.paidOut), e.inFlight > 0 ? t.onItsWay(money(e.inFlight)) : t.sentSoFar, 'paid-out'),
      ...(e.debt > 0 ? [tile(t.owedBack, money(e.debt), t.owedSub, 'debt')] : []),
    );
    this.holdNote.textContent = t.holdNote(holdPeriod(e.holdHours));
    this.debtNote.hidden = !(e.debt > 0);
    this.debtNote.textContent = e.debt > 0 ? t.debtNote(money(e.debt)) : '';
    this.rules.textContent = t.rules(money(e.payoutMinAmount), money(e.payoutDailyCap));

    this.empty.hidden = payouts.length > 0;
    this.history.replaceChildren(...payouts.map((p) => this.payoutRow(p)));
  }

  private payoutRow(p: Payout): HTMLElement {
    const detail =
      p.status === 'paid'
        ? t.paidAt(formatDateTime(p.settledAt))
        : p.status === 'failed'
          ? `${p.failureReason ? `${capitalize(p.failureReason)}. ` : ''}${t.backInBalance}`
          : t.providerSending;
    return h(
      'li',
      { class: `payout payout-row-${p.status}` },
      h(
        'div',
        { class: 'payout-main' },
        h('b', { class: 'payout-amount' }, this.money(p.amount)),
        statusBadge(p),
        p.attempt > 1 ? h('span', { class: 'muted small' }, t.attempt(formatCount(p.attempt))) : null,
      ),
      h(
        'div',
        { class: 'muted small' },
        t.requestedAt(formatDateTime(p.createdAt)),
        h('span', { class: 'payout-detail' }, detail),
      ),
    );
  }
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Admins: every creator's failed payouts, each with Retry (a new attempt of the same payout). */
export class AdminPayoutsPanel {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'payout-list', 'aria-label': t.failedPayouts });
  private readonly empty = h('p', { class: 'muted empty' }, t.noFailed);
  private readonly summary = h('p', { class: 'muted small' });
  private readonly names = new Map<string, Promise<string>>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly money: MoneyFormat) {
    this.element = h(
      'section',
      { class: 'card payouts admin-payouts', 'aria-labelledby': 'admin-payouts-heading' },
      h('h2', { id: 'admin-payouts-heading' }, t.allCreators),
      h('p', { class: 'muted small' }, t.adminNote),
      this.summary,
      this.empty,
      this.list,
    );
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    try {
      const [failed, pending] = await Promise.all([
        api<{ payouts: Payout[] }>('GET', '/api/admin/payouts?status=failed'),
        api<{ payouts: Payout[] }>('GET', '/api/admin/payouts?status=pending'),
      ]);
      const rows = await Promise.all(failed.payouts.map((p) => this.row(p)));
      this.list.replaceChildren(...rows);
      this.empty.hidden = rows.length > 0;
      const n = pending.payouts.length;
      this.summary.textContent =
        n === 0
          ? t.noneOnItsWay
          : t.someOnTheirWay(n, formatCount(n), this.money(pending.payouts.reduce((sum, p) => sum + p.amount, 0)));
      if (n > 0) this.timer = setTimeout(() => void this.refresh(), POLL_MS);
    } catch (err) {
      this.summary.textContent = `${t.payoutsNotLoaded} ${describeError(err)}`;
    }
  }

  /** A creator's name, looked up once. */
  private nameOf(creatorId: string): Promise<string> {
    let name = this.names.get(creatorId);
    if (!name) {
      name = api<{ profile: CreatorProfile }>('GET', `/api/creators/${encodeURIComponent(creatorId)}`).then(
        ({ profile }) => profile.displayName,
        () => t.creatorShort(creatorId.slice(0, 8)),
      );
      this.names.set(creatorId, name);
    }
    return name;
  }

  private async row(p: Payout): Promise<HTMLElement> {
    const error = h('span', { class: 'error small', role: 'alert' });
    const retry = h('button', { type: 'button', class: 'small' }, t.retry);
    retry.addEventListener('click', () =>
      busy(retry, async () => {
        error.textContent = '';
        try {
          await api('POST', `/api/admin/payouts/${p.id}/retry`, {}, { idempotencyKey: newIdempotencyKey() });
          toast(t.sentAgain(this.money(p.amount)), 'success');
          await this.refresh();
        } catch (err) {
          error.textContent =
            err instanceof ApiError && err.code === 'INSUFFICIENT_FUNDS' ? t.creatorShort2 : describeError(err);
        }
      }),
    );
    return h(
      'li',
      { class: 'payout payout-row-failed' },
      h(
        'div',
        { class: 'payout-main' },
        h('b', {}, p.creatorName ?? (await this.nameOf(p.creatorId))),
        h('span', { class: 'payout-amount' }, this.money(p.amount)),
        statusBadge(p),
        p.attempt > 1 ? h('span', { class: 'muted small' }, t.attempt(formatCount(p.attempt))) : null,
        retry,
      ),
      h(
        'div',
        { class: 'muted small' },
        t.failedAt(formatDateTime(p.createdAt), formatDateTime(p.settledAt), p.failureReason ?? t.noReason),
      ),
      error,
    );
  }
}
