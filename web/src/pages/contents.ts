import type { Attachment, Content, ContentKind, CreatorProfile, MediaInfo, SyllabusItem } from '../../../protocol';
import { api, walletBalance } from '../lib/api';
import { authForm } from '../lib/auth';
import { AttachmentsPanel, CoverPanel, VideoPanel } from '../lib/content-media';
import { busy, byId, h, show } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { duration, money, perPeriod, toAmountText, toMinorUnits } from '../lib/format';
import { renderMarkdown } from '../lib/markdown';
import { statusLabel } from '../lib/media-status';
import { replaysSection } from '../lib/replay-manager';
import { isCreator, type Session } from '../lib/session';
import { coverOf, KIND_LABELS, startShell } from '../lib/shell';
import { toast } from '../lib/toast';

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
        .map((t) => t.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  if (tags.length > 20) return 'At most 20 tags.';
  if (tags.some((t) => t.length > 40 || !TAG.test(t))) {
    return 'Tags are short words or phrases separated by commas (letters, digits, spaces and _.+#-).';
  }
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
  document.title = 'Content manager — Lectern';
  const list = h('ul', { class: 'manage-list', 'aria-live': 'polite' }, h('li', { class: 'muted' }, 'Loading…'));
  const head = h(
    'div',
    { class: 'manage-head' },
    h('h1', {}, 'Your lessons and courses'),
    h(
      'div',
      { class: 'row buttons' },
      h('a', { class: 'button primary', href: '?new=lesson' }, 'New lesson'),
      h('a', { class: 'button', href: '?new=course' }, 'New course'),
      h('a', { class: 'button', href: '?new=bundle' }, 'New bundle'),
    ),
  );
  const contentsCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'contents-heading' },
    h('h2', { id: 'contents-heading' }, 'Lessons, courses and bundles'),
    list,
  );
  const subscription = subscriptionCard(session, currency);
  const replaysSlot = h('div', {}, h('p', { class: 'muted' }, 'Loading your replays…'));
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
    list.replaceChildren(h('li', { class: 'error' }, `Your contents could not be loaded. ${describeError(err)}`));
    return;
  }
  if (!contents.length) {
    list.replaceChildren(
      h(
        'li',
        { class: 'muted empty' },
        'Nothing yet. Start with a lesson: a title, a price and a video. Group lessons into courses later.',
      ),
    );
    return;
  }
  list.replaceChildren(...contents.map((c) => contentRow(c)));
}

function contentRow(c: Content): HTMLElement {
  const facts = [KIND_LABELS[c.kind], c.price ? money(c.price, c.currency) : 'Free'];
  if (c.kind === 'lesson') {
    if (!c.hasVideo) facts.push('no video yet');
    else if (c.durationSeconds) facts.push(`video ${duration(c.durationSeconds)}`);
    if (c.freeTrial) facts.push('free trial');
  } else {
    facts.push(`${c.itemIds.length} ${c.itemIds.length === 1 ? 'item' : 'items'}`);
  }
  const line = h('p', { class: 'muted small' }, facts.join(' · '));
  // A video that is neither ready nor absent: ask how it is doing.
  if (c.kind === 'lesson' && c.hasVideo && !c.durationSeconds) {
    void api<{ media: MediaInfo }>('GET', `/api/contents/${c.id}/media`)
      .then(({ media }) => {
        line.textContent = [...facts, `video: ${statusLabel(media).toLowerCase()}`].join(' · ');
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
      h('a', { class: 'button small', href: `?edit=${c.id}`, 'aria-label': `Edit ${c.title}` }, 'Edit'),
      h('a', { class: 'button small ghost', href: `/content/${c.id}`, 'aria-label': `View ${c.title}` }, 'View'),
    ),
  );
}

function subscriptionCard(session: Session, currency: string): HTMLElement {
  const now = h('p', { class: 'subscription-now', role: 'status' }, '…');
  const price = h('input', { name: 'subscriptionPrice', inputMode: 'decimal', placeholder: '9.99' });
  const error = h('p', { class: 'error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save price');
  const stop = h('button', { type: 'button', class: 'ghost', hidden: true }, 'Stop offering');
  let profile: CreatorProfile | undefined;
  const render = () => {
    const p = profile?.subscriptionPrice;
    now.textContent = p
      ? `${money(p, currency)}${perPeriod(profile?.subscriptionPeriodDays ?? SUBSCRIPTION_DAYS)}`
      : 'Not offered';
    show(stop, !!p);
    if (p) price.value = toAmountText(p);
  };
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'subscription-heading' },
    h('h2', { id: 'subscription-heading' }, 'Subscription'),
    now,
    h(
      'p',
      { class: 'muted small' },
      'Subscribers watch your streams for subscribers, and their replays, for as long as they are subscribed.',
    ),
    field(`Price per month (${currency})`, price),
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
        toast(subscriptionPrice === null ? 'Subscriptions closed.' : 'Subscription price saved.', 'success');
      } catch (err) {
        error.textContent =
          codeOf(err) === 'INVALID_ARGUMENT' ? 'That price is not accepted: try a smaller amount.' : describeError(err);
      }
    });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const amount = toMinorUnits(price.value);
    if (Number.isNaN(amount)) {
      error.textContent = 'Enter a monthly price, such as 9.99.';
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
      now.textContent = 'Not offered';
    });
  return form;
}

// --- the editor ------------------------------------------------------------------------------------

class Editor {
  private readonly title = h('input', { name: 'title', required: true, maxLength: 200, autocomplete: 'off' });
  private readonly description = h('textarea', { name: 'description', maxLength: 5000, rows: 4 });
  private readonly price = h('input', { name: 'price', inputMode: 'decimal', required: true, value: '5' });
  private readonly tags = h('input', { name: 'tags', placeholder: 'math, algebra', autocomplete: 'off' });
  private readonly freeTrial = h('input', { type: 'checkbox', name: 'freeTrial' });
  private readonly notes = h('textarea', { name: 'notes', maxLength: 50_000, rows: 10, spellcheck: true });
  private readonly error = h('p', { class: 'error', role: 'alert' });
  private readonly save = h('button', { type: 'submit', class: 'primary big' });
  private items: string[] = [];
  private readonly itemList = h('ol', { class: 'item-picker', 'aria-label': 'Items, in order' });
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
    document.title = `${existing ? `Edit ${existing.title}` : `New ${this.kind}`} — Lectern`;
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
        h('a', { href: '/studio/contents', class: 'small' }, '← All your contents'),
        h('h1', {}, existing ? existing.title : `New ${this.kind}`),
      ),
      existing ? h('a', { class: 'button', href: `/content/${existing.id}` }, 'View its page') : null,
    );
    const side = h('aside', { class: 'layout-side plain panel-stack', 'aria-label': 'Video, cover and files' });
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
          h('h2', {}, 'Next'),
          h(
            'p',
            { class: 'muted' },
            this.kind === 'lesson'
              ? 'Create the lesson first; then upload its video, a cover and files.'
              : 'Create it first; then add a cover and files.',
          ),
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
    this.price.value = toAmountText(c.price);
    this.tags.value = c.tags.join(', ');
    this.freeTrial.checked = c.freeTrial;
    this.notes.value = this.details?.notes ?? '';
    // The syllabus as the server shows it: archived items are no longer in it.
    this.items = (this.details?.syllabus ?? []).map((i) => i.id);
  }

  private form(): HTMLFormElement {
    const existing = this.details?.content;
    this.save.textContent = existing ? 'Save changes' : `Create ${this.kind}`;
    const parts: (HTMLElement | null)[] = [
      h('h2', {}, 'Details'),
      field('Title', this.title),
      field('Description', this.description, 'What buyers learn, who it is for. Shown to everyone.'),
      h(
        'div',
        { class: 'row top' },
        field(`Price (${this.currency})`, this.price, '0 makes it free for everyone'),
        field('Tags', this.tags, 'Separated by commas'),
      ),
    ];
    if (this.kind === 'lesson') {
      parts.push(
        h(
          'label',
          { class: 'check' },
          this.freeTrial,
          h('span', {}, 'Free trial: anyone can watch this lesson, signed in or not'),
        ),
        this.notesEditor(),
      );
    } else {
      parts.push(this.syllabusEditor());
    }
    parts.push(this.error, this.save);
    const form = h('form', { class: 'card form', 'aria-label': 'Details' }, ...parts);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(this.save, () => this.submit());
    });
    return form;
  }

  private notesEditor(): HTMLElement {
    const preview = h('div', { class: 'markdown notice', hidden: true, 'aria-live': 'polite' });
    const write = h('button', { type: 'button', class: 'small', 'aria-pressed': 'true' }, 'Write');
    const look = h('button', { type: 'button', class: 'small', 'aria-pressed': 'false' }, 'Preview');
    const mode = (previewing: boolean) => {
      if (previewing) {
        preview.innerHTML = this.notes.value.trim()
          ? renderMarkdown(this.notes.value, { headingOffset: 2 })
          : '<p>Nothing written yet.</p>';
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
        h('label', { for: 'notes' }, 'Notes'),
        h('div', { class: 'tabs', role: 'group', 'aria-label': 'Notes view' }, write, look),
      ),
      this.notes,
      preview,
      h(
        'span',
        { class: 'hint' },
        'For buyers, under the video. Markdown: # heading, **bold**, *italic*, `code`, - lists, [links](https://…).',
      ),
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
      : { title: 'An item', kind: 'lesson', price: 0, durationSeconds: null };
  }

  private syllabusEditor(): HTMLElement {
    const add = h('button', { type: 'button' }, 'Add');
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
      h('legend', {}, this.kind === 'course' ? 'Syllabus: its lessons, in order' : 'In this bundle, in order'),
      this.itemList,
      this.itemTotal,
      h('div', { class: 'row' }, h('label', { for: 'add-item', class: 'grow' }, 'Add', this.addSelect), add),
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
              { type: 'button', class: 'small ghost up', 'aria-label': `Move ${item.title} up`, disabled: n === 0 },
              '↑',
            );
            const down = h(
              'button',
              {
                type: 'button',
                class: 'small ghost down',
                'aria-label': `Move ${item.title} down`,
                disabled: n === this.items.length - 1,
              },
              '↓',
            );
            const remove = h(
              'button',
              { type: 'button', class: 'small ghost', 'aria-label': `Remove ${item.title}` },
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
        : [h('li', { class: 'muted' }, 'Nothing in it yet: add lessons below.')]),
    );
    const total = this.items.reduce((sum, id) => sum + this.titleOf(id).price, 0);
    this.itemTotal.textContent = this.items.length
      ? `Bought one by one, these cost ${money(total, this.currency)}.`
      : '';
    const candidates = this.catalog.filter((c) => this.allowed(c) && !this.items.includes(c.id));
    this.addSelect.replaceChildren(
      ...(candidates.length
        ? candidates.map((c) => h('option', { value: c.id }, `${c.title} (${KIND_LABELS[c.kind].toLowerCase()})`))
        : [h('option', { value: '' }, this.kind === 'course' ? 'No more lessons to add' : 'Nothing more to add')]),
    );
    this.addSelect.disabled = !candidates.length;
  }

  // --- saving ------------------------------------------------------------------------------------

  private async submit(): Promise<void> {
    this.error.textContent = '';
    const title = this.title.value.trim();
    const price = toMinorUnits(this.price.value, { allowZero: true });
    const tags = parseTags(this.tags.value);
    if (!title) return this.fail('Give it a title.', this.title);
    if (Number.isNaN(price)) return this.fail('Enter a price, such as 4.99 (or 0 for free).', this.price);
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
        toast('Saved.', 'success');
        byId('manager').querySelector('h1')!.textContent = content.title;
      } else {
        const { content } = await api<{ content: Content }>('POST', '/api/contents', { ...body, kind: this.kind });
        flash(
          this.kind === 'lesson'
            ? `${KIND_LABELS[this.kind]} created. Now upload its video.`
            : `${KIND_LABELS[this.kind]} created.`,
        );
        location.assign(`/studio/contents?edit=${content.id}`);
      }
    } catch (err) {
      const code = codeOf(err);
      this.fail(
        code === 'INVALID_ARGUMENT'
          ? 'Some of this was not accepted: check the title, the price, the tags and the items.'
          : code === 'FORBIDDEN'
            ? 'Only its creator can change this.'
            : describeError(err),
      );
    }
  }

  private fail(message: string, input?: HTMLElement): void {
    this.error.textContent = message;
    input?.focus();
  }

  private archiveCard(content: Content): HTMLElement {
    const ask = h('button', { type: 'button', class: 'ghost' }, `Archive this ${content.kind}…`);
    const yes = h('button', { type: 'button', class: 'danger' }, 'Archive');
    const no = h('button', { type: 'button', class: 'ghost' }, 'Cancel');
    const confirm = h(
      'div',
      { class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Archive' },
      h('span', {}, 'It leaves your catalog and cannot be bought any more. Buyers keep it.'),
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
          flash(`“${content.title}” archived.`);
          location.assign('/studio/contents');
        } catch (err) {
          toast(describeError(err), 'error');
        }
      }),
    );
    return h('section', { class: 'card', 'aria-label': 'Archive' }, ask, confirm);
  }
}

// --- the page ----------------------------------------------------------------------------------------

function signInView(session: Session | null): void {
  root().replaceChildren(
    h(
      'section',
      { class: 'narrow' },
      session
        ? h(
            'p',
            { class: 'notice' },
            `${session.user.username} is a viewer account. Create a creator account to sell lessons.`,
          )
        : h('p', { class: 'lead' }, 'Sign in with a creator account to manage your lessons and courses.'),
      authForm({ role: 'creator', register: !!session, onSignedIn: () => location.reload() }),
    ),
  );
}

async function main(): Promise<void> {
  const { session } = startShell({ role: 'creator' });
  if (!session || !isCreator(session)) return signInView(session);
  const currency = await walletBalance().then(
    (w) => w.currency,
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
          h('h1', {}, 'Nothing to edit here'),
          h('p', {}, codeOf(err) === 'NOT_FOUND' ? 'This content does not exist (any more).' : describeError(err)),
          h('a', { class: 'button', href: '/studio/contents' }, 'All your contents'),
        ),
      );
      return;
    }
    if (details.content.creatorId !== session.user.id && session.user.role !== 'admin') {
      root().replaceChildren(
        h(
          'section',
          { class: 'card narrow' },
          h('h1', {}, 'Not yours to edit'),
          h('p', {}, 'This content belongs to another creator.'),
          h('a', { class: 'button', href: `/content/${details.content.id}` }, 'See its page'),
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
  toast(codeOf(err) ? describeError(err) : 'Something went wrong: reload the page to try again.', 'error');
});
