import type { LecternClient, Room } from '@lectern/client-sdk';
import { type Publication, publish } from '@lectern/client-sdk/media';
import { renderAccount } from '../lib/account';
import { api } from '../lib/api';
import { authForm } from '../lib/auth';
import { ChatPanel } from '../lib/chat';
import { connectClient } from '../lib/client';
import { busy, byId, h, show } from '../lib/dom';
import { describeError } from '../lib/errors';
import { clock, money, toMinorUnits } from '../lib/format';
import { LocalMedia } from '../lib/local-media';
import { ModerationTools } from '../lib/moderation';
import { QuestionsPanel } from '../lib/questions';
import { startLabel } from '../lib/room-cards';
import { endOfStreamSales, SalesFeed } from '../lib/sales-feed';
import { isCreator, loadSession, type Session } from '../lib/session';
import { SuggestionsPanel } from '../lib/suggestions';
import { exposeForTests } from '../lib/test-hook';
import { TipsPanel } from '../lib/tips';
import { toast } from '../lib/toast';
import { describeUploadError, uploadFile } from '../lib/upload';

/**
 * The streamer's studio: sign in, pick or create a room, choose camera / microphone / screen,
 * preview, go live (simulcast), follow the room (viewers, chat, tips, questions, suggestions)
 * and end the stream.
 */

type View = 'signin' | 'rooms' | 'studio' | 'ended';

function showView(view: View): void {
  for (const name of ['signin', 'rooms', 'studio', 'ended'] as View[]) show(byId(`${name}-view`), name === view);
}

// --- sign in ---------------------------------------------------------------------------------

function showSignIn(session: Session | null): void {
  const view = byId('signin-view');
  if (session && !isCreator(session)) {
    view.prepend(
      h('p', { class: 'notice' }, `${session.user.username} is a viewer account. Create a creator account to go live.`),
    );
  }
  view.append(authForm({ role: 'creator', register: !!session, onSignedIn: () => location.reload() }));
  showView('signin');
}

// --- rooms -----------------------------------------------------------------------------------

async function showRooms(session: Session): Promise<void> {
  showView('rooms');
  const list = byId<HTMLOListElement>('room-list');
  const { rooms } = await api<{ rooms: Room[] }>(
    'GET',
    `/api/rooms?ownerId=${encodeURIComponent(session.user.id)}&limit=100`,
  );
  const open = rooms.filter((r) => r.status !== 'ended');
  list.replaceChildren(
    ...(open.length
      ? open.map((room) =>
          h(
            'li',
            {},
            h(
              'div',
              {},
              h('b', {}, room.title),
              h(
                'p',
                { class: 'muted small' },
                `${room.status === 'live' ? 'Live now' : room.scheduledAt ? `Starts ${startLabel(room.scheduledAt)}` : 'Not started'} · ${accessLabel(room)}${room.record ? ' · recorded' : ''}`,
              ),
            ),
            h('a', { class: 'button', href: `/studio?room=${room.id}` }, 'Open studio'),
          ),
        )
      : [h('li', { class: 'empty muted' }, 'No rooms yet: create one to go live.')]),
  );
  wireCreateRoom();
}

function accessLabel(room: Room): string {
  if (room.access === 'ticket') return `Ticket ${money(room.ticketPrice ?? 0, room.currency)}`;
  if (room.access === 'subscribers') return 'Subscribers';
  return 'Free';
}

function wireCreateRoom(): void {
  const form = byId<HTMLFormElement>('create-room');
  const access = form.elements.namedItem('access') as HTMLSelectElement;
  const syncFields = () => {
    show(byId('paid-fields'), access.value !== 'free');
    show(byId('ticket-field'), access.value === 'ticket');
  };
  access.addEventListener('change', syncFields);
  syncFields();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const error = byId('create-error');
    error.textContent = '';
    const body: Record<string, unknown> = {
      title: String(data.get('title')).trim(),
      access: access.value,
      tags: String(data.get('tags') ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    };
    if (access.value === 'ticket') {
      body.ticketPrice = toMinorUnits(String(data.get('ticketPrice')));
      if (Number.isNaN(body.ticketPrice)) {
        error.textContent = 'Enter a ticket price.';
        return;
      }
    }
    if (access.value !== 'free') body.previewSeconds = Number(data.get('previewSeconds') || 0);
    body.record = (form.elements.namedItem('record') as HTMLInputElement).checked;
    // A start time (datetime-local is the browser's local time) makes the room upcoming.
    const startsAt = String(data.get('scheduledAt') ?? '');
    if (startsAt) {
      const at = new Date(startsAt);
      if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
        error.textContent = 'Pick a start time in the future, or leave it empty.';
        return;
      }
      body.scheduledAt = at.toISOString();
    }
    const description = String(data.get('description') ?? '').trim();
    if (description) body.description = description;
    const cover = (form.elements.namedItem('cover') as HTMLInputElement).files?.[0];
    void busy(form.querySelector('button[type=submit]') as HTMLButtonElement, async () => {
      try {
        const { room } = await api<{ room: Room }>('POST', '/api/rooms', body);
        if (cover) {
          // The room exists either way: a refused picture is said, not a reason to stay here.
          await uploadFile(`/api/rooms/${room.id}/cover`, cover, { kind: 'cover' }).catch((err) =>
            toast(describeUploadError(err, 'cover'), 'error'),
          );
        }
        location.assign(`/studio?room=${room.id}`);
      } catch (err) {
        error.textContent = describeError(err);
      }
    });
  });
}

// --- the studio --------------------------------------------------------------------------------

async function openStudio(session: Session, roomId: string): Promise<void> {
  let room: Room;
  try {
    room = (await api<{ room: Room }>('GET', `/api/rooms/${encodeURIComponent(roomId)}`)).room;
  } catch (err) {
    toast(describeError(err), 'error');
    return showRooms(session);
  }
  if (room.ownerId !== session.user.id && session.user.role !== 'admin') {
    toast('That room belongs to someone else.', 'error');
    return showRooms(session);
  }
  if (room.status === 'ended') return showEnded(room, 'This room has already ended.');
  await new Studio(room, await connectClient(session)).open();
}

class Studio {
  private publication: Publication | undefined;
  private readonly local: LocalMedia;
  private readonly chat: ChatPanel;
  private readonly questions: QuestionsPanel;
  private readonly tips: TipsPanel;
  private readonly sales: SalesFeed;
  private readonly suggestions: SuggestionsPanel;
  private cameraOff = false;
  private micMuted = false;
  private peakViewers = 0;
  private likes = 0;
  private tipTotal = 0;
  private ended = false;
  private clockTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private room: Room,
    private readonly client: LecternClient,
  ) {
    this.local = new LocalMedia(byId('preview'), byId('preview-pip'), (source, track) =>
      this.trackChanged(source, track),
    );
    this.chat = new ChatPanel(async (text) => void (await client.sendChat(room.id, text)), room.ownerId);
    this.questions = new QuestionsPanel({
      mode: 'owner',
      onAnswer: async (id) => void (await client.answerQuestion(room.id, id)),
    });
    this.tips = new TipsPanel(room.currency, (total) => {
      this.tipTotal = total;
      byId('tip-total').textContent = money(total, room.currency);
    });
    this.sales = new SalesFeed(room.id);
    this.suggestions = new SuggestionsPanel({
      title: 'Suggested in your room',
      empty: 'When the recommender suggests your lessons and courses to viewers, they show up here.',
      currency: room.currency,
    });
  }

  async open(): Promise<void> {
    const { room, client } = this;
    showView('studio');
    document.title = `${room.title} — Studio — Lectern`;
    byId('room-title').textContent = room.title;
    const watchUrl = `${location.origin}/watch/${room.id}`;
    Object.assign(byId<HTMLAnchorElement>('watch-link'), { href: watchUrl, textContent: watchUrl });
    byId('studio-side').replaceChildren(
      this.chat.element,
      this.questions.element,
      this.tips.element,
      this.suggestions.element,
    );
    byId('tip-total').textContent = money(0, room.currency);
    this.tips.element.after(this.sales.element); // sales beside tips

    const joined = await client.joinRoom(room.id);
    this.chat.setHistory(joined.history);
    // Delete, time out, ban and appoint from each chat line; the chat rules and the lists beside it.
    const moderation = new ModerationTools(
      client,
      joined.room,
      loadSession()?.user.id ?? room.ownerId,
      this.chat,
      joined.role,
    );
    this.chat.element.after(moderation.element);
    this.questions.render(joined.questions);
    this.tips.leaderboard(joined.leaderboard);
    this.setViewers(joined.viewerCount);
    this.setLikes(joined.likesTotal);
    this.listen();
    this.wireControls();
    this.setLive(room.status === 'live', false);
    exposeForTests({
      publication: () => this.publication?.state ?? 'none',
      outboundStats: () => this.publication?.getStats() ?? Promise.resolve([]),
    });
    await this.startDevices();
  }

  private listen(): void {
    const { client, room } = this;
    const here = (p: { roomId: string }) => p.roomId === room.id;
    client.on('chat:message', (m) => here(m) && this.chat.add(m));
    client.on('chat:deleted', (p) => here(p) && this.chat.remove(p.messageId));
    client.on('viewers:count', (p) => here(p) && this.setViewers(p.count));
    client.on('like:count', (p) => here(p) && this.setLikes(p.total));
    client.on('tip:new', (tip) => here(tip) && this.tips.add(tip));
    client.on('tip:leaderboard', (p) => here(p) && this.tips.leaderboard(p.top));
    client.on('sale:new', (sale) => this.sales.add(sale)); // every sale of yours, from any room or page
    client.on('question:list', (p) => here(p) && this.questions.render(p.questions));
    client.on('suggestion:activity', (p) => here(p) && this.suggestions.showActivity(p.items, p.modelVersion));
    client.on('room:ended', (p) => here(p) && this.finish());
    // Not after the end: finishing closes the connection on purpose.
    client.on('disconnected', () => !this.ended && toast('Connection lost: reconnecting…', 'error'));
    client.on('rejoined', () => toast('Reconnected', 'success'));
  }

  private async startDevices(): Promise<void> {
    const failures = await this.local.start();
    for (const [source, err] of failures) toast(`${source}: ${describeError(err)}`, 'error');
    await this.local.fillPickers(byId('camera-select'), byId('mic-select')).catch(() => undefined);
    this.renderStageHint();
  }

  private wireControls(): void {
    const cameraSelect = byId<HTMLSelectElement>('camera-select');
    const micSelect = byId<HTMLSelectElement>('mic-select');
    cameraSelect.addEventListener('change', () => {
      this.local.useCamera(cameraSelect.value || null).catch((err) => toast(describeError(err), 'error'));
    });
    micSelect.addEventListener('change', () => {
      this.local.useMicrophone(micSelect.value || null).catch((err) => toast(describeError(err), 'error'));
    });

    const toggleCamera = byId<HTMLButtonElement>('toggle-camera');
    toggleCamera.addEventListener('click', () => {
      this.cameraOff = !this.cameraOff;
      toggleCamera.textContent = this.cameraOff ? 'Turn camera on' : 'Turn camera off';
      toggleCamera.setAttribute('aria-pressed', String(this.cameraOff));
      void this.applyPause('camera', this.cameraOff);
    });
    const toggleMic = byId<HTMLButtonElement>('toggle-mic');
    toggleMic.addEventListener('click', () => {
      this.micMuted = !this.micMuted;
      toggleMic.textContent = this.micMuted ? 'Unmute microphone' : 'Mute microphone';
      toggleMic.setAttribute('aria-pressed', String(this.micMuted));
      void this.applyPause('microphone', this.micMuted);
    });
    const toggleScreen = byId<HTMLButtonElement>('toggle-screen');
    toggleScreen.addEventListener('click', () => {
      void busy(toggleScreen, async () => {
        try {
          if (this.local.has('screen')) this.local.stopScreen();
          else await this.local.shareScreen();
        } catch (err) {
          toast(describeError(err), 'error');
        }
      });
    });

    const goLive = byId<HTMLButtonElement>('go-live');
    goLive.addEventListener('click', () => void busy(goLive, () => this.goLive()));
    const endConfirm = byId('end-confirm');
    byId('end-stream').addEventListener('click', () => show(endConfirm, true));
    byId('end-cancel').addEventListener('click', () => show(endConfirm, false));
    const endNow = byId<HTMLButtonElement>('end-now');
    endNow.addEventListener('click', () => void busy(endNow, () => this.endStream()));
  }

  private async goLive(): Promise<void> {
    const { room, client } = this;
    try {
      if (room.status === 'scheduled') {
        this.room = (await api<{ room: Room }>('POST', `/api/rooms/${room.id}/start`)).room;
      }
      this.setStatus('Connecting…');
      const publication = await publish(client, room.id, { ...this.local.current(), simulcast: true });
      this.publication = publication;
      publication.on('state', ({ state }) => this.setStatus(STATUS_TEXT[state]));
      publication.on('error', ({ error }) => toast(`Media: ${describeError(error)}`, 'error'));
      publication.on('trackended', ({ source }) => source === 'screen' && this.local.stopScreen());
      if (this.cameraOff) await publication.pause('camera');
      if (this.micMuted) await publication.pause('microphone');
      this.setLive(true, true);
    } catch (err) {
      this.setStatus('Not live');
      toast(describeError(err), 'error');
    }
  }

  private async endStream(): Promise<void> {
    try {
      await this.publication?.stop();
      await api('POST', `/api/rooms/${this.room.id}/end`);
      this.finish();
    } catch (err) {
      toast(describeError(err), 'error');
    }
  }

  /** The room ended (here or from another tab): stop sending and show the summary. */
  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.clockTimer);
    void this.publication?.stop();
    this.local.stopAll();
    const minutes = this.room.startedAt ? clock(Date.now() - Date.parse(this.room.startedAt)) : '0:00';
    byId('ended-summary').textContent =
      `Live for ${minutes}. Up to ${this.peakViewers} watching at once, ${this.likes} likes, ` +
      `${money(this.tipTotal, this.room.currency)} in tips this session.`;
    showReplayLinks(this.room);
    showSessionSales(this.room, this.sales);
    showView('ended');
    void this.client.close();
  }

  private trackChanged(source: string, track: MediaStreamTrack | null): void {
    if (source === 'camera' && track) track.enabled = !this.cameraOff;
    if (source === 'microphone' && track) track.enabled = !this.micMuted;
    byId<HTMLButtonElement>('toggle-screen').textContent = this.local.has('screen') ? 'Stop sharing' : 'Share screen';
    byId('toggle-screen').setAttribute('aria-pressed', String(this.local.has('screen')));
    this.renderStageHint();
    const publication = this.publication;
    if (!publication || publication.state === 'closed' || publication.state === 'ended') return;
    publication
      .replaceTrack(source as 'camera', track)
      .then(() => {
        if (track && ((source === 'camera' && this.cameraOff) || (source === 'microphone' && this.micMuted)))
          return publication.pause(source);
      })
      .catch((err) => toast(describeError(err), 'error'));
  }

  private async applyPause(source: 'camera' | 'microphone', paused: boolean): Promise<void> {
    const track = this.local.current()[source];
    if (track) track.enabled = !paused;
    try {
      if (paused) await this.publication?.pause(source);
      else await this.publication?.resume(source);
    } catch (err) {
      toast(describeError(err), 'error');
    }
  }

  private setLive(live: boolean, justStarted: boolean): void {
    show(byId('live-badge'), live);
    const goLive = byId<HTMLButtonElement>('go-live');
    // A reload while live: the room is live but this page sends nothing until resumed.
    show(goLive, !this.publication);
    goLive.textContent = live ? 'Resume broadcast' : 'Go live';
    show(byId('end-stream'), live);
    show(byId('recording'), live && this.room.record);
    if (live) {
      this.setStatus(this.publication ? 'Live' : 'Live, not sending');
      clearInterval(this.clockTimer);
      const tick = () => {
        const started = this.room.startedAt ? Date.parse(this.room.startedAt) : Date.now();
        byId('elapsed').textContent = `Live for ${clock(Date.now() - started)}`;
      };
      tick();
      this.clockTimer = setInterval(tick, 1000);
      if (justStarted) toast('You are live!', 'success');
    }
  }

  private setStatus(text: string): void {
    const status = byId('publish-status');
    status.textContent = text;
    status.classList.toggle('live', text === 'Live');
  }

  private setViewers(count: number): void {
    this.peakViewers = Math.max(this.peakViewers, count);
    byId('viewer-count').textContent = String(count);
  }

  private setLikes(total: number): void {
    this.likes = total;
    byId('like-count').textContent = String(total);
  }

  private renderStageHint(): void {
    show(byId('stage-empty'), !this.local.has('camera') && !this.local.has('screen'));
  }
}

const STATUS_TEXT: Record<Publication['state'], string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  blocked: 'Not live',
  ended: 'Ended',
  closed: 'Not live',
};

function showEnded(room: Room, text: string): void {
  byId('ended-summary').textContent = `${room.title}: ${text}`;
  showReplayLinks(room);
  showView('ended');
}

/** After the end: the session's sales (exact, from its analytics) and its page on the dashboard. */
function showSessionSales(room: Room, feed: SalesFeed): void {
  const text = byId('ended-sales');
  text.textContent = 'Counting the sales of this session…';
  byId<HTMLAnchorElement>('ended-dashboard').href = `/dashboard?room=${encodeURIComponent(room.id)}`;
  void endOfStreamSales(room.id, room.currency, feed).then((summary) => {
    text.textContent = summary;
  });
}

/** After the end: where the replay will be (it takes a moment to prepare), or why there is none. */
function showReplayLinks(room: Room): void {
  const link = byId<HTMLAnchorElement>('replay-link');
  link.href = `/replay/${room.id}`;
  show(link, room.record || room.hasReplay);
  byId('ended-replay').textContent =
    room.record || room.hasReplay
      ? 'The recording becomes the replay in a few moments: your ticket holders and subscribers can watch it in their library.'
      : 'This stream was not recorded, so there is no replay.';
}

async function main(): Promise<void> {
  const session = loadSession();
  renderAccount(byId('account'), session, { onSignIn: () => showSignIn(null) });
  if (!session || !isCreator(session)) return showSignIn(session);
  const roomId = new URLSearchParams(location.search).get('room');
  if (roomId) await openStudio(session, roomId);
  else await showRooms(session);
}

main().catch((err) => toast(describeError(err), 'error'));
