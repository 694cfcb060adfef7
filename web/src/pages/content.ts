import { newIdempotencyKey } from '@lectern/client-sdk';
import type {
  Attachment,
  Content,
  ContentKind,
  CreatorProfile,
  MediaInfo,
  Purchase,
  SyllabusItem,
  WatchProgress,
} from '../../../protocol';
import { api } from '../lib/api';
import { busy, byId, h, show } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { duration, fileSize, money } from '../lib/format';
import { formatNumber, messages } from '../lib/i18n';
import { renderMarkdown } from '../lib/markdown';
import { ownedContents } from '../lib/owned';
import { fillText } from '../lib/page-text';
import { Player } from '../lib/player';
import { coverOf, KIND_LABELS, lockIcon, type Shell, startShell } from '../lib/shell';
import { spend } from '../lib/spend';
import { exposeForTests } from '../lib/test-hook';
import { toast } from '../lib/toast';

const t = messages({
  en: {
    loading: 'Loading…',
    aboutThis: 'About this content',
    courseFiles: 'Course files',
    files: 'Files',
    noVideoYet: 'This lesson has no video yet.',
    lessonOf: (n: number, total: number) => `Lesson ${n} of ${total}`,
    freeTrial: 'Free trial',
    notes: 'Notes',
    watchFree: (title: string) => `Watch “${title}” free`,
    yoursToWatch: 'Yours to watch',
    chooseFromList: 'Choose a course or a lesson from the list.',
    nothingInIt: 'Nothing in it yet.',
    buyToWatch: (kind: ContentKind): string =>
      kind === 'lesson'
        ? 'Buy this lesson to watch it'
        : kind === 'course'
          ? 'Buy this course to watch it'
          : 'Buy this bundle to watch it',
    yoursToKeep: (price: string) => `${price}, yours to keep: watch it whenever you like, from where you stopped.`,
    buyFor: (price: string) => `Buy — ${price}`,
    buy: 'Buy',
    signInToWatch: 'Sign in to watch',
    signIn: 'Sign in',
    about: 'About',
    items: (n: number) => (n === 1 ? '1 item' : `${formatNumber(n)} items`),
    aVideo: (length: string) => `A ${length} video`,
    lessons: (n: number) => (n === 1 ? '1 lesson' : `${formatNumber(n)} lessons`),
    teacherNotes: 'Notes from the teacher',
    filesToDownload: (n: number) => (n === 1 ? '1 file to download' : `${formatNumber(n)} files to download`),
    resumeAnywhere: 'Resume where you stopped, on any device',
    askedToSignIn: 'You will be asked to sign in first.',
    yours: 'Yours',
    thisIsYour: (kind: ContentKind): string =>
      kind === 'lesson' ? 'This is your lesson.' : kind === 'course' ? 'This is your course.' : 'This is your bundle.',
    freeToWatch: 'Free to watch.',
    inLibrary: 'Owned ✓ — in your library',
    editIt: 'Edit in the content manager',
    openLibrary: 'Open your library',
    syllabus: 'Syllabus',
    inBundle: 'In this bundle',
    noVideo: 'No video yet',
    locked: 'Locked',
    owned: 'Owned',
    filesIncluded: 'Files included',
    downloadOnceBought: 'Yours to download once you buy.',
    upNext: (seconds: number, title: string) => `Up next in ${seconds} s: ${title}`,
    playNow: 'Play now',
    stayHere: 'Stay here',
    enjoy: (title: string) => `${title} is yours. Enjoy!`,
    ownBuying: 'You cannot buy your own content.',
    notForSale: 'This cannot be bought any more.',
    nothingHere: 'Nothing here',
    notLoaded: 'This page could not be loaded',
    missing: 'This lesson or course does not exist (any more).',
    home: 'Back to the home page',
    reload: 'Something went wrong: reload the page to try again.',
    // Upgrade pricing: part of it is owned already.
    youPay: (price: string, owned: number, total: number, kind: ContentKind) =>
      `You pay ${price} — you own ${formatNumber(owned)} of its ${formatNumber(total)} ${kind === 'course' ? 'lessons' : 'items'}`,
    credit: (credit: string) => `The ${credit} you already paid for its items is taken off the price.`,
    allOwned: (kind: ContentKind): string =>
      kind === 'course' ? 'You already own every lesson of this course.' : 'You already own everything in this bundle.',
    paidEnough: (kind: ContentKind) =>
      `You have already paid as much for what is in this ${kind === 'course' ? 'course' : 'bundle'} as it costs: there is nothing more to buy.`,
    pdf: 'PDF',
    image: (type: string) => `${type} image`,
    file: 'File',
    alreadyOwned: 'You already own this.',
  },
  'zh-CN': {
    loading: '加载中…',
    aboutThis: '内容介绍',
    courseFiles: '课程资料',
    files: '资料',
    noVideoYet: '这节课还没有视频。',
    lessonOf: (n: number, total: number) => `第 ${n} 节，共 ${total} 节`,
    freeTrial: '免费试看',
    notes: '讲义',
    watchFree: (title: string) => `免费观看《${title}》`,
    yoursToWatch: '你可以观看',
    chooseFromList: '从列表中选择一门系列课或一节课。',
    nothingInIt: '里面还没有内容。',
    buyToWatch: (kind: ContentKind): string =>
      kind === 'lesson'
        ? '购买这节课后即可观看'
        : kind === 'course'
          ? '购买这门系列课后即可观看'
          : '购买这个合集后即可观看',
    yoursToKeep: (price: string) => `${price}，买了就是你的：随时观看，从上次停下的地方继续。`,
    buyFor: (price: string) => `购买 — ${price}`,
    buy: '购买',
    signInToWatch: '登录后观看',
    signIn: '登录',
    about: '简介',
    items: (n: number) => `${formatNumber(n)} 项内容`,
    aVideo: (length: string) => `${length} 的视频`,
    lessons: (n: number) => `${formatNumber(n)} 节课`,
    teacherNotes: '老师的讲义',
    filesToDownload: (n: number) => `${formatNumber(n)} 个可下载的资料`,
    resumeAnywhere: '在任何设备上从上次停下的地方继续看',
    askedToSignIn: '购买前需要先登录。',
    yours: '已拥有',
    thisIsYour: (kind: ContentKind): string =>
      kind === 'lesson' ? '这是你的单节课。' : kind === 'course' ? '这是你的系列课。' : '这是你的合集。',
    freeToWatch: '免费观看。',
    inLibrary: '已拥有 ✓ — 在“我的内容”里',
    editIt: '在内容管理中编辑',
    openLibrary: '打开我的内容',
    syllabus: '课程目录',
    inBundle: '合集内容',
    noVideo: '暂无视频',
    locked: '未解锁',
    owned: '已拥有',
    filesIncluded: '附带资料',
    downloadOnceBought: '购买后即可下载。',
    upNext: (seconds: number, title: string) => `${seconds} 秒后播放下一节：${title}`,
    playNow: '立即播放',
    stayHere: '留在这里',
    enjoy: (title: string) => `《${title}》已购买成功，祝学习愉快！`,
    ownBuying: '不能购买自己的内容。',
    notForSale: '这个内容已经不再出售。',
    nothingHere: '这里什么都没有',
    notLoaded: '页面加载失败',
    missing: '这节课或系列课不存在（或已下架）。',
    home: '返回首页',
    reload: '出了点问题，请刷新页面重试。',
    youPay: (price: string, owned: number, total: number, kind: ContentKind) =>
      `你只需支付 ${price} — ${formatNumber(total)} ${kind === 'course' ? '节课' : '项内容'}中你已拥有 ${formatNumber(owned)} ${kind === 'course' ? '节' : '项'}`,
    credit: (credit: string) => `你已为其中内容支付的 ${credit} 已从价格中扣除。`,
    allOwned: (kind: ContentKind): string =>
      kind === 'course' ? '这门系列课的每节课你都已拥有。' : '这个合集里的内容你都已拥有。',
    paidEnough: (kind: ContentKind) =>
      `你为这个${kind === 'course' ? '系列课' : '合集'}里的内容支付的金额已经不低于它的价格，无需再购买。`,
    pdf: 'PDF',
    image: (type: string) => `${type} 图片`,
    file: '文件',
    alreadyOwned: '你已经拥有这个内容。',
  },
});

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
  /** A course or bundle the signed-in viewer owns part of: what it costs them (upgrade pricing). */
  upgrade?: { yourPrice: number; credit: number; ownedItems: number; items: number };
}

/** Seconds before the next lesson starts by itself. */
const UP_NEXT_SECONDS = 5;
/** Attachment links are signed for a few minutes: they are renewed before that. */
const RENEW_LINKS_MS = 4 * 60_000;

const mayWatch = (d: Details) => d.canWatch;

class ContentPage {
  private details!: Details;
  /** Contents the viewer owns (a course's lessons bought one by one show as theirs). */
  private owned = new Set<string>();
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
      [this.details, this.owned] = await Promise.all([this.fetchDetails(this.contentId), ownedContents()]);
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

  /** Lessons of the syllabus this viewer can play now: theirs, or free. */
  private playable(item: SyllabusItem): boolean {
    return (
      item.kind === 'lesson' &&
      (mayWatch(this.details) || this.owned.has(item.id) || item.freeTrial || item.price === 0)
    );
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
    const side = h('aside', { class: 'layout-side', 'aria-label': t.aboutThis });
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
    else if (this.isCourse && attachments.length) side.append(this.files(attachments, t.courseFiles));
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
          h('div', { class: 'stage-overlay' }, h('p', {}, t.noVideoYet)),
        ),
      );
    }
    if (this.isCourse) {
      const position = (this.details.syllabus ?? []).findIndex((i) => i.id === content.id);
      elements.push(
        h(
          'div',
          { class: 'lesson-head' },
          h('p', { class: 'muted small' }, t.lessonOf(position + 1, this.details.syllabus?.length ?? 0)),
          h('h2', {}, content.title),
          !mayWatch(this.details) && content.freeTrial ? h('span', { class: 'badge trial' }, t.freeTrial) : null,
        ),
      );
    }
    if (lesson.notes?.trim()) {
      const notes = h('div', { class: 'markdown' });
      notes.innerHTML = renderMarkdown(lesson.notes, { headingOffset: 2 });
      elements.push(h('section', { class: 'card', 'aria-label': t.notes }, h('h2', {}, t.notes), notes));
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
            t.watchFree(trial.title),
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
        h('h2', {}, t.yoursToWatch),
        h('p', {}, this.details.syllabus?.length ? t.chooseFromList : t.nothingInIt),
      ),
    );
  }

  /** What this viewer pays: the price, less what they paid for its items when they own some. */
  private get yourPrice(): number {
    const { content, upgrade } = this.details;
    return upgrade ? upgrade.yourPrice : content.price;
  }

  /** Nothing left to sell them: they own every item, or paid for its items as much as it costs. */
  private get nothingToBuy(): string | undefined {
    const { content, upgrade } = this.details;
    if (!upgrade) return undefined;
    if (upgrade.items > 0 && upgrade.ownedItems >= upgrade.items) return t.allOwned(content.kind);
    if (upgrade.yourPrice <= 0) return t.paidEnough(content.kind);
    return undefined;
  }

  /** "You pay ¥7.00 — you own 1 of its 2 lessons", when they own part of it. */
  private upgradeLine(): string | undefined {
    const { content, upgrade } = this.details;
    if (!upgrade || this.nothingToBuy) return undefined;
    return t.youPay(money(upgrade.yourPrice, content.currency), upgrade.ownedItems, upgrade.items, content.kind);
  }

  private paywallContent(): HTMLElement[] {
    const { content } = this.details;
    const done = this.nothingToBuy;
    if (done) return [h('h2', {}, t.yoursToWatch), h('p', {}, done)];
    const price = money(this.yourPrice, content.currency);
    const upgrade = this.upgradeLine();
    return [
      h('h2', {}, t.buyToWatch(content.kind)),
      h('p', {}, upgrade ?? t.yoursToKeep(price)),
      this.buyButton('primary big', t.buyFor(price)),
    ];
  }

  private refusedOverlay(err: unknown): HTMLElement[] | undefined {
    const code = codeOf(err);
    if (code === 'UNAUTHENTICATED') {
      return [
        h('h2', {}, t.signInToWatch),
        h('button', { type: 'button', class: 'primary', onclick: this.shell.signIn }, t.signIn),
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
      syllabus ? t.items(syllabus.length) : null,
      total ? duration(total) : content.durationSeconds ? duration(content.durationSeconds) : null,
      ...content.tags.map((t) => `#${t}`),
    ].filter(Boolean);
    return h(
      'section',
      { class: 'content-head', 'aria-label': t.about },
      h('h1', {}, content.title),
      h('p', { class: 'muted' }, meta.join(' · ')),
      content.description ? h('p', { class: 'description' }, content.description) : null,
    );
  }

  private buyButton(className: string, label: string): HTMLButtonElement {
    const button = h('button', { type: 'button', class: `${className} buy` }, label);
    button.addEventListener('click', () => void busy(button, () => this.buy()));
    return button;
  }

  private buyCard(): HTMLElement {
    const { content, syllabus, attachments, upgrade } = this.details;
    const includes = [
      content.kind === 'lesson' && content.durationSeconds ? t.aVideo(duration(content.durationSeconds)) : null,
      syllabus?.length ? t.lessons(syllabus.filter((i) => i.kind === 'lesson').length) : null,
      content.kind === 'lesson' ? t.teacherNotes : null,
      attachments.length ? t.filesToDownload(attachments.length) : null,
      t.resumeAnywhere,
    ].filter((x): x is string => !!x);
    const done = this.nothingToBuy;
    const upgradeLine = this.upgradeLine();
    return h(
      'section',
      { class: 'card buy-card', 'aria-label': t.buy },
      upgrade && !done
        ? h(
            'p',
            { class: 'price' },
            h('s', { class: 'was' }, money(content.price, content.currency)),
            ' ',
            money(this.yourPrice, content.currency),
          )
        : done
          ? null
          : h('p', { class: 'price' }, money(content.price, content.currency)),
      upgradeLine ? h('p', { class: 'upgrade-note' }, upgradeLine) : null,
      upgrade && upgradeLine && upgrade.credit > 0
        ? h('p', { class: 'muted small' }, t.credit(money(upgrade.credit, content.currency)))
        : null,
      done ? h('p', { class: 'upgrade-note' }, done) : this.buyButton('primary big', t.buy),
      h('ul', { class: 'includes' }, ...includes.map((text) => h('li', {}, text))),
      this.shell.session || done ? null : h('p', { class: 'muted small' }, t.askedToSignIn),
    );
  }

  private ownedCard(): HTMLElement {
    const { content } = this.details;
    const mine = this.shell.session?.user.id === content.creatorId;
    return h(
      'section',
      { class: 'card owned-card', 'aria-label': t.yours },
      mine
        ? h('p', {}, t.thisIsYour(content.kind))
        : content.price === 0 && !this.details.owned
          ? h('p', {}, t.freeToWatch)
          : h('p', { class: 'owned-mark' }, t.inLibrary),
      mine
        ? h('a', { class: 'button', href: `/studio/contents?edit=${content.id}` }, t.editIt)
        : h('a', { class: 'button', href: '/library' }, t.openLibrary),
    );
  }

  private syllabusCard(current: string | undefined): HTMLElement {
    const syllabus = this.details.syllabus ?? [];
    const items = syllabus.map((item, n) => {
      const playable = this.playable(item);
      // Theirs by itself (bought alone, or inside something else they bought), not through this one.
      const ownedHere = !mayWatch(this.details) && this.owned.has(item.id);
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
        ownedHere ? h('span', { class: 'badge owned', 'data-owned': 'true' }, t.owned) : null,
        item.freeTrial && !mayWatch(this.details) && !ownedHere
          ? h('span', { class: 'badge trial' }, t.freeTrial)
          : null,
        item.durationSeconds ? h('span', { class: 'muted small' }, duration(item.durationSeconds)) : null,
        item.kind === 'lesson' && !item.hasVideo ? h('span', { class: 'muted small' }, t.noVideo) : null,
        !playable && item.kind === 'lesson' && !ownedHere
          ? h('span', { class: 'locked-icon' }, lockIcon(), h('span', { class: 'visually-hidden' }, t.locked))
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
      { class: 'card', 'aria-labelledby': 'syllabus-heading' },
      h('h2', { id: 'syllabus-heading' }, this.details.content.kind === 'bundle' ? t.inBundle : t.syllabus),
      items.length ? h('ol', { class: 'syllabus' }, ...items) : h('p', { class: 'muted empty' }, t.nothingInIt),
    );
  }

  private files(attachments: Attachment[], title = t.files): HTMLElement {
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
      { class: 'card', 'aria-label': t.filesIncluded },
      h('h2', {}, t.filesIncluded),
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
      h('p', { class: 'muted small' }, t.downloadOnceBought),
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
      text.textContent = t.upNext(left, next.title);
    };
    tick();
    banner.replaceChildren(
      text,
      h(
        'span',
        { class: 'row buttons' },
        h('button', { type: 'button', class: 'primary small', onclick: () => this.select(next.id) }, t.playNow),
        h('button', { type: 'button', class: 'ghost small', onclick: () => this.stopUpNext() }, t.stayHere),
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

  /** Asks once (what, price, balance after), then buys; an empty wallet tops up first. */
  private async buy(): Promise<void> {
    const { content } = this.details;
    const outcome = await spend(this.shell, {
      what: content.title,
      detail: this.upgradeLine() ?? KIND_LABELS[content.kind],
      price: this.yourPrice,
      currency: content.currency,
      // One key per click on Pay: a retried or doubled request never charges twice.
      pay: (expectedPrice) =>
        api<{ purchase: Purchase; balance: number }>(
          'POST',
          '/api/purchases',
          { contentId: content.id, expectedPrice },
          { idempotencyKey: newIdempotencyKey() },
        ),
      refusal: (err: unknown) => {
        const code = codeOf(err);
        if (code === 'FORBIDDEN') return t.ownBuying;
        if (code === 'INVALID_ARGUMENT' || code === 'NOT_FOUND') return t.notForSale;
        if (code === 'CONFLICT') return this.nothingToBuy ?? t.alreadyOwned;
        return undefined;
      },
    });
    if (outcome.paid) toast(t.enjoy(content.title), 'success');
    // Paid, or refused as already theirs: the page shows what is true now.
    if (outcome.paid || codeOf(outcome.error) === 'CONFLICT') {
      [this.details, this.owned] = await Promise.all([this.fetchDetails(this.contentId), ownedContents()]);
      await this.render();
    }
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
        h('h1', {}, missing ? t.nothingHere : t.notLoaded),
        h('p', {}, missing ? t.missing : describeError(err)),
        h('a', { class: 'button', href: '/' }, t.home),
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
  if (mime === 'application/pdf') return t.pdf;
  if (mime.startsWith('image/')) return t.image(mime.slice(6).toUpperCase());
  return t.file;
}

async function main(): Promise<void> {
  const shell = startShell({ wallet: true });
  fillText(t);
  const id = decodeURIComponent(location.pathname.split('/')[2] ?? '');
  await new ContentPage(shell, id).start();
}

main().catch((err) => {
  console.error(err);
  toast(codeOf(err) ? describeError(err) : t.reload, 'error');
});
