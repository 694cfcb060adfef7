import { openDialog } from './account';
import { busy, h } from './dom';
import { codeOf, describeError } from './errors';
import { money } from './format';
import { messages } from './i18n';
import type { Shell } from './shell';
import { toast } from './toast';
import type { WalletChip } from './wallet';

const t = messages({
  en: {
    title: 'Confirm and pay',
    price: 'Price',
    wallet: 'In your wallet',
    after: 'Left after paying',
    cancel: 'Cancel',
    pay: (amount: string) => `Pay ${amount}`,
    short: (what: string, price: string, balance: string) =>
      `“${what}” costs ${price}; your wallet has ${balance}. Add money and it is paid right after.`,
    priceChanged: (price: string) =>
      `The price has just changed to ${price}. Nothing was charged; pay again if you agree.`,
  },
  'zh-CN': {
    title: '确认支付',
    price: '价格',
    wallet: '钱包余额',
    after: '支付后余额',
    cancel: '取消',
    pay: (amount: string) => `支付 ${amount}`,
    short: (what: string, price: string, balance: string) =>
      `“${what}”需要 ${price}，你的钱包只有 ${balance}。充值后将立即完成支付。`,
    priceChanged: (price: string) => `价格刚刚变为 ${price}。本次没有扣款；如同意新价格，请再次支付。`,
  },
});

export interface SpendOptions {
  /** What is paid for, in a few words: a title, "A ticket to …", "A tip to …". */
  what: string;
  /** A line under it: the kind, an upgrade's credit, how long a tip pins. */
  detail?: string;
  /** What it costs this buyer now (minor units), in `currency`. */
  price: number;
  currency: string;
  /**
   * The payment itself (a new idempotency key per call), sending `expectedPrice` — the price
   * this dialog showed — so the server refuses to charge another; resolves with the new balance.
   */
  pay: (expectedPrice: number) => Promise<{ balance: number }>;
  /** The page's words for a refusal it knows the meaning of; undefined: the usual words. */
  refusal?: (err: unknown) => string | undefined;
}

export interface SpendOutcome {
  paid: boolean;
  /** The refusal, when the payment was refused (and not cancelled). */
  error?: unknown;
}

/**
 * Spending, confirmed in one step: a dialog with what is bought, its price and what the wallet
 * holds before and after, then the payment. A wallet that cannot pay opens the top-up instead,
 * which says what is being bought and pays right after. Guests are asked to sign in.
 */
export async function spend(
  shell: Pick<Shell, 'session' | 'wallet' | 'signIn'>,
  options: SpendOptions,
): Promise<SpendOutcome> {
  const { wallet } = shell;
  if (!shell.session || !wallet) {
    shell.signIn();
    return { paid: false };
  }
  await wallet.refresh().catch(() => undefined);
  if (wallet.amount < options.price) return topUpThenPay(wallet, options);
  return new Promise((resolve) => {
    const balance = wallet.amount;
    const error = h('p', { class: 'error', role: 'alert' });
    const cancel = h('button', { type: 'button', class: 'ghost' }, t.cancel);
    const pay = h('button', { type: 'submit', class: 'primary', 'data-action': 'pay' });
    const shownPrice = h('dd', { class: 'spend-price' });
    const after = h('dd', { class: 'spend-after' });
    // What the dialog shows is what is charged; a price changed meanwhile is shown, then paid on a new click.
    let price = options.price;
    const showPrice = () => {
      const amount = money(price, options.currency);
      pay.textContent = t.pay(amount);
      shownPrice.textContent = amount;
      after.textContent = money(balance - price, options.currency);
    };
    showPrice();
    const form = h(
      'form',
      { class: 'form spend' },
      h('p', { class: 'spend-what' }, h('b', {}, options.what)),
      options.detail ? h('p', { class: 'muted small' }, options.detail) : null,
      h(
        'dl',
        { class: 'spend-sum' },
        h('dt', {}, t.price),
        shownPrice,
        h('dt', {}, t.wallet),
        h('dd', {}, money(balance, options.currency)),
        h('dt', {}, t.after),
        after,
      ),
      error,
      h('div', { class: 'row buttons spend-buttons' }, cancel, pay),
    );
    const dialog = openDialog(t.title, form);
    let outcome: SpendOutcome = { paid: false };
    let handedOn = false;
    dialog.addEventListener('close', () => !handedOn && resolve(outcome));
    cancel.addEventListener('click', () => dialog.close());
    pay.focus();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(pay, async () => {
        try {
          wallet.set((await options.pay(price)).balance);
          outcome = { paid: true };
          dialog.close();
        } catch (err) {
          if (codeOf(err) === 'INSUFFICIENT_FUNDS') {
            // Spent elsewhere meanwhile: top up, then pay.
            handedOn = true;
            dialog.close();
            void topUpThenPay(wallet, { ...options, price }).then(resolve);
            return;
          }
          const changed = changedPrice(err);
          if (changed !== undefined) {
            price = changed;
            showPrice();
            outcome = { paid: false, error: err };
            error.textContent = t.priceChanged(money(price, options.currency));
            return;
          }
          outcome = { paid: false, error: err };
          error.textContent = options.refusal?.(err) ?? describeError(err);
        }
      });
    });
  });
}

function topUpThenPay(wallet: WalletChip, options: SpendOptions): Promise<SpendOutcome> {
  return new Promise((resolve) => {
    let paying = false;
    const reason = t.short(
      options.what,
      money(options.price, options.currency),
      money(wallet.amount, options.currency),
    );
    const dialog = wallet.openTopUp(
      reason,
      () => {
        paying = true;
        options
          .pay(options.price)
          .then(({ balance }) => {
            wallet.set(balance);
            resolve({ paid: true });
          })
          .catch((err) => {
            // Still short (a top-up smaller than the price): the same offer again.
            if (codeOf(err) === 'INSUFFICIENT_FUNDS') return void topUpThenPay(wallet, options).then(resolve);
            const changed = changedPrice(err);
            toast(
              changed === undefined
                ? (options.refusal?.(err) ?? describeError(err))
                : t.priceChanged(money(changed, options.currency)),
              'error',
            );
            resolve({ paid: false, error: err });
          });
      },
      options.price - wallet.amount,
    );
    // `close` comes after the top-up's `then` started paying; without that, the person gave up.
    dialog.addEventListener('close', () => setTimeout(() => !paying && resolve({ paid: false }), 0));
  });
}

/** The current price when the server refused because the price changed (409 with `details.price`). */
function changedPrice(err: unknown): number | undefined {
  const details = (err as { details?: { price?: unknown; expectedPrice?: unknown } } | null)?.details;
  return codeOf(err) === 'CONFLICT' && typeof details?.price === 'number' && details.expectedPrice !== undefined
    ? details.price
    : undefined;
}
