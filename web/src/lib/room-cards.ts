import type { CreatorSummary, Room, RoomListItem } from '../../../protocol';
import { append, h } from './dom';
import { money } from './format';
import { coverOf } from './shell';

/**
 * Room cards (the home page, a creator's page): the cover, Live or the start time, how many are
 * watching, the title, who runs it and what it costs. The card opens the room; the creator's
 * name opens their page (a link of its own above the card's, never a link inside a link).
 */

/** What watching costs: "Free", "Ticket $5.00", "Subscribers". */
export function accessLabel(room: Pick<Room, 'access' | 'ticketPrice' | 'currency'>): string {
  if (room.access === 'ticket') return `Ticket ${money(room.ticketPrice ?? 0, room.currency)}`;
  if (room.access === 'subscribers') return 'Subscribers';
  return 'Free';
}

export function accessBadge(room: Pick<Room, 'access' | 'ticketPrice' | 'currency'>): HTMLElement {
  return h('span', { class: `price-badge ${room.access}` }, accessLabel(room));
}

const sameDay = (a: Date, b: Date) =>
  a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/**
 * When a room starts, as people say it: "Today, 18:00", "Tomorrow, 09:30", "Tue 12 Mar, 18:00";
 * "Starting soon" once the time has come and the creator has not gone live yet.
 */
export function startLabel(iso: string, now = new Date()): string {
  const at = new Date(iso);
  if (at.getTime() <= now.getTime()) return 'Starting soon';
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (sameDay(at, now)) return `Today, ${time}`;
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  if (sameDay(at, tomorrow)) return `Tomorrow, ${time}`;
  const day = at.toLocaleDateString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    ...(at.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  });
  return `${day}, ${time}`;
}

/** The full date and time, for a tooltip and the `datetime` a screen reader may use. */
export function fullDate(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
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
  return `${count} watching`;
}

/** One room's card. `creator: false` leaves the creator out (on their own page). */
export function roomCard(room: RoomListItem, options: { creator?: boolean } = {}): HTMLElement {
  const live = room.status === 'live';
  const cover = coverOf(room.coverUrl, room.title, 'cover');
  append(
    cover,
    live
      ? h('span', { class: 'badge live' }, 'Live')
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
      h(
        'div',
        { class: 'room-tile-foot' },
        accessBadge(room),
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
export function roomGrid(list: HTMLElement, rooms: RoomListItem[], empty: string, options?: { creator?: boolean }) {
  list.replaceChildren(
    ...(rooms.length ? rooms.map((room) => roomCard(room, options)) : [h('p', { class: 'empty muted' }, empty)]),
  );
}
