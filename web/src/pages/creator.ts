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
import { followButton, followersText } from '../lib/follow';
import { duration, money, perPeriod, shortDate } from '../lib/format';
import { messages } from '../lib/i18n';
import { nothingOwned, type Owned, ownedAll } from '../lib/owned';
import { fillText } from '../lib/page-text';
import { avatarOf, roomGrid } from '../lib/room-cards';
import { coverOf, KIND_LABELS, type Shell, startShell } from '../lib/shell';
import { spend } from '../lib/spend';
import { exposeForTests } from '../lib/test-hook';
import { toast } from '../lib/toast';
import { describeUploadError, serverLimits, uploadFile } from '../lib/upload';

const t = messages({
  en: {
    loading: 'Loading…',
    aboutCreator: 'About the creator',
    liveNow: 'Live now',
    upcoming: 'Upcoming',
    lessonsAndCourses: 'Lessons and courses',
    nothingScheduledMine: 'Nothing scheduled. Plan your next stream in the studio: give it a start time.',
    nothingScheduled: 'Nothing scheduled right now.',
    roomsNotLoaded: 'The rooms could not be loaded.',
    nothingForSaleMine: 'Nothing for sale yet: create lessons in the content manager.',
    nothingForSale: 'Nothing for sale yet.',
    lessonsNotLoaded: 'The lessons could not be loaded.',
    subscription: 'Subscription',
    subscribed: 'Subscribed ✓',
    until: (date: string) => `Until ${date}.`,
    noSubscriptions: (name: string) => `${name} does not offer subscriptions at the moment.`,
    subscribeFor: (price: string) => `Subscribe — ${price}`,
    subscribersGet: 'Every stream and replay for subscribers, while you are subscribed.',
    askedToSignIn: 'You will be asked to sign in first.',
    editProfile: 'Edit profile',
    yourPage: 'This is your public page.',
    yourSubscriptions: (price: string) => `Subscriptions: ${price}.`,
    noSubscriptionsYet: 'You do not offer subscriptions yet.',
    priceAndContents: 'Price and contents',
    subscriptionTo: (name: string) => `Subscription to ${name}`,
    subscribedTo: (name: string) => `Subscribed to ${name}. Enjoy!`,
    closed: 'Subscriptions to this creator are not open right now.',
    addLink: '+ Add a link',
    linkLabelPlaceholder: 'Label (Website)',
    linkLabel: 'Link label',
    linkAddress: 'Link address',
    removeLink: 'Remove this link',
    saveProfile: 'Save profile',
    close: 'Close',
    editTitle: 'Edit your profile',
    displayName: 'Display name',
    aboutYou: 'About you',
    links: (n: number) => `Links (up to ${n})`,
    enterName: 'Enter the name people know you by.',
    saved: 'Profile saved.',
    pictureHint: 'PNG, JPEG, WebP or GIF; shown round.',
    uploading: 'Uploading…',
    pictureSaved: 'Picture saved.',
    picture: 'Profile picture',
    noSuchCreator: 'No such creator',
    notLoaded: 'This page could not be loaded',
    mistyped: 'The link may be mistyped, or this account does not teach here.',
    home: 'Back to the home page',
    needsLabel: 'Give each link a label, such as “Website”.',
    needsAddress: (label: string) => `Add the address of “${label}”.`,
    needsWebAddress: (label: string) => `“${label}” needs a web address, such as https://example.com.`,
    free: 'Free',
    freeTrial: 'Free trial',
    owned: 'Owned',
    reload: 'Something went wrong: reload the page to try again.',
  },
  'zh-CN': {
    loading: '加载中…',
    aboutCreator: '创作者介绍',
    liveNow: '正在直播',
    upcoming: '即将开播',
    lessonsAndCourses: '课程与系列课',
    nothingScheduledMine: '还没有预约的直播。在直播间工作台设置开播时间，安排下一场直播吧。',
    nothingScheduled: '暂时没有预约的直播。',
    roomsNotLoaded: '直播间列表加载失败。',
    nothingForSaleMine: '还没有在售的内容：在内容管理中创建课程吧。',
    nothingForSale: '暂时没有在售的内容。',
    lessonsNotLoaded: '课程列表加载失败。',
    subscription: '订阅',
    subscribed: '已订阅 ✓',
    until: (date: string) => `有效期至 ${date}。`,
    noSubscriptions: (name: string) => `${name} 目前没有开放订阅。`,
    subscribeFor: (price: string) => `订阅 — ${price}`,
    subscribersGet: '订阅期间可观看所有订阅专享的直播和回放。',
    askedToSignIn: '订阅前需要先登录。',
    editProfile: '编辑资料',
    yourPage: '这是你的公开主页。',
    yourSubscriptions: (price: string) => `订阅价格：${price}。`,
    noSubscriptionsYet: '你还没有开放订阅。',
    priceAndContents: '价格与内容',
    subscriptionTo: (name: string) => `订阅 ${name}`,
    subscribedTo: (name: string) => `已订阅 ${name}，祝学习愉快！`,
    closed: '这位创作者目前没有开放订阅。',
    addLink: '+ 添加链接',
    linkLabelPlaceholder: '名称（如：个人网站）',
    linkLabel: '链接名称',
    linkAddress: '链接地址',
    removeLink: '删除这个链接',
    saveProfile: '保存资料',
    close: '关闭',
    editTitle: '编辑个人资料',
    displayName: '显示名称',
    aboutYou: '个人简介',
    links: (n: number) => `链接（最多 ${n} 个）`,
    enterName: '请输入大家认识你的名字。',
    saved: '资料已保存。',
    pictureHint: '支持 PNG、JPEG、WebP 或 GIF，显示为圆形。',
    uploading: '上传中…',
    pictureSaved: '头像已保存。',
    picture: '头像',
    noSuchCreator: '没有这位创作者',
    notLoaded: '页面加载失败',
    mistyped: '链接可能有误，或者这个账号不是创作者。',
    home: '返回首页',
    needsLabel: '请给每个链接起个名称，例如“个人网站”。',
    needsAddress: (label: string) => `请填写“${label}”的地址。`,
    needsWebAddress: (label: string) => `“${label}”需要一个网址，例如 https://example.com。`,
    free: '免费',
    freeTrial: '免费试看',
    owned: '已拥有',
    reload: '出了点问题，请刷新页面重试。',
  },
});

/**
 * A creator's page (`/creators/<id>`): who they are (avatar, name, bio, links), a Subscribe
 * button with the price per period, their live and upcoming rooms, and their lessons and
 * courses. The creator sees an *Edit profile* form here instead of the button.
 */

const REFRESH_MS = 30_000;
const IMAGE_TYPES = 'image/png,image/jpeg,image/webp,image/gif';

class CreatorPage {
  private profile!: CreatorProfile;
  /** Whether the signed-in viewer follows this creator. */
  private following = false;
  private subscription: Subscription | undefined;
  /** What the viewer has: owned contents show as such, tickets and subscriptions on the room cards. */
  private owned: Owned = nothingOwned();
  /** The server's currency (subscription prices are in it). */
  private currency = 'USD';
  private readonly root = document.getElementById('creator-root') as HTMLElement;
  private readonly head = h('section', { class: 'card profile-head', 'aria-label': t.aboutCreator });
  private readonly editSlot = h('div');
  private readonly live = h('div', { class: 'room-grid tiles', 'aria-live': 'polite' });
  private readonly upcoming = h('div', { class: 'room-grid tiles', 'aria-live': 'polite' });
  private readonly liveSection = h(
    'section',
    { 'aria-labelledby': 'creator-live', hidden: true },
    h('h2', { id: 'creator-live', class: 'section-title' }, t.liveNow),
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
      const answer = await api<{ profile: CreatorProfile; following: boolean }>(
        'GET',
        `/api/creators/${this.creatorId}`,
      );
      this.profile = answer.profile;
      this.following = answer.following;
    } catch (err) {
      return this.fatal(err);
    }
    document.title = `${this.profile.displayName} — Lectern`;
    const [limits, owned] = await Promise.all([serverLimits().catch(() => undefined), ownedAll()]);
    this.currency = limits?.currency ?? this.currency;
    this.owned = owned;
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
        h('h2', { id: 'creator-upcoming', class: 'section-title' }, t.upcoming),
        this.upcoming,
      ),
      h(
        'section',
        { 'aria-labelledby': 'creator-contents' },
        h('h2', { id: 'creator-contents', class: 'section-title' }, t.lessonsAndCourses),
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
      roomGrid(this.live, live.rooms, '', { creator: false, owned: this.owned });
      roomGrid(this.upcoming, upcoming.rooms, this.mine ? t.nothingScheduledMine : t.nothingScheduled, {
        creator: false,
        owned: this.owned,
      });
    } catch (err) {
      show(this.liveSection, false);
      this.upcoming.replaceChildren(h('p', { class: 'error' }, `${t.roomsNotLoaded} ${describeError(err)}`));
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
          ? contents.map((c) => contentCard(c, this.owned.contents.has(c.id)))
          : [h('p', { class: 'empty muted' }, this.mine ? t.nothingForSaleMine : t.nothingForSale)]),
      );
    } catch (err) {
      this.contents.replaceChildren(h('p', { class: 'error' }, `${t.lessonsNotLoaded} ${describeError(err)}`));
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
          this.followRow(),
          p.tags.length ? h('p', { class: 'muted small' }, p.tags.map((t) => `#${t}`).join(' ')) : null,
          p.bio ? h('p', { class: 'description profile-bio' }, p.bio) : null,
          links,
        ),
      ),
      this.mine ? this.ownerBox() : this.subscribeBox(),
    );
  }

  /** How many follow them, and (for anyone but the creator) Follow / Following. */
  private followRow(): HTMLElement {
    const count = h('span', { class: 'muted small', id: 'followers' }, followersText(this.profile.followers));
    return h(
      'p',
      { class: 'follow-row' },
      this.mine
        ? null
        : followButton({
            creatorId: this.creatorId,
            name: this.profile.displayName,
            following: this.following,
            signedIn: !!this.shell.session,
            signIn: () => this.shell.signIn(),
            onChange: ({ following, followers }) => {
              this.following = following;
              this.profile.followers = followers;
              count.textContent = followersText(followers);
            },
          }),
      count,
    );
  }

  private subscribeBox(): HTMLElement {
    const p = this.profile;
    const box = h('div', { class: 'subscribe-box', role: 'group', 'aria-label': t.subscription });
    if (this.subscription) {
      box.append(
        h('p', { class: 'subscribed' }, t.subscribed),
        h('p', { class: 'muted small' }, t.until(shortDate(this.subscription.currentPeriodEnd))),
      );
      return box;
    }
    if (!p.subscriptionPrice) {
      box.append(h('p', { class: 'muted small' }, t.noSubscriptions(p.displayName)));
      return box;
    }
    const price = `${money(p.subscriptionPrice, this.currency)}${perPeriod(p.subscriptionPeriodDays)}`;
    const button = h('button', { type: 'button', class: 'primary big', id: 'subscribe' }, t.subscribeFor(price));
    button.addEventListener('click', () => void busy(button, () => this.subscribe()));
    append(
      box,
      h('p', { class: 'price' }, price),
      button,
      h('p', { class: 'muted small' }, t.subscribersGet),
      this.shell.session ? null : h('p', { class: 'muted small' }, t.askedToSignIn),
    );
    return box;
  }

  private ownerBox(): HTMLElement {
    const p = this.profile;
    const edit = h('button', { type: 'button', class: 'primary', id: 'edit-profile' }, t.editProfile);
    edit.addEventListener('click', () => this.toggleEdit(true));
    return h(
      'div',
      { class: 'subscribe-box' },
      h('p', {}, t.yourPage),
      h(
        'p',
        { class: 'muted small' },
        p.subscriptionPrice
          ? t.yourSubscriptions(`${money(p.subscriptionPrice, this.currency)}${perPeriod(p.subscriptionPeriodDays)}`)
          : t.noSubscriptionsYet,
      ),
      h(
        'div',
        { class: 'row buttons' },
        edit,
        h('a', { class: 'button', href: '/studio/contents' }, t.priceAndContents),
      ),
    );
  }

  /** Asks once (what, price per period, balance after), then subscribes; an empty wallet tops up first. */
  private async subscribe(): Promise<void> {
    const p = this.profile;
    let subscription: Subscription | undefined;
    const outcome = await spend(this.shell, {
      what: t.subscriptionTo(p.displayName),
      detail: `${money(p.subscriptionPrice ?? 0, this.currency)}${perPeriod(p.subscriptionPeriodDays)} · ${t.subscribersGet}`,
      price: p.subscriptionPrice ?? 0,
      currency: this.currency,
      // One key per click on Pay: a retried or doubled request never charges twice.
      pay: async (expectedPrice) => {
        const answer = await api<{ subscription: Subscription; balance: number }>(
          'POST',
          '/api/subscriptions',
          { creatorId: this.creatorId, expectedPrice },
          { idempotencyKey: newIdempotencyKey() },
        );
        subscription = answer.subscription;
        return answer;
      },
      refusal: (err: unknown) =>
        codeOf(err) === 'CONFLICT' || codeOf(err) === 'INVALID_ARGUMENT' ? t.closed : undefined,
    });
    if (!outcome.paid) return;
    this.subscription = subscription;
    this.owned.subscribedTo.add(this.creatorId);
    toast(t.subscribedTo(p.displayName), 'success');
    this.renderHead();
    void this.loadRooms();
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
    const add = h('button', { type: 'button', class: 'small' }, t.addLink);
    const syncAdd = () => {
      add.disabled = rows.children.length >= Limits.profileLinksMax;
    };
    const addRow = (link?: ProfileLink) => {
      const row: HTMLElement = h(
        'div',
        { class: 'link-row' },
        h('input', {
          name: 'label',
          placeholder: t.linkLabelPlaceholder,
          maxLength: Limits.profileLinkLabelMax,
          value: link?.label ?? '',
          'aria-label': t.linkLabel,
        }),
        h('input', {
          name: 'url',
          type: 'url',
          placeholder: 'https://…',
          maxLength: Limits.profileLinkUrlMax,
          value: link?.url ?? '',
          inputMode: 'url',
          'aria-label': t.linkAddress,
        }),
        h(
          'button',
          {
            type: 'button',
            class: 'ghost icon',
            'aria-label': t.removeLink,
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

    const save = h('button', { type: 'submit', class: 'primary' }, t.saveProfile);
    const cancel = h('button', { type: 'button', class: 'ghost', onclick: () => this.toggleEdit(false) }, t.close);
    const form = h(
      'form',
      { class: 'card form profile-form', 'aria-labelledby': 'edit-heading', novalidate: true },
      h('h2', { id: 'edit-heading' }, t.editTitle),
      this.avatarField(),
      h('label', {}, t.displayName, name),
      h('label', {}, t.aboutYou, bio),
      h('fieldset', {}, h('legend', {}, t.links(Limits.profileLinksMax)), rows, add),
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
        error.textContent = t.enterName;
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
          toast(t.saved, 'success');
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
    const status = h('p', { class: 'muted small', role: 'status' }, t.pictureHint);
    const input = h('input', {
      type: 'file',
      accept: IMAGE_TYPES,
      'aria-label': t.picture,
    }) as HTMLInputElement;
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      if (!file) return;
      status.textContent = t.uploading;
      input.disabled = true;
      uploadFile<{ profile: CreatorProfile }>('/api/creators/me/avatar', file, { kind: 'cover' })
        .then(({ profile }) => {
          this.profile = { ...this.profile, avatarUrl: profile.avatarUrl };
          preview.replaceChildren(avatarOf(this.profile, 72));
          this.renderHead();
          status.textContent = t.pictureSaved;
        })
        .catch((err) => {
          status.textContent = describeUploadError(err, 'picture');
        })
        .finally(() => {
          input.disabled = false;
          input.value = '';
        });
    });
    return h('div', { class: 'avatar-field' }, preview, h('div', {}, h('label', {}, t.picture, input), status));
  }

  private fatal(err: unknown): void {
    const missing = codeOf(err) === 'NOT_FOUND' || codeOf(err) === 'INVALID_ARGUMENT';
    document.title = 'Lectern';
    this.root.replaceChildren(
      h(
        'section',
        { class: 'card narrow' },
        h('h1', {}, missing ? t.noSuchCreator : t.notLoaded),
        h('p', {}, missing ? t.mistyped : describeError(err)),
        h('a', { class: 'button', href: '/' }, t.home),
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
    if (!label) return t.needsLabel;
    if (!url) return t.needsAddress(label);
    // "example.com" means the website: people rarely type the scheme.
    if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) url = `https://${url}`;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    } catch {
      return t.needsWebAddress(label);
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

/** A lesson, course or bundle: its cover, kind, title and price (or Owned), opening its page. */
function contentCard(c: Content, owned: boolean): HTMLElement {
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
        owned
          ? h('span', { class: 'badge owned', 'data-owned': 'true' }, t.owned)
          : h('b', {}, c.price ? money(c.price, c.currency) : t.free),
        c.freeTrial && !owned ? h('span', { class: 'badge trial' }, t.freeTrial) : null,
      ),
    ),
  );
}

async function main(): Promise<void> {
  const shell = startShell({ wallet: true });
  fillText(t);
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
  toast(codeOf(err) ? describeError(err) : t.reload, 'error');
});
