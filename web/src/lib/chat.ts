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
    appendScrolled(
      this.list,
      h(
        'li',
        { 'data-id': message.id },
        h('span', { class: `author${owner ? ' owner' : ''}` }, message.user.username),
        ' ',
        h('span', { class: 'text' }, message.text),
        h('time', { class: 'muted small', dateTime: message.sentAt }, timeOfDay(message.sentAt)),
      ),
    );
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
