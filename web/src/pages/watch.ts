import type { AccessLevel, Content, LecternClient, Room, RoomJoinResult, SuggestionItem } from '@lectern/client-sdk';
import { type RemoteTrack, type Viewing, watch } from '@lectern/client-sdk/media';
import type { CreatorProfile } from '../../../protocol';
import { openDialog, renderAccount } from '../lib/account';
import { api } from '../lib/api';
import { authForm } from '../lib/auth';
import { ChatPanel } from '../lib/chat';
import { connectClient } from '../lib/client';
import { busy, byId, h, show } from '../lib/dom';
import { codeOf, describeError, UserFacingError } from '../lib/errors';
import { clock, money, perPeriod, toMinorUnits } from '../lib/format';
import { ModerationTools } from '../lib/moderation';
import { chatRefusal, mutedText, rulesText, untilText } from '../lib/moderation-text';
import { type StandingChange, ViewerStanding } from '../lib/moderation-viewer';
import { QuestionsPanel } from '../lib/questions';
import { startLabel } from '../lib/room-cards';
import { buyFromRoom } from '../lib/sale-room';
import { loadSession, type Session } from '../lib/session';
import { SuggestionsPanel } from '../lib/suggestions';
import { exposeForTests, mark } from '../lib/test-hook';
import { toast } from '../lib/toast';
import { WalletChip } from '../lib/wallet';

/**
 * The viewer page: the stream (camera, screen, sound), chat, likes, tips, questions, tickets and
 * content to buy, the free-preview countdown, the paywall when access runs out, and the end.
 */

const TIP_CHOICES = [100, 200, 500, 1000];

/**
 * Shows `tracks` in a video element. A new picture gets a new stream; sound coming or going is
 * added to the playing stream in place, so the picture does not restart (no black flash).
 */
function setTracks(video: HTMLVideoElement, tracks: MediaStreamTrack[]): void {
  const stream = video.srcObject as MediaStream | null;
  const picture = tracks.find((t) => t.kind === 'video');
  if (stream && tracks.length && stream.getVideoTracks()[0] === picture) {
    for (const track of stream.getTracks()) if (!tracks.includes(track)) stream.removeTrack(track);
    for (const track of tracks) if (!stream.getTracks().includes(track)) stream.addTrack(track);
    return;
  }
  if (!stream && !tracks.length) return;
  video.srcObject = tracks.length ? new MediaStream(tracks) : null;
  if (tracks.length) video.play().catch(() => undefined); // muted autoplay; sound waits for a tap
}

class WatchPage {
  private viewing: Viewing | undefined;
  private access: AccessLevel;
  private previewEndsAt: number | undefined;
  private hadPreview: boolean;
  private ended = false;
  /** Why the video could not start at all (the chat still works). */
  private mediaError: string | undefined;
  private creator: CreatorProfile | undefined;
  private readonly chat: ChatPanel;
  private readonly questions: QuestionsPanel;
  private readonly suggestions: SuggestionsPanel;
  private readonly contents: SuggestionsPanel;
  private readonly video = byId<HTMLVideoElement>('main-video');
  private readonly pip = byId<HTMLVideoElement>('pip-video');
  private countdown: ReturnType<typeof setInterval> | undefined;
  private likes = 0;
  /** Timed out, removed by a ban, let back in. */
  private readonly standing: ViewerStanding;
  /** For the owner and moderators (and a viewer made one while watching); none for guests. */
  private readonly moderation: ModerationTools | undefined;
  private role: RoomJoinResult['role'];
  private readonly mutedAtJoin: string | undefined;

  constructor(
    private readonly session: Session | null,
    private readonly client: LecternClient,
    private readonly wallet: WalletChip | undefined,
    private room: Room,
    joined: RoomJoinResult,
  ) {
    this.access = joined.access;
    this.previewEndsAt = joined.previewEndsAt ? Date.parse(joined.previewEndsAt) : undefined;
    this.hadPreview = joined.access === 'preview';
    const roomId = room.id;
    this.role = joined.role;
    this.chat = new ChatPanel(async (text) => {
      try {
        await client.sendChat(roomId, text);
      } catch (err) {
        const until = (err as { details?: { until?: unknown } }).details?.until;
        if (codeOf(err) === 'MUTED' && typeof until === 'string') this.standing.mute(until);
        throw new UserFacingError(chatRefusal(err, this.room));
      }
    }, room.ownerId);
    this.chat.setHistory(joined.history);
    this.standing = new ViewerStanding(client, roomId, (change) => this.standingChanged(change));
    this.mutedAtJoin = joined.mutedUntil;
    this.moderation = session ? new ModerationTools(client, room, session.user.id, this.chat, joined.role) : undefined;
    this.questions = new QuestionsPanel({
      mode: 'viewer',
      onAsk: async (text) => void (await client.askQuestion(roomId, text)),
      onUpvote: async (id) => void (await client.upvoteQuestion(roomId, id)),
    });
    this.questions.render(joined.questions);
    const buy = (item: SuggestionItem) => this.buyContent(item);
    // What the viewer does with a suggestion teaches the recommender; a lost report is no reason
    // to bother the viewer, so failures stay in the console.
    const feedback = (action: 'click' | 'dismiss') => (item: SuggestionItem) => {
      if (!this.session) return;
      const sent =
        action === 'click'
          ? client.clickSuggestion(roomId, item.contentId)
          : client.dismissSuggestion(roomId, item.contentId);
      sent.catch((err) => console.warn(`suggestion ${action}:`, err));
    };
    this.suggestions = new SuggestionsPanel({
      title: 'Suggested for you',
      empty: 'Lessons and courses picked for this stream will appear here.',
      currency: room.currency,
      onBuy: (item) => (item.kind === 'subscription' ? this.subscribeFrom(item) : buy(item)),
      onOpen: feedback('click'),
      onDismiss: feedback('dismiss'),
    });
    this.contents = new SuggestionsPanel({
      title: 'From this creator',
      empty: 'Nothing for sale yet.',
      currency: room.currency,
      onBuy: buy,
    });
    this.video.addEventListener('loadeddata', () => mark('video:first-frame'));
    this.likes = joined.likesTotal;
    byId('like-count').textContent = String(this.likes);
    byId('viewer-count').textContent = String(joined.viewerCount);
  }

  async start(): Promise<void> {
    const { room } = this;
    document.title = `${room.title} — Lectern`;
    byId('room-title').textContent = room.title;
    byId('watch-side').replaceChildren(this.chat.element, this.questions.element, this.suggestions.element);
    if (this.moderation) this.chat.element.after(this.moderation.element);
    byId('contents-slot').replaceWith(this.contents.element);
    this.wireActions();
    this.listen();
    if (this.mutedAtJoin) this.standing.mute(this.mutedAtJoin);
    this.renderAccess();
    exposeForTests({
      stats: () => this.viewing?.getStats() ?? Promise.resolve([]),
      state: () => ({
        access: this.access,
        previewEndsAt: this.previewEndsAt,
        ended: this.ended,
        role: this.role,
        removed: this.standing.removed,
        mutedUntil: this.standing.muted ? this.standing.mutedUntil : undefined,
        media: this.viewing?.state ?? 'none',
        tracks: (this.viewing?.tracks() ?? []).map((t) => ({
          source: t.source,
          kind: t.kind,
          paused: t.paused,
          readyState: t.track.readyState,
        })),
      }),
    });
    void this.loadCreator();
    // Watching starts even without access: the SDK waits, blocked, until access arrives.
    try {
      this.viewing = await watch(this.client, room.id, {
        onTrack: ({ source }) => {
          mark(`track:${source}`);
          this.renderStage();
        },
        onTrackEnded: () => this.renderStage(),
      });
    } catch (err) {
      // Chat and the rest of the room still work; only the picture is missing.
      this.mediaError = describeError(err);
      this.renderStage();
      return;
    }
    this.viewing.on('trackpaused', () => this.renderStage());
    this.viewing.on('state', ({ state }) => {
      mark(`media:${state}`);
      this.renderStage();
    });
    this.viewing.on('error', ({ error }) => console.warn('media:', error));
    mark(`media:${this.viewing.state}`);
    this.renderStage();
  }

  // --- events ------------------------------------------------------------------------------------

  private listen(): void {
    const { client, room } = this;
    const here = (p: { roomId: string }) => p.roomId === room.id;
    client.on('chat:message', (m) => here(m) && this.chat.add(m));
    client.on('chat:deleted', (p) => here(p) && this.chat.remove(p.messageId));
    client.on('viewers:count', (p) => {
      if (here(p)) byId('viewer-count').textContent = String(p.count);
    });
    client.on('like:count', (p) => {
      if (!here(p)) return;
      this.likes = p.total;
      byId('like-count').textContent = String(p.total);
    });
    client.on('question:list', (p) => here(p) && this.questions.render(p.questions));
    client.on('suggestion', (p) => here(p) && this.suggestions.show(p.items, p.modelVersion));
    client.on('tip:new', (tip) => {
      if (here(tip) && tip.user.id !== this.session?.user.id)
        toast(`${tip.user.username} tipped ${money(tip.amount, tip.currency)}${tip.message ? `: ${tip.message}` : ''}`);
    });
    client.on('access:changed', (p) => {
      if (!here(p)) return;
      // Without access the server sent no conversation; joining again (harmless while a member)
      // brings the history and the question list the viewer may now see.
      if (this.access === 'none' && p.access !== 'none') void this.refreshConversation();
      this.access = p.access;
      if (p.previewEndsAt) this.previewEndsAt = Date.parse(p.previewEndsAt);
      // A scheduled room's preview starts when it goes live, while the viewer waits here.
      if (p.access === 'preview') this.hadPreview = true;
      if (p.access === 'full' && this.hadPreview) toast('You have full access now. Enjoy!', 'success');
      this.renderAccess();
    });
    client.on('room:settings', (p) => {
      if (!here(p)) return;
      this.room = { ...this.room, settings: p.settings };
      this.renderAccess();
    });
    client.on('role:changed', (p) => {
      if (!here(p)) return;
      this.role = p.role;
      this.moderation?.setRole(p.role);
      toast(
        p.role === 'moderator' ? 'You are a moderator of this room now.' : 'You no longer moderate this room.',
        'success',
      );
    });
    client.on('room:ended', (p) => {
      if (!here(p)) return;
      this.ended = true;
      this.room = { ...this.room, status: 'ended' };
      this.renderAccess();
    });
    client.on('disconnected', () => !this.ended && toast('Connection lost: reconnecting…', 'error'));
    client.on('rejoined', (joined) => {
      if (joined.room.id !== room.id) return;
      this.access = joined.access;
      if (joined.mutedUntil) this.standing.mute(joined.mutedUntil);
      if (joined.role !== this.role) {
        this.role = joined.role;
        this.moderation?.setRole(joined.role);
      }
      this.renderAccess();
    });
  }

  /** Moderation reached this viewer: a timeout (or its end), removal by a ban, an unban. */
  private standingChanged(change: StandingChange): void {
    if (change === 'muted' && this.standing.mutedUntil) {
      toast(`A moderator timed you out until ${untilText(this.standing.mutedUntil)}.`, 'error');
    } else if (change === 'unmuted') {
      toast('You can chat again.', 'success');
    } else if (change === 'removed') {
      // The server has taken this connection out of the room and released its media.
      void this.viewing?.stop();
    }
    this.renderAccess();
  }

  private async refreshConversation(): Promise<void> {
    try {
      const joined = await this.client.joinRoom(this.room.id);
      this.chat.setHistory(joined.history);
      this.questions.render(joined.questions);
    } catch (err) {
      console.warn('refreshing the conversation:', err);
    }
  }

  private wireActions(): void {
    const like = byId<HTMLButtonElement>('like');
    like.addEventListener('click', () => {
      if (!this.session) return this.signIn();
      if (!this.canInteract()) return toast(describeError({ code: 'PAYMENT_REQUIRED' }), 'error');
      // Taps are summed by the SDK and sent in batches; show them at once.
      this.client.like(this.room.id);
      this.likes += 1;
      byId('like-count').textContent = String(this.likes);
      like.classList.remove('pop');
      void like.offsetWidth; // restart the animation
      like.classList.add('pop');
    });

    const form = byId<HTMLFormElement>('tip-form');
    const amount = form.elements.namedItem('amount') as HTMLInputElement;
    const message = form.elements.namedItem('message') as HTMLInputElement;
    byId('tip-chips').replaceChildren(
      ...TIP_CHOICES.map((cents) =>
        h(
          'button',
          { type: 'button', class: 'chip', onclick: () => (amount.value = String(cents / 100)) },
          money(cents, this.room.currency),
        ),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.session) return this.signIn();
      const cents = toMinorUnits(amount.value);
      if (Number.isNaN(cents)) return toast('Enter an amount to tip.', 'error');
      void busy(form.querySelector('button[type=submit]') as HTMLButtonElement, () =>
        this.tip(cents, message.value.trim()).then((sent) => {
          if (sent) message.value = '';
        }),
      );
    });

    const buyTicket = byId<HTMLButtonElement>('buy-ticket');
    buyTicket.addEventListener('click', () => void busy(buyTicket, () => this.buyTicket()));

    const unmute = byId<HTMLButtonElement>('unmute');
    unmute.addEventListener('click', () => {
      this.video.muted = false;
      void this.video.play().catch(() => undefined);
      this.renderStage();
    });
  }

  // --- money -------------------------------------------------------------------------------------

  private async tip(amount: number, message: string): Promise<boolean> {
    try {
      const { balance } = await this.client.tip(this.room.id, amount, message ? { message } : {});
      this.wallet?.set(balance);
      toast(`Thank you! You tipped ${money(amount, this.room.currency)}.`, 'success');
      return true;
    } catch (err) {
      this.paymentFailed(
        err,
        `A tip of ${money(amount, this.room.currency)} does not fit in your wallet.`,
        () => void this.tip(amount, message),
      );
      return false;
    }
  }

  private async buyTicket(): Promise<void> {
    if (!this.session) return this.signIn();
    try {
      const { balance } = await this.client.buyTicket(this.room.id);
      this.wallet?.set(balance);
      toast('Ticket bought.', 'success');
    } catch (err) {
      this.paymentFailed(
        err,
        `A ticket costs ${money(this.room.ticketPrice ?? 0, this.room.currency)}.`,
        () => void this.buyTicket(),
      );
    }
  }

  private async subscribe(): Promise<void> {
    if (!this.session) return this.signIn();
    try {
      const { balance } = await this.subscribeTo(this.room.ownerId);
      this.wallet?.set(balance);
      toast('Subscribed.', 'success');
    } catch (err) {
      this.paymentFailed(err, 'The subscription does not fit in your wallet.', () => void this.subscribe());
    }
  }

  /** A suggested subscription: `contentId` is the creator's id. Resolves whether it is held now. */
  private async subscribeFrom(item: SuggestionItem): Promise<boolean> {
    if (!this.session) {
      this.signIn();
      return false;
    }
    try {
      const { balance } = await this.subscribeTo(item.creatorId ?? item.contentId);
      this.wallet?.set(balance);
      toast('Subscribed.', 'success');
      return true;
    } catch (err) {
      this.paymentFailed(err, `${item.title} costs ${money(item.price, this.room.currency)}.`, () => {
        void this.subscribeFrom(item).then((held) => held && this.suggestions.markOwned(item.contentId));
      });
      return false;
    }
  }

  /** Buys a lesson or course; resolves whether it is the viewer's now. */
  private async buyContent(item: SuggestionItem): Promise<boolean> {
    if (!this.session) {
      this.signIn();
      return false;
    }
    const owned = () => {
      this.suggestions.markOwned(item.contentId);
      this.contents.markOwned(item.contentId);
      return true;
    };
    try {
      const { balance } = await buyFromRoom(this.saleRoom(item.creatorId ?? this.room.ownerId), (fromRoomId) =>
        this.client.buyContent(item.contentId, { fromRoomId }),
      );
      this.wallet?.set(balance);
      toast(`${item.title} is yours.`, 'success');
      return owned();
    } catch (err) {
      if (codeOf(err) === 'CONFLICT') return owned(); // bought before
      this.paymentFailed(
        err,
        `${item.title} costs ${money(item.price, this.room.currency)}.`,
        () => void this.buyContent(item),
      );
      return false;
    }
  }

  /** This room, when buying `sellerId`'s item here counts for its session (their own room, still on). */
  private saleRoom(sellerId: string): string | undefined {
    return sellerId === this.room.ownerId && !this.ended ? this.room.id : undefined;
  }

  private subscribeTo(creatorId: string): Promise<{ balance: number }> {
    return buyFromRoom(this.saleRoom(creatorId), (fromRoomId) =>
      api<{ balance: number }>(
        'POST',
        '/api/subscriptions',
        { creatorId, ...(fromRoomId ? { fromRoomId } : {}) },
        { idempotencyKey: crypto.randomUUID() },
      ),
    );
  }

  /** Not enough money opens the top-up dialog and carries on after it; anything else is shown. */
  private paymentFailed(err: unknown, reason: string, retry: () => void): void {
    if (codeOf(err) === 'INSUFFICIENT_FUNDS' && this.wallet) {
      this.wallet.openTopUp(`${reason} Your wallet has ${money(this.wallet.amount, this.room.currency)}.`, retry);
    } else {
      toast(describeError(err), 'error');
    }
  }

  private signIn(): void {
    const dialog = openDialog(
      'Sign in to take part',
      authForm({
        role: 'viewer',
        onSignedIn: () => {
          dialog.close();
          location.reload();
        },
      }),
    );
  }

  // --- rendering -----------------------------------------------------------------------------------

  private canInteract(): boolean {
    return !!this.session && this.access !== 'none' && !this.ended && !this.standing.removed;
  }

  private renderAccess(): void {
    const { room } = this;
    const canAct = this.canInteract();
    const { removed, muted, mutedUntil } = this.standing;
    const reason = this.ended
      ? 'The stream has ended'
      : removed
        ? 'Removed from this room'
        : !this.session
          ? 'Sign in to chat'
          : this.access === 'none'
            ? 'Get access to chat'
            : muted && mutedUntil
              ? `Timed out until ${untilText(mutedUntil)}`
              : '';
    this.chat.setEnabled(canAct && !muted, reason);
    this.chat.setRules(
      this.ended || removed
        ? ''
        : muted && mutedUntil
          ? mutedText(mutedUntil, this.standing.muteReason)
          : rulesText(room, room.settings),
    );
    this.chat.element.classList.toggle('muted-chat', muted && !removed);
    this.questions.setAsking(canAct && !muted);
    byId<HTMLButtonElement>('like').disabled = this.ended || removed;
    for (const el of byId<HTMLFormElement>('tip-form').elements) (el as HTMLButtonElement).disabled = !canAct;

    show(byId('support'), !this.ended && !removed);
    // Out of the room, the count is no longer sent: a stale figure would mislead.
    show(byId('viewer-count').parentElement as HTMLElement, !removed);
    const needsTicket = room.access === 'ticket' && this.access !== 'full' && !this.ended;
    show(byId('ticket-row'), needsTicket);
    byId('ticket-text').textContent = `Ticket: ${money(room.ticketPrice ?? 0, room.currency)} for the whole stream`;

    clearInterval(this.countdown);
    const banner = byId('preview-banner');
    banner.replaceChildren();
    if (this.access === 'preview' && this.previewEndsAt && !this.ended && !removed) {
      const tick = () => {
        const left = (this.previewEndsAt ?? 0) - Date.now();
        // Only the figure changes each tick; the button is kept so a click is never lost.
        const figure = banner.querySelector('#preview-left');
        if (figure) {
          figure.textContent = clock(left);
          return;
        }
        banner.replaceChildren(h('span', {}, 'Free preview: ', h('b', { id: 'preview-left' }, clock(left)), ' left.'));
        if (room.access === 'ticket')
          banner.append(
            h(
              'button',
              { type: 'button', class: 'primary small', onclick: (e: Event) => this.buyFrom(e) },
              `Buy a ticket (${money(room.ticketPrice ?? 0, room.currency)})`,
            ),
          );
      };
      tick();
      this.countdown = setInterval(tick, 250);
      show(banner, true);
    } else {
      show(banner, false);
    }
    this.renderStage();
  }

  private renderStage(): void {
    const tracks = this.viewing?.tracks() ?? [];
    const screen = tracks.find((t) => t.source === 'screen' && !t.paused);
    const camera = tracks.find((t) => t.source === 'camera');
    const main: RemoteTrack | undefined = screen ?? camera;
    const audio = tracks.filter((t) => t.kind === 'audio').map((t) => t.track);
    setTracks(this.video, main ? [main.track, ...audio] : audio);
    const corner = screen && camera && !camera.paused ? [camera.track] : [];
    setTracks(this.pip, corner);
    show(this.pip, corner.length > 0);

    const blocked = this.access === 'none' || this.viewing?.state === 'blocked';
    const { removed, reinstated } = this.standing;
    const kind = this.ended
      ? 'ended'
      : removed
        ? reinstated
          ? 'reinstated'
          : 'removed'
        : this.mediaError
          ? 'unavailable'
          : blocked
            ? `paywall:${this.creator ? 'creator' : ''}`
            : !main
              ? `waiting:${this.room.status}`
              : main.paused
                ? 'paused'
                : 'playing';
    if (this.ended || removed) {
      setTracks(this.video, []);
      setTracks(this.pip, []);
      show(this.pip, false);
    }
    this.renderOverlay(kind);
    show(byId('live-badge'), !!main && !this.ended && !removed);
    show(byId('unmute'), audio.length > 0 && this.video.muted && !this.ended && !blocked && !removed);
  }

  /** Rebuilds the overlay only when what it says changes, so a button is never swapped under a click. */
  private renderOverlay(kind: string): void {
    const overlay = byId('overlay');
    if (overlay.dataset.kind === kind) return;
    overlay.dataset.kind = kind;
    const [what] = kind.split(':');
    let content: HTMLElement[] = [];
    if (what === 'ended') {
      const replay = this.room.record || this.room.hasReplay;
      content = [
        h('h2', {}, 'The stream has ended'),
        h('p', {}, replay ? 'Thanks for watching. Its replay is on its way.' : 'Thanks for watching.'),
        h(
          'div',
          { class: 'row buttons' },
          replay ? h('a', { class: 'button primary', href: `/replay/${this.room.id}` }, 'Watch the replay') : null,
          h('a', { class: 'button', href: '/' }, 'Find another live room'),
        ),
      ];
    } else if (what === 'removed') {
      const reason = this.standing.removedReason;
      content = [
        h('h2', {}, 'You were removed from this room by a moderator'),
        h('p', {}, 'You can no longer watch or chat here.'),
        ...(reason ? [h('p', { class: 'muted' }, `Reason given: “${reason}”`)] : []),
        h('div', { class: 'row buttons' }, h('a', { class: 'button primary', href: '/' }, 'Find another live room')),
      ];
    } else if (what === 'reinstated') {
      content = [
        h('h2', {}, 'You can come back'),
        h('p', {}, 'A moderator lifted your ban from this room.'),
        h(
          'div',
          { class: 'row buttons' },
          h('button', { type: 'button', class: 'primary', onclick: () => location.reload() }, 'Rejoin the room'),
          h('a', { class: 'button', href: '/' }, 'Find another live room'),
        ),
      ];
    } else if (what === 'unavailable') {
      content = [
        h('h2', {}, 'The video cannot start'),
        h('p', {}, this.mediaError ?? ''),
        h('button', { type: 'button', onclick: () => location.reload() }, 'Try again'),
      ];
    } else if (what === 'paywall') {
      content = this.paywall();
    } else if (what === 'waiting') {
      content = [
        h('div', { class: 'spinner', 'aria-hidden': 'true' }),
        h('p', {}, this.room.status === 'live' ? 'Waiting for the video…' : 'The stream starts here soon.'),
      ];
      if (this.room.status !== 'live' && this.room.scheduledAt) {
        content.push(h('p', { class: 'small' }, `Starts: ${startLabel(this.room.scheduledAt)}`));
      }
    } else if (what === 'paused') {
      content = [h('p', {}, 'The camera is off for a moment.')];
    }
    overlay.replaceChildren(...content);
    overlay.classList.toggle('paywall', what === 'paywall');
    overlay.classList.toggle('removed', what === 'removed' || what === 'reinstated');
    show(overlay, content.length > 0);
  }

  private paywall(): HTMLElement[] {
    const { room, creator } = this;
    const name = creator?.displayName ?? 'the creator';
    const waiting = room.status === 'scheduled' && room.previewSeconds > 0 && !this.hadPreview;
    const intro = this.hadPreview
      ? 'Your free preview is over.'
      : waiting
        ? `${room.scheduledAt ? `Starts: ${startLabel(room.scheduledAt)}.` : 'The stream has not started yet.'} Your free ${previewLength(room.previewSeconds)} preview starts when it goes live.`
        : 'This stream is not free.';
    if (!this.session) {
      return [
        h('h2', {}, 'Sign in to watch'),
        h('p', {}, `${intro} Sign in to ${room.access === 'ticket' ? 'buy a ticket' : 'subscribe'}.`),
        h('button', { type: 'button', class: 'primary', onclick: () => this.signIn() }, 'Sign in'),
      ];
    }
    if (room.access === 'subscribers') {
      const price = creator?.subscriptionPrice;
      return [
        h('h2', {}, `For ${name}'s subscribers`),
        h('p', {}, intro),
        price
          ? h(
              'button',
              {
                type: 'button',
                class: 'primary',
                onclick: (e: Event) => void busy(e.currentTarget as HTMLButtonElement, () => this.subscribe()),
              },
              `Subscribe for ${money(price, room.currency)}${perPeriod(creator?.subscriptionPeriodDays ?? 30)}`,
            )
          : h('p', { class: 'muted' }, 'Subscriptions are not open yet.'),
      ];
    }
    return [
      h('h2', {}, 'Get a ticket to keep watching'),
      h('p', {}, `${intro} A ticket for the whole stream costs ${money(room.ticketPrice ?? 0, room.currency)}.`),
      h(
        'button',
        { type: 'button', class: 'primary big', id: 'paywall-buy', onclick: (e: Event) => this.buyFrom(e) },
        `Buy ticket — ${money(room.ticketPrice ?? 0, room.currency)}`,
      ),
    ];
  }

  private buyFrom(event: Event): void {
    void busy(event.currentTarget as HTMLButtonElement, () => this.buyTicket());
  }

  private async loadCreator(): Promise<void> {
    const { room } = this;
    const access = room.access === 'free' ? 'Free' : room.access === 'ticket' ? 'Ticket' : 'Subscribers';
    try {
      this.creator = (await api<{ profile: CreatorProfile }>('GET', `/api/creators/${room.ownerId}`)).profile;
    } catch {
      // An older account without a profile: the room still plays.
    }
    // The creator's name opens their page (profile, upcoming streams, subscription).
    const rest = [access, ...room.tags.map((t) => `#${t}`)].join(' · ');
    byId('room-meta').replaceChildren(
      ...(this.creator
        ? [h('a', { href: `/creators/${room.ownerId}`, class: 'creator-link' }, this.creator.displayName), ' · ']
        : []),
      rest,
    );
    try {
      const { contents } = await api<{ contents: Content[] }>('GET', `/api/contents?creatorId=${room.ownerId}&limit=6`);
      this.contents.show(
        contents.map((c) => ({ contentId: c.id, title: c.title, price: c.price, score: 0, reason: c.kind })),
        'catalog',
      );
    } catch {
      // Optional: the stream matters more than the shop.
    }
    this.renderStage();
  }
}

/** "2-second", "1-minute", "90-second": how long a free preview is. */
function previewLength(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}-minute` : `${seconds}-second`;
}

function fatal(title: string, text: string, replayOf?: string): void {
  byId('room-title').textContent = title;
  const overlay = byId('overlay');
  overlay.replaceChildren(
    h('h2', {}, title),
    h('p', {}, text),
    h(
      'div',
      { class: 'row buttons' },
      replayOf ? h('a', { class: 'button primary', href: `/replay/${replayOf}` }, 'Watch the replay') : null,
      h('a', { class: 'button', href: '/' }, 'See live rooms'),
    ),
  );
  show(overlay, true);
  byId('support').hidden = true;
}

/** An ended room: its replay, when it has one (or will have: it is still being prepared). */
async function endedRoom(roomId: string): Promise<void> {
  const room = await api<{ room: Room }>('GET', `/api/rooms/${encodeURIComponent(roomId)}`)
    .then((r) => r.room)
    .catch(() => undefined);
  if (room) document.title = `${room.title} — Lectern`;
  if (room?.hasReplay) fatal('The stream has ended', 'You can watch its replay.', room.id);
  else fatal('The stream has ended', 'This room is over. Thanks for stopping by.');
  if (room) byId('room-title').textContent = room.title;
}

async function main(): Promise<void> {
  const roomId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
  const session = loadSession();
  const wallet = session ? new WalletChip() : undefined;
  const signIn = () => openDialog('Sign in', authForm({ role: 'viewer', onSignedIn: () => location.reload() }));
  renderAccount(byId('account'), session, { onSignIn: signIn, extra: wallet ? [wallet.element] : [] });
  void wallet?.refresh().catch(() => undefined);

  let client: LecternClient;
  let joined: RoomJoinResult;
  try {
    client = await connectClient(session);
    mark('connected');
    joined = await client.joinRoom(roomId);
    mark('joined');
  } catch (err) {
    const code = codeOf(err);
    if (code === 'CONFLICT') return endedRoom(roomId);
    if (code === 'BANNED') {
      return fatal(
        'You were removed from this room',
        'A moderator removed you from this room, so you cannot watch or chat here.',
      );
    }
    if (code === 'NOT_FOUND' || code === 'INVALID_ARGUMENT') return fatal('No such room', 'The link may be mistyped.');
    return fatal('Cannot open this room', describeError(err));
  }
  await new WatchPage(session, client, wallet, joined.room, joined).start();
}

main().catch((err) => toast(describeError(err), 'error'));
