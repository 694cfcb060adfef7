import type { CreatorSummary, Room, RoomForYou, RoomListItem } from '../../../protocol';
import { append, h } from './dom';
import { money } from './format';
import { formatDate, formatNumber, locale, messages } from './i18n';
import type { Owned } from './owned';
import { coverOf } from './shell';

const t = messages({
  en: {
    ticket: (price: string) => `Ticket ${price}`,
    subscribers: 'Subscribers',
    free: 'Free',
    haveTicket: 'Your ticket ✓',
    subscribed: 'Subscribed ✓',
    startingSoon: 'Starting soon',
    today: (time: string) => `Today, ${time}`,
    tomorrow: (time: string) => `Tomorrow, ${time}`,
    dayTime: (day: string, time: string) => `${day}, ${time}`,
    live: 'Live',
    watching: (n: string) => `${n} watching`,
    reasonWatched: 'You watched this creator before',
    reasonFollowing: 'You follow this creator',
    reasonSubscribed: 'You subscribe to this creator',
    reasonSimilar: 'Viewers like you are watching',
    reasonTags: 'On a topic you like',
    reasonPopular: 'Popular right now',
    reasonFirst: 'Be one of the first to watch',
    reasonUpcoming: 'Picked for you',
  },
  'zh-CN': {
    ticket: (price: string) => `门票 ${price}`,
    subscribers: '订阅专享',
    free: '免费',
    haveTicket: '已购票 ✓',
    subscribed: '已订阅 ✓',
    startingSoon: '即将开始',
    today: (time: string) => `今天 ${time}`,
    tomorrow: (time: string) => `明天 ${time}`,
    dayTime: (day: string, time: string) => `${day} ${time}`,
    live: '直播中',
    watching: (n: string) => `${n} 人在看`,
    reasonWatched: '你看过这位主播的直播',
    reasonFollowing: '你关注了这位主播',
    reasonSubscribed: '你订阅了这位主播',
    reasonSimilar: '和你口味相近的观众在看',
    reasonTags: '你感兴趣的话题',
    reasonPopular: '正在热播',
    reasonFirst: '快来抢先观看',
    reasonUpcoming: '为你挑选',
  },
});

/**
 * Room cards (the home page, a creator's page): the cover, Live or the start time, how many are
 * watching, the title, who runs it and what it costs. The card opens the room; the creator's
 * name opens their page (a link of its own above the card's, never a link inside a link).
 */

/** What watching costs: "Free", "Ticket $5.00", "Subscribers". */
export function accessLabel(room: Pick<Room, 'access' | 'ticketPrice' | 'currency'>): string {
  if (room.access === 'ticket') return t.ticket(money(room.ticketPrice ?? 0, room.currency));
  if (room.access === 'subscribers') return t.subscribers;
  return t.free;
}

/** Whether this viewer may already watch a paid room: their ticket, their subscription. */
function accessHeld(room: Pick<Room, 'id' | 'access' | 'ownerId'>, owned?: Owned): string | undefined {
  if (room.access === 'ticket' && owned?.tickets.has(room.id)) return t.haveTicket;
  if (room.access === 'subscribers' && owned?.subscribedTo.has(room.ownerId)) return t.subscribed;
  return undefined;
}

export function accessBadge(
  room: Pick<Room, 'id' | 'ownerId' | 'access' | 'ticketPrice' | 'currency'>,
  owned?: Owned,
): HTMLElement {
  const held = accessHeld(room, owned);
  return held
    ? h('span', { class: 'price-badge owned', 'data-owned': 'true' }, held)
    : h('span', { class: `price-badge ${room.access}` }, accessLabel(room));
}

const sameDay = (a: Date, b: Date) =>
  a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/**
 * When a room starts, as people say it: "Today, 18:00", "Tomorrow, 09:30", "Tue 12 Mar, 18:00";
 * "Starting soon" once the time has come and the creator has not gone live yet.
 */
export function startLabel(iso: string, now = new Date()): string {
  const at = new Date(iso);
  if (at.getTime() <= now.getTime()) return t.startingSoon;
  const time = formatDate(at, { hour: '2-digit', minute: '2-digit' });
  if (sameDay(at, now)) return t.today(time);
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  if (sameDay(at, tomorrow)) return t.tomorrow(time);
  const day = formatDate(at, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    ...(at.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  });
  return t.dayTime(day, time);
}

/** The full date and time, for a tooltip and the `datetime` a screen reader may use. */
export function fullDate(iso: string): string {
  return formatDate(iso, { dateStyle: 'full', timeStyle: 'short' });
}

const AVATAR_HUES = [232, 262, 200, 160, 24, 330];

/** A round avatar: the creator's picture, or their initial on a calm colour. Without `size`, CSS sizes it. */
export function avatarOf(creator: Pick<CreatorSummary, 'displayName' | 'avatarUrl'>, size?: number): HTMLElement {
  const el = creator.avatarUrl
    ? h('img', { class: 'avatar', src: creator.avatarUrl, alt: '', loading: 'lazy', decoding: 'async' })
    : h(
        'span',
        { class: 'avatar initial', 'aria-hidden': 'true' },
        (creator.displayName.trim()[0] ?? '·').toUpperCase(),
      );
  if (!creator.avatarUrl) {
    let hash = 0;
    for (const c of creator.displayName) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
    el.style.setProperty('--hue', String(AVATAR_HUES[hash % AVATAR_HUES.length]));
  }
  if (size) el.style.setProperty('--size', `${size}px`);
  return el;
}

function watchingLabel(count: number): string {
  return t.watching(formatNumber(count));
}

export interface RoomCardOptions {
  /** `false` leaves the creator out (on their own page). */
  creator?: boolean;
  /** What the viewer holds: a ticket or a subscription shows instead of the price. */
  owned?: Owned;
  /** Why the room is suggested ("Live now for you"): a small line under the creator. */
  reason?: RoomForYou['reason'];
}

/**
 * A suggestion's reason as the viewer reads it: the server's own short English, or in another
 * language the wording of its code.
 */
export function reasonText(reason: RoomForYou['reason'], room?: Pick<RoomListItem, 'viewerCount'>): string {
  if (locale() === 'en' && reason.text) return reason.text;
  if (reason.code === 'popular_now' && room?.viewerCount === 0) return t.reasonFirst;
  const worded: Record<RoomForYou['reason']['code'], string> = {
    watched_before: t.reasonWatched,
    following: t.reasonFollowing,
    subscribed: t.reasonSubscribed,
    similar_viewers: t.reasonSimilar,
    tags: t.reasonTags,
    popular_now: t.reasonPopular,
    upcoming: t.reasonUpcoming,
  };
  return worded[reason.code] ?? reason.text;
}

/** One room's card. */
export function roomCard(room: RoomListItem, options: RoomCardOptions = {}): HTMLElement {
  const live = room.status === 'live';
  const cover = coverOf(room.coverUrl, room.title, 'cover');
  append(
    cover,
    live
      ? h('span', { class: 'badge live' }, t.live)
      : room.scheduledAt
        ? h(
            'time',
            { class: 'start-chip', datetime: room.scheduledAt, title: fullDate(room.scheduledAt) },
            startLabel(room.scheduledAt),
          )
        : null,
    live && room.viewerCount !== undefined
      ? h('span', { class: 'watching-chip', 'data-viewers': String(room.viewerCount) }, watchingLabel(room.viewerCount))
      : null,
  );
  const showCreator = options.creator !== false;
  return h(
    'article',
    { class: `room-tile${live ? ' is-live' : ''}`, 'data-room': room.id },
    cover,
    h(
      'div',
      { class: 'room-tile-body' },
      // The title's link covers the whole card (CSS), so the card opens the room.
      h('h3', {}, h('a', { class: 'room-tile-link', href: `/watch/${room.id}` }, room.title)),
      room.description ? h('p', { class: 'room-tile-about muted small' }, room.description) : null,
      showCreator
        ? h(
            'a',
            { class: 'room-tile-creator', href: `/creators/${room.creator.userId}` },
            avatarOf(room.creator, 24),
            h('span', {}, room.creator.displayName),
          )
        : null,
      options.reason
        ? h(
            'p',
            { class: 'room-tile-reason small', 'data-reason': options.reason.code },
            reasonText(options.reason, room),
          )
        : null,
      h(
        'div',
        { class: 'room-tile-foot' },
        accessBadge(room, options.owned),
        room.tags.length
          ? h(
              'span',
              { class: 'muted small room-tile-tags' },
              room.tags
                .slice(0, 3)
                .map((t) => `#${t}`)
                .join(' '),
            )
          : null,
      ),
    ),
  );
}

/** A grid of room cards, or a sentence when there are none. */
export function roomGrid(list: HTMLElement, rooms: RoomListItem[], empty: string, options?: RoomCardOptions) {
  list.replaceChildren(
    ...(rooms.length ? rooms.map((room) => roomCard(room, options)) : [h('p', { class: 'empty muted' }, empty)]),
  );
}

/** A grid of suggested rooms ("Live now for you"), each card saying why. */
export function suggestedGrid(
  list: HTMLElement,
  suggested: RoomForYou[],
  empty: string,
  options: Omit<RoomCardOptions, 'reason'> = {},
) {
  list.replaceChildren(
    ...(suggested.length
      ? suggested.map(({ room, reason }) => roomCard(room, { ...options, reason }))
      : [h('p', { class: 'empty muted' }, empty)]),
  );
}
