import type { Room } from '@lectern/client-sdk';
import { renderAccount } from '../lib/account';
import { api } from '../lib/api';
import { authForm } from '../lib/auth';
import { byId, h, show } from '../lib/dom';
import { money } from '../lib/format';
import { isCreator, loadSession } from '../lib/session';

/** The home page: the rooms that are live now; sign in or create an account; creators go to the studio. */

const REFRESH_MS = 15_000;

function accessLabel(room: Room): string {
  if (room.access === 'ticket') return `Ticket ${money(room.ticketPrice ?? 0, room.currency)}`;
  if (room.access === 'subscribers') return 'Subscribers';
  return 'Free';
}

async function renderRooms(): Promise<void> {
  const list = byId('rooms');
  const { rooms } = await api<{ rooms: Room[] }>('GET', '/api/rooms?status=live&limit=50');
  list.replaceChildren(
    ...(rooms.length
      ? rooms.map((room) =>
          h(
            'a',
            { class: 'room-card', href: `/watch/${room.id}` },
            h('span', { class: 'badge live' }, 'Live'),
            h('h3', {}, room.title),
            h('p', { class: 'muted small' }, [accessLabel(room), ...room.tags.map((t) => `#${t}`)].join(' · ')),
          ),
        )
      : [h('p', { class: 'empty muted' }, 'Nobody is live right now. Check back soon.')]),
  );
}

function main(): void {
  const session = loadSession();
  const signin = byId('signin');
  const showSignIn = () => {
    show(signin, true);
    signin.scrollIntoView({ behavior: 'smooth' });
    signin.querySelector('input')?.focus();
  };
  renderAccount(byId('account'), session, { onSignIn: showSignIn });
  if (!session) {
    signin.append(authForm({ role: 'viewer', onSignedIn: () => location.reload() }));
    show(signin, true);
  }
  show(byId('creator-panel'), isCreator(session));
  const refresh = () =>
    renderRooms().catch(() => {
      byId('rooms').replaceChildren(h('p', { class: 'error' }, 'The room list could not be loaded.'));
    });
  void refresh();
  setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, REFRESH_MS);
}

main();
