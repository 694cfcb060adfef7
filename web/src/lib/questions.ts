import type { Question } from '@lectern/client-sdk';
import { busy, h } from './dom';
import { describeError } from './errors';
import { toast } from './toast';

export interface QuestionsPanelOptions {
  /** The streamer answers; viewers ask and upvote. */
  mode: 'owner' | 'viewer';
  onAnswer?: (questionId: string) => Promise<void>;
  onUpvote?: (questionId: string) => Promise<void>;
  onAsk?: (text: string) => Promise<void>;
}

/** Open questions, most upvoted first, as the server sends the whole list (`question:list`). */
export class QuestionsPanel {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'questions' });
  private readonly input = h('input', {
    name: 'question',
    maxLength: 300,
    placeholder: 'Ask the streamer a question…',
    'aria-label': 'Your question',
  });
  private readonly ask = h('button', { type: 'submit' }, 'Ask');

  constructor(private readonly options: QuestionsPanelOptions) {
    const children: HTMLElement[] = [h('h2', {}, 'Questions'), this.list];
    if (options.mode === 'viewer') {
      const form = h('form', { class: 'inline-form' }, this.input, this.ask);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const text = this.input.value.trim();
        if (!text || !options.onAsk) return;
        void busy(this.ask, async () => {
          try {
            await options.onAsk?.(text);
            this.input.value = '';
            toast('Question sent', 'success');
          } catch (err) {
            toast(describeError(err), 'error');
          }
        });
      });
      children.push(form);
    }
    this.element = h('section', { class: 'card', 'aria-label': 'Questions' }, ...children);
    this.render([]);
  }

  setAsking(enabled: boolean): void {
    this.input.disabled = !enabled;
    this.ask.disabled = !enabled;
  }

  render(questions: Question[]): void {
    const open = questions.filter((q) => !q.answered);
    if (!open.length) {
      this.list.replaceChildren(
        h('li', { class: 'empty muted' }, this.options.mode === 'owner' ? 'No questions yet.' : 'No open questions.'),
      );
      return;
    }
    this.list.replaceChildren(...open.map((q) => this.item(q)));
  }

  private item(q: Question): HTMLElement {
    const action =
      this.options.mode === 'owner'
        ? h(
            'button',
            { type: 'button', class: 'small', onclick: (e: Event) => this.act(e, this.options.onAnswer, q.id) },
            'Answered',
          )
        : h(
            'button',
            {
              type: 'button',
              class: 'small ghost',
              'aria-label': `Upvote (${q.upvotes})`,
              onclick: (e: Event) => this.act(e, this.options.onUpvote, q.id),
            },
            `▲ ${q.upvotes}`,
          );
    return h(
      'li',
      { 'data-id': q.id },
      h(
        'div',
        {},
        h('p', { class: 'question-text' }, q.text),
        h('p', { class: 'muted small' }, `${q.user.username} · ▲ ${q.upvotes}`),
      ),
      action,
    );
  }

  private act(event: Event, handler: ((id: string) => Promise<void>) | undefined, id: string): void {
    if (!handler) return;
    void busy(event.currentTarget as HTMLButtonElement, async () => {
      try {
        await handler(id);
      } catch (err) {
        toast(describeError(err), 'error');
      }
    });
  }
}
