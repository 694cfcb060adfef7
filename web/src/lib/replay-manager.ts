import type { Content, MediaInfo, Room } from '../../../protocol';
import { api } from './api';
import { busy, h, show } from './dom';
import { codeOf, describeError } from './errors';
import { duration, money, parseTime, shortDate, toMinorUnits } from './format';
import { messages } from './i18n';
import { failureText, statusLabel } from './media-status';
import { Player } from './player';
import { toast } from './toast';

/**
 * The content manager's replays: the creator's ended rooms that have one, each with its state,
 * a preview, trimming, selling it as a lesson, and deleting it.
 */

const t = messages({
  en: {
    preview: 'Preview',
    trim: 'Trim',
    sell: 'Sell as a lesson',
    delete: 'Delete',
    openPage: 'Open page',
    replayOf: (title: string) => `Replay: ${title}`,
    streamed: (date: string) => `Streamed ${date}`,
    trimmed: 'trimmed',
    ticketHolders: 'ticket holders',
    subscribers: 'subscribers',
    freeForAll: 'free for all',
    theEnd: 'the end',
    saveTrim: 'Save trim',
    keepAll: 'Keep it all',
    trimTheReplay: 'Trim the replay',
    startAt: 'Start at',
    startHint: 'm:ss, from the start of the recording',
    endAt: 'End at',
    endHint: 'm:ss; empty: to the end',
    recordedLength: (length: string) => `Recorded length ${length}. `,
    cutNote: 'The cut falls on the nearest few-second segment. Nothing is lost: you can change it back.',
    trimmedTo: (length: string) => `Trimmed: the replay is now ${length} long.`,
    startBeforeEnd: 'The start must be before the end of the recording.',
    endAfterStart: 'The end must come after the start.',
    timeFormat: 'Write times as minutes:seconds (1:30) or seconds (90).',
    onlyLong: (length: string) => `The recording is only ${length} long.`,
    createLesson: 'Create the lesson',
    sellTheReplay: 'Sell the replay as a lesson',
    sellNote: 'A lesson whose video is this replay, with its own price. The replay stays as it is.',
    lessonTitle: 'Lesson title',
    price: (currency: string) => `Price (${currency})`,
    freeLesson: '0 for a free lesson',
    description: 'Description',
    giveTitle: 'Give the lesson a title.',
    enterPrice: 'Enter a price, such as 4.99 (or 0 for free).',
    onSale: (title: string, price: string) => `“${title}” is on sale for ${price}. `,
    addCover: 'Add a cover and notes',
    checkTitlePrice: 'Check the title and the price.',
    deleteReplay: 'Delete the replay',
    keepIt: 'Keep it',
    deleted: 'Replay deleted.',
    notOver: 'The stream is not over yet.',
    deleteQuestion: 'Delete this replay for good? Viewers lose it; lessons made from it keep their video.',
    noReplays: 'No replays yet. Streams are recorded unless you turn it off; when one ends, its replay appears here.',
    replays: 'Replays',
    replaysNote: 'Your streams after they end: trim them, sell them as lessons, or delete them.',
    notLoaded: 'Your replays could not be loaded.',
  },
  'zh-CN': {
    preview: '预览',
    trim: '剪辑',
    sell: '作为单节课出售',
    delete: '删除',
    openPage: '打开页面',
    replayOf: (title: string) => `回放：${title}`,
    streamed: (date: string) => `直播于 ${date}`,
    trimmed: '已剪辑',
    ticketHolders: '购票观众',
    subscribers: '订阅用户',
    freeForAll: '所有人免费',
    theEnd: '结尾',
    saveTrim: '保存剪辑',
    keepAll: '保留全部',
    trimTheReplay: '剪辑回放',
    startAt: '开始于',
    startHint: '分:秒，从录像开头算起',
    endAt: '结束于',
    endHint: '分:秒；留空表示到结尾',
    recordedLength: (length: string) => `录像时长 ${length}。`,
    cutNote: '剪辑点会落在最近的几秒片段边界上。原始录像不会丢失，可以随时改回来。',
    trimmedTo: (length: string) => `已剪辑：回放现在时长 ${length}。`,
    startBeforeEnd: '开始时间必须早于录像结束。',
    endAfterStart: '结束时间必须晚于开始时间。',
    timeFormat: '时间请写成 分:秒（1:30）或秒数（90）。',
    onlyLong: (length: string) => `录像只有 ${length} 长。`,
    createLesson: '创建单节课',
    sellTheReplay: '把回放作为单节课出售',
    sellNote: '以这段回放为视频的单节课，可以单独定价。回放本身保持不变。',
    lessonTitle: '课程标题',
    price: (currency: string) => `价格（${currency}）`,
    freeLesson: '填 0 表示免费',
    description: '简介',
    giveTitle: '请给课程起个标题。',
    enterPrice: '请输入价格，例如 4.99（免费填 0）。',
    onSale: (title: string, price: string) => `《${title}》已开始出售，价格 ${price}。`,
    addCover: '添加封面和讲义',
    checkTitlePrice: '请检查标题和价格。',
    deleteReplay: '删除回放',
    keepIt: '保留',
    deleted: '回放已删除。',
    notOver: '直播还没有结束。',
    deleteQuestion: '确定永久删除这段回放吗？观众将无法再观看；用它制作的单节课会保留视频。',
    noReplays: '还没有回放。直播默认会录制（除非你关闭录制），结束后回放会出现在这里。',
    replays: '回放',
    replaysNote: '直播结束后的录像：可以剪辑、作为单节课出售，或删除。',
    notLoaded: '回放列表加载失败。',
  },
});

type Panel = 'preview' | 'trim' | 'sell' | 'delete';

let ids = 0;
const fieldId = (name: string) => `${name}-${++ids}`;

/** A labelled input whose label points at it. */
function field(label: string, input: HTMLInputElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  input.id ||= fieldId(input.name || 'field');
  return h('label', { for: input.id }, label, input, hint ? h('span', { class: 'hint' }, hint) : null);
}

class ReplayItem {
  readonly element: HTMLElement;
  private readonly meta = h('p', { class: 'muted small' });
  private readonly status = h('span', {});
  private readonly panel = h('div', { class: 'replay-panel' });
  private readonly buttons: Record<Panel, HTMLButtonElement>;
  private open: Panel | undefined;
  private player: Player | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly room: Room,
    private media: MediaInfo,
    private readonly currency: string,
    private readonly onGone: (item: ReplayItem) => void,
  ) {
    const button = (panel: Panel, label: string, extra = '') => {
      const b = h('button', { type: 'button', class: `small ${extra}`, 'aria-pressed': 'false' }, label);
      b.addEventListener('click', () => this.toggle(panel));
      return b;
    };
    this.buttons = {
      preview: button('preview', t.preview),
      trim: button('trim', t.trim),
      sell: button('sell', t.sell),
      delete: button('delete', t.delete, 'ghost'),
    };
    this.element = h(
      'article',
      { class: 'replay-card', 'data-room': room.id, 'aria-label': t.replayOf(room.title) },
      h('div', { class: 'manage-main' }, h('b', {}, room.title), ' ', this.status, this.meta),
      h(
        'div',
        { class: 'row buttons replay-actions' },
        this.buttons.preview,
        this.buttons.trim,
        this.buttons.sell,
        h('a', { class: 'button small ghost', href: `/replay/${room.id}` }, t.openPage),
        this.buttons.delete,
      ),
      this.panel,
    );
    this.render();
  }

  private render(): void {
    const { media, room } = this;
    const badge = media.status === 'ready' ? 'done' : media.status === 'failed' ? 'failed' : 'status';
    this.status.replaceChildren(h('span', { class: `badge ${badge}` }, statusLabel(media)));
    const trimmed = media.trim && (media.trim.startSeconds > 0 || media.trim.endSeconds !== null);
    this.meta.textContent = [
      room.endedAt ? t.streamed(shortDate(room.endedAt)) : null,
      media.durationSeconds ? duration(media.durationSeconds) : null,
      trimmed ? t.trimmed : null,
      room.access === 'ticket' ? t.ticketHolders : room.access === 'subscribers' ? t.subscribers : t.freeForAll,
      media.status === 'failed' ? failureText(media) : null,
    ]
      .filter(Boolean)
      .join(' · ');
    const ready = media.status === 'ready';
    this.buttons.preview.disabled = !ready;
    this.buttons.trim.disabled = !ready;
    this.buttons.sell.disabled = media.status === 'failed';
    clearTimeout(this.pollTimer);
    if (media.status === 'processing') this.pollTimer = setTimeout(() => void this.reload(), 4000);
  }

  private async reload(): Promise<void> {
    try {
      this.media = (await api<{ media: MediaInfo }>('GET', `/api/rooms/${this.room.id}/replay`)).media;
      this.render();
    } catch (err) {
      if (codeOf(err) === 'NOT_FOUND') this.onGone(this);
    }
  }

  private toggle(panel: Panel): void {
    const next = this.open === panel ? undefined : panel;
    this.open = next;
    for (const [name, b] of Object.entries(this.buttons)) b.setAttribute('aria-pressed', String(name === next));
    this.player?.destroy();
    this.player = undefined;
    if (!next) {
      this.panel.replaceChildren();
      return;
    }
    const content =
      next === 'preview'
        ? this.preview()
        : next === 'trim'
          ? this.trimForm()
          : next === 'sell'
            ? this.sellForm()
            : this.confirmDelete();
    this.panel.replaceChildren(content);
    content.querySelector<HTMLElement>('input, button')?.focus();
  }

  private preview(): HTMLElement {
    this.player = new Player({ signedIn: true, remember: false, autoplay: false });
    void this.player.load({
      target: { roomId: this.room.id },
      fetchMedia: () => api<{ media: MediaInfo }>('GET', `/api/rooms/${this.room.id}/replay`).then((r) => r.media),
    });
    return this.player.element;
  }

  private trimForm(): HTMLElement {
    const trim = this.media.trim;
    const source = trim?.sourceDurationSeconds ?? null;
    const start = h('input', { name: 'start', inputMode: 'numeric', value: duration(trim?.startSeconds ?? 0) });
    const end = h('input', {
      name: 'end',
      inputMode: 'numeric',
      placeholder: source ? duration(source) : t.theEnd,
      value: trim?.endSeconds != null ? duration(trim.endSeconds) : '',
    });
    const error = h('p', { class: 'error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'primary' }, t.saveTrim);
    const reset = h('button', { type: 'button', class: 'ghost' }, t.keepAll);
    const form = h(
      'form',
      { class: 'form', 'aria-label': t.trimTheReplay },
      h('div', { class: 'row' }, field(t.startAt, start, t.startHint), field(t.endAt, end, t.endHint)),
      h('p', { class: 'muted small' }, `${source ? t.recordedLength(duration(source)) : ''}${t.cutNote}`),
      error,
      h('div', { class: 'row buttons' }, save, reset),
    );
    const submit = (startSeconds: number, endSeconds: number | null) =>
      busy(save, async () => {
        try {
          this.media = (
            await api<{ media: MediaInfo }>('PATCH', `/api/rooms/${this.room.id}/replay`, { startSeconds, endSeconds })
          ).media;
          this.render();
          toast(t.trimmedTo(duration(this.media.durationSeconds ?? 0)), 'success');
          this.toggle('trim');
        } catch (err) {
          error.textContent =
            codeOf(err) === 'CONFLICT'
              ? t.startBeforeEnd
              : codeOf(err) === 'INVALID_ARGUMENT'
                ? t.endAfterStart
                : describeError(err);
        }
      });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const startSeconds = parseTime(start.value || '0');
      const endSeconds = end.value.trim() ? parseTime(end.value) : null;
      if (Number.isNaN(startSeconds) || (endSeconds !== null && Number.isNaN(endSeconds))) {
        error.textContent = t.timeFormat;
        return;
      }
      if (endSeconds !== null && endSeconds <= startSeconds) {
        error.textContent = t.endAfterStart;
        return;
      }
      if (source && startSeconds >= source) {
        error.textContent = t.onlyLong(duration(source));
        return;
      }
      void submit(startSeconds, endSeconds);
    });
    reset.addEventListener('click', () => void submit(0, null));
    return form;
  }

  private sellForm(): HTMLElement {
    const title = h('input', { name: 'title', required: true, maxLength: 200, value: this.room.title });
    const price = h('input', { name: 'price', inputMode: 'decimal', required: true, value: '5' });
    const description = h('textarea', { name: 'description', maxLength: 5000, rows: 3 });
    const error = h('p', { class: 'error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, t.createLesson);
    const form = h(
      'form',
      { class: 'form', 'aria-label': t.sellTheReplay },
      h('p', { class: 'muted small' }, t.sellNote),
      field(t.lessonTitle, title),
      field(t.price(this.currency), price, t.freeLesson),
      field(t.description, description),
      error,
      submit,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const amount = toMinorUnits(price.value, { allowZero: true, currency: this.currency });
      if (!title.value.trim()) {
        error.textContent = t.giveTitle;
        return;
      }
      if (Number.isNaN(amount)) {
        error.textContent = t.enterPrice;
        return;
      }
      void busy(submit, async () => {
        try {
          const { content } = await api<{ content: Content }>('POST', `/api/rooms/${this.room.id}/replay/lesson`, {
            title: title.value.trim(),
            price: amount,
            description: description.value,
          });
          this.panel.replaceChildren(
            h(
              'p',
              { class: 'notice', role: 'status' },
              t.onSale(content.title, money(content.price, content.currency)),
              h('a', { href: `/studio/contents?edit=${content.id}` }, t.addCover),
            ),
          );
          this.open = undefined;
          for (const b of Object.values(this.buttons)) b.setAttribute('aria-pressed', 'false');
        } catch (err) {
          error.textContent = codeOf(err) === 'INVALID_ARGUMENT' ? t.checkTitlePrice : describeError(err);
        }
      });
    });
    return form;
  }

  private confirmDelete(): HTMLElement {
    const yes = h('button', { type: 'button', class: 'danger' }, t.deleteReplay);
    const no = h('button', { type: 'button', class: 'ghost' }, t.keepIt);
    yes.addEventListener('click', () =>
      busy(yes, async () => {
        try {
          await api('DELETE', `/api/rooms/${this.room.id}/replay`);
          toast(t.deleted, 'success');
          this.onGone(this);
        } catch (err) {
          toast(codeOf(err) === 'CONFLICT' ? t.notOver : describeError(err), 'error');
        }
      }),
    );
    no.addEventListener('click', () => this.toggle('delete'));
    return h(
      'div',
      { class: 'confirm', role: 'group', 'aria-label': t.deleteReplay },
      h('span', {}, t.deleteQuestion),
      yes,
      no,
    );
  }

  destroy(): void {
    clearTimeout(this.pollTimer);
    this.player?.destroy();
  }
}

/** The Replays card: loads the creator's ended rooms with a replay and lists them. */
export async function replaysSection(ownerId: string, currency: string): Promise<HTMLElement> {
  const list = h('div', { class: 'replay-list' });
  const empty = h('p', { class: 'muted empty' }, t.noReplays);
  const section = h(
    'section',
    { class: 'card', id: 'replays', 'aria-labelledby': 'replays-heading' },
    h('h2', { id: 'replays-heading' }, t.replays),
    h('p', { class: 'muted small' }, t.replaysNote),
    list,
    empty,
  );
  let rooms: Room[];
  try {
    rooms = (
      await api<{ rooms: Room[] }>('GET', `/api/rooms?ownerId=${encodeURIComponent(ownerId)}&status=ended&limit=100`)
    ).rooms.filter((r) => r.hasReplay);
  } catch (err) {
    empty.textContent = `${t.notLoaded} ${describeError(err)}`;
    return section;
  }
  const items = await Promise.all(
    rooms.map(async (room) => {
      try {
        const { media } = await api<{ media: MediaInfo }>('GET', `/api/rooms/${room.id}/replay`);
        return { room, media };
      } catch {
        return undefined; // deleted meanwhile
      }
    }),
  );
  const gone = (item: ReplayItem) => {
    item.destroy();
    item.element.remove();
    show(empty, !list.children.length);
  };
  for (const found of items) {
    if (found) list.append(new ReplayItem(found.room, found.media, currency, gone).element);
  }
  show(empty, !list.children.length);
  return section;
}
