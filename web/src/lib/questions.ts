import { Limits, type Question } from '@lectern/client-sdk';
import { busy, h } from './dom';
import { codeOf, describeError } from './errors';
import { formatNumber, messages } from './i18n';
import { toast } from './toast';

const t = messages({
  en: {
    questions: 'Questions',
    placeholder: 'Ask the streamer a question…',
    yourQuestion: 'Your question',
    ask: 'Ask',
    sent: 'Question sent',
    noneYet: 'No questions yet.',
    noneOpen: 'No open questions.',
    answer: 'Answered',
    markAnswered: (text: string) => `Mark “${text}” answered`,
    answered: 'Answered ✓',
    upvote: (n: number) => `Upvote (${formatNumber(n)})`,
    upvoted: 'You upvoted this',
    yours: 'Your question',
    votes: (n: number) => `▲ ${formatNumber(n)}`,
    already: 'You have already upvoted this question.',
    ownQuestion: 'You cannot upvote your own question.',
    tooFast: 'You are asking quickly: wait a few seconds before the next question.',
    blockedWord: 'Your question has a word this room does not allow.',
    answeredAlready: 'That question was already answered.',
  },
  'zh-CN': {
    questions: '提问',
    placeholder: '向主播提一个问题…',
    yourQuestion: '你的问题',
    ask: '提问',
    sent: '问题已发送',
    noneYet: '还没有人提问。',
    noneOpen: '暂无待回答的问题。',
    answer: '已回答',
    markAnswered: (text: string) => `将“${text}”标记为已回答`,
    answered: '已回答 ✓',
    upvote: (n: number) => `点赞（${formatNumber(n)}）`,
    upvoted: '你已点赞',
    yours: '你的问题',
    votes: (n: number) => `▲ ${formatNumber(n)}`,
    already: '你已经为这个问题点过赞了。',
    ownQuestion: '不能给自己的问题点赞。',
    tooFast: '提问太快了，请稍等几秒再提下一个问题。',
    blockedWord: '你的问题包含本直播间不允许的词语。',
    answeredAlready: '这个问题已经回答过了。',
  },
});

/** Answered questions kept in view, newest answered first. */
const ANSWERED_SHOWN = 10;
/** The server's list holds at most this many open questions. */
const SERVER_LIST_SIZE = 30;

export interface QuestionsPanelOptions {
  /** The streamer answers; viewers ask and upvote. */
  mode: 'owner' | 'viewer';
  /** Who is looking (no upvote on one's own question). */
  selfId?: string;
  onAnswer?: (questionId: string) => Promise<Question | undefined>;
  onUpvote?: (questionId: string) => Promise<void>;
  onAsk?: (text: string) => Promise<void>;
}

/**
 * Open questions, most upvoted first, as the server sends them (`question:list`), and below them
 * the ones answered while the page was open, marked answered. The server's list only has open
 * questions, so one that leaves a list that was not full has been answered.
 */
export class QuestionsPanel {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'questions', 'aria-label': t.questions });
  private readonly input = h('input', {
    name: 'question',
    maxLength: Limits.questionTextMax,
    autocomplete: 'off',
    placeholder: t.placeholder,
    'aria-label': t.yourQuestion,
  });
  private readonly ask = h('button', { type: 'submit' }, t.ask);
  private open: Question[] = [];
  private readonly answered = new Map<string, Question>();
  private readonly upvoted = new Set<string>();

  constructor(private readonly options: QuestionsPanelOptions) {
    const children: HTMLElement[] = [h('h2', { id: `questions-title-${options.mode}` }, t.questions), this.list];
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
            toast(t.sent, 'success');
          } catch (err) {
            const blocked = (err as { details?: { reason?: string } }).details?.reason === 'banned_word';
            toast(blocked ? t.blockedWord : describeError(err, { RATE_LIMITED: t.tooFast }), 'error');
          }
        });
      });
      children.push(form);
    }
    this.element = h(
      'section',
      { class: 'card questions-panel', id: 'questions-panel', 'aria-labelledby': `questions-title-${options.mode}` },
      ...children,
    );
    this.render([]);
  }

  setAsking(enabled: boolean): void {
    this.input.disabled = !enabled;
    this.ask.disabled = !enabled;
  }

  /** The open questions now; those that left a list that was not full were answered. */
  render(questions: readonly Question[]): void {
    const now = new Set(questions.map((q) => q.id));
    if (this.open.length < SERVER_LIST_SIZE) {
      for (const q of this.open) if (!now.has(q.id)) this.markAnswered(q);
    }
    for (const q of questions) if (q.answered) this.markAnswered(q);
    this.open = questions.filter((q) => !q.answered);
    this.draw();
  }

  markAnswered(question: Question): void {
    this.answered.delete(question.id);
    this.answered.set(question.id, { ...question, answered: true });
    while (this.answered.size > ANSWERED_SHOWN) this.answered.delete(this.answered.keys().next().value as string);
    this.open = this.open.filter((q) => q.id !== question.id);
  }

  private draw(): void {
    const answered = [...this.answered.values()].reverse();
    if (!this.open.length && !answered.length) {
      this.list.replaceChildren(
        h('li', { class: 'empty muted' }, this.options.mode === 'owner' ? t.noneYet : t.noneOpen),
      );
      return;
    }
    this.list.replaceChildren(...this.open.map((q) => this.item(q)), ...answered.map((q) => this.item(q)));
  }

  private item(q: Question): HTMLElement {
    let action: HTMLElement | null = null;
    if (q.answered) {
      action = h('span', { class: 'badge done' }, t.answered);
    } else if (this.options.mode === 'owner') {
      action = h(
        'button',
        {
          type: 'button',
          class: 'small',
          'aria-label': t.markAnswered(q.text.slice(0, 60)),
          onclick: (e: Event) =>
            this.act(
              e,
              async (id) => {
                const answered = await this.options.onAnswer?.(id);
                this.markAnswered(answered ?? q);
                this.draw();
              },
              q.id,
            ),
        },
        t.answer,
      );
    } else if (q.user.id === this.options.selfId) {
      action = h('span', { class: 'muted small' }, t.yours);
    } else if (this.options.onUpvote) {
      const done = this.upvoted.has(q.id);
      action = h(
        'button',
        {
          type: 'button',
          class: `small ghost${done ? ' upvoted' : ''}`,
          'aria-label': done ? t.upvoted : t.upvote(q.upvotes),
          'aria-pressed': String(done),
          disabled: done,
          onclick: (e: Event) =>
            this.act(
              e,
              async (id) => {
                try {
                  await this.options.onUpvote?.(id);
                } catch (err) {
                  // Upvoted before (another tab, before a reload): it counts, so say so quietly.
                  if (codeOf(err) !== 'CONFLICT') throw err;
                }
                this.upvoted.add(id);
                this.draw();
              },
              q.id,
            ),
        },
        t.votes(q.upvotes),
      );
    }
    return h(
      'li',
      { 'data-id': q.id, class: q.answered ? 'answered' : '' },
      h(
        'div',
        {},
        h('p', { class: 'question-text' }, q.text),
        h('p', { class: 'muted small' }, `${q.user.username} · ${t.votes(q.upvotes)}`),
      ),
      action,
    );
  }

  private act(event: Event, handler: (id: string) => Promise<void>, id: string): void {
    void busy(event.currentTarget as HTMLButtonElement, async () => {
      try {
        await handler(id);
      } catch (err) {
        const words = this.options.mode === 'owner' ? { CONFLICT: t.answeredAlready } : { FORBIDDEN: t.ownQuestion };
        toast(describeError(err, words), 'error');
      }
    });
  }
}
