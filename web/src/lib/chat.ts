import { type ChatMessage, Limits, type Tip, type TipsSummed } from '@lectern/client-sdk';
import { busy, h } from './dom';
import { describeError } from './errors';
import { money, timeOfDay } from './format';
import { formatNumber, messages } from './i18n';
import { tipsSummedText } from './tips';

const t = messages({
  en: {
    chat: 'Chat',
    messages: 'Conversation',
    message: 'Chat message',
    placeholder: 'Say something…',
    send: 'Send',
    empty: 'No messages yet. Say hello!',
    tipped: (amount: string) => `tipped ${amount}`,
    pinned: 'Pinned',
    left: (n: number) => `${formatNumber(n)} characters left`,
  },
  'zh-CN': {
    chat: '聊天',
    messages: '聊天记录',
    message: '聊天消息',
    placeholder: '说点什么…',
    send: '发送',
    empty: '还没有消息，来打个招呼吧！',
    tipped: (amount: string) => `打赏了 ${amount}`,
    pinned: '已置顶',
    left: (n: number) => `还可输入 ${formatNumber(n)} 字`,
  },
});

/** The character count shows when this many characters or fewer are left. */
const COUNT_FROM = 100;

/**
 * The room's chat: messages and tips as they arrive (a tip is a line of its own, styled apart),
 * and a composer that can be turned off with a reason, counting characters near the limit.
 */
export class ChatPanel {
  readonly element: HTMLElement;
  private readonly list = h('ol', {
    class: 'chat-list',
    tabIndex: 0,
    'aria-live': 'polite',
    'aria-relevant': 'additions',
    'aria-label': t.messages,
  });
  private readonly input = h('input', {
    name: 'text',
    maxLength: Limits.chatTextMax,
    autocomplete: 'off',
    enterKeyHint: 'send',
    placeholder: t.placeholder,
    'aria-label': t.message,
    'aria-describedby': 'chat-count',
  });
  private readonly send = h('button', { type: 'submit', class: 'primary' }, t.send);
  private readonly count = h('span', { class: 'chat-count small', id: 'chat-count', hidden: true });
  private readonly note = h('p', { class: 'muted small' });
  /** The room's chat rules (slow mode, subscribers only) or the viewer's timeout, above the composer. */
  private readonly rules = h('p', { class: 'chat-rules small', hidden: true });
  /** Each line's message, for redrawing its controls when who may do what changes. */
  private readonly messages = new WeakMap<Element, ChatMessage>();
  private lineActions: ((message: ChatMessage) => Node | null) | undefined;

  constructor(
    private readonly onSend: (text: string) => Promise<void>,
    private readonly ownerId?: string,
  ) {
    const form = h('form', { class: 'chat-form' }, this.input, this.count, this.send);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      void busy(this.send, async () => {
        try {
          await this.onSend(text);
          this.input.value = '';
          this.note.textContent = '';
          this.updateCount();
        } catch (err) {
          this.note.textContent = describeError(err);
        }
      }).then(() => this.input.focus());
    });
    this.input.addEventListener('input', () => this.updateCount());
    this.element = h(
      'section',
      { class: 'card chat', 'aria-labelledby': 'chat-title', id: 'chat-panel' },
      h('h2', { id: 'chat-title' }, t.chat),
      this.list,
      this.rules,
      form,
      this.note,
    );
    this.showEmpty();
  }

  setHistory(messages: readonly ChatMessage[]): void {
    this.list.replaceChildren();
    for (const m of messages) this.add(m, false);
    this.showEmpty();
    this.scrollToEnd();
  }

  /** The chat opens at the newest message: after it is shown (or shown again, on a phone's tab). */
  scrollToEnd(): void {
    const end = () => {
      this.list.scrollTop = this.list.scrollHeight;
    };
    end();
    requestAnimationFrame(end);
  }

  add(message: ChatMessage, follow = true): void {
    this.list.querySelector('.empty')?.remove();
    const owner = message.user.id === this.ownerId;
    const line = h(
      'li',
      { 'data-id': message.id, 'data-user': message.user.id },
      h('span', { class: `author${owner ? ' owner' : ''}` }, message.user.username),
      ' ',
      h('span', { class: 'text' }, message.text),
      h('time', { class: 'muted small', dateTime: message.sentAt }, timeOfDay(message.sentAt)),
    );
    this.messages.set(line, message);
    this.decorate(line, message);
    this.append(line, follow);
  }

  /** A tip, in the flow of the conversation: who, how much, their message; pinned ones stand out more. */
  addTip(tip: Tip): void {
    this.list.querySelector('.empty')?.remove();
    const pinned = !!tip.pinnedUntil;
    const line = h(
      'li',
      { class: `chat-tip${pinned ? ' pinned' : ''}`, 'data-tip': tip.id },
      h('span', { class: 'author' }, tip.user.username),
      ' ',
      h('span', { class: 'tip-amount' }, t.tipped(money(tip.amount, tip.currency))),
      pinned ? h('span', { class: 'tip-pin small' }, t.pinned) : null,
      tip.message ? h('span', { class: 'text' }, tip.message) : null,
      h('time', { class: 'muted small', dateTime: tip.createdAt }, timeOfDay(tip.createdAt)),
    );
    this.append(line, true);
  }

  /** A gift storm's tips the server summed rather than listed: one line for them all. */
  addTipsSummed(summed: TipsSummed): void {
    this.list.querySelector('.empty')?.remove();
    this.append(
      h('li', { class: 'chat-tip summed' }, h('span', { class: 'tip-amount' }, tipsSummedText(summed))),
      true,
    );
  }

  private append(line: HTMLElement, follow: boolean): void {
    const list = this.list;
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(line);
    while (list.children.length > 200) list.firstElementChild?.remove();
    if (follow && atEnd) list.scrollTop = list.scrollHeight;
  }

  /**
   * Controls at the end of every line (moderation), made per message; `undefined` removes them.
   * Lines already shown are redrawn, as they are by `refreshLines()` when who may do what changes.
   */
  setLineActions(make: ((message: ChatMessage) => Node | null) | undefined): void {
    this.lineActions = make;
    this.refreshLines();
  }

  refreshLines(): void {
    for (const line of this.list.querySelectorAll('li[data-id]')) {
      const message = this.messages.get(line);
      if (message) this.decorate(line as HTMLElement, message);
    }
  }

  private decorate(line: HTMLElement, message: ChatMessage): void {
    line.querySelector(':scope > .line-actions')?.remove();
    const actions = this.lineActions?.(message);
    if (actions) line.append(h('span', { class: 'line-actions' }, actions));
  }

  /** A standing note above the composer (the room's rules, a timeout); empty hides it. */
  setRules(text: string): void {
    this.rules.textContent = text;
    this.rules.hidden = !text;
  }

  remove(messageId: string): void {
    this.list.querySelector(`[data-id="${CSS.escape(messageId)}"]`)?.remove();
    this.showEmpty();
  }

  /** Turns the composer on, or off with a reason shown in its place. */
  setEnabled(enabled: boolean, reason = ''): void {
    this.input.disabled = !enabled;
    this.send.disabled = !enabled;
    this.input.placeholder = enabled ? t.placeholder : reason;
  }

  private updateCount(): void {
    const left = Limits.chatTextMax - this.input.value.length;
    this.count.hidden = left > COUNT_FROM;
    this.count.textContent = `${this.input.value.length}/${Limits.chatTextMax}`;
    this.count.setAttribute('aria-label', t.left(left));
    this.count.classList.toggle('full', left <= 0);
  }

  private showEmpty(): void {
    if (!this.list.children.length) this.list.append(h('li', { class: 'empty muted' }, t.empty));
  }
}
