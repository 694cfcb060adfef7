import { newIdempotencyKey } from '@lectern/client-sdk';
import {
  type Content,
  type CreatorProfile,
  Limits,
  type ProfileLink,
  type RoomListItem,
  type Subscription,
} from '../../../protocol';
import { api } from '../lib/api';
import { append, busy, h, show } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { duration, money, perPeriod, shortDate } from '../lib/format';
import { avatarOf, roomGrid } from '../lib/room-cards';
import { coverOf, KIND_LABELS, type Shell, startShell } from '../lib/shell';
import { exposeForTests } from '../lib/test-hook';
import { toast } from '../lib/toast';
import { describeUploadError, serverLimits, uploadFile } from '../lib/upload';

/**
 * A creator's page (`/creators/<id>`): who they are (avatar, name, bio, links), a Subscribe
 * button with the price per period, their live and upcoming rooms, and their lessons and
 * courses. The creator sees an *Edit profile* form here instead of the button.
 */

const REFRESH_MS = 30_000;
const IMAGE_TYPES = 'image/png,image/jpeg,image/webp,image/gif';

class CreatorPage {
  private profile!: CreatorProfile;
  private subscription: Subscription | undefined;
  /** The server's currency (subscription prices are in it). */
  private currency = 'USD';
  private readonly root = document.getElementById('creator-root') as HTMLElement;
  private readonly head = h('section', { class: 'card profile-head', 'aria-label': 'About the creator' });
  private readonly editSlot = h('div');
  private readonly live = h('div', { class: 'room-grid tiles', 'aria-live': 'polite' });
  private readonly upcoming = h('div', { class: 'room-grid tiles', 'aria-live': 'polite' });
  private readonly liveSection = h(
    'section',
    { 'aria-labelledby': 'creator-live', hidden: true },
    h('h2', { id: 'creator-live', class: 'section-title' }, 'Live now'),
    this.live,
  );
  private readonly contents = h('div', { class: 'library-grid' });

  constructor(
    private readonly shell: Shell,
    private readonly creatorId: string,
  ) {}

  private get mine(): boolean {
    return this.shell.session?.user.id === this.creatorId;
  }

  async start(): Promise<void> {
    try {
      this.profile = (await api<{ profile: CreatorProfile }>('GET', `/api/creators/${this.creatorId}`)).profile;
    } catch (err) {
      return this.fatal(err);
    }
    document.title = `${this.profile.displayName} — Lectern`;
    this.currency = (await serverLimits().catch(() => undefined))?.currency ?? this.currency;
    if (this.shell.session && !this.mine) {
      this.subscription = await api<{ subscriptions: Subscription[] }>('GET', '/api/subscriptions')
        .then((r) => r.subscriptions.find((s) => s.creatorId === this.creatorId && s.status === 'active'))
        .catch(() => undefined);
    }
    this.root.replaceChildren(
      this.head,
      this.editSlot,
      this.liveSection,
      h(
        'section',
        { 'aria-labelledby': 'creator-upcoming' },
        h('h2', { id: 'creator-upcoming', class: 'section-title' }, 'Upcoming'),
        this.upcoming,
      ),
      h(
        'section',
        { 'aria-labelledby': 'creator-contents' },
        h('h2', { id: 'creator-contents', class: 'section-title' }, 'Lessons and courses'),
        this.contents,
      ),
    );
    this.renderHead();
    exposeForTests({ refreshRooms: () => this.loadRooms() });
    await Promise.all([this.loadRooms(), this.loadContents()]);
    document.body.dataset.loaded = 'true';
    setInterval(() => {
      if (document.visibilityState === 'visible') void this.loadRooms();
    }, REFRESH_MS);
  }

  // --- loading -------------------------------------------------------------------------------------

  private async loadRooms(): Promise<void> {
    const owner = encodeURIComponent(this.creatorId);
    try {
      const [live, upcoming] = await Promise.all([
        api<{ rooms: RoomListItem[] }>('GET', `/api/rooms?status=live&ownerId=${owner}&limit=20`),
        api<{ rooms: RoomListItem[] }>('GET', `/api/rooms?upcoming=true&ownerId=${owner}&limit=20`),
      ]);
      show(this.liveSection, live.rooms.length > 0);
      roomGrid(this.live, live.rooms, '', { creator: false });
      roomGrid(
        this.upcoming,
        upcoming.rooms,
        this.mine
          ? 'Nothing scheduled. Plan your next stream in the studio: give it a start time.'
          : 'Nothing scheduled right now.',
        { creator: false },
      );
    } catch (err) {
      this.upcoming.replaceChildren(h('p', { class: 'error' }, `The rooms could not be loaded. ${describeError(err)}`));
    }
  }

  private async loadContents(): Promise<void> {
    try {
      const { contents } = await api<{ contents: Content[] }>(
        'GET',
        `/api/contents?creatorId=${encodeURIComponent(this.creatorId)}&limit=50`,
      );
      this.contents.replaceChildren(
        ...(contents.length
          ? contents.map((c) => contentCard(c))
          : [
              h(
                'p',
                { class: 'empty muted' },
                this.mine ? 'Nothing for sale yet: create lessons in the content manager.' : 'Nothing for sale yet.',
              ),
            ]),
      );
    } catch (err) {
      this.contents.replaceChildren(
        h('p', { class: 'error' }, `The lessons could not be loaded. ${describeError(err)}`),
      );
    }
  }

  // --- the head: who they are, and subscribing -----------------------------------------------------

  private renderHead(): void {
    const p = this.profile;
    const links = p.links.length
      ? h(
          'ul',
          { class: 'profile-links' },
          ...p.links.map((link) =>
            h(
              'li',
              {},
              h(
                'a',
                { href: link.url, target: '_blank', rel: 'noopener noreferrer nofollow ugc', class: 'chip' },
                link.label,
                h('span', { class: 'muted small' }, hostOf(link.url)),
              ),
            ),
          ),
        )
      : null;
    this.head.replaceChildren(
      h(
        'div',
        { class: 'profile-who' },
        avatarOf(p),
        h(
          'div',
          { class: 'profile-text' },
          h('h1', {}, p.displayName),
          p.tags.length ? h('p', { class: 'muted small' }, p.tags.map((t) => `#${t}`).join(' ')) : null,
          p.bio ? h('p', { class: 'description profile-bio' }, p.bio) : null,
          links,
        ),
      ),
      this.mine ? this.ownerBox() : this.subscribeBox(),
    );
  }

  private subscribeBox(): HTMLElement {
    const p = this.profile;
    const box = h('div', { class: 'subscribe-box', 'aria-label': 'Subscription' });
    if (this.subscription) {
      box.append(
        h('p', { class: 'subscribed' }, 'Subscribed ✓'),
        h('p', { class: 'muted small' }, `Until ${shortDate(this.subscription.currentPeriodEnd)}.`),
      );
      return box;
    }
    if (!p.subscriptionPrice) {
      box.append(h('p', { class: 'muted small' }, `${p.displayName} does not offer subscriptions at the moment.`));
      return box;
    }
    const price = `${money(p.subscriptionPrice, this.currency)}${perPeriod(p.subscriptionPeriodDays)}`;
    const button = h('button', { type: 'button', class: 'primary big', id: 'subscribe' }, `Subscribe — ${price}`);
    button.addEventListener('click', () => void busy(button, () => this.subscribe(button)));
    append(
      box,
      h('p', { class: 'price' }, price),
      button,
      h('p', { class: 'muted small' }, 'Every stream and replay for subscribers, while you are subscribed.'),
      this.shell.session ? null : h('p', { class: 'muted small' }, 'You will be asked to sign in first.'),
    );
    return box;
  }

  private ownerBox(): HTMLElement {
    const p = this.profile;
    const edit = h('button', { type: 'button', class: 'primary', id: 'edit-profile' }, 'Edit profile');
    edit.addEventListener('click', () => this.toggleEdit(true));
    return h(
      'div',
      { class: 'subscribe-box' },
      h('p', {}, 'This is your public page.'),
      h(
        'p',
        { class: 'muted small' },
        p.subscriptionPrice
          ? `Subscriptions: ${money(p.subscriptionPrice, this.currency)}${perPeriod(p.subscriptionPeriodDays)}.`
          : 'You do not offer subscriptions yet.',
      ),
      h(
        'div',
        { class: 'row buttons' },
        edit,
        h('a', { class: 'button', href: '/studio/contents' }, 'Price and contents'),
      ),
    );
  }

  private async subscribe(button: HTMLButtonElement): Promise<void> {
    const { session, wallet } = this.shell;
    if (!session) return this.shell.signIn();
    const p = this.profile;
    try {
      // One key per click: a retried or doubled request never charges twice.
      const { subscription, balance } = await api<{ subscription: Subscription; balance: number }>(
        'POST',
        '/api/subscriptions',
        { creatorId: this.creatorId },
        { idempotencyKey: newIdempotencyKey() },
      );
      wallet?.set(balance);
      this.subscription = subscription;
      toast(`Subscribed to ${p.displayName}. Enjoy!`, 'success');
      this.renderHead();
    } catch (err) {
      const code = codeOf(err);
      if (code === 'INSUFFICIENT_FUNDS' && wallet) {
        wallet.openTopUp(
          `A subscription costs ${money(p.subscriptionPrice ?? 0, this.currency)}${perPeriod(p.subscriptionPeriodDays)}. Your wallet has ${money(wallet.amount, this.currency)}.`,
          () => button.isConnected && button.click(),
        );
        return;
      }
      toast(
        code === 'CONFLICT' || code === 'INVALID_ARGUMENT'
          ? 'Subscriptions to this creator are not open right now.'
          : describeError(err),
        'error',
      );
    }
  }

  // --- editing (the creator's own page) ------------------------------------------------------------

  private toggleEdit(on: boolean): void {
    this.editSlot.replaceChildren(...(on ? [this.editForm()] : []));
    if (on) this.editSlot.querySelector('input')?.focus();
  }

  private editForm(): HTMLElement {
    const p = this.profile;
    const error = h('p', { class: 'error', role: 'alert' });
    const name = h('input', {
      name: 'displayName',
      required: true,
      maxLength: Limits.displayNameMax,
      value: p.displayName,
      autocomplete: 'nickname',
    });
    const bio = h('textarea', { name: 'bio', rows: 5, maxLength: Limits.descriptionMax }) as HTMLTextAreaElement;
    bio.value = p.bio;
    const rows = h('div', { class: 'link-rows' });
    const add = h('button', { type: 'button', class: 'small' }, '+ Add a link');
    const syncAdd = () => {
      add.disabled = rows.children.length >= Limits.profileLinksMax;
    };
    const addRow = (link?: ProfileLink) => {
      const row: HTMLElement = h(
        'div',
        { class: 'link-row' },
        h('input', {
          name: 'label',
          placeholder: 'Label (Website)',
          maxLength: Limits.profileLinkLabelMax,
          value: link?.label ?? '',
          'aria-label': 'Link label',
        }),
        h('input', {
          name: 'url',
          type: 'url',
          placeholder: 'https://…',
          maxLength: Limits.profileLinkUrlMax,
          value: link?.url ?? '',
          inputMode: 'url',
          'aria-label': 'Link address',
        }),
        h(
          'button',
          {
            type: 'button',
            class: 'ghost icon',
            'aria-label': 'Remove this link',
            onclick: () => {
              row.remove();
              syncAdd();
            },
          },
          '✕',
        ),
      );
      rows.append(row);
      syncAdd();
      return row;
    };
    for (const link of p.links) addRow(link);
    add.addEventListener('click', () => addRow().querySelector('input')?.focus());
    syncAdd();

    const save = h('button', { type: 'submit', class: 'primary' }, 'Save profile');
    const cancel = h('button', { type: 'button', class: 'ghost', onclick: () => this.toggleEdit(false) }, 'Close');
    const form = h(
      'form',
      { class: 'card form profile-form', 'aria-labelledby': 'edit-heading', novalidate: true },
      h('h2', { id: 'edit-heading' }, 'Edit your profile'),
      this.avatarField(),
      h('label', {}, 'Display name', name),
      h('label', {}, 'About you', bio),
      h('fieldset', {}, h('legend', {}, `Links (up to ${Limits.profileLinksMax})`), rows, add),
      error,
      h('div', { class: 'row buttons' }, save, cancel),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const links = readLinks(rows);
      if (typeof links === 'string') {
        error.textContent = links;
        return;
      }
      if (!name.value.trim()) {
        error.textContent = 'Enter the name people know you by.';
        return;
      }
      void busy(save, async () => {
        try {
          this.profile = (
            await api<{ profile: CreatorProfile }>('PATCH', '/api/creators/me', {
              displayName: name.value.trim(),
              bio: bio.value,
              links,
            })
          ).profile;
          error.textContent = '';
          document.title = `${this.profile.displayName} — Lectern`;
          this.renderHead();
          this.toggleEdit(false);
          toast('Profile saved.', 'success');
        } catch (err) {
          error.textContent = describeError(err);
        }
      });
    });
    return form;
  }

  /** The picture, changed at once when a file is chosen (re-encoded by the server). */
  private avatarField(): HTMLElement {
    const preview = h('div', { class: 'avatar-preview' }, avatarOf(this.profile, 72));
    const status = h('p', { class: 'muted small', role: 'status' }, 'PNG, JPEG, WebP or GIF; shown round.');
    const input = h('input', {
      type: 'file',
      accept: IMAGE_TYPES,
      'aria-label': 'Profile picture',
    }) as HTMLInputElement;
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      if (!file) return;
      status.textContent = 'Uploading…';
      input.disabled = true;
      uploadFile<{ profile: CreatorProfile }>('/api/creators/me/avatar', file, { kind: 'cover' })
        .then(({ profile }) => {
          this.profile = { ...this.profile, avatarUrl: profile.avatarUrl };
          preview.replaceChildren(avatarOf(this.profile, 72));
          this.renderHead();
          status.textContent = 'Picture saved.';
        })
        .catch((err) => {
          status.textContent = describeUploadError(err, 'picture');
        })
        .finally(() => {
          input.disabled = false;
          input.value = '';
        });
    });
    return h('div', { class: 'avatar-field' }, preview, h('div', {}, h('label', {}, 'Profile picture', input), status));
  }

  private fatal(err: unknown): void {
    const missing = codeOf(err) === 'NOT_FOUND' || codeOf(err) === 'INVALID_ARGUMENT';
    document.title = 'Lectern';
    this.root.replaceChildren(
      h(
        'section',
        { class: 'card narrow' },
        h('h1', {}, missing ? 'No such creator' : 'This page could not be loaded'),
        h('p', {}, missing ? 'The link may be mistyped, or this account does not teach here.' : describeError(err)),
        h('a', { class: 'button', href: '/' }, 'Back to the home page'),
      ),
    );
  }
}

/** The links typed in the form, or why they cannot be saved. Empty rows are dropped. */
function readLinks(rows: HTMLElement): ProfileLink[] | string {
  const links: ProfileLink[] = [];
  for (const row of rows.children) {
    const label = (row.querySelector('input[name=label]') as HTMLInputElement).value.trim();
    let url = (row.querySelector('input[name=url]') as HTMLInputElement).value.trim();
    if (!label && !url) continue;
    if (!label) return 'Give each link a label, such as “Website”.';
    if (!url) return `Add the address of “${label}”.`;
    // "example.com" means the website: people rarely type the scheme.
    if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) url = `https://${url}`;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    } catch {
      return `“${label}” needs a web address, such as https://example.com.`;
    }
    links.push({ label, url });
  }
  return links;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host.replace(/^www\./, '');
  } catch {
    return '';
  }
}

/** A lesson, course or bundle: its cover, kind, title and price, opening its page. */
function contentCard(c: Content): HTMLElement {
  const cover = coverOf(c.coverUrl, c.title, 'cover');
  if (c.durationSeconds) cover.append(h('span', { class: 'cover-duration' }, duration(c.durationSeconds)));
  return h(
    'a',
    { class: 'library-card', href: `/content/${c.id}`, 'data-content': c.id },
    cover,
    h(
      'div',
      { class: 'library-body' },
      h('span', { class: 'muted small' }, KIND_LABELS[c.kind]),
      h('h3', {}, c.title),
      h(
        'div',
        { class: 'library-foot' },
        h('b', {}, c.price ? money(c.price, c.currency) : 'Free'),
        c.freeTrial ? h('span', { class: 'badge trial' }, 'Free trial') : null,
      ),
    ),
  );
}

async function main(): Promise<void> {
  const shell = startShell({ wallet: true });
  let id = decodeURIComponent(location.pathname.split('/')[2] ?? '');
  // `/creators/me`: the signed-in creator's own page.
  if (id === 'me' && shell.session) {
    id = shell.session.user.id;
    history.replaceState(null, '', `/creators/${id}`);
  }
  await new CreatorPage(shell, id).start();
}

main().catch((err) => {
  console.error(err);
  toast(codeOf(err) ? describeError(err) : 'Something went wrong: reload the page to try again.', 'error');
});
