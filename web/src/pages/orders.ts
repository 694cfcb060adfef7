import type { Order } from '../../../protocol';
import { api } from '../lib/api';
import { busy, byId, h } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { money } from '../lib/format';
import { formatDate, formatNumber, messages } from '../lib/i18n';
import { fillText } from '../lib/page-text';
import { type Shell, startShell } from '../lib/shell';
import { exposeForTests } from '../lib/test-hook';
import { toast } from '../lib/toast';

/**
 * The order history (`/orders`): a receipt for every movement of the viewer's wallet, newest
 * first — top-ups, lessons and courses, tickets, subscriptions, tips and refunds — with what it
 * was for, the amount in or out, when, whether it was refunded, the creator it went to and a
 * top-up's payment reference. Twenty at a time, *Load more* for older ones (`before`).
 */

const t = messages({
  en: {
    title: 'Orders — Lectern',
    topbar: 'Orders',
    heading: 'Your orders',
    loading: 'Loading…',
    lead: 'Every payment from your wallet and every top-up, newest first.',
    balance: 'Wallet balance',
    topUp: 'Top up',
    kind: (kind: Order['kind']): string =>
      ({
        topup: 'Top-up',
        content: 'Purchase',
        ticket: 'Ticket',
        subscription: 'Subscription',
        tip: 'Tip',
        refund: 'Refund',
      })[kind],
    walletTopUp: 'Wallet top-up',
    subscriptionTo: (name: string) => `Subscription to ${name}`,
    tipIn: (room: string) => `Tip in “${room}”`,
    untitled: 'Something no longer listed',
    refunded: 'Refunded',
    reference: (ref: string) => `Payment reference ${ref}`,
    receipt: (id: string) => `Receipt ${id}`,
    received: 'Received',
    paid: 'Paid',
    loadMore: 'Load more',
    allShown: (n: number) => (n === 1 ? 'That is your only order.' : `All ${formatNumber(n)} orders shown.`),
    shown: (n: number) => `${formatNumber(n)} orders shown`,
    emptyTitle: 'No orders yet',
    emptyText: 'Top-ups, purchases, tickets, subscriptions and tips show up here with a receipt for each.',
    browse: 'See who is live',
    signInTitle: 'Sign in to see your orders',
    signInText: 'Your receipts are kept with your account.',
    signIn: 'Sign in',
    notLoaded: 'Your orders could not be loaded.',
    tryAgain: 'Try again',
    list: 'Orders, newest first',
    reload: 'Something went wrong: reload the page to try again.',
  },
  'zh-CN': {
    title: '订单记录 — Lectern',
    topbar: '订单',
    heading: '我的订单',
    loading: '加载中…',
    lead: '钱包的每一笔支付和充值，最新的在前。',
    balance: '钱包余额',
    topUp: '充值',
    kind: (kind: Order['kind']): string =>
      ({
        topup: '充值',
        content: '购买',
        ticket: '门票',
        subscription: '订阅',
        tip: '打赏',
        refund: '退款',
      })[kind],
    walletTopUp: '钱包充值',
    subscriptionTo: (name: string) => `订阅 ${name}`,
    tipIn: (room: string) => `在“${room}”打赏`,
    untitled: '已下架的内容',
    refunded: '已退款',
    reference: (ref: string) => `支付流水号 ${ref}`,
    receipt: (id: string) => `订单号 ${id}`,
    received: '收入',
    paid: '支出',
    loadMore: '加载更多',
    allShown: (n: number) => (n === 1 ? '这是你唯一的一笔订单。' : `已显示全部 ${formatNumber(n)} 笔订单。`),
    shown: (n: number) => `已显示 ${formatNumber(n)} 笔订单`,
    emptyTitle: '还没有订单',
    emptyText: '充值、购买、门票、订阅和打赏都会显示在这里，每一笔都有凭据。',
    browse: '看看谁在直播',
    signInTitle: '登录后查看订单',
    signInText: '你的订单凭据保存在你的账号里。',
    signIn: '登录',
    notLoaded: '订单加载失败。',
    tryAgain: '重试',
    list: '订单列表，最新的在前',
    reload: '出了点问题，请刷新页面重试。',
  },
});

const PAGE = 20;
/** The minus sign people read (U+2212), not a hyphen. */
const MINUS = '\u2212';

/** What a receipt is for, in the reader's language (the server's titles are the items' own). */
function titleOf(order: Order): string {
  const creator = order.creator?.name;
  if (order.kind === 'topup') return t.walletTopUp;
  if (order.kind === 'subscription' && creator) return t.subscriptionTo(creator);
  if (order.kind === 'refund' && order.purchaseKind === 'subscription' && creator) return t.subscriptionTo(creator);
  if (order.kind === 'tip' && order.title) return t.tipIn(order.title);
  return order.title || t.untitled;
}

/** The title as a link to what was bought: the content's page, the room (its replay once ended). */
function linkTo(order: Order, title: string): HTMLElement | string {
  const href = order.contentId ? `/content/${order.contentId}` : order.roomId ? `/watch/${order.roomId}` : undefined;
  return href ? h('a', { href }, title) : title;
}

function orderRow(order: Order): HTMLElement {
  const incoming = order.amount > 0;
  const amount = money(Math.abs(order.amount), order.currency);
  const when = formatDate(order.createdAt, { dateStyle: 'medium', timeStyle: 'short' });
  const refunded = order.status === 'refunded' && order.kind !== 'refund';
  return h(
    'li',
    { class: `order order-${order.kind}${refunded ? ' is-refunded' : ''}`, 'data-order': order.id },
    h('span', { class: `order-kind kind-${order.kind}` }, t.kind(order.kind)),
    h(
      'div',
      { class: 'order-main' },
      h('p', { class: 'order-title' }, linkTo(order, titleOf(order))),
      h(
        'p',
        { class: 'order-meta muted small' },
        h('time', { datetime: order.createdAt }, when),
        order.creator && order.kind !== 'topup' ? ' · ' : null,
        order.creator && order.kind !== 'topup'
          ? h('a', { href: `/creators/${order.creator.id}`, class: 'order-creator' }, order.creator.name)
          : null,
        refunded ? ' · ' : null,
        refunded ? h('span', { class: 'badge refunded' }, t.refunded) : null,
      ),
      order.reference ? h('p', { class: 'order-ref muted small' }, t.reference(order.reference)) : null,
      h('p', { class: 'order-id muted small' }, t.receipt(order.id.slice(0, 8).toUpperCase())),
    ),
    h(
      'p',
      { class: `order-amount ${incoming ? 'in' : 'out'}` },
      h('span', { class: 'visually-hidden' }, `${incoming ? t.received : t.paid} `),
      h('span', { 'aria-hidden': 'true' }, incoming ? '+' : MINUS),
      amount,
    ),
  );
}

class OrdersPage {
  private readonly host = byId('orders');
  private readonly list = h('ol', { class: 'orders card', 'aria-label': t.list });
  private readonly more = h('button', { type: 'button', class: 'button' }, t.loadMore);
  private readonly status = h('p', { class: 'muted small orders-status', role: 'status' });
  private readonly balance = h('b', { class: 'orders-balance-amount' }, '…');
  private count = 0;
  private last: string | undefined;

  constructor(private readonly shell: Shell) {
    this.more.addEventListener('click', () => void busy(this.more, () => this.loadMore()));
  }

  async start(): Promise<void> {
    const wallet = this.shell.wallet;
    const topUp = h('button', { type: 'button', class: 'primary' }, t.topUp);
    topUp.addEventListener('click', () => wallet?.openTopUp(undefined, () => void this.reload()));
    this.host.replaceChildren(
      h('p', { class: 'lead' }, t.lead),
      h(
        'div',
        { class: 'card orders-balance' },
        h('span', {}, h('span', { class: 'muted' }, `${t.balance} `), this.balance),
        topUp,
      ),
      this.list,
      h('div', { class: 'orders-foot' }, this.more, this.status),
    );
    exposeForTests({ orders: () => this.count });
    await this.reload();
  }

  private showBalance(): void {
    const wallet = this.shell.wallet;
    if (wallet?.element.dataset.balance !== undefined) {
      this.balance.textContent = money(wallet.amount, wallet.currencyCode);
    }
  }

  /** From the newest again (after a top-up). */
  private async reload(): Promise<void> {
    this.count = 0;
    this.last = undefined;
    this.list.replaceChildren();
    await this.shell.wallet?.refresh().catch(() => undefined);
    this.showBalance();
    await this.loadMore();
    this.host.removeAttribute('aria-busy');
  }

  private async loadMore(): Promise<void> {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (this.last) query.set('before', this.last);
    let orders: Order[];
    try {
      orders = (await api<{ orders: Order[] }>('GET', `/api/orders?${query}`)).orders;
    } catch (err) {
      this.status.textContent = `${t.notLoaded} ${describeError(err)}`;
      this.more.textContent = t.tryAgain;
      return;
    }
    this.more.textContent = t.loadMore;
    if (!orders.length && !this.count) return this.empty();
    const rows = orders.map(orderRow);
    this.list.append(...rows);
    const first = this.count > 0 ? rows[0] : undefined;
    this.count += orders.length;
    this.last = orders.at(-1)?.id ?? this.last;
    const done = orders.length < PAGE;
    this.more.hidden = done;
    this.status.textContent = done ? t.allShown(this.count) : t.shown(this.count);
    // Keyboard and screen-reader users land on the first of the older orders.
    if (first) {
      first.tabIndex = -1;
      first.focus();
    }
    document.body.dataset.loaded = 'true';
  }

  private empty(): void {
    this.list.replaceWith(
      h(
        'div',
        { class: 'card empty-state' },
        h('h2', {}, t.emptyTitle),
        h('p', { class: 'muted' }, t.emptyText),
        h('a', { class: 'button primary', href: '/' }, t.browse),
      ),
    );
    this.more.hidden = true;
    this.status.textContent = '';
    document.body.dataset.loaded = 'true';
  }
}

async function main(): Promise<void> {
  const shell = startShell({ wallet: true });
  fillText(t);
  document.title = t.title;
  if (!shell.session) {
    byId('orders').replaceChildren(
      h(
        'section',
        { class: 'card narrow' },
        h('h2', {}, t.signInTitle),
        h('p', { class: 'muted' }, t.signInText),
        h('button', { type: 'button', class: 'primary', onclick: shell.signIn }, t.signIn),
      ),
    );
    byId('orders').removeAttribute('aria-busy');
    return;
  }
  await new OrdersPage(shell).start();
}

main().catch((err) => {
  console.error(err);
  toast(codeOf(err) ? describeError(err) : t.reload, 'error');
});
