import { newIdempotencyKey } from '@lectern/client-sdk';
import type { Content, CreatorProfile, MediaInfo, Room, WatchProgress } from '../../../protocol';
import { api } from '../lib/api';
import { busy, byId, h } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { duration, money, perPeriod, shortDate } from '../lib/format';
import { Player, type PlayerItem } from '../lib/player';
import { coverOf, KIND_LABELS, type Shell, startShell } from '../lib/shell';
import { exposeForTests } from '../lib/test-hook';
import { toast } from '../lib/toast';

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
    document.title = `${room.title} (replay) — Lectern`;
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
    const side = h('aside', { class: 'layout-side', 'aria-label': 'More' });
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
            { class: 'content-head', 'aria-label': 'About' },
            h('span', { class: 'badge replay' }, 'Replay'),
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
      room.endedAt ? `Streamed ${shortDate(room.endedAt)}` : null,
      media?.durationSeconds ? duration(media.durationSeconds) : null,
      room.access === 'ticket' ? 'For ticket holders' : room.access === 'subscribers' ? 'For subscribers' : 'Free',
    ]
      .filter(Boolean)
      .join(' · ');
  }

  /** Why this viewer cannot watch, and the way in where there is one. */
  private refusal(err: unknown): HTMLElement[] | undefined {
    const { room, creator } = this;
    const code = codeOf(err);
    const name = creator?.displayName ?? 'the creator';
    if (code === 'NOT_FOUND') {
      return [
        h('h2', {}, 'There is no replay of this stream'),
        h('p', {}, room.record ? 'It has been removed by its creator.' : 'This stream was not recorded.'),
      ];
    }
    if (code === 'UNAUTHENTICATED') {
      return [
        h('h2', {}, 'Sign in to watch this replay'),
        h(
          'p',
          {},
          room.access === 'ticket'
            ? 'This replay is for people who had a ticket to the live stream.'
            : `This replay is for ${name}'s subscribers.`,
        ),
        h('button', { type: 'button', class: 'primary', onclick: this.shell.signIn }, 'Sign in'),
      ];
    }
    if (code !== 'PAYMENT_REQUIRED') return undefined;
    if (room.access === 'subscribers') {
      const price = creator?.subscriptionPrice;
      const period = creator?.subscriptionPeriodDays ?? 30;
      const subscribe = h(
        'button',
        { type: 'button', class: 'primary big' },
        price ? `Subscribe — ${money(price, room.currency)}${perPeriod(period)}` : 'Subscribe',
      );
      subscribe.addEventListener('click', () => void busy(subscribe, () => this.subscribe(subscribe)));
      return [
        h('h2', {}, `This replay is for ${name}'s subscribers`),
        price
          ? h('p', {}, 'Subscribe to watch it, and every stream and replay for subscribers while you are subscribed.')
          : h('p', {}, `${name} does not offer subscriptions at the moment.`),
        price ? subscribe : h('span'),
      ];
    }
    return [
      h('h2', {}, 'This replay is for ticket holders'),
      h(
        'p',
        {},
        `Only people who had a ticket to the live stream can watch it: tickets are sold while ${name} is live.`,
      ),
    ];
  }

  private async subscribe(button: HTMLButtonElement): Promise<void> {
    const { session, wallet } = this.shell;
    if (!session) return this.shell.signIn();
    try {
      const { balance } = await api<{ balance: number }>(
        'POST',
        '/api/subscriptions',
        { creatorId: this.room.ownerId },
        { idempotencyKey: newIdempotencyKey() },
      );
      wallet?.set(balance);
      toast('Subscribed. Enjoy the replay!', 'success');
      await this.play();
    } catch (err) {
      if (codeOf(err) === 'INSUFFICIENT_FUNDS' && wallet) {
        const price = this.creator?.subscriptionPrice ?? 0;
        wallet.openTopUp(
          `A subscription costs ${money(price, this.room.currency)}. Your wallet has ${money(wallet.amount, this.room.currency)}.`,
          () => button.isConnected && button.click(),
        );
      } else {
        const code = codeOf(err);
        toast(
          code === 'CONFLICT' || code === 'INVALID_ARGUMENT'
            ? 'Subscriptions to this creator are not open right now.'
            : describeError(err),
          'error',
        );
      }
    }
  }

  /** The creator's lessons and courses: the way in when the replay itself is closed. */
  private async fillSide(side: HTMLElement): Promise<void> {
    const mine = this.shell.session?.user.id === this.room.ownerId;
    if (mine) {
      side.append(
        h(
          'section',
          { class: 'card' },
          h('p', {}, 'This is the replay of your stream.'),
          h('a', { class: 'button', href: '/studio/contents#replays' }, 'Trim it or sell it as a lesson'),
        ),
      );
    }
    let contents: Content[] = [];
    try {
      contents = (await api<{ contents: Content[] }>('GET', `/api/contents?creatorId=${this.room.ownerId}&limit=6`))
        .contents;
    } catch {
      return; // the replay matters more than the shop
    }
    if (!contents.length) return;
    side.append(
      h(
        'section',
        { class: 'card', 'aria-label': 'From this creator' },
        h('h2', {}, `More from ${this.creator?.displayName ?? 'this creator'}`),
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
                  h(
                    'span',
                    { class: 'muted small' },
                    `${KIND_LABELS[c.kind]} · ${c.price ? money(c.price, c.currency) : 'Free'}`,
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
        h(
          'p',
          {},
          live
            ? 'This stream is live right now. Its replay comes when it ends.'
            : 'This stream has not started yet. Its replay comes after it.',
        ),
        h('a', { class: 'button primary', href: `/watch/${this.room.id}` }, live ? 'Watch it live' : 'Open the room'),
      ),
    );
  }

  private fatal(err: unknown): void {
    const missing = codeOf(err) === 'NOT_FOUND' || codeOf(err) === 'INVALID_ARGUMENT';
    this.root.replaceChildren(
      h(
        'section',
        { class: 'card narrow' },
        h('h1', {}, missing ? 'No such stream' : 'This replay could not be loaded'),
        h('p', {}, missing ? 'The link may be mistyped.' : describeError(err)),
        h('a', { class: 'button', href: '/library' }, 'Go to your library'),
      ),
    );
  }
}

async function main(): Promise<void> {
  const shell = startShell({ wallet: true });
  const roomId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
  await new ReplayPage(shell, roomId).start();
}

main().catch((err) => {
  console.error(err);
  toast(codeOf(err) ? describeError(err) : 'Something went wrong: reload the page to try again.', 'error');
});
