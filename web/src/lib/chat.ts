import type { ChatMessage } from '@lectern/client-sdk';
import { appendScrolled, busy, h } from './dom';
import { describeError } from './errors';
import { timeOfDay } from './format';

/** The room's chat: messages as they arrive and a composer that can be turned off with a reason. */
export class ChatPanel {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'chat-list', 'aria-live': 'polite' });
  private readonly input = h('input', {
    name: 'text',
    maxLength: 500,
    autocomplete: 'off',
    placeholder: 'Say something…',
    'aria-label': 'Chat message',
  });
  private readonly send = h('button', { type: 'submit', class: 'primary' }, 'Send');
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
    const form = h('form', { class: 'chat-form' }, this.input, this.send);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      void busy(this.send, async () => {
        try {
          await this.onSend(text);
          this.input.value = '';
          this.note.textContent = '';
        } catch (err) {
          this.note.textContent = describeError(err);
        }
      }).then(() => this.input.focus());
    });
    this.element = h(
      'section',
      { class: 'card chat', 'aria-label': 'Chat' },
      h('h2', {}, 'Chat'),
      this.list,
      this.rules,
      form,
      this.note,
    );
    this.showEmpty();
  }

  setHistory(messages: ChatMessage[]): void {
    this.list.replaceChildren();
    for (const m of messages) this.add(m);
    this.showEmpty();
  }

  add(message: ChatMessage): void {
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
    appendScrolled(this.list, line);
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
  }

  /** Turns the composer on, or off with a reason shown in its place. */
  setEnabled(enabled: boolean, reason = ''): void {
    this.input.disabled = !enabled;
    this.send.disabled = !enabled;
    this.input.placeholder = enabled ? 'Say something…' : reason;
  }

  private showEmpty(): void {
    if (!this.list.children.length) this.list.append(h('li', { class: 'empty muted' }, 'No messages yet. Say hello!'));
  }
}
