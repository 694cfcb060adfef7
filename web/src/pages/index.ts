import type { RoomListItem } from '../../../protocol';
import { renderAccount } from '../lib/account';
import { api } from '../lib/api';
import { authForm } from '../lib/auth';
import { byId, h, show } from '../lib/dom';
import { roomGrid } from '../lib/room-cards';
import { isCreator, loadSession } from '../lib/session';
import { exposeForTests } from '../lib/test-hook';

/**
 * The home page: the rooms live now (with how many are watching) and the upcoming ones (soonest
 * first); sign in or create an account; creators get their studio, content manager, dashboard
 * and public page.
 */

const REFRESH_MS = 15_000;
/** Upcoming rooms shown: the soonest. */
const UPCOMING_LIMIT = 12;

async function renderRooms(): Promise<void> {
  const [live, upcoming] = await Promise.all([
    api<{ rooms: RoomListItem[] }>('GET', '/api/rooms?status=live&limit=50'),
    api<{ rooms: RoomListItem[] }>('GET', `/api/rooms?upcoming=true&limit=${UPCOMING_LIMIT}`),
  ]);
  // The busiest rooms first: that is where people are.
  const byViewers = [...live.rooms].sort((a, b) => (b.viewerCount ?? 0) - (a.viewerCount ?? 0));
  roomGrid(byId('rooms'), byViewers, 'Nobody is live right now. Check the upcoming streams below.');
  roomGrid(byId('upcoming'), upcoming.rooms, 'Nothing is scheduled yet. Check back soon.');
  document.body.dataset.loaded = 'true';
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
  if (session) byId<HTMLAnchorElement>('my-page').href = `/creators/${session.user.id}`;
  const refresh = () =>
    renderRooms().catch(() => {
      const failed = () => h('p', { class: 'error' }, 'The room list could not be loaded.');
      byId('rooms').replaceChildren(failed());
      byId('upcoming').replaceChildren(failed());
    });
  exposeForTests({ refresh });
  void refresh();
  setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, REFRESH_MS);
}

main();
