import { newIdempotencyKey } from '@lectern/client-sdk';
import type { Content, CreatorProfile, MediaInfo, Room, WatchProgress } from '../../../protocol';
import { api } from '../lib/api';
import { busy, byId, h } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { duration, money, perPeriod, shortDate } from '../lib/format';
import { messages } from '../lib/i18n';
import { ownedContents } from '../lib/owned';
import { fillText } from '../lib/page-text';
import { Player, type PlayerItem } from '../lib/player';
import { coverOf, KIND_LABELS, type Shell, startShell } from '../lib/shell';
import { spend } from '../lib/spend';
import { exposeForTests } from '../lib/test-hook';
import { toast } from '../lib/toast';

const t = messages({
  en: {
    loading: 'Loading…',
    docTitle: (title: string) => `${title} (replay) — Lectern`,
    more: 'More',
    replay: 'Replay',
    about: 'About',
    streamed: (date: string) => `Streamed ${date}`,
    forTicketHolders: 'For ticket holders',
    forSubscribers: 'For subscribers',
    free: 'Free',
    theCreator: 'the creator',
    noReplay: 'There is no replay of this stream',
    removed: 'It has been removed by its creator.',
    notRecorded: 'This stream was not recorded.',
    signInTitle: 'Sign in to watch this replay',
    ticketText: 'This replay is for people who had a ticket to the live stream.',
    subscribersText: (name: string) => `This replay is for ${name}’s subscribers.`,
    signIn: 'Sign in',
    subscribeFor: (price: string) => `Subscribe — ${price}`,
    subscribe: 'Subscribe',
    forNameSubscribers: (name: string) => `This replay is for ${name}’s subscribers`,
    subscribeText: 'Subscribe to watch it, and every stream and replay for subscribers while you are subscribed.',
    noSubscriptions: (name: string) => `${name} does not offer subscriptions at the moment.`,
    ticketTitle: 'This replay is for ticket holders',
    ticketOnlyLive: (name: string) =>
      `Only people who had a ticket to the live stream can watch it: tickets are sold while ${name} is live.`,
    subscribed: 'Subscribed. Enjoy the replay!',
    subscriptionTo: (name: string) => `Subscription to ${name}`,
    closed: 'Subscriptions to this creator are not open right now.',
    yourReplay: 'This is the replay of your stream.',
    trimOrSell: 'Trim it or sell it as a lesson',
    fromCreator: 'From this creator',
    moreFrom: (name: string) => `More from ${name}`,
    thisCreator: 'this creator',
    owned: 'Owned',
    liveNow: 'This stream is live right now. Its replay comes when it ends.',
    notStarted: 'This stream has not started yet. Its replay comes after it.',
    watchLive: 'Watch it live',
    openRoom: 'Open the room',
    noSuchStream: 'No such stream',
    notLoaded: 'This replay could not be loaded',
    mistyped: 'The link may be mistyped.',
    library: 'Go to your library',
    reload: 'Something went wrong: reload the page to try again.',
  },
  'zh-CN': {
    loading: '加载中…',
    docTitle: (title: string) => `${title}（回放）— Lectern`,
    more: '更多',
    replay: '回放',
    about: '简介',
    streamed: (date: string) => `直播于 ${date}`,
    forTicketHolders: '购票观众专享',
    forSubscribers: '订阅用户专享',
    free: '免费',
    theCreator: '创作者',
    noReplay: '这场直播没有回放',
    removed: '回放已被创作者删除。',
    notRecorded: '这场直播没有录制。',
    signInTitle: '登录后观看回放',
    ticketText: '这个回放仅供购买了直播门票的观众观看。',
    subscribersText: (name: string) => `这个回放仅供 ${name} 的订阅用户观看。`,
    signIn: '登录',
    subscribeFor: (price: string) => `订阅 — ${price}`,
    subscribe: '订阅',
    forNameSubscribers: (name: string) => `这个回放仅供 ${name} 的订阅用户观看`,
    subscribeText: '订阅后即可观看，订阅期间还能观看所有订阅专享的直播和回放。',
    noSubscriptions: (name: string) => `${name} 目前没有开放订阅。`,
    ticketTitle: '这个回放仅供购票观众观看',
    ticketOnlyLive: (name: string) => `只有购买了直播门票的观众才能观看：门票只在 ${name} 直播时出售。`,
    subscribed: '订阅成功，请欣赏回放！',
    subscriptionTo: (name: string) => `订阅 ${name}`,
    closed: '这位创作者目前没有开放订阅。',
    yourReplay: '这是你的直播回放。',
    trimOrSell: '剪辑回放，或作为单节课出售',
    fromCreator: '这位创作者的其他内容',
    moreFrom: (name: string) => `${name} 的更多内容`,
    thisCreator: '这位创作者',
    owned: '已拥有',
    liveNow: '这场直播正在进行，结束后才会有回放。',
    notStarted: '这场直播还没开始，结束后才会有回放。',
    watchLive: '观看直播',
    openRoom: '进入直播间',
    noSuchStream: '没有这场直播',
    notLoaded: '回放加载失败',
    mistyped: '链接可能有误。',
    library: '前往我的内容',
    reload: '出了点问题，请刷新页面重试。',
  },
});

/**
 * A room's replay (`/replay/<roomId>`): the recording of a stream that ended, for whoever had
 * full access to the room (everyone for a free room, ticket holders, subscribers while
 * subscribed), in the player that remembers where the viewer stopped. Anyone else learns why
 * not, and how to get access where there is a way.
 */

class ReplayPage {
  private room!: Room;
  private creator: CreatorProfile | undefined;
  private player!: Player;
  private readonly root = byId('replay-root');
  private readonly meta = h('p', { class: 'muted' });

  constructor(
    private readonly shell: Shell,
    private readonly roomId: string,
  ) {}

  async start(): Promise<void> {
    try {
      this.room = (await api<{ room: Room }>('GET', `/api/rooms/${encodeURIComponent(this.roomId)}`)).room;
    } catch (err) {
      return this.fatal(err);
    }
    const { room } = this;
    document.title = t.docTitle(room.title);
    this.creator = await api<{ profile: CreatorProfile }>('GET', `/api/creators/${room.ownerId}`)
      .then((r) => r.profile)
      .catch(() => undefined);
    if (room.status !== 'ended') return this.notOverYet();

    this.player = new Player({
      signedIn: !!this.shell.session,
      remember: this.shell.session?.user.id !== room.ownerId,
      onRefused: (err) => this.refusal(err),
      onMedia: (media) => this.renderMeta(media),
    });
    exposeForTests({ player: () => this.player.snapshot() });
    const side = h('aside', { class: 'layout-side', 'aria-label': t.more });
    this.root.replaceChildren(
      h(
        'div',
        { class: 'layout' },
        h(
          'div',
          { class: 'layout-main' },
          this.player.element,
          h(
            'section',
            { class: 'content-head', 'aria-label': t.about },
            h('span', { class: 'badge replay' }, t.replay),
            h('h1', {}, room.title),
            this.meta,
          ),
        ),
        side,
      ),
    );
    this.renderMeta();
    void this.fillSide(side);
    await this.play();
  }

  private async play(): Promise<void> {
    const item: PlayerItem = {
      target: { roomId: this.room.id },
      // The answer says where a signed-in viewer stopped; the player reads it once the media is in.
      fetchMedia: async () => {
        const reply = await api<{ media: MediaInfo; progress?: WatchProgress | null }>(
          'GET',
          `/api/rooms/${this.room.id}/replay`,
        );
        if (item.progress === undefined) item.progress = reply.progress ?? null;
        return reply.media;
      },
    };
    await this.player.load(item);
  }

  private renderMeta(media?: MediaInfo): void {
    const { room } = this;
    this.meta.textContent = [
      this.creator?.displayName,
      room.endedAt ? t.streamed(shortDate(room.endedAt)) : null,
      media?.durationSeconds ? duration(media.durationSeconds) : null,
      room.access === 'ticket' ? t.forTicketHolders : room.access === 'subscribers' ? t.forSubscribers : t.free,
    ]
      .filter(Boolean)
      .join(' · ');
  }

  /** Why this viewer cannot watch, and the way in where there is one. */
  private refusal(err: unknown): HTMLElement[] | undefined {
    const { room, creator } = this;
    const code = codeOf(err);
    const name = creator?.displayName ?? t.theCreator;
    if (code === 'NOT_FOUND') {
      return [h('h2', {}, t.noReplay), h('p', {}, room.record ? t.removed : t.notRecorded)];
    }
    if (code === 'UNAUTHENTICATED') {
      return [
        h('h2', {}, t.signInTitle),
        h('p', {}, room.access === 'ticket' ? t.ticketText : t.subscribersText(name)),
        h('button', { type: 'button', class: 'primary', onclick: this.shell.signIn }, t.signIn),
      ];
    }
    if (code !== 'PAYMENT_REQUIRED') return undefined;
    if (room.access === 'subscribers') {
      const price = creator?.subscriptionPrice;
      const period = creator?.subscriptionPeriodDays ?? 30;
      const subscribe = h(
        'button',
        { type: 'button', class: 'primary big' },
        price ? t.subscribeFor(`${money(price, room.currency)}${perPeriod(period)}`) : t.subscribe,
      );
      subscribe.addEventListener('click', () => void busy(subscribe, () => this.subscribe()));
      return [
        h('h2', {}, t.forNameSubscribers(name)),
        price ? h('p', {}, t.subscribeText) : h('p', {}, t.noSubscriptions(name)),
        price ? subscribe : h('span'),
      ];
    }
    return [h('h2', {}, t.ticketTitle), h('p', {}, t.ticketOnlyLive(name))];
  }

  /** Asks once (what, price per period, balance after), then subscribes; an empty wallet tops up first. */
  private async subscribe(): Promise<void> {
    const creator = this.creator;
    const price = creator?.subscriptionPrice ?? 0;
    const period = perPeriod(creator?.subscriptionPeriodDays ?? 30);
    // Subscriptions are in the deployment's currency, as the room's is.
    const outcome = await spend(this.shell, {
      what: t.subscriptionTo(creator?.displayName ?? t.thisCreator),
      detail: `${money(price, this.room.currency)}${period}`,
      price,
      currency: this.room.currency,
      pay: (expectedPrice) =>
        api<{ balance: number }>(
          'POST',
          '/api/subscriptions',
          { creatorId: this.room.ownerId, expectedPrice },
          { idempotencyKey: newIdempotencyKey() },
        ),
      refusal: (err: unknown) =>
        codeOf(err) === 'CONFLICT' || codeOf(err) === 'INVALID_ARGUMENT' ? t.closed : undefined,
    });
    if (!outcome.paid) return;
    toast(t.subscribed, 'success');
    await this.play();
  }

  /** The creator's lessons and courses: the way in when the replay itself is closed. */
  private async fillSide(side: HTMLElement): Promise<void> {
    const mine = this.shell.session?.user.id === this.room.ownerId;
    if (mine) {
      side.append(
        h(
          'section',
          { class: 'card' },
          h('p', {}, t.yourReplay),
          h('a', { class: 'button', href: '/studio/contents#replays' }, t.trimOrSell),
        ),
      );
    }
    let contents: Content[] = [];
    let owned = new Set<string>();
    try {
      [contents, owned] = await Promise.all([
        api<{ contents: Content[] }>('GET', `/api/contents?creatorId=${this.room.ownerId}&limit=6`).then(
          (r) => r.contents,
        ),
        ownedContents(),
      ]);
    } catch {
      return; // the replay matters more than the shop
    }
    if (!contents.length) return;
    side.append(
      h(
        'section',
        { class: 'card', 'aria-label': t.fromCreator },
        h('h2', {}, t.moreFrom(this.creator?.displayName ?? t.thisCreator)),
        h(
          'ul',
          { class: 'mini-list' },
          ...contents.map((c) =>
            h(
              'li',
              {},
              h(
                'a',
                { class: 'mini-card', href: `/content/${c.id}` },
                coverOf(c.coverUrl, c.title, 'thumb'),
                h(
                  'span',
                  {},
                  h('b', {}, c.title),
                  owned.has(c.id)
                    ? h(
                        'span',
                        { class: 'small' },
                        `${KIND_LABELS[c.kind]} · `,
                        h('span', { class: 'badge owned', 'data-owned': 'true' }, t.owned),
                      )
                    : h(
                        'span',
                        { class: 'muted small' },
                        `${KIND_LABELS[c.kind]} · ${c.price ? money(c.price, c.currency) : t.free}`,
                      ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  private notOverYet(): void {
    const live = this.room.status === 'live';
    this.root.replaceChildren(
      h(
        'section',
        { class: 'card narrow' },
        h('h1', {}, this.room.title),
        h('p', {}, live ? t.liveNow : t.notStarted),
        h('a', { class: 'button primary', href: `/watch/${this.room.id}` }, live ? t.watchLive : t.openRoom),
      ),
    );
  }

  private fatal(err: unknown): void {
    const missing = codeOf(err) === 'NOT_FOUND' || codeOf(err) === 'INVALID_ARGUMENT';
    this.root.replaceChildren(
      h(
        'section',
        { class: 'card narrow' },
        h('h1', {}, missing ? t.noSuchStream : t.notLoaded),
        h('p', {}, missing ? t.mistyped : describeError(err)),
        h('a', { class: 'button', href: '/library' }, t.library),
      ),
    );
  }
}

async function main(): Promise<void> {
  const shell = startShell({ wallet: true });
  fillText(t);
  const roomId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
  await new ReplayPage(shell, roomId).start();
}

main().catch((err) => {
  console.error(err);
  toast(codeOf(err) ? describeError(err) : t.reload, 'error');
});
