import { newIdempotencyKey } from '@lectern/client-sdk';
import type { Attachment, Content, CreatorProfile, MediaInfo, SyllabusItem, WatchProgress } from '../../../protocol';
import { api } from '../lib/api';
import { busy, byId, h, show } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { duration, fileSize, money } from '../lib/format';
import { renderMarkdown } from '../lib/markdown';
import { Player } from '../lib/player';
import { coverOf, KIND_LABELS, lockIcon, type Shell, startShell } from '../lib/shell';
import { exposeForTests } from '../lib/test-hook';
import { toast } from '../lib/toast';

/**
 * A content's page (`/content/<id>`): for someone who may not watch it, what it is — cover,
 * description, price, the syllabus with its free trials (playable right here), the files it
 * comes with — and a Buy button; for someone who may, the player with the course's syllabus
 * beside it (`?lesson=<id>` picks the lesson), the lesson's notes and its files.
 */

interface Details {
  content: Content;
  owned: boolean;
  syllabus?: SyllabusItem[];
  /** Whether the caller may watch (creator, admin, owner, free trial). */
  canWatch: boolean;
  /** The lesson's notes: only for those who may watch. */
  notes?: string;
  attachments: Attachment[];
  progress?: WatchProgress | null;
}

/** Seconds before the next lesson starts by itself. */
const UP_NEXT_SECONDS = 5;
/** Attachment links are signed for a few minutes: they are renewed before that. */
const RENEW_LINKS_MS = 4 * 60_000;

const mayWatch = (d: Details) => d.canWatch;

class ContentPage {
  private details!: Details;
  private creator: CreatorProfile | undefined;
  private player: Player | undefined;
  private lesson: Details | undefined;
  private upNextTimer: ReturnType<typeof setInterval> | undefined;
  private readonly root = byId('content-root');

  constructor(
    private readonly shell: Shell,
    private readonly contentId: string,
  ) {}

  async start(): Promise<void> {
    try {
      this.details = await this.fetchDetails(this.contentId);
    } catch (err) {
      return this.fatal(err);
    }
    const { content } = this.details;
    document.title = `${content.title} — Lectern`;
    this.creator = await api<{ profile: CreatorProfile }>('GET', `/api/creators/${content.creatorId}`)
      .then((r) => r.profile)
      .catch(() => undefined);
    window.addEventListener('popstate', () => void this.render());
    setInterval(() => {
      if (document.visibilityState === 'visible') void this.renewLinks();
    }, RENEW_LINKS_MS);
    exposeForTests({
      player: () => this.player?.snapshot() ?? null,
      page: () => ({ mayWatch: mayWatch(this.details), lesson: this.lesson?.content.id ?? null }),
    });
    await this.render();
  }

  private fetchDetails(id: string): Promise<Details> {
    return api<Details>('GET', `/api/contents/${encodeURIComponent(id)}`);
  }

  private get isCourse(): boolean {
    return this.details.content.kind !== 'lesson';
  }

  /** Lessons of the syllabus this viewer can play now. */
  private playable(item: SyllabusItem): boolean {
    return item.kind === 'lesson' && (mayWatch(this.details) || item.freeTrial || item.price === 0);
  }

  /** The lesson the page plays: `?lesson=`, else (for those who may watch) the first with a video. */
  private selectedLessonId(): string | undefined {
    const { content, syllabus = [] } = this.details;
    if (!this.isCourse) return mayWatch(this.details) ? content.id : undefined;
    // The lesson asked for, else the one last played here on this device.
    const asked =
      new URLSearchParams(location.search).get('lesson') ?? (mayWatch(this.details) ? lastLesson(content.id) : null);
    const item = syllabus.find((i) => i.id === asked);
    if (item && this.playable(item)) return item.id;
    if (!mayWatch(this.details)) return undefined;
    return (syllabus.find((i) => i.kind === 'lesson' && i.hasVideo) ?? syllabus.find((i) => i.kind === 'lesson'))?.id;
  }

  // --- rendering -----------------------------------------------------------------------------------

  private async render(): Promise<void> {
    this.stopUpNext();
    const lessonId = this.selectedLessonId();
    this.lesson = undefined;
    if (lessonId) {
      try {
        this.lesson = lessonId === this.details.content.id ? this.details : await this.fetchDetails(lessonId);
      } catch (err) {
        toast(describeError(err), 'error');
      }
    }
    const main = h('div', { class: 'layout-main' });
    const side = h('aside', { class: 'layout-side', 'aria-label': 'About this content' });
    if (this.lesson && mayWatch(this.lesson)) {
      const [stage, ...rest] = this.watching(this.lesson);
      // A lesson's own page: its title under the video; a course's: the lesson, then the course.
      if (this.isCourse) main.append(stage, ...rest, this.about());
      else main.append(stage, this.about(), ...rest);
    } else {
      this.player?.stop();
      main.append(mayWatch(this.details) ? this.choosePrompt() : this.showcase(), this.about());
    }
    if (!mayWatch(this.details)) side.append(this.buyCard());
    else side.append(this.ownedCard());
    if (this.isCourse) side.append(this.syllabusCard(lessonId));
    const { attachments } = this.details;
    if (!mayWatch(this.details) && attachments.length) side.append(this.lockedFiles(attachments));
    else if (this.isCourse && attachments.length) side.append(this.files(attachments, 'Course files'));
    this.root.replaceChildren(h('div', { class: 'layout' }, main, side));
  }

  /** The player, the lesson's title, notes and files. */
  private watching(lesson: Details): HTMLElement[] {
    const { content } = lesson;
    const elements: HTMLElement[] = [];
    if (this.isCourse) rememberLesson(this.details.content.id, content.id);
    if (content.hasVideo) {
      this.player ??= new Player({
        signedIn: !!this.shell.session,
        // A creator watching their own lessons is not a viewer: no progress, no watch time.
        remember: this.shell.session?.user.id !== this.details.content.creatorId,
        onEnded: () => this.ended(),
        onRefused: (err) => this.refusedOverlay(err),
      });
      void this.player.load({
        target: { contentId: content.id },
        fetchMedia: () => api<{ media: MediaInfo }>('GET', `/api/contents/${content.id}/media`).then((r) => r.media),
        progress: lesson.progress ?? null,
        poster: content.coverUrl,
      });
      elements.push(
        h('div', {}, this.player.element, h('div', { id: 'up-next', class: 'banner', role: 'status', hidden: true })),
      );
    } else {
      this.player?.stop();
      elements.push(
        h(
          'div',
          { class: 'stage' },
          coverOf(content.coverUrl, content.title, 'stage-cover'),
          h('div', { class: 'stage-overlay' }, h('p', {}, 'This lesson has no video yet.')),
        ),
      );
    }
    if (this.isCourse) {
      const position = (this.details.syllabus ?? []).findIndex((i) => i.id === content.id);
      elements.push(
        h(
          'div',
          { class: 'lesson-head' },
          h('p', { class: 'muted small' }, `Lesson ${position + 1} of ${this.details.syllabus?.length ?? 0}`),
          h('h2', {}, content.title),
          !mayWatch(this.details) && content.freeTrial ? h('span', { class: 'badge trial' }, 'Free trial') : null,
        ),
      );
    }
    if (lesson.notes?.trim()) {
      const notes = h('div', { class: 'markdown' });
      notes.innerHTML = renderMarkdown(lesson.notes, { headingOffset: 2 });
      elements.push(h('section', { class: 'card', 'aria-label': 'Notes' }, h('h2', {}, 'Notes'), notes));
    }
    if (lesson.attachments.length) elements.push(this.files(lesson.attachments));
    return elements;
  }

  /** For someone who may not watch: the cover, with what it takes to watch on top. */
  private showcase(): HTMLElement {
    const { content, syllabus = [] } = this.details;
    const trial = syllabus.find((i) => this.playable(i) && i.hasVideo);
    const overlay = h(
      'div',
      { class: 'stage-overlay paywall' },
      ...this.paywallContent(),
      trial
        ? h(
            'button',
            { type: 'button', class: 'button', onclick: () => this.select(trial.id) },
            `Watch “${trial.title}” free`,
          )
        : null,
    );
    return h('div', { class: 'stage' }, coverOf(content.coverUrl, content.title, 'stage-cover'), overlay);
  }

  /** Theirs, but nothing to play here by itself (a bundle of courses): the list says where to go. */
  private choosePrompt(): HTMLElement {
    const { content } = this.details;
    return h(
      'div',
      { class: 'stage' },
      coverOf(content.coverUrl, content.title, 'stage-cover'),
      h(
        'div',
        { class: 'stage-overlay' },
        h('h2', {}, 'Yours to watch'),
        h('p', {}, this.details.syllabus?.length ? 'Choose a course or a lesson from the list.' : 'Nothing in it yet.'),
      ),
    );
  }

  private paywallContent(): HTMLElement[] {
    const { content } = this.details;
    const what = KIND_LABELS[content.kind].toLowerCase();
    return [
      h('h2', {}, `Buy this ${what} to watch it`),
      h(
        'p',
        {},
        `${money(content.price, content.currency)}, yours to keep: watch it whenever you like, from where you stopped.`,
      ),
      this.buyButton('primary big', `Buy — ${money(content.price, content.currency)}`),
    ];
  }

  private refusedOverlay(err: unknown): HTMLElement[] | undefined {
    const code = codeOf(err);
    if (code === 'UNAUTHENTICATED') {
      return [
        h('h2', {}, 'Sign in to watch'),
        h('button', { type: 'button', class: 'primary', onclick: this.shell.signIn }, 'Sign in'),
      ];
    }
    if (code === 'PAYMENT_REQUIRED') return this.paywallContent();
    return undefined;
  }

  /** Title, creator, kind, length and description. */
  private about(): HTMLElement {
    const { content, syllabus } = this.details;
    const total = syllabus?.reduce((sum, i) => sum + (i.durationSeconds ?? 0), 0);
    const meta = [
      this.creator?.displayName,
      KIND_LABELS[content.kind],
      syllabus ? `${syllabus.length} ${syllabus.length === 1 ? 'item' : 'items'}` : null,
      total ? duration(total) : content.durationSeconds ? duration(content.durationSeconds) : null,
      ...content.tags.map((t) => `#${t}`),
    ].filter(Boolean);
    return h(
      'section',
      { class: 'content-head', 'aria-label': 'About' },
      h('h1', {}, content.title),
      h('p', { class: 'muted' }, meta.join(' · ')),
      content.description ? h('p', { class: 'description' }, content.description) : null,
    );
  }

  private buyButton(className: string, label: string): HTMLButtonElement {
    const button = h('button', { type: 'button', class: `${className} buy` }, label);
    button.addEventListener('click', () => void busy(button, () => this.buy(button)));
    return button;
  }

  private buyCard(): HTMLElement {
    const { content, syllabus, attachments } = this.details;
    const includes = [
      content.kind === 'lesson' && content.durationSeconds ? `A ${duration(content.durationSeconds)} video` : null,
      syllabus?.length ? `${syllabus.filter((i) => i.kind === 'lesson').length} lessons` : null,
      content.kind === 'lesson' ? 'Notes from the teacher' : null,
      attachments.length ? `${attachments.length} ${attachments.length === 1 ? 'file' : 'files'} to download` : null,
      'Resume where you stopped, on any device',
    ].filter((x): x is string => !!x);
    return h(
      'section',
      { class: 'card buy-card', 'aria-label': 'Buy' },
      h('p', { class: 'price' }, money(content.price, content.currency)),
      this.buyButton('primary big', 'Buy'),
      h('ul', { class: 'includes' }, ...includes.map((text) => h('li', {}, text))),
      this.shell.session ? null : h('p', { class: 'muted small' }, 'You will be asked to sign in first.'),
    );
  }

  private ownedCard(): HTMLElement {
    const { content } = this.details;
    const mine = this.shell.session?.user.id === content.creatorId;
    return h(
      'section',
      { class: 'card', 'aria-label': 'Yours' },
      mine
        ? h('p', {}, 'This is your ', KIND_LABELS[content.kind].toLowerCase(), '.')
        : h('p', {}, content.price === 0 && !this.details.owned ? 'Free to watch.' : 'In your library ✓'),
      mine
        ? h('a', { class: 'button', href: `/studio/contents?edit=${content.id}` }, 'Edit in the content manager')
        : h('a', { class: 'button', href: '/library' }, 'Open your library'),
    );
  }

  private syllabusCard(current: string | undefined): HTMLElement {
    const syllabus = this.details.syllabus ?? [];
    const items = syllabus.map((item, n) => {
      const playable = this.playable(item);
      const label = h(
        'span',
        { class: 'syllabus-title' },
        h('span', { class: 'syllabus-number', 'aria-hidden': 'true' }, String(n + 1)),
        h('span', {}, item.title),
      );
      const meta = h(
        'span',
        { class: 'syllabus-meta' },
        item.kind !== 'lesson' ? h('span', { class: 'badge kind' }, KIND_LABELS[item.kind]) : null,
        item.freeTrial && !mayWatch(this.details) ? h('span', { class: 'badge trial' }, 'Free trial') : null,
        item.durationSeconds ? h('span', { class: 'muted small' }, duration(item.durationSeconds)) : null,
        item.kind === 'lesson' && !item.hasVideo ? h('span', { class: 'muted small' }, 'No video yet') : null,
        !playable && item.kind === 'lesson'
          ? h(
              'span',
              { class: 'locked-icon', title: 'Locked' },
              lockIcon(),
              h('span', { class: 'visually-hidden' }, 'Locked'),
            )
          : null,
      );
      let row: HTMLElement;
      if (item.kind !== 'lesson') {
        row = h('a', { class: 'syllabus-item', href: `/content/${item.id}` }, label, meta);
      } else if (playable) {
        row = h(
          'a',
          {
            class: `syllabus-item${item.id === current ? ' current' : ''}`,
            href: `?lesson=${item.id}`,
            'aria-current': item.id === current ? 'true' : undefined,
          },
          label,
          meta,
        );
        row.addEventListener('click', (e) => {
          e.preventDefault();
          this.select(item.id);
        });
      } else {
        row = h('div', { class: 'syllabus-item locked' }, label, meta);
      }
      return h('li', {}, row);
    });
    return h(
      'section',
      { class: 'card', 'aria-label': 'Syllabus' },
      h('h2', {}, this.details.content.kind === 'bundle' ? 'In this bundle' : 'Syllabus'),
      items.length ? h('ol', { class: 'syllabus' }, ...items) : h('p', { class: 'muted empty' }, 'Nothing in it yet.'),
    );
  }

  private files(attachments: Attachment[], title = 'Files'): HTMLElement {
    return h(
      'section',
      { class: 'card', 'aria-label': title },
      h('h2', {}, title),
      h(
        'ul',
        { class: 'files' },
        ...attachments.map((a) =>
          h(
            'li',
            {},
            a.url
              ? h('a', { href: a.url, target: '_blank', rel: 'noopener', 'data-attachment': a.id }, a.filename)
              : h('span', {}, a.filename),
            h('span', { class: 'muted small' }, `${fileKind(a.mime)} · ${fileSize(a.bytes)}`),
          ),
        ),
      ),
    );
  }

  private lockedFiles(attachments: Attachment[]): HTMLElement {
    return h(
      'section',
      { class: 'card', 'aria-label': 'Files included' },
      h('h2', {}, 'Files included'),
      h(
        'ul',
        { class: 'files' },
        ...attachments.map((a) =>
          h(
            'li',
            {},
            h('span', { class: 'locked-file' }, lockIcon(), a.filename),
            h('span', { class: 'muted small' }, `${fileKind(a.mime)} · ${fileSize(a.bytes)}`),
          ),
        ),
      ),
      h('p', { class: 'muted small' }, 'Yours to download once you buy.'),
    );
  }

  // --- actions -------------------------------------------------------------------------------------

  private select(lessonId: string): void {
    const url = new URL(location.href);
    url.searchParams.set('lesson', lessonId);
    history.pushState(null, '', url);
    void this.render().then(() => this.root.querySelector('.stage')?.scrollIntoView({ block: 'nearest' }));
  }

  /** At the end of a lesson, the next playable one starts by itself after a short countdown. */
  private ended(): void {
    if (!this.isCourse || !this.lesson) return;
    const syllabus = this.details.syllabus ?? [];
    const from = syllabus.findIndex((i) => i.id === this.lesson?.content.id);
    const next = syllabus.slice(from + 1).find((i) => this.playable(i) && i.hasVideo);
    const banner = document.getElementById('up-next');
    if (!next || !banner) return;
    let left = UP_NEXT_SECONDS;
    const text = h('span', {});
    const tick = () => {
      text.textContent = `Up next in ${left} s: ${next.title}`;
    };
    tick();
    banner.replaceChildren(
      text,
      h(
        'span',
        { class: 'row buttons' },
        h('button', { type: 'button', class: 'primary small', onclick: () => this.select(next.id) }, 'Play now'),
        h('button', { type: 'button', class: 'ghost small', onclick: () => this.stopUpNext() }, 'Stay here'),
      ),
    );
    show(banner, true);
    this.upNextTimer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        this.stopUpNext();
        this.select(next.id);
      } else tick();
    }, 1000);
  }

  private stopUpNext(): void {
    clearInterval(this.upNextTimer);
    this.upNextTimer = undefined;
    const banner = document.getElementById('up-next');
    if (banner) show(banner, false);
  }

  private async buy(button: HTMLButtonElement): Promise<void> {
    const { session, wallet } = this.shell;
    if (!session) return this.shell.signIn();
    const { content } = this.details;
    // One key per click: a retried or doubled request never charges twice.
    const idempotencyKey = newIdempotencyKey();
    try {
      const { balance } = await api<{ balance: number }>(
        'POST',
        '/api/purchases',
        { contentId: content.id },
        { idempotencyKey },
      );
      wallet?.set(balance);
      toast(`${content.title} is yours. Enjoy!`, 'success');
    } catch (err) {
      const code = codeOf(err);
      if (code === 'INSUFFICIENT_FUNDS' && wallet) {
        wallet.openTopUp(
          `${content.title} costs ${money(content.price, content.currency)}. Your wallet has ${money(wallet.amount, content.currency)}.`,
          () => button.isConnected && button.click(),
        );
        return;
      }
      if (code !== 'CONFLICT') {
        toast(
          code === 'FORBIDDEN'
            ? 'You cannot buy your own content.'
            : code === 'INVALID_ARGUMENT' || code === 'NOT_FOUND'
              ? 'This cannot be bought any more.'
              : describeError(err),
          'error',
        );
        return;
      }
      // CONFLICT: it was already theirs.
    }
    this.details = await this.fetchDetails(this.contentId);
    await this.render();
  }

  /** Fresh signed links for the files shown (they expire after a few minutes). */
  private async renewLinks(): Promise<void> {
    const shown = this.lesson ?? this.details;
    if (!mayWatch(shown) || !shown.attachments.length) return;
    const fresh = await this.fetchDetails(shown.content.id).catch(() => undefined);
    for (const a of fresh?.attachments ?? []) {
      const link = this.root.querySelector<HTMLAnchorElement>(`a[data-attachment="${CSS.escape(a.id)}"]`);
      if (link && a.url) link.href = a.url;
    }
  }

  private fatal(err: unknown): void {
    const missing = codeOf(err) === 'NOT_FOUND' || codeOf(err) === 'INVALID_ARGUMENT';
    this.root.replaceChildren(
      h(
        'section',
        { class: 'card narrow' },
        h('h1', {}, missing ? 'Nothing here' : 'This page could not be loaded'),
        h('p', {}, missing ? 'This lesson or course does not exist (any more).' : describeError(err)),
        h('a', { class: 'button', href: '/' }, 'Back to the home page'),
      ),
    );
  }
}

const LAST_LESSON_KEY = 'lectern.lastLesson.';

/** The lesson of a course last played in this browser (the API keeps progress per lesson only). */
function lastLesson(courseId: string): string | null {
  try {
    return localStorage.getItem(LAST_LESSON_KEY + courseId);
  } catch {
    return null;
  }
}

function rememberLesson(courseId: string, lessonId: string): void {
  try {
    localStorage.setItem(LAST_LESSON_KEY + courseId, lessonId);
  } catch {
    // Not kept: the course opens on its first lesson next time.
  }
}

function fileKind(mime: string): string {
  if (mime === 'application/pdf') return 'PDF';
  if (mime.startsWith('image/')) return `${mime.slice(6).toUpperCase()} image`;
  return 'File';
}

async function main(): Promise<void> {
  const shell = startShell({ wallet: true });
  const id = decodeURIComponent(location.pathname.split('/')[2] ?? '');
  await new ContentPage(shell, id).start();
}

main().catch((err) => {
  console.error(err);
  toast(codeOf(err) ? describeError(err) : 'Something went wrong: reload the page to try again.', 'error');
});
