import type { Attachment, Content, ContentKind, CreatorProfile, MediaInfo, SyllabusItem } from '../../../protocol';
import { api } from '../lib/api';
import { authForm } from '../lib/auth';
import { AttachmentsPanel, CoverPanel, VideoPanel } from '../lib/content-media';
import { busy, byId, h, show } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { duration, money, perPeriod, toAmountText, toMinorUnits } from '../lib/format';
import { formatNumber, messages } from '../lib/i18n';
import { renderMarkdown } from '../lib/markdown';
import { statusLabel } from '../lib/media-status';
import { fillText } from '../lib/page-text';
import { replaysSection } from '../lib/replay-manager';
import { isCreator, type Session } from '../lib/session';
import { coverOf, KIND_LABELS, startShell } from '../lib/shell';
import { toast } from '../lib/toast';
import { serverLimits } from '../lib/upload';

const t = messages({
  en: {
    title: 'Content manager — Lectern',
    topbar: 'Content manager',
    loading: 'Loading…',
    maxTags: 'At most 20 tags.',
    tagRules: 'Tags are short words or phrases separated by commas (letters, digits, spaces and _.+#-).',
    yourContents: 'Your lessons and courses',
    newLesson: 'New lesson',
    newCourse: 'New course',
    newBundle: 'New bundle',
    listHeading: 'Lessons, courses and bundles',
    loadingReplays: 'Loading your replays…',
    contentsNotLoaded: 'Your contents could not be loaded.',
    nothingYet: 'Nothing yet. Start with a lesson: a title, a price and a video. Group lessons into courses later.',
    free: 'Free',
    noVideoYet: 'no video yet',
    videoLength: (length: string) => `video ${length}`,
    freeTrialFact: 'free trial',
    items: (n: number) => (n === 1 ? '1 item' : `${formatNumber(n)} items`),
    videoState: (state: string) => `video: ${state}`,
    edit: 'Edit',
    view: 'View',
    editNamed: (title: string) => `Edit ${title}`,
    viewNamed: (title: string) => `View ${title}`,
    savePrice: 'Save price',
    stopOffering: 'Stop offering',
    notOffered: 'Not offered',
    subscription: 'Subscription',
    subscriptionNote:
      'Subscribers watch your streams for subscribers, and their replays, for as long as they are subscribed.',
    pricePerMonth: (currency: string) => `Price per month (${currency})`,
    subscriptionsClosed: 'Subscriptions closed.',
    subscriptionSaved: 'Subscription price saved.',
    priceNotAccepted: 'That price is not accepted: try a smaller amount.',
    enterMonthly: (example: string) => `Enter a monthly price, such as ${example}.`,
    itemsInOrder: 'Items, in order',
    docEdit: (title: string) => `Edit ${title} — Lectern`,
    newKind: (kind: ContentKind): string =>
      kind === 'lesson' ? 'New lesson' : kind === 'course' ? 'New course' : 'New bundle',
    allContents: '← All your contents',
    viewPage: 'View its page',
    sidePanels: 'Video, cover and files',
    next: 'Next',
    nextLesson: 'Create the lesson first; then upload its video, a cover and files.',
    nextOther: 'Create it first; then add a cover and files.',
    saveChanges: 'Save changes',
    createKind: (kind: ContentKind): string =>
      kind === 'lesson' ? 'Create lesson' : kind === 'course' ? 'Create course' : 'Create bundle',
    details: 'Details',
    titleLabel: 'Title',
    description: 'Description',
    descriptionHint: 'What buyers learn, who it is for. Shown to everyone.',
    price: (currency: string) => `Price (${currency})`,
    priceHint: '0 makes it free for everyone',
    tags: 'Tags',
    tagsPlaceholder: 'math, algebra',
    tagsHint: 'Separated by commas',
    freeTrial: 'Free trial: anyone can watch this lesson, signed in or not',
    write: 'Write',
    preview: 'Preview',
    nothingWritten: 'Nothing written yet.',
    notes: 'Notes',
    notesView: 'Notes view',
    notesHint:
      'For buyers, under the video. Markdown: # heading, **bold**, *italic*, `code`, - lists, [links](https://…).',
    anItem: 'An item',
    add: 'Add',
    syllabusLegend: 'Syllabus: its lessons, in order',
    bundleLegend: 'In this bundle, in order',
    moveUp: (title: string) => `Move ${title} up`,
    moveDown: (title: string) => `Move ${title} down`,
    removeItem: (title: string) => `Remove ${title}`,
    emptySyllabus: 'Nothing in it yet: add lessons below.',
    oneByOne: (total: string) => `Bought one by one, these cost ${total}.`,
    option: (title: string, kind: string) => `${title} (${kind.toLowerCase()})`,
    noMoreLessons: 'No more lessons to add',
    nothingMore: 'Nothing more to add',
    giveTitle: 'Give it a title.',
    enterPrice: (example: string) => `Enter a price, such as ${example} (or 0 for free).`,
    saved: 'Saved.',
    createdUpload: (kind: string) => `${kind} created. Now upload its video.`,
    created: (kind: string) => `${kind} created.`,
    notAccepted: 'Some of this was not accepted: check the title, the price, the tags and the items.',
    onlyCreator: 'Only its creator can change this.',
    archiveKind: (kind: ContentKind): string =>
      kind === 'lesson' ? 'Archive this lesson…' : kind === 'course' ? 'Archive this course…' : 'Archive this bundle…',
    archive: 'Archive',
    cancel: 'Cancel',
    archiveNote: 'It leaves your catalog and cannot be bought any more. Buyers keep it.',
    archived: (title: string) => `“${title}” archived.`,
    viewerAccount: (name: string) => `${name} is a viewer account. Create a creator account to sell lessons.`,
    signInCreator: 'Sign in with a creator account to manage your lessons and courses.',
    nothingToEdit: 'Nothing to edit here',
    gone: 'This content does not exist (any more).',
    allYourContents: 'All your contents',
    notYours: 'Not yours to edit',
    anotherCreator: 'This content belongs to another creator.',
    seePage: 'See its page',
    reload: 'Something went wrong: reload the page to try again.',
  },
  'zh-CN': {
    title: '内容管理 — Lectern',
    topbar: '内容管理',
    loading: '加载中…',
    maxTags: '最多 20 个标签。',
    tagRules: '标签是用逗号分隔的短词或短语（字母、数字、空格及 _.+#-）。',
    yourContents: '你的课程与系列课',
    newLesson: '新建单节课',
    newCourse: '新建系列课',
    newBundle: '新建合集',
    listHeading: '单节课、系列课与合集',
    loadingReplays: '正在加载你的回放…',
    contentsNotLoaded: '你的内容加载失败。',
    nothingYet: '还没有内容。先从一节课开始：标题、价格和视频。以后可以把多节课组成系列课。',
    free: '免费',
    noVideoYet: '暂无视频',
    videoLength: (length: string) => `视频 ${length}`,
    freeTrialFact: '免费试看',
    items: (n: number) => `${formatNumber(n)} 项内容`,
    videoState: (state: string) => `视频：${state}`,
    edit: '编辑',
    view: '查看',
    editNamed: (title: string) => `编辑《${title}》`,
    viewNamed: (title: string) => `查看《${title}》`,
    savePrice: '保存价格',
    stopOffering: '停止订阅',
    notOffered: '未开放',
    subscription: '订阅',
    subscriptionNote: '订阅用户在订阅期间可以观看你的订阅专享直播及其回放。',
    pricePerMonth: (currency: string) => `每月价格（${currency}）`,
    subscriptionsClosed: '已关闭订阅。',
    subscriptionSaved: '订阅价格已保存。',
    priceNotAccepted: '这个价格无法接受，请设置得低一些。',
    enterMonthly: (example: string) => `请输入每月价格，例如 ${example}。`,
    itemsInOrder: '内容（按顺序）',
    docEdit: (title: string) => `编辑《${title}》— Lectern`,
    newKind: (kind: ContentKind): string =>
      kind === 'lesson' ? '新建单节课' : kind === 'course' ? '新建系列课' : '新建合集',
    allContents: '← 全部内容',
    viewPage: '查看内容页',
    sidePanels: '视频、封面和资料',
    next: '下一步',
    nextLesson: '先创建这节课，然后上传视频、封面和资料。',
    nextOther: '先创建它，然后添加封面和资料。',
    saveChanges: '保存修改',
    createKind: (kind: ContentKind): string =>
      kind === 'lesson' ? '创建单节课' : kind === 'course' ? '创建系列课' : '创建合集',
    details: '基本信息',
    titleLabel: '标题',
    description: '简介',
    descriptionHint: '能学到什么、适合谁。所有人可见。',
    price: (currency: string) => `价格（${currency}）`,
    priceHint: '填 0 表示所有人免费',
    tags: '标签',
    tagsPlaceholder: '数学, 代数',
    tagsHint: '用逗号分隔',
    freeTrial: '免费试看：任何人都能看这节课，无论是否登录',
    write: '编辑',
    preview: '预览',
    nothingWritten: '还没有写内容。',
    notes: '讲义',
    notesView: '讲义视图',
    notesHint: '购买者可在视频下方看到。支持 Markdown：# 标题、**粗体**、*斜体*、`代码`、- 列表、[链接](https://…)。',
    anItem: '一项内容',
    add: '添加',
    syllabusLegend: '课程目录（按顺序）',
    bundleLegend: '合集内容（按顺序）',
    moveUp: (title: string) => `上移《${title}》`,
    moveDown: (title: string) => `下移《${title}》`,
    removeItem: (title: string) => `移除《${title}》`,
    emptySyllabus: '里面还没有内容：在下方添加课程。',
    oneByOne: (total: string) => `单独购买这些内容共需 ${total}。`,
    option: (title: string, kind: string) => `${title}（${kind}）`,
    noMoreLessons: '没有更多可添加的课了',
    nothingMore: '没有更多可添加的内容了',
    giveTitle: '请填写标题。',
    enterPrice: (example: string) => `请输入价格，例如 ${example}（免费填 0）。`,
    saved: '已保存。',
    createdUpload: (kind: string) => `${kind}已创建，现在上传视频吧。`,
    created: (kind: string) => `${kind}已创建。`,
    notAccepted: '部分内容无法接受：请检查标题、价格、标签和包含的内容。',
    onlyCreator: '只有创作者本人可以修改。',
    archiveKind: (kind: ContentKind): string =>
      kind === 'lesson' ? '下架这节课…' : kind === 'course' ? '下架这门系列课…' : '下架这个合集…',
    archive: '下架',
    cancel: '取消',
    archiveNote: '下架后将从你的目录中移除，无法再购买。已购买的用户仍可观看。',
    archived: (title: string) => `《${title}》已下架。`,
    viewerAccount: (name: string) => `${name} 是观众账号。注册一个创作者账号才能售卖课程。`,
    signInCreator: '使用创作者账号登录，管理你的课程和系列课。',
    nothingToEdit: '这里没有可编辑的内容',
    gone: '这个内容不存在（或已下架）。',
    allYourContents: '全部内容',
    notYours: '不能编辑',
    anotherCreator: '这个内容属于其他创作者。',
    seePage: '查看内容页',
    reload: '出了点问题，请刷新页面重试。',
  },
});

/**
 * The content manager (`/studio/contents`): a creator's lessons, courses and bundles (create,
 * edit, syllabus, video, cover, files, archive), their replays (preview, trim, sell as a lesson,
 * delete) and their subscription price. `?edit=<id>` edits one; `?new=lesson|course|bundle`
 * creates one.
 */

interface Details {
  content: Content;
  syllabus?: SyllabusItem[];
  notes?: string;
  attachments: Attachment[];
}

const FLASH_KEY = 'lectern.flash';
const TAG = /^[\p{L}\p{N}][\p{L}\p{N} _.+#-]*$/u;
const SUBSCRIPTION_DAYS = 30;

const root = () => byId('manager');

/** A message shown once on the next page (after a redirect). */
function flash(message: string): void {
  sessionStorage.setItem(FLASH_KEY, message);
}
function showFlash(): void {
  const message = sessionStorage.getItem(FLASH_KEY);
  if (message) toast(message, 'success');
  sessionStorage.removeItem(FLASH_KEY);
}

let ids = 0;
function field(label: string, input: HTMLElement & { id: string; name?: string }, hint?: string): HTMLElement {
  input.id ||= `${input.name || 'field'}-${++ids}`;
  return h('label', { for: input.id }, label, input, hint ? h('span', { class: 'hint' }, hint) : null);
}

function parseTags(text: string): string[] | string {
  const tags = [
    ...new Set(
      text
        .split(',')
        .map((tag) => tag.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  if (tags.length > 20) return t.maxTags;
  if (tags.some((tag) => tag.length > 40 || !TAG.test(tag))) return t.tagRules;
  return tags;
}

async function myContents(session: Session): Promise<Content[]> {
  const { contents } = await api<{ contents: Content[] }>(
    'GET',
    `/api/contents?creatorId=${encodeURIComponent(session.user.id)}&limit=100`,
  );
  return contents;
}

// --- the overview --------------------------------------------------------------------------------

async function overview(session: Session, currency: string): Promise<void> {
  document.title = t.title;
  const list = h('ul', { class: 'manage-list', 'aria-live': 'polite' }, h('li', { class: 'muted' }, t.loading));
  const head = h(
    'div',
    { class: 'manage-head' },
    h('h1', {}, t.yourContents),
    h(
      'div',
      { class: 'row buttons' },
      h('a', { class: 'button primary', href: '?new=lesson' }, t.newLesson),
      h('a', { class: 'button', href: '?new=course' }, t.newCourse),
      h('a', { class: 'button', href: '?new=bundle' }, t.newBundle),
    ),
  );
  const contentsCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'contents-heading' },
    h('h2', { id: 'contents-heading' }, t.listHeading),
    list,
  );
  const subscription = subscriptionCard(session, currency);
  const replaysSlot = h('div', {}, h('p', { class: 'muted' }, t.loadingReplays));
  root().replaceChildren(
    head,
    h(
      'div',
      { class: 'layout' },
      h('div', { class: 'layout-main' }, contentsCard, replaysSlot),
      h('aside', { class: 'layout-side plain' }, subscription),
    ),
  );
  showFlash();

  void replaysSection(session.user.id, currency).then((section) => {
    replaysSlot.replaceWith(section);
    if (location.hash === '#replays') section.scrollIntoView();
  });

  let contents: Content[];
  try {
    contents = await myContents(session);
  } catch (err) {
    list.replaceChildren(h('li', { class: 'error' }, `${t.contentsNotLoaded} ${describeError(err)}`));
    return;
  }
  if (!contents.length) {
    list.replaceChildren(h('li', { class: 'muted empty' }, t.nothingYet));
    return;
  }
  list.replaceChildren(...contents.map((c) => contentRow(c)));
}

function contentRow(c: Content): HTMLElement {
  const facts = [KIND_LABELS[c.kind], c.price ? money(c.price, c.currency) : t.free];
  if (c.kind === 'lesson') {
    if (!c.hasVideo) facts.push(t.noVideoYet);
    else if (c.durationSeconds) facts.push(t.videoLength(duration(c.durationSeconds)));
    if (c.freeTrial) facts.push(t.freeTrialFact);
  } else {
    facts.push(t.items(c.itemIds.length));
  }
  const line = h('p', { class: 'muted small' }, facts.join(' · '));
  // A video that is neither ready nor absent: ask how it is doing.
  if (c.kind === 'lesson' && c.hasVideo && !c.durationSeconds) {
    void api<{ media: MediaInfo }>('GET', `/api/contents/${c.id}/media`)
      .then(({ media }) => {
        line.textContent = [...facts, t.videoState(statusLabel(media).toLowerCase())].join(' · ');
      })
      .catch(() => undefined);
  }
  return h(
    'li',
    { 'data-content': c.id },
    coverOf(c.coverUrl, c.title, 'thumb'),
    h('div', { class: 'manage-main' }, h('b', {}, c.title), line),
    h(
      'div',
      { class: 'manage-actions' },
      h('a', { class: 'button small', href: `?edit=${c.id}`, 'aria-label': t.editNamed(c.title) }, t.edit),
      h('a', { class: 'button small ghost', href: `/content/${c.id}`, 'aria-label': t.viewNamed(c.title) }, t.view),
    ),
  );
}

function subscriptionCard(session: Session, currency: string): HTMLElement {
  const now = h('p', { class: 'subscription-now', role: 'status' }, '…');
  const example = toAmountText(999, currency);
  const price = h('input', { name: 'subscriptionPrice', inputMode: 'decimal', placeholder: example });
  const error = h('p', { class: 'error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'primary' }, t.savePrice);
  const stop = h('button', { type: 'button', class: 'ghost', hidden: true }, t.stopOffering);
  let profile: CreatorProfile | undefined;
  const render = () => {
    const p = profile?.subscriptionPrice;
    now.textContent = p
      ? `${money(p, currency)}${perPeriod(profile?.subscriptionPeriodDays ?? SUBSCRIPTION_DAYS)}`
      : t.notOffered;
    show(stop, !!p);
    if (p) price.value = toAmountText(p, currency);
  };
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'subscription-heading' },
    h('h2', { id: 'subscription-heading' }, t.subscription),
    now,
    h('p', { class: 'muted small' }, t.subscriptionNote),
    field(t.pricePerMonth(currency), price),
    error,
    h('div', { class: 'row buttons' }, save, stop),
  );
  const update = (subscriptionPrice: number | null, button: HTMLButtonElement) =>
    busy(button, async () => {
      try {
        profile = (
          await api<{ profile: CreatorProfile }>('PATCH', '/api/creators/me', {
            subscriptionPrice,
            subscriptionPeriodDays: SUBSCRIPTION_DAYS,
          })
        ).profile;
        error.textContent = '';
        if (subscriptionPrice === null) price.value = '';
        render();
        toast(subscriptionPrice === null ? t.subscriptionsClosed : t.subscriptionSaved, 'success');
      } catch (err) {
        error.textContent = codeOf(err) === 'INVALID_ARGUMENT' ? t.priceNotAccepted : describeError(err);
      }
    });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const amount = toMinorUnits(price.value, { currency });
    if (Number.isNaN(amount)) {
      error.textContent = t.enterMonthly(example);
      return;
    }
    void update(amount, save);
  });
  stop.addEventListener('click', () => void update(null, stop));
  api<{ profile: CreatorProfile }>('GET', `/api/creators/${session.user.id}`)
    .then((r) => {
      profile = r.profile;
      render();
    })
    .catch(() => {
      now.textContent = t.notOffered;
    });
  return form;
}

// --- the editor ------------------------------------------------------------------------------------

class Editor {
  private readonly title = h('input', { name: 'title', required: true, maxLength: 200, autocomplete: 'off' });
  private readonly description = h('textarea', { name: 'description', maxLength: 5000, rows: 4 });
  private readonly price = h('input', { name: 'price', inputMode: 'decimal', required: true, value: '5' });
  private readonly tags = h('input', { name: 'tags', placeholder: t.tagsPlaceholder, autocomplete: 'off' });
  private readonly freeTrial = h('input', { type: 'checkbox', name: 'freeTrial' });
  private readonly notes = h('textarea', { name: 'notes', maxLength: 50_000, rows: 10, spellcheck: true });
  private readonly error = h('p', { class: 'error', role: 'alert' });
  private readonly save = h('button', { type: 'submit', class: 'primary big' });
  private items: string[] = [];
  private readonly itemList = h('ol', { class: 'item-picker', 'aria-label': t.itemsInOrder });
  private readonly itemTotal = h('p', { class: 'muted small' });
  private readonly addSelect = h('select', { name: 'add-item' });
  private catalog: Content[] = [];

  constructor(
    private readonly session: Session,
    private readonly currency: string,
    private readonly kind: ContentKind,
    private readonly details?: Details,
  ) {}

  async open(): Promise<void> {
    const existing = this.details?.content;
    document.title = existing ? t.docEdit(existing.title) : `${t.newKind(this.kind)} — Lectern`;
    if (this.kind !== 'lesson') {
      try {
        this.catalog = await myContents(this.session);
      } catch {
        this.catalog = [];
      }
    }
    this.fill();
    const head = h(
      'div',
      { class: 'manage-head' },
      h(
        'div',
        {},
        h('a', { href: '/studio/contents', class: 'small' }, t.allContents),
        h('h1', {}, existing ? existing.title : t.newKind(this.kind)),
      ),
      existing ? h('a', { class: 'button', href: `/content/${existing.id}` }, t.viewPage) : null,
    );
    const side = h('aside', { class: 'layout-side plain panel-stack', 'aria-label': t.sidePanels });
    if (existing) {
      if (this.kind === 'lesson') {
        const video = new VideoPanel(existing);
        side.append(video.element);
        void video.refresh();
      }
      side.append(
        new CoverPanel(existing).element,
        new AttachmentsPanel(existing.id, this.details?.attachments ?? []).element,
        this.archiveCard(existing),
      );
    } else {
      side.append(
        h(
          'section',
          { class: 'card' },
          h('h2', {}, t.next),
          h('p', { class: 'muted' }, this.kind === 'lesson' ? t.nextLesson : t.nextOther),
        ),
      );
    }
    root().replaceChildren(head, h('div', { class: 'layout' }, h('div', { class: 'layout-main' }, this.form()), side));
    showFlash();
    if (!existing) this.title.focus();
  }

  private fill(): void {
    const c = this.details?.content;
    if (!c) return;
    this.title.value = c.title;
    this.description.value = c.description;
    this.price.value = toAmountText(c.price, this.currency);
    this.tags.value = c.tags.join(', ');
    this.freeTrial.checked = c.freeTrial;
    this.notes.value = this.details?.notes ?? '';
    // The syllabus as the server shows it: archived items are no longer in it.
    this.items = (this.details?.syllabus ?? []).map((i) => i.id);
  }

  private form(): HTMLFormElement {
    const existing = this.details?.content;
    this.save.textContent = existing ? t.saveChanges : t.createKind(this.kind);
    const parts: (HTMLElement | null)[] = [
      h('h2', {}, t.details),
      field(t.titleLabel, this.title),
      field(t.description, this.description, t.descriptionHint),
      h(
        'div',
        { class: 'row top' },
        field(t.price(this.currency), this.price, t.priceHint),
        field(t.tags, this.tags, t.tagsHint),
      ),
    ];
    if (this.kind === 'lesson') {
      parts.push(h('label', { class: 'check' }, this.freeTrial, h('span', {}, t.freeTrial)), this.notesEditor());
    } else {
      parts.push(this.syllabusEditor());
    }
    parts.push(this.error, this.save);
    const form = h('form', { class: 'card form', 'aria-label': t.details }, ...parts);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(this.save, () => this.submit());
    });
    return form;
  }

  private notesEditor(): HTMLElement {
    const preview = h('div', { class: 'markdown notice', hidden: true, 'aria-live': 'polite' });
    const write = h('button', { type: 'button', class: 'small', 'aria-pressed': 'true' }, t.write);
    const look = h('button', { type: 'button', class: 'small', 'aria-pressed': 'false' }, t.preview);
    const mode = (previewing: boolean) => {
      if (previewing) {
        if (this.notes.value.trim()) preview.innerHTML = renderMarkdown(this.notes.value, { headingOffset: 2 });
        else preview.replaceChildren(h('p', {}, t.nothingWritten));
      }
      show(preview, previewing);
      show(this.notes, !previewing);
      write.setAttribute('aria-pressed', String(!previewing));
      look.setAttribute('aria-pressed', String(previewing));
    };
    write.addEventListener('click', () => mode(false));
    look.addEventListener('click', () => mode(true));
    this.notes.id = 'notes';
    return h(
      'div',
      { class: 'form' },
      h(
        'div',
        { class: 'row buttons spread' },
        h('label', { for: 'notes' }, t.notes),
        h('div', { class: 'tabs', role: 'group', 'aria-label': t.notesView }, write, look),
      ),
      this.notes,
      preview,
      h('span', { class: 'hint' }, t.notesHint),
    );
  }

  // --- syllabus ----------------------------------------------------------------------------------

  private allowed(c: Content): boolean {
    if (c.id === this.details?.content.id) return false;
    return this.kind === 'course' ? c.kind === 'lesson' : c.kind === 'lesson' || c.kind === 'course';
  }

  private titleOf(id: string): { title: string; kind: ContentKind; price: number; durationSeconds: number | null } {
    const c = this.catalog.find((x) => x.id === id) ?? this.details?.syllabus?.find((x) => x.id === id);
    return c
      ? { title: c.title, kind: c.kind, price: c.price, durationSeconds: c.durationSeconds }
      : { title: t.anItem, kind: 'lesson', price: 0, durationSeconds: null };
  }

  private syllabusEditor(): HTMLElement {
    const add = h('button', { type: 'button' }, t.add);
    add.addEventListener('click', () => {
      if (!this.addSelect.value) return;
      this.items.push(this.addSelect.value);
      this.renderItems();
      this.addSelect.focus();
    });
    this.addSelect.id = 'add-item';
    this.renderItems();
    return h(
      'fieldset',
      { class: 'form syllabus-editor' },
      h('legend', {}, this.kind === 'course' ? t.syllabusLegend : t.bundleLegend),
      this.itemList,
      this.itemTotal,
      h('div', { class: 'row' }, h('label', { for: 'add-item', class: 'grow' }, t.add, this.addSelect), add),
    );
  }

  private renderItems(): void {
    const move = (from: number, to: number) => {
      const [id] = this.items.splice(from, 1);
      this.items.splice(to, 0, id);
      this.renderItems();
      // Keep the keyboard on the item that moved: the same arrow, or the other one at an end.
      const row = this.itemList.querySelectorAll('li')[to];
      const same = row?.querySelector<HTMLButtonElement>(from < to ? '.down' : '.up');
      (same && !same.disabled ? same : row?.querySelector<HTMLButtonElement>(from < to ? '.up' : '.down'))?.focus();
    };
    this.itemList.replaceChildren(
      ...(this.items.length
        ? this.items.map((id, n) => {
            const item = this.titleOf(id);
            const up = h(
              'button',
              { type: 'button', class: 'small ghost up', 'aria-label': t.moveUp(item.title), disabled: n === 0 },
              '↑',
            );
            const down = h(
              'button',
              {
                type: 'button',
                class: 'small ghost down',
                'aria-label': t.moveDown(item.title),
                disabled: n === this.items.length - 1,
              },
              '↓',
            );
            const remove = h(
              'button',
              { type: 'button', class: 'small ghost', 'aria-label': t.removeItem(item.title) },
              '✕',
            );
            up.addEventListener('click', () => move(n, n - 1));
            down.addEventListener('click', () => move(n, n + 1));
            remove.addEventListener('click', () => {
              this.items.splice(n, 1);
              this.renderItems();
            });
            return h(
              'li',
              {},
              h('span', { class: 'syllabus-number' }, String(n + 1)),
              h(
                'span',
                { class: 'grow' },
                item.title,
                h(
                  'span',
                  { class: 'muted small' },
                  ` · ${KIND_LABELS[item.kind]}${item.durationSeconds ? ` · ${duration(item.durationSeconds)}` : ''}`,
                ),
              ),
              up,
              down,
              remove,
            );
          })
        : [h('li', { class: 'muted' }, t.emptySyllabus)]),
    );
    const total = this.items.reduce((sum, id) => sum + this.titleOf(id).price, 0);
    this.itemTotal.textContent = this.items.length ? t.oneByOne(money(total, this.currency)) : '';
    const candidates = this.catalog.filter((c) => this.allowed(c) && !this.items.includes(c.id));
    this.addSelect.replaceChildren(
      ...(candidates.length
        ? candidates.map((c) => h('option', { value: c.id }, t.option(c.title, KIND_LABELS[c.kind])))
        : [h('option', { value: '' }, this.kind === 'course' ? t.noMoreLessons : t.nothingMore)]),
    );
    this.addSelect.disabled = !candidates.length;
  }

  // --- saving ------------------------------------------------------------------------------------

  private async submit(): Promise<void> {
    this.error.textContent = '';
    const title = this.title.value.trim();
    const price = toMinorUnits(this.price.value, { allowZero: true, currency: this.currency });
    const tags = parseTags(this.tags.value);
    if (!title) return this.fail(t.giveTitle, this.title);
    if (Number.isNaN(price)) return this.fail(t.enterPrice(toAmountText(499, this.currency)), this.price);
    if (typeof tags === 'string') return this.fail(tags, this.tags);
    const body: Record<string, unknown> = { title, description: this.description.value, price, tags };
    if (this.kind === 'lesson') {
      body.freeTrial = this.freeTrial.checked;
      body.notes = this.notes.value;
    } else {
      body.itemIds = this.items;
    }
    const existing = this.details?.content;
    try {
      if (existing) {
        const { content } = await api<{ content: Content }>('PATCH', `/api/contents/${existing.id}`, body);
        toast(t.saved, 'success');
        byId('manager').querySelector('h1')!.textContent = content.title;
      } else {
        const { content } = await api<{ content: Content }>('POST', '/api/contents', { ...body, kind: this.kind });
        flash(this.kind === 'lesson' ? t.createdUpload(KIND_LABELS[this.kind]) : t.created(KIND_LABELS[this.kind]));
        location.assign(`/studio/contents?edit=${content.id}`);
      }
    } catch (err) {
      const code = codeOf(err);
      this.fail(
        code === 'INVALID_ARGUMENT' ? t.notAccepted : code === 'FORBIDDEN' ? t.onlyCreator : describeError(err),
      );
    }
  }

  private fail(message: string, input?: HTMLElement): void {
    this.error.textContent = message;
    input?.focus();
  }

  private archiveCard(content: Content): HTMLElement {
    const ask = h('button', { type: 'button', class: 'ghost' }, t.archiveKind(content.kind));
    const yes = h('button', { type: 'button', class: 'danger' }, t.archive);
    const no = h('button', { type: 'button', class: 'ghost' }, t.cancel);
    const confirm = h(
      'div',
      { class: 'confirm', hidden: true, role: 'group', 'aria-label': t.archive },
      h('span', {}, t.archiveNote),
      yes,
      no,
    );
    ask.addEventListener('click', () => {
      show(confirm, true);
      show(ask, false);
      no.focus();
    });
    no.addEventListener('click', () => {
      show(confirm, false);
      show(ask, true);
    });
    yes.addEventListener('click', () =>
      busy(yes, async () => {
        try {
          await api('DELETE', `/api/contents/${content.id}`);
          flash(t.archived(content.title));
          location.assign('/studio/contents');
        } catch (err) {
          toast(describeError(err), 'error');
        }
      }),
    );
    return h('section', { class: 'card', 'aria-label': t.archive }, ask, confirm);
  }
}

// --- the page ----------------------------------------------------------------------------------------

function signInView(session: Session | null): void {
  root().replaceChildren(
    h(
      'section',
      { class: 'narrow' },
      session
        ? h('p', { class: 'notice' }, t.viewerAccount(session.user.username))
        : h('p', { class: 'lead' }, t.signInCreator),
      authForm({ role: 'creator', register: !!session, onSignedIn: () => location.reload() }),
    ),
  );
}

async function main(): Promise<void> {
  const { session } = startShell({ role: 'creator' });
  fillText(t);
  document.title = t.title;
  if (!session || !isCreator(session)) return signInView(session);
  // Prices are typed in the deployment's currency (what new contents are priced in).
  const currency = await serverLimits().then(
    (l) => l.currency,
    () => 'USD',
  );
  const params = new URLSearchParams(location.search);
  const editId = params.get('edit');
  const kind = params.get('new');
  if (editId) {
    let details: Details;
    try {
      details = await api<Details>('GET', `/api/contents/${encodeURIComponent(editId)}`);
    } catch (err) {
      root().replaceChildren(
        h(
          'section',
          { class: 'card narrow' },
          h('h1', {}, t.nothingToEdit),
          h('p', {}, codeOf(err) === 'NOT_FOUND' ? t.gone : describeError(err)),
          h('a', { class: 'button', href: '/studio/contents' }, t.allYourContents),
        ),
      );
      return;
    }
    if (details.content.creatorId !== session.user.id && session.user.role !== 'admin') {
      root().replaceChildren(
        h(
          'section',
          { class: 'card narrow' },
          h('h1', {}, t.notYours),
          h('p', {}, t.anotherCreator),
          h('a', { class: 'button', href: `/content/${details.content.id}` }, t.seePage),
        ),
      );
      return;
    }
    return new Editor(session, currency, details.content.kind, details).open();
  }
  if (kind === 'lesson' || kind === 'course' || kind === 'bundle') return new Editor(session, currency, kind).open();
  return overview(session, currency);
}

main().catch((err) => {
  console.error(err);
  toast(codeOf(err) ? describeError(err) : t.reload, 'error');
});
