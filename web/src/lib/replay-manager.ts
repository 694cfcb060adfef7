import type { Content, MediaInfo, Room } from '../../../protocol';
import { api } from './api';
import { busy, h, show } from './dom';
import { codeOf, describeError } from './errors';
import { duration, money, parseTime, shortDate, toMinorUnits } from './format';
import { failureText, statusLabel } from './media-status';
import { Player } from './player';
import { toast } from './toast';

/**
 * The content manager's replays: the creator's ended rooms that have one, each with its state,
 * a preview, trimming, selling it as a lesson, and deleting it.
 */

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
      preview: button('preview', 'Preview'),
      trim: button('trim', 'Trim'),
      sell: button('sell', 'Sell as a lesson'),
      delete: button('delete', 'Delete', 'ghost'),
    };
    this.element = h(
      'article',
      { class: 'replay-card', 'data-room': room.id, 'aria-label': `Replay: ${room.title}` },
      h('div', { class: 'manage-main' }, h('b', {}, room.title), ' ', this.status, this.meta),
      h(
        'div',
        { class: 'row buttons replay-actions' },
        this.buttons.preview,
        this.buttons.trim,
        this.buttons.sell,
        h('a', { class: 'button small ghost', href: `/replay/${room.id}` }, 'Open page'),
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
      room.endedAt ? `Streamed ${shortDate(room.endedAt)}` : null,
      media.durationSeconds ? duration(media.durationSeconds) : null,
      trimmed ? 'trimmed' : null,
      room.access === 'ticket' ? 'ticket holders' : room.access === 'subscribers' ? 'subscribers' : 'free for all',
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
      placeholder: source ? duration(source) : 'the end',
      value: trim?.endSeconds != null ? duration(trim.endSeconds) : '',
    });
    const error = h('p', { class: 'error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save trim');
    const reset = h('button', { type: 'button', class: 'ghost' }, 'Keep it all');
    const form = h(
      'form',
      { class: 'form', 'aria-label': 'Trim the replay' },
      h(
        'div',
        { class: 'row' },
        field('Start at', start, 'm:ss, from the start of the recording'),
        field('End at', end, 'm:ss; empty: to the end'),
      ),
      h(
        'p',
        { class: 'muted small' },
        `${source ? `Recorded length ${duration(source)}. ` : ''}The cut falls on the nearest few-second segment. Nothing is lost: you can change it back.`,
      ),
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
          toast(`Trimmed: the replay is now ${duration(this.media.durationSeconds ?? 0)} long.`, 'success');
          this.toggle('trim');
        } catch (err) {
          error.textContent =
            codeOf(err) === 'CONFLICT'
              ? 'The start must be before the end of the recording.'
              : codeOf(err) === 'INVALID_ARGUMENT'
                ? 'The end must come after the start.'
                : describeError(err);
        }
      });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const startSeconds = parseTime(start.value || '0');
      const endSeconds = end.value.trim() ? parseTime(end.value) : null;
      if (Number.isNaN(startSeconds) || (endSeconds !== null && Number.isNaN(endSeconds))) {
        error.textContent = 'Write times as minutes:seconds (1:30) or seconds (90).';
        return;
      }
      if (endSeconds !== null && endSeconds <= startSeconds) {
        error.textContent = 'The end must come after the start.';
        return;
      }
      if (source && startSeconds >= source) {
        error.textContent = `The recording is only ${duration(source)} long.`;
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
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Create the lesson');
    const form = h(
      'form',
      { class: 'form', 'aria-label': 'Sell the replay as a lesson' },
      h(
        'p',
        { class: 'muted small' },
        'A lesson whose video is this replay, with its own price. The replay stays as it is.',
      ),
      field('Lesson title', title),
      field(`Price (${this.currency})`, price, '0 for a free lesson'),
      field('Description', description),
      error,
      submit,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const amount = toMinorUnits(price.value, { allowZero: true });
      if (!title.value.trim()) {
        error.textContent = 'Give the lesson a title.';
        return;
      }
      if (Number.isNaN(amount)) {
        error.textContent = 'Enter a price, such as 4.99 (or 0 for free).';
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
              `“${content.title}” is on sale for ${money(content.price, content.currency)}. `,
              h('a', { href: `/studio/contents?edit=${content.id}` }, 'Add a cover and notes'),
            ),
          );
          this.open = undefined;
          for (const b of Object.values(this.buttons)) b.setAttribute('aria-pressed', 'false');
        } catch (err) {
          error.textContent =
            codeOf(err) === 'INVALID_ARGUMENT' ? 'Check the title and the price.' : describeError(err);
        }
      });
    });
    return form;
  }

  private confirmDelete(): HTMLElement {
    const yes = h('button', { type: 'button', class: 'danger' }, 'Delete the replay');
    const no = h('button', { type: 'button', class: 'ghost' }, 'Keep it');
    yes.addEventListener('click', () =>
      busy(yes, async () => {
        try {
          await api('DELETE', `/api/rooms/${this.room.id}/replay`);
          toast('Replay deleted.', 'success');
          this.onGone(this);
        } catch (err) {
          toast(codeOf(err) === 'CONFLICT' ? 'The stream is not over yet.' : describeError(err), 'error');
        }
      }),
    );
    no.addEventListener('click', () => this.toggle('delete'));
    return h(
      'div',
      { class: 'confirm', role: 'group', 'aria-label': 'Delete the replay' },
      h('span', {}, 'Delete this replay for good? Viewers lose it; lessons made from it keep their video.'),
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
  const empty = h(
    'p',
    { class: 'muted empty' },
    'No replays yet. Streams are recorded unless you turn it off; when one ends, its replay appears here.',
  );
  const section = h(
    'section',
    { class: 'card', id: 'replays', 'aria-labelledby': 'replays-heading' },
    h('h2', { id: 'replays-heading' }, 'Replays'),
    h('p', { class: 'muted small' }, 'Your streams after they end: trim them, sell them as lessons, or delete them.'),
    list,
    empty,
  );
  let rooms: Room[];
  try {
    rooms = (
      await api<{ rooms: Room[] }>('GET', `/api/rooms?ownerId=${encodeURIComponent(ownerId)}&status=ended&limit=100`)
    ).rooms.filter((r) => r.hasReplay);
  } catch (err) {
    empty.textContent = `Your replays could not be loaded. ${describeError(err)}`;
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
