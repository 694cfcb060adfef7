import { Limits, type Poll } from '@lectern/client-sdk';
import { busy, h } from './dom';
import { codeOf, describeError } from './errors';
import { clock } from './format';
import { formatNumber, messages } from './i18n';
import { toast } from './toast';

const t = messages({
  en: {
    polls: 'Polls',
    none: 'No polls yet.',
    noneStaff: 'No polls yet: ask the room a question below.',
    newPoll: 'New poll',
    question: 'Question',
    questionPlaceholder: 'What should we cover next?',
    option: (n: number) => `Option ${n}`,
    addOption: 'Add an option',
    removeOption: (n: number) => `Remove option ${n}`,
    closes: 'Closes',
    byHand: 'When I close it',
    after: (span: string) => `After ${span}`,
    start: 'Start poll',
    started: 'Poll started.',
    close: 'Close poll',
    closeNamed: (q: string) => `Close the poll “${q}”`,
    closedNow: 'Poll closed.',
    needQuestion: 'Write the question.',
    needOptions: (min: number) => `Give at least ${min} different options.`,
    tooManyOpen: (n: number) => `At most ${n} polls can be open at once: close one first.`,
    notLive: 'Polls run while the room is live.',
    final: 'One vote each, and it is final: it cannot be changed.',
    voteFor: (option: string) => `Vote for “${option}”`,
    voted: 'Thanks: your vote is in. Votes are final.',
    alreadyVoted: 'You have already voted in this poll: votes are final.',
    pollClosed: 'This poll has closed.',
    signIn: 'Sign in to vote.',
    preview: 'Voting is for viewers with a ticket or a subscription: a free preview cannot vote.',
    noAccess: 'Voting is for viewers with access to this room.',
    ended: 'The stream has ended.',
    votes: (n: number) => (n === 1 ? '1 vote' : `${formatNumber(n)} votes`),
    open: 'Open',
    closesIn: (time: string) => `closes in ${time}`,
    closing: 'closing…',
    closed: 'Closed: final results',
    yourVote: 'your vote',
    percent: (p: number) => formatNumber(p / 100, { style: 'percent' }),
    result: (option: string, percent: string, votes: string) => `${option}: ${percent} (${votes})`,
    announce: (q: string) => `New poll: ${q}`,
    spans: (seconds: number) =>
      seconds < 60 ? `${seconds} seconds` : seconds === 60 ? '1 minute' : `${seconds / 60} minutes`,
  },
  'zh-CN': {
    polls: '投票',
    none: '暂无投票。',
    noneStaff: '暂无投票：在下方向观众发起一个问题。',
    newPoll: '发起投票',
    question: '问题',
    questionPlaceholder: '接下来讲什么？',
    option: (n: number) => `选项 ${n}`,
    addOption: '添加选项',
    removeOption: (n: number) => `删除选项 ${n}`,
    closes: '结束时间',
    byHand: '手动结束',
    after: (span: string) => `${span}后`,
    start: '开始投票',
    started: '投票已开始。',
    close: '结束投票',
    closeNamed: (q: string) => `结束投票“${q}”`,
    closedNow: '投票已结束。',
    needQuestion: '请填写问题。',
    needOptions: (min: number) => `请至少填写 ${min} 个不同的选项。`,
    tooManyOpen: (n: number) => `同时最多只能进行 ${n} 个投票，请先结束一个。`,
    notLive: '投票只能在直播进行时发起。',
    final: '每人一票，投出后不可更改。',
    voteFor: (option: string) => `投给“${option}”`,
    voted: '谢谢，你的投票已记录。投票不可更改。',
    alreadyVoted: '你已经在这个投票中投过票了，投票不可更改。',
    pollClosed: '这个投票已经结束。',
    signIn: '登录后才能投票。',
    preview: '只有购票或订阅的观众才能投票，免费试看期间不能投票。',
    noAccess: '只有能观看本直播间的观众才能投票。',
    ended: '直播已结束。',
    votes: (n: number) => `${formatNumber(n)} 票`,
    open: '进行中',
    closesIn: (time: string) => `${time} 后结束`,
    closing: '即将结束…',
    closed: '已结束：最终结果',
    yourVote: '你的选择',
    percent: (p: number) => formatNumber(p / 100, { style: 'percent' }),
    result: (option: string, percent: string, votes: string) => `${option}：${percent}（${votes}）`,
    announce: (q: string) => `新投票：${q}`,
    spans: (seconds: number) => (seconds < 60 ? `${seconds} 秒` : `${seconds / 60} 分钟`),
  },
});

const DURATIONS = [0, 30, 60, 120, 300, 600, 1800];
/** Closed polls kept in view, newest first. */
const CLOSED_SHOWN = 5;

/** Why this person cannot vote, or `ok`. */
export type VoteStanding = 'ok' | 'guest' | 'preview' | 'none' | 'ended' | 'owner';

export interface PollActions {
  vote(pollId: string, option: number): Promise<Poll>;
  createPoll(question: string, options: string[], durationSeconds?: number): Promise<Poll>;
  closePoll(pollId: string): Promise<Poll>;
}

/**
 * The room's polls: the owner and moderators start one (a question, 2–6 options, an optional
 * time limit) and close it; viewers with full access vote once (final, as the server keeps it);
 * everyone sees the results as bars with percentages, live, and the final results once closed.
 */
export class PollsPanel {
  readonly element: HTMLElement;
  private readonly list = h('div', { class: 'poll-list' });
  private readonly form: HTMLFormElement;
  private readonly status = h('p', { class: 'muted small', role: 'status' });
  private readonly announcer = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  private readonly optionsBox = h('div', { class: 'poll-options-fields' });
  private readonly question = h('input', {
    id: 'poll-question',
    name: 'question',
    maxLength: Limits.pollQuestionMax,
    autocomplete: 'off',
    placeholder: t.questionPlaceholder,
  });
  private readonly duration = h(
    'select',
    { id: 'poll-duration', name: 'duration' },
    ...DURATIONS.map((s) => h('option', { value: String(s) }, s ? t.after(t.spans(s)) : t.byHand)),
  );
  private readonly addOption = h('button', { type: 'button', class: 'small ghost' }, `+ ${t.addOption}`);
  private polls: Poll[] = [];
  private staff = false;
  private standing: VoteStanding = 'ok';
  private timer: ReturnType<typeof setInterval> | undefined;
  private known = new Set<string>();
  onOpenCount: (open: number) => void = () => {};

  constructor(private readonly room: PollActions) {
    this.form = this.buildForm();
    this.element = h(
      'section',
      { class: 'card polls', id: 'polls-panel', 'aria-labelledby': 'polls-title' },
      h('h2', { id: 'polls-title' }, t.polls),
      this.list,
      this.form,
      this.announcer,
    );
    this.draw();
  }

  /** The owner and moderators start and close polls (and see results before voting). */
  setStaff(staff: boolean): void {
    this.staff = staff;
    this.form.hidden = !staff;
    this.draw();
  }

  setStanding(standing: VoteStanding): void {
    if (standing === this.standing) return;
    this.standing = standing;
    this.draw();
  }

  /** All polls (the LiveRoom's state): on join and after a re-synchronisation. */
  setPolls(polls: readonly Poll[], announce = false): void {
    const fresh = polls.filter((p) => !this.known.has(p.id) && !p.closed);
    for (const p of polls) this.known.add(p.id);
    // Closed polls heard of before a re-synchronisation stay in view with their final results.
    const ids = new Set(polls.map((p) => p.id));
    this.polls = [...this.polls.filter((p) => !ids.has(p.id) && p.closed), ...polls];
    if (announce && fresh.length) this.announcer.textContent = t.announce(fresh[fresh.length - 1].question);
    this.draw();
  }

  update(poll: Poll): void {
    const isNew = !this.known.has(poll.id);
    this.known.add(poll.id);
    this.polls = this.polls.some((p) => p.id === poll.id)
      ? this.polls.map((p) => (p.id === poll.id ? poll : p))
      : [...this.polls, poll];
    if (isNew && !poll.closed) this.announcer.textContent = t.announce(poll.question);
    this.draw();
  }

  get openCount(): number {
    return this.polls.filter((p) => !p.closed).length;
  }

  // --- drawing -----------------------------------------------------------------------------------

  private draw(): void {
    clearInterval(this.timer);
    const open = this.polls.filter((p) => !p.closed);
    const closed = this.polls
      .filter((p) => p.closed)
      .slice(-CLOSED_SHOWN)
      .reverse();
    const shown = [...open, ...closed];
    this.list.replaceChildren(
      ...(shown.length
        ? shown.map((p) => this.card(p))
        : [h('p', { class: 'empty muted' }, this.staff ? t.noneStaff : t.none)]),
    );
    this.onOpenCount(open.length);
    if (open.some((p) => p.closesAt)) this.timer = setInterval(() => this.tick(), 1000);
    this.tick();
  }

  private tick(): void {
    const now = Date.now();
    for (const el of this.list.querySelectorAll<HTMLElement>('[data-closes]')) {
      const left = Date.parse(el.dataset.closes ?? '') - now;
      el.textContent = left > 0 ? t.closesIn(clock(left)) : t.closing;
    }
  }

  private card(poll: Poll): HTMLElement {
    const total = poll.options.reduce((n, o) => n + o.votes, 0);
    const voted = poll.myVote !== null && poll.myVote !== undefined;
    const canVote = !poll.closed && !voted && this.standing === 'ok';
    const showResults = poll.closed || voted || this.staff || this.standing !== 'ok';
    const titleId = `poll-${poll.id}`;
    const state = poll.closed
      ? h('span', { class: 'badge done' }, t.closed)
      : h('span', { class: 'badge live' }, t.open);
    const meta = h(
      'p',
      { class: 'muted small poll-meta' },
      state,
      ' ',
      t.votes(total),
      !poll.closed && poll.closesAt ? ' · ' : null,
      !poll.closed && poll.closesAt ? h('span', { 'data-closes': poll.closesAt }) : null,
    );
    const options = h(
      'ol',
      { class: 'poll-options', 'aria-labelledby': titleId },
      ...poll.options.map((option, index) => {
        const mine = poll.myVote === index;
        const percent = total ? Math.round((option.votes / total) * 100) : 0;
        if (canVote && !showResults) {
          return h(
            'li',
            {},
            h(
              'button',
              {
                type: 'button',
                class: 'poll-vote',
                'aria-label': t.voteFor(option.text),
                onclick: (e: Event) => this.vote(e, poll, index),
              },
              option.text,
            ),
          );
        }
        const bar = h('span', { class: 'poll-fill' });
        bar.style.width = `${percent}%`;
        const label = t.result(option.text, t.percent(percent), t.votes(option.votes));
        return h(
          'li',
          { class: `poll-result${mine ? ' mine' : ''}`, 'aria-label': mine ? `${label} · ${t.yourVote}` : label },
          h(
            'span',
            { class: 'poll-row', 'aria-hidden': 'true' },
            h(
              'span',
              { class: 'poll-text' },
              option.text,
              mine ? h('span', { class: 'poll-mine' }, ` ✓ ${t.yourVote}`) : null,
            ),
            h('span', { class: 'poll-pct' }, t.percent(percent)),
          ),
          h('span', { class: 'poll-bar', 'aria-hidden': 'true' }, bar),
          canVote
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'small poll-vote-inline',
                  'aria-label': t.voteFor(option.text),
                  onclick: (e: Event) => this.vote(e, poll, index),
                },
                '✓',
              )
            : null,
        );
      }),
    );
    const why = this.reason(poll, voted);
    return h(
      'article',
      { class: `poll${poll.closed ? ' closed' : ''}`, 'data-poll': poll.id },
      h('h3', { id: titleId }, poll.question),
      meta,
      options,
      why ? h('p', { class: 'muted small poll-note' }, why) : null,
      this.staff && !poll.closed
        ? h(
            'button',
            {
              type: 'button',
              class: 'small',
              'aria-label': t.closeNamed(poll.question),
              onclick: (e: Event) => this.close(e, poll),
            },
            t.close,
          )
        : null,
    );
  }

  /** The line under a poll: the rule before voting, thanks after, or why this person cannot vote. */
  private reason(poll: Poll, voted: boolean): string {
    if (poll.closed) return '';
    if (voted) return t.voted;
    switch (this.standing) {
      case 'guest':
        return t.signIn;
      case 'preview':
        return t.preview;
      case 'none':
        return t.noAccess;
      case 'ended':
        return t.ended;
      case 'owner':
        return '';
      default:
        return t.final;
    }
  }

  private vote(event: Event, poll: Poll, option: number): void {
    void busy(event.currentTarget as HTMLButtonElement, async () => {
      try {
        this.update(await this.room.vote(poll.id, option));
      } catch (err) {
        const closed = this.polls.find((p) => p.id === poll.id)?.closed;
        toast(
          describeError(err, {
            CONFLICT: closed ? t.pollClosed : t.alreadyVoted,
            PAYMENT_REQUIRED: this.standing === 'preview' ? t.preview : t.noAccess,
          }),
          'error',
        );
      }
    });
  }

  private close(event: Event, poll: Poll): void {
    void busy(event.currentTarget as HTMLButtonElement, async () => {
      try {
        this.update(await this.room.closePoll(poll.id));
        toast(t.closedNow, 'success');
      } catch (err) {
        toast(describeError(err, { CONFLICT: t.pollClosed }), 'error');
      }
    });
  }

  // --- the form ----------------------------------------------------------------------------------

  private buildForm(): HTMLFormElement {
    const submit = h('button', { type: 'submit', class: 'primary' }, t.start);
    const form = h(
      'form',
      { class: 'form poll-form', hidden: true, 'aria-labelledby': 'poll-form-title' },
      h('h3', { id: 'poll-form-title' }, t.newPoll),
      h('label', { for: 'poll-question' }, t.question, this.question),
      this.optionsBox,
      this.addOption,
      h('label', { for: 'poll-duration' }, t.closes, this.duration),
      this.status,
      submit,
    );
    this.addOption.addEventListener('click', () => {
      this.addField('');
      this.optionInputs().at(-1)?.focus();
    });
    this.addField('');
    this.addField('');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const question = this.question.value.trim();
      const options = this.optionInputs()
        .map((i) => i.value.trim())
        .filter(Boolean);
      if (!question) {
        this.status.textContent = t.needQuestion;
        this.question.focus();
        return;
      }
      if (
        new Set(options.map((o) => o.toLowerCase())).size < Limits.pollOptionsMin ||
        new Set(options).size !== options.length
      ) {
        this.status.textContent = t.needOptions(Limits.pollOptionsMin);
        return;
      }
      const seconds = Number(this.duration.value) || undefined;
      void busy(submit, async () => {
        try {
          this.update(await this.room.createPoll(question, options, seconds));
          this.status.textContent = t.started;
          this.question.value = '';
          this.optionsBox.replaceChildren();
          this.addField('');
          this.addField('');
        } catch (err) {
          const code = codeOf(err);
          this.status.textContent =
            code === 'CONFLICT'
              ? this.openCount >= Limits.pollsOpenMax
                ? t.tooManyOpen(Limits.pollsOpenMax)
                : t.notLive
              : describeError(err);
        }
      });
    });
    return form;
  }

  private optionInputs(): HTMLInputElement[] {
    return [...this.optionsBox.querySelectorAll<HTMLInputElement>('input')];
  }

  private addField(value: string): void {
    if (this.optionInputs().length >= Limits.pollOptionsMax) return;
    const row = h('div', { class: 'poll-option-field' });
    this.optionsBox.append(row);
    this.renumber(value, row);
  }

  /** Labels the option fields 1…n again (after one is added or removed) and shows their buttons. */
  private renumber(value?: string, row?: HTMLElement): void {
    if (row) {
      const input = h('input', { name: 'option', maxLength: Limits.pollOptionMax, autocomplete: 'off', value });
      const remove = h('button', { type: 'button', class: 'ghost icon small' }, '✕');
      remove.addEventListener('click', () => {
        row.remove();
        this.renumber();
        this.optionInputs().at(-1)?.focus();
      });
      row.append(h('label', {}, h('span', { class: 'poll-option-label' }), input), remove);
    }
    const rows = [...this.optionsBox.children] as HTMLElement[];
    rows.forEach((r, i) => {
      (r.querySelector('.poll-option-label') as HTMLElement).textContent = t.option(i + 1);
      const remove = r.querySelector('button') as HTMLButtonElement;
      remove.setAttribute('aria-label', t.removeOption(i + 1));
      remove.hidden = rows.length <= Limits.pollOptionsMin;
    });
    this.addOption.hidden = rows.length >= Limits.pollOptionsMax;
  }
}
