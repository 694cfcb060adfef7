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
import { toast } from './toast';

/**
 * The dashboard's money out: the creator's earnings by where they are (available, pending until
 * their release, paid out, owed back after a refund), a payout form and the payouts with their
 * status; for admins, every creator's failed payouts with a Retry button. Lists refresh by
 * themselves while a payout is on its way. API: docs/money.md#earnings-and-payouts.
 */

const POLL_MS = 2000;

const STATUS_TEXT: Record<Payout['status'], string> = {
  pending: 'On its way',
  paid: 'Paid',
  failed: 'Failed',
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
  if (hours >= 48 && hours % 24 === 0) return `${hours / 24} days`;
  if (hours >= 1) return `${Math.round(hours)} hour${Math.round(hours) === 1 ? '' : 's'}`;
  const minutes = Math.max(1, Math.round(hours * 60));
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export function payoutRefusal(err: unknown, earnings: Earnings | null, money: MoneyFormat): string {
  if (!(err instanceof ApiError)) return describeError(err);
  const d = err.details;
  if (err.code === 'INSUFFICIENT_FUNDS') {
    return earnings
      ? `You have ${money(earnings.available)} available to pay out: ask for that much or less.`
      : 'You do not have that much available to pay out.';
  }
  if (err.code === 'INVALID_ARGUMENT' && typeof d.min === 'number') {
    return `The smallest payout is ${money(d.min)}.`;
  }
  if (err.code === 'CONFLICT' && typeof d.dailyCap === 'number') {
    const remaining = typeof d.remaining === 'number' ? d.remaining : 0;
    return remaining > 0
      ? `That would pass your limit of ${money(d.dailyCap)} paid out in 24 hours: you can still take out ${money(remaining)} now.`
      : `You have reached your limit of ${money(d.dailyCap)} paid out in 24 hours. Try again tomorrow.`;
  }
  return describeError(err);
}

export class PayoutsPanel {
  readonly element: HTMLElement;
  private readonly tiles = h('div', { class: 'kpis few', role: 'group', 'aria-label': 'Your earnings' });
  private readonly debtNote = h('p', { class: 'notice small debt-note', hidden: true });
  private readonly holdNote = h('p', { class: 'muted small' });
  private readonly rules = h('p', { class: 'muted small' });
  private readonly amount = h('input', {
    name: 'amount',
    inputmode: 'decimal',
    autocomplete: 'off',
    placeholder: '0.00',
    required: true,
  });
  private readonly error = h('p', { class: 'error', role: 'alert' });
  private readonly submit = h('button', { type: 'submit', class: 'primary' }, 'Request payout');
  private readonly history = h('ol', { class: 'payout-list', 'aria-label': 'Your payouts' });
  private readonly empty = h('p', { class: 'muted empty' }, 'No payouts yet.');
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
      'All of it',
    );
    const form = h(
      'form',
      { class: 'payout-form', 'aria-label': 'Request a payout', novalidate: true },
      h('h3', {}, 'Pay out'),
      h('label', {}, `Amount (${currency})`, h('span', { class: 'amount-row' }, this.amount, all)),
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
      h('h2', { id: 'earnings-heading' }, 'Earnings and payouts'),
      this.tiles,
      this.holdNote,
      this.debtNote,
      h(
        'div',
        { class: 'payout-grid' },
        form,
        h('div', { class: 'payout-history' }, h('h3', {}, 'Your payouts'), this.empty, this.history),
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
      this.error.textContent = `Could not load your earnings: ${describeError(err)}`;
    }
  }

  private async request(): Promise<void> {
    this.error.textContent = '';
    const amount = parseAmount(this.amount.value, currencyDigits(this.currency));
    if (Number.isNaN(amount)) {
      this.error.textContent = 'Enter the amount to pay out, such as 25 or 25.50.';
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
      toast(`Payout of ${this.money(payout.amount)} requested.`, 'success');
    } catch (err) {
      this.error.textContent = payoutRefusal(err, this.earnings, this.money);
    }
    await this.refresh();
  }

  private render(e: Earnings, payouts: readonly Payout[]): void {
    const money = this.money;
    const pendingSub = e.nextReleaseAt
      ? `next release ${formatFromNow(e.nextReleaseAt)} (${formatDateTime(e.nextReleaseAt)})`
      : 'nothing waiting';
    this.tiles.replaceChildren(
      tile('Available to pay out', money(e.available), 'yours to take out now', 'available'),
      tile('Pending', money(e.pending), pendingSub, 'pending'),
      tile(
        'Paid out',
        money(e.paidOut),
        e.inFlight > 0 ? `${money(e.inFlight)} more on its way to you` : 'sent to you so far',
        'paid-out',
      ),
      ...(e.debt > 0 ? [tile('Owed back', money(e.debt), 'repaid from your next earnings', 'debt')] : []),
    );
    this.holdNote.textContent = `What you earn from a sale is its price minus the platform's fee. It stays pending for ${holdPeriod(e.holdHours)} after the sale (a refund can still take it back), then becomes available to pay out.`;
    this.debtNote.hidden = !(e.debt > 0);
    this.debtNote.textContent =
      e.debt > 0
        ? `A refund came after its earnings had been paid out, and took ${money(e.debt)} more than you had available. Your next earnings repay this first; nothing is taken from your bank.`
        : '';
    this.rules.textContent = `At least ${money(e.payoutMinAmount)} per payout, and at most ${money(e.payoutDailyCap)} paid out in any 24 hours.`;

    this.empty.hidden = payouts.length > 0;
    this.history.replaceChildren(...payouts.map((p) => this.payoutRow(p)));
  }

  private payoutRow(p: Payout): HTMLElement {
    const detail =
      p.status === 'paid'
        ? `Paid ${formatDateTime(p.settledAt)}`
        : p.status === 'failed'
          ? `${p.failureReason ? `${capitalize(p.failureReason)}. ` : ''}The money is back in your available balance.`
          : 'The payment provider is sending it.';
    return h(
      'li',
      { class: `payout payout-row-${p.status}` },
      h(
        'div',
        { class: 'payout-main' },
        h('b', { class: 'payout-amount' }, this.money(p.amount)),
        statusBadge(p),
        p.attempt > 1 ? h('span', { class: 'muted small' }, `attempt ${formatCount(p.attempt)}`) : null,
      ),
      h(
        'div',
        { class: 'muted small' },
        `Requested ${formatDateTime(p.createdAt)} · `,
        h('span', { class: 'payout-detail' }, detail),
      ),
    );
  }
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Admins: every creator's failed payouts, each with Retry (a new attempt of the same payout). */
export class AdminPayoutsPanel {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'payout-list', 'aria-label': 'Failed payouts' });
  private readonly empty = h('p', { class: 'muted empty' }, 'No failed payouts.');
  private readonly summary = h('p', { class: 'muted small' });
  private readonly names = new Map<string, Promise<string>>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly money: MoneyFormat) {
    this.element = h(
      'section',
      { class: 'card payouts admin-payouts', 'aria-labelledby': 'admin-payouts-heading' },
      h('h2', { id: 'admin-payouts-heading' }, 'Payouts (all creators)'),
      h(
        'p',
        { class: 'muted small' },
        'Failed payouts, newest first. Their money went back to the creator; Retry sends it again as a new attempt (it needs that much available).',
      ),
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
          ? 'No payout is on its way right now.'
          : `${formatCount(n)} ${n === 1 ? 'payout is' : 'payouts are'} on its way (${this.money(
              pending.payouts.reduce((sum, p) => sum + p.amount, 0),
            )}).`;
      if (n > 0) this.timer = setTimeout(() => void this.refresh(), POLL_MS);
    } catch (err) {
      this.summary.textContent = `Could not load the payouts: ${describeError(err)}`;
    }
  }

  /** A creator's name, looked up once. */
  private nameOf(creatorId: string): Promise<string> {
    let name = this.names.get(creatorId);
    if (!name) {
      name = api<{ profile: CreatorProfile }>('GET', `/api/creators/${encodeURIComponent(creatorId)}`).then(
        ({ profile }) => profile.displayName,
        () => `creator ${creatorId.slice(0, 8)}`,
      );
      this.names.set(creatorId, name);
    }
    return name;
  }

  private async row(p: Payout): Promise<HTMLElement> {
    const error = h('span', { class: 'error small', role: 'alert' });
    const retry = h('button', { type: 'button', class: 'small' }, 'Retry');
    retry.addEventListener('click', () =>
      busy(retry, async () => {
        error.textContent = '';
        try {
          await api('POST', `/api/admin/payouts/${p.id}/retry`, {}, { idempotencyKey: newIdempotencyKey() });
          toast(`Payout of ${this.money(p.amount)} sent again.`, 'success');
          await this.refresh();
        } catch (err) {
          error.textContent =
            err instanceof ApiError && err.code === 'INSUFFICIENT_FUNDS'
              ? 'The creator does not have that much available any more.'
              : describeError(err);
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
        p.attempt > 1 ? h('span', { class: 'muted small' }, `attempt ${formatCount(p.attempt)}`) : null,
        retry,
      ),
      h(
        'div',
        { class: 'muted small' },
        `Requested ${formatDateTime(p.createdAt)}; failed ${formatDateTime(p.settledAt)}: ${p.failureReason ?? 'no reason given'}`,
      ),
      error,
    );
  }
}
