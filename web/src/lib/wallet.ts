import { newIdempotencyKey } from '@lectern/client-sdk';
import { openDialog } from './account';
import { topUp, walletBalance } from './api';
import { busy, h } from './dom';
import { describeError } from './errors';
import { money, toAmountText, toMinorUnits } from './format';
import { messages, minorDigits } from './i18n';
import { toast } from './toast';

const TOP_UP_CHOICES = [500, 1000, 2000, 5000];

const t = messages({
  en: {
    chipTitle: 'Wallet: top up',
    wallet: 'Wallet ',
    chipLabel: (amount: string) => `Wallet: ${amount}. Top up`,
    amount: 'Amount',
    addMoney: 'Add money',
    balance: (amount: string) => `Balance: ${amount}. Sandbox payments: no real money moves.`,
    title: 'Top up your wallet',
    enterAmount: 'Enter an amount.',
    added: (amount: string) => `Added ${amount}`,
  },
  'zh-CN': {
    chipTitle: '钱包：充值',
    wallet: '钱包 ',
    chipLabel: (amount: string) => `钱包余额 ${amount}，点击充值`,
    amount: '金额',
    addMoney: '充值',
    balance: (amount: string) => `当前余额：${amount}。沙盒支付，不会产生真实扣款。`,
    title: '钱包充值',
    enterAmount: '请输入金额。',
    added: (amount: string) => `已充值 ${amount}`,
  },
});

/** The wallet chip in the top bar: the balance, and a top-up dialog (sandbox payments). */
export class WalletChip {
  readonly element: HTMLButtonElement;
  private balance = 0;
  /** The deployment's currency, known once the wallet has been read (until then the chip shows "…"). */
  private currency: string | undefined;

  constructor() {
    this.element = h('button', { type: 'button', class: 'wallet', 'aria-label': t.chipTitle }, '…');
    this.element.addEventListener('click', () => this.openTopUp());
  }

  get amount(): number {
    return this.balance;
  }

  get currencyCode(): string {
    return this.currency ?? 'USD';
  }

  async refresh(): Promise<void> {
    const wallet = await walletBalance();
    this.currency = wallet.currency;
    this.set(wallet.balance);
  }

  set(balance: number): void {
    this.balance = balance;
    this.element.dataset.balance = String(balance);
    if (!this.currency) return; // shown once the wallet's currency is known
    // "Wallet" goes on a phone: the amount is what matters in a narrow top bar.
    this.element.replaceChildren(h('span', { class: 'wallet-label' }, t.wallet), money(balance, this.currency));
    this.element.setAttribute('aria-label', t.chipLabel(money(balance, this.currency)));
  }

  /**
   * The top-up dialog. `reason` says why it opened (a purchase that did not fit); `then` runs
   * after a successful top-up (to carry on with that purchase); `suggested` fills the amount in
   * (minor units: what is missing for that purchase).
   */
  openTopUp(reason?: string, then?: () => void, suggested?: number): HTMLDialogElement {
    const currency = this.currencyCode;
    const digits = minorDigits(currency);
    const amount = h('input', {
      name: 'amount',
      type: 'number',
      min: digits ? String(10 ** -digits) : '1',
      step: digits ? String(10 ** -digits) : '1',
      value: toAmountText(suggested && suggested > 0 ? Math.max(suggested, 1000) : 1000, currency),
      inputMode: 'decimal',
      'aria-label': t.amount,
    });
    const submit = h('button', { type: 'submit', class: 'primary' }, t.addMoney);
    const error = h('p', { class: 'error', role: 'alert' });
    // One key per intent: a double click or a retried request never charges twice.
    let key = newIdempotencyKey();
    const form = h(
      'form',
      { class: 'form' },
      reason ? h('p', {}, reason) : null,
      h('p', { class: 'muted small' }, t.balance(money(this.balance, currency))),
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
                amount.value = toAmountText(cents, currency);
                key = newIdempotencyKey();
              },
            },
            money(cents, currency),
          ),
        ),
      ),
      h('label', {}, t.amount, amount),
      error,
      submit,
    );
    amount.addEventListener('input', () => {
      key = newIdempotencyKey();
    });
    const dialog = openDialog(t.title, form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const cents = toMinorUnits(amount.value, { currency });
      if (Number.isNaN(cents)) {
        error.textContent = t.enterAmount;
        return;
      }
      void busy(submit, async () => {
        try {
          this.set(await topUp(cents, key));
          toast(t.added(money(cents, currency)), 'success');
          dialog.close();
          then?.();
        } catch (err) {
          error.textContent = describeError(err);
        }
      });
    });
    return dialog;
  }
}
