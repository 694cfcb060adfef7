import { newIdempotencyKey } from '@lectern/client-sdk';
import { openDialog } from './account';
import { topUp, walletBalance } from './api';
import { busy, h } from './dom';
import { describeError } from './errors';
import { money, toMinorUnits } from './format';
import { toast } from './toast';

const TOP_UP_CHOICES = [500, 1000, 2000, 5000];

/** The wallet chip in the top bar: the balance, and a top-up dialog (sandbox payments). */
export class WalletChip {
  readonly element: HTMLButtonElement;
  private balance = 0;
  private currency = 'USD';

  constructor() {
    this.element = h('button', { type: 'button', class: 'wallet', title: 'Wallet: top up' }, '…');
    this.element.addEventListener('click', () => this.openTopUp());
    this.set(0);
  }

  get amount(): number {
    return this.balance;
  }

  get currencyCode(): string {
    return this.currency;
  }

  async refresh(): Promise<void> {
    const wallet = await walletBalance();
    this.currency = wallet.currency;
    this.set(wallet.balance);
  }

  set(balance: number): void {
    this.balance = balance;
    // "Wallet" goes on a phone: the amount is what matters in a narrow top bar.
    this.element.replaceChildren(h('span', { class: 'wallet-label' }, 'Wallet '), money(balance, this.currency));
    this.element.setAttribute('aria-label', `Wallet: ${money(balance, this.currency)}. Top up`);
    this.element.dataset.balance = String(balance);
  }

  /**
   * The top-up dialog. `reason` says why it opened (a purchase that did not fit); `then` runs
   * after a successful top-up (to carry on with that purchase).
   */
  openTopUp(reason?: string, then?: () => void): void {
    const amount = h('input', {
      name: 'amount',
      type: 'number',
      min: '1',
      step: '0.01',
      value: '10',
      inputMode: 'decimal',
      'aria-label': 'Amount',
    });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Add money');
    const error = h('p', { class: 'error', role: 'alert' });
    // One key per intent: a double click or a retried request never charges twice.
    let key = newIdempotencyKey();
    const form = h(
      'form',
      { class: 'form' },
      reason ? h('p', {}, reason) : null,
      h(
        'p',
        { class: 'muted small' },
        `Balance: ${money(this.balance, this.currency)}. Sandbox payments: no real money moves.`,
      ),
      h(
        'div',
        { class: 'chips' },
        ...TOP_UP_CHOICES.map((cents) =>
          h(
            'button',
            {
              type: 'button',
              class: 'chip',
              onclick: () => {
                amount.value = String(cents / 100);
                key = newIdempotencyKey();
              },
            },
            money(cents, this.currency),
          ),
        ),
      ),
      h('label', {}, 'Amount', amount),
      error,
      submit,
    );
    amount.addEventListener('input', () => {
      key = newIdempotencyKey();
    });
    const dialog = openDialog('Top up your wallet', form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const cents = toMinorUnits(amount.value);
      if (Number.isNaN(cents)) {
        error.textContent = 'Enter an amount.';
        return;
      }
      void busy(submit, async () => {
        try {
          this.set(await topUp(cents, key));
          toast(`Added ${money(cents, this.currency)}`, 'success');
          dialog.close();
          then?.();
        } catch (err) {
          error.textContent = describeError(err);
        }
      });
    });
  }
}
