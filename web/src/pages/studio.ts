import type { LecternClient, LiveRoom, Room } from '@lectern/client-sdk';
import { type Publication, publish } from '@lectern/client-sdk/media';
import { renderAccount } from '../lib/account';
import { api } from '../lib/api';
import { authForm } from '../lib/auth';
import { ChatPanel } from '../lib/chat';
import { connectClient } from '../lib/client';
import { busy, byId, h, show } from '../lib/dom';
import { describeError } from '../lib/errors';
import { clock, money, toMinorUnits } from '../lib/format';
import { formatNumber, messages } from '../lib/i18n';
import { LocalMedia } from '../lib/local-media';
import { ModerationTools } from '../lib/moderation';
import { fillText } from '../lib/page-text';
import { PinnedBar } from '../lib/pinned';
import { PollsPanel } from '../lib/polls';
import { QuestionsPanel } from '../lib/questions';
import { accessLabel, startLabel } from '../lib/room-cards';
import { endOfStreamSales, SalesFeed } from '../lib/sales-feed';
import { isCreator, loadSession, type Session } from '../lib/session';
import { SuggestionsPanel } from '../lib/suggestions';
import { exposeForTests } from '../lib/test-hook';
import { TipsPanel } from '../lib/tips';
import { toast } from '../lib/toast';
import { describeUploadError, uploadFile } from '../lib/upload';

const t = messages({
  en: {
    studio: 'Studio',
    signInLead: 'Sign in with a creator account to go live.',
    yourRooms: 'Your rooms',
    contentsLink: 'Lessons, courses and replays',
    dashboardLink: 'Dashboard: sales and payouts',
    newRoom: 'New room',
    title: 'Title',
    titlePlaceholder: 'Linear algebra, live Q&A',
    whoCanWatch: 'Who can watch',
    accessFree: 'Everyone, for free',
    accessTicket: 'Ticket holders',
    accessSubscribers: 'My subscribers',
    ticketPrice: 'Ticket price',
    previewSeconds: 'Free preview (seconds)',
    tags: 'Tags',
    tagsPlaceholder: 'math, algebra',
    startsAt: 'Starts at (optional)',
    startsAtHint: 'Listed as upcoming on the home page and your page until you go live.',
    description: 'Description (optional)',
    descriptionPlaceholder: 'What you will cover, who it is for',
    cover: 'Cover image (optional)',
    record: 'Record this stream (replay afterwards)',
    createRoom: 'Create room',
    live: 'Live',
    noCamera: 'No camera yet. Pick one below, or share your screen.',
    watching: 'watching',
    likes: 'likes',
    inTips: 'in tips',
    recording: '● Recording',
    broadcast: 'Broadcast',
    viewersWatchAt: 'Viewers watch at',
    notLive: 'Not live',
    camera: 'Camera',
    microphone: 'Microphone',
    cameraOff: 'Turn camera off',
    cameraOn: 'Turn camera on',
    micOff: 'Mute microphone',
    micOn: 'Unmute microphone',
    shareScreen: 'Share screen',
    stopSharing: 'Stop sharing',
    goLive: 'Go live',
    resume: 'Resume broadcast',
    endStream: 'End stream',
    endConfirm: 'End the stream for everyone?',
    endNow: 'End now',
    keepStreaming: 'Keep streaming',
    ended: 'The stream has ended',
    watchReplay: 'Watch the replay',
    trim: 'Trim it or sell it as a lesson',
    sessionDashboard: 'This session on the dashboard',
    backToRooms: 'Back to your rooms',
    viewerAccount: (name: string) => `${name} is a viewer account. Create a creator account to go live.`,
    liveNow: 'Live now',
    startsWhen: (when: string) => `Starts ${when}`,
    notStarted: 'Not started',
    recorded: 'recorded',
    openStudio: 'Open studio',
    noRooms: 'No rooms yet: create one to go live.',
    enterTicketPrice: 'Enter a ticket price.',
    futureStart: 'Pick a start time in the future, or leave it empty.',
    someoneElses: 'That room belongs to someone else.',
    alreadyEnded: 'This room has already ended.',
    suggestedTitle: 'Suggested in your room',
    suggestedEmpty: 'When the recommender suggests your lessons and courses to viewers, they show up here.',
    connecting: 'Connecting…',
    reconnecting: 'Reconnecting…',
    liveStatus: 'Live',
    liveNotSending: 'Live, not sending',
    endedStatus: 'Ended',
    youAreLive: 'You are live!',
    liveFor: (time: string) => `Live for ${time}`,
    connectionLost: 'Connection lost: reconnecting…',
    reconnected: 'Reconnected',
    media: (what: string) => `Media: ${what}`,
    cameraFailed: (what: string) => `Camera: ${what}`,
    microphoneFailed: (what: string) => `Microphone: ${what}`,
    summary: (time: string, peak: number, likes: number, tips: string) =>
      `Live for ${time}. Up to ${peak} watching at once, ${likes} likes, ${tips} in tips this session.`,
    endedText: (title: string, text: string) => `${title}: ${text}`,
    counting: 'Counting the sales of this session…',
    replaySoon:
      'The recording becomes the replay in a few moments: your ticket holders and subscribers can watch it in their library.',
    noReplay: 'This stream was not recorded, so there is no replay.',
  },
  'zh-CN': {
    studio: '直播工作台',
    signInLead: '使用创作者账号登录后即可开播。',
    yourRooms: '你的直播间',
    contentsLink: '课程、合集与回放',
    dashboardLink: '数据看板：销售与提现',
    newRoom: '新建直播间',
    title: '标题',
    titlePlaceholder: '线性代数直播答疑',
    whoCanWatch: '谁可以观看',
    accessFree: '所有人免费观看',
    accessTicket: '购票观众',
    accessSubscribers: '我的订阅者',
    ticketPrice: '门票价格',
    previewSeconds: '免费试看（秒）',
    tags: '标签',
    tagsPlaceholder: '数学, 代数',
    startsAt: '开始时间（可选）',
    startsAtHint: '开播前会作为“即将开始”显示在首页和你的主页上。',
    description: '简介（可选）',
    descriptionPlaceholder: '这次讲什么、适合谁',
    cover: '封面图片（可选）',
    record: '录制本场直播（之后可看回放）',
    createRoom: '创建直播间',
    live: '直播中',
    noCamera: '还没有摄像头画面。请在下方选择摄像头，或共享屏幕。',
    watching: '人在看',
    likes: '个赞',
    inTips: '打赏',
    recording: '● 录制中',
    broadcast: '直播控制',
    viewersWatchAt: '观众观看地址',
    notLive: '未开播',
    camera: '摄像头',
    microphone: '麦克风',
    cameraOff: '关闭摄像头',
    cameraOn: '打开摄像头',
    micOff: '静音麦克风',
    micOn: '取消静音',
    shareScreen: '共享屏幕',
    stopSharing: '停止共享',
    goLive: '开始直播',
    resume: '恢复推流',
    endStream: '结束直播',
    endConfirm: '要为所有人结束直播吗？',
    endNow: '立即结束',
    keepStreaming: '继续直播',
    ended: '直播已结束',
    watchReplay: '观看回放',
    trim: '剪辑回放或作为课程出售',
    sessionDashboard: '在数据看板查看本场',
    backToRooms: '返回直播间列表',
    viewerAccount: (name: string) => `${name} 是观众账号。请创建创作者账号后开播。`,
    liveNow: '直播中',
    startsWhen: (when: string) => `${when} 开始`,
    notStarted: '未开始',
    recorded: '录制',
    openStudio: '打开工作台',
    noRooms: '还没有直播间：创建一个就能开播。',
    enterTicketPrice: '请输入门票价格。',
    futureStart: '请选择一个未来的开始时间，或留空。',
    someoneElses: '这个直播间属于其他人。',
    alreadyEnded: '这个直播间已经结束。',
    suggestedTitle: '直播间里的推荐',
    suggestedEmpty: '推荐系统向观众推荐你的课程时，会显示在这里。',
    connecting: '连接中…',
    reconnecting: '重新连接中…',
    liveStatus: '直播中',
    liveNotSending: '直播中，未推流',
    endedStatus: '已结束',
    youAreLive: '你已开播！',
    liveFor: (time: string) => `已直播 ${time}`,
    connectionLost: '连接已断开，正在重新连接…',
    reconnected: '已重新连接',
    media: (what: string) => `音视频：${what}`,
    cameraFailed: (what: string) => `摄像头：${what}`,
    microphoneFailed: (what: string) => `麦克风：${what}`,
    summary: (time: string, peak: number, likes: number, tips: string) =>
      `直播时长 ${time}。同时在线最多 ${peak} 人，获得 ${likes} 个赞，本场打赏 ${tips}。`,
    endedText: (title: string, text: string) => `${title}：${text}`,
    counting: '正在统计本场销售…',
    replaySoon: '录像稍后会变成回放：你的购票观众和订阅者可以在“我的内容”中观看。',
    noReplay: '本场直播没有录制，所以没有回放。',
  },
});

/**
 * The streamer's studio: sign in, pick or create a room, choose camera / microphone / screen,
 * preview, go live (simulcast), follow the room through the SDK's LiveRoom (viewers, chat with
 * tips in it, paid pinned messages, questions, polls, suggestions, sales) and end the stream.
 */

type View = 'signin' | 'rooms' | 'studio' | 'ended';

function showView(view: View): void {
  for (const name of ['signin', 'rooms', 'studio', 'ended'] as View[]) show(byId(`${name}-view`), name === view);
}

// --- sign in ---------------------------------------------------------------------------------

function showSignIn(session: Session | null): void {
  const view = byId('signin-view');
  if (session && !isCreator(session)) {
    view.prepend(h('p', { class: 'notice' }, t.viewerAccount(session.user.username)));
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
                `${room.status === 'live' ? t.liveNow : room.scheduledAt ? t.startsWhen(startLabel(room.scheduledAt)) : t.notStarted} · ${accessLabel(room)}${room.record ? ` · ${t.recorded}` : ''}`,
              ),
            ),
            h('a', { class: 'button', href: `/studio?room=${room.id}` }, t.openStudio),
          ),
        )
      : [h('li', { class: 'empty muted' }, t.noRooms)]),
  );
  wireCreateRoom();
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
        .split(/[,，]/)
        .map((tag) => tag.trim())
        .filter(Boolean),
    };
    if (access.value === 'ticket') {
      body.ticketPrice = toMinorUnits(String(data.get('ticketPrice')));
      if (Number.isNaN(body.ticketPrice)) {
        error.textContent = t.enterTicketPrice;
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
        error.textContent = t.futureStart;
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
    toast(t.someoneElses, 'error');
    return showRooms(session);
  }
  if (room.status === 'ended') return showEnded(room, t.alreadyEnded);
  await new Studio(room, await connectClient(session)).open();
}

class Studio {
  private publication: Publication | undefined;
  private live: LiveRoom | undefined;
  private readonly local: LocalMedia;
  private readonly chat: ChatPanel;
  private readonly questions: QuestionsPanel;
  private readonly tips: TipsPanel;
  private readonly sales: SalesFeed;
  private readonly suggestions: SuggestionsPanel;
  private readonly pinned = new PinnedBar();
  private polls: PollsPanel | undefined;
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
    this.chat = new ChatPanel(async (text) => void (await this.live?.sendChat(text)), room.ownerId);
    this.questions = new QuestionsPanel({
      mode: 'owner',
      onAnswer: (id) => client.answerQuestion(room.id, id),
    });
    this.tips = new TipsPanel(room.currency, (total) => {
      this.tipTotal = total;
      byId('tip-total').textContent = money(total, room.currency);
    });
    this.sales = new SalesFeed(room.id);
    this.suggestions = new SuggestionsPanel({
      title: t.suggestedTitle,
      empty: t.suggestedEmpty,
      currency: room.currency,
    });
  }

  async open(): Promise<void> {
    const { room, client } = this;
    showView('studio');
    document.title = `${room.title} — ${t.studio} — Lectern`;
    byId('room-title').textContent = room.title;
    const watchUrl = `${location.origin}/watch/${room.id}`;
    Object.assign(byId<HTMLAnchorElement>('watch-link'), { href: watchUrl, textContent: watchUrl });
    byId('pinned-slot').replaceWith(this.pinned.element);
    byId('tip-total').textContent = money(0, room.currency);

    const live = await client.room(room.id);
    this.live = live;
    const polls = new PollsPanel(live);
    polls.setStanding('owner');
    polls.setStaff(true);
    this.polls = polls;
    byId('studio-side').replaceChildren(
      this.chat.element,
      polls.element,
      this.questions.element,
      this.tips.element,
      this.suggestions.element,
    );
    this.tips.element.after(this.sales.element); // sales beside tips
    // Delete, time out, ban and appoint from each chat line; the chat rules and the lists beside it.
    const moderation = new ModerationTools(
      client,
      live.state.room,
      loadSession()?.user.id ?? room.ownerId,
      this.chat,
      live.state.role,
    );
    this.chat.element.after(moderation.element);
    this.renderAll();
    this.listen(live, moderation);
    this.wireControls();
    this.setLive(room.status === 'live', false);
    exposeForTests({
      publication: () => this.publication?.state ?? 'none',
      outboundStats: () => this.publication?.getStats() ?? Promise.resolve([]),
    });
    await this.startDevices();
  }

  /** Everything from the room's state: at the start and after a re-synchronisation. */
  private renderAll(): void {
    const state = this.live?.state;
    if (!state) return;
    this.chat.setHistory(state.chat);
    this.pinned.set(state.pinned, false);
    this.polls?.setPolls(state.polls);
    for (const q of [...state.answeredQuestions].reverse()) this.questions.markAnswered(q);
    this.questions.render(state.questions);
    this.tips.leaderboard(state.leaderboard);
    this.setViewers(state.viewerCount);
    this.setLikes(state.likesTotal);
  }

  private listen(live: LiveRoom, moderation: ModerationTools): void {
    const { client, room } = this;
    live.on('synced', () => this.renderAll());
    live.on('chat', (m) => this.chat.add(m));
    live.on('chatDeleted', ({ messageId }) => this.chat.remove(messageId));
    live.on('tip', (tip) => {
      this.tips.add(tip);
      this.chat.addTip(tip);
    });
    live.on('tipsSummed', (summed) => {
      this.tips.addSummed(summed);
      this.chat.addTipsSummed(summed);
    });
    live.on('pinned', (tips) => this.pinned.set(tips));
    live.on('poll', (poll) => this.polls?.update(poll));
    live.on('questions', (questions) => this.questions.render(questions));
    live.on('leaderboard', (top) => this.tips.leaderboard(top));
    live.on('viewers', (count) => this.setViewers(count));
    live.on('likes', (total) => this.setLikes(total));
    live.on('settings', (settings) => moderation.setSettings(settings));
    live.on('ended', () => this.finish());
    client.on('sale:new', (sale) => this.sales.add(sale)); // every sale of yours, from any room or page
    client.on('suggestion:activity', (p) => p.roomId === room.id && this.suggestions.showActivity(p.items));
    // Not after the end: finishing closes the connection on purpose.
    client.on('disconnected', () => !this.ended && toast(t.connectionLost, 'error'));
    client.on('rejoined', (joined) => joined.room.id === room.id && toast(t.reconnected, 'success'));
  }

  private async startDevices(): Promise<void> {
    const failures = await this.local.start();
    for (const [source, err] of failures) {
      toast((source === 'Camera' ? t.cameraFailed : t.microphoneFailed)(describeError(err)), 'error');
    }
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
      toggleCamera.textContent = this.cameraOff ? t.cameraOn : t.cameraOff;
      toggleCamera.setAttribute('aria-pressed', String(this.cameraOff));
      void this.applyPause('camera', this.cameraOff);
    });
    const toggleMic = byId<HTMLButtonElement>('toggle-mic');
    toggleMic.addEventListener('click', () => {
      this.micMuted = !this.micMuted;
      toggleMic.textContent = this.micMuted ? t.micOn : t.micOff;
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
      this.setStatus(t.connecting);
      const publication = await publish(client, room.id, { ...this.local.current(), simulcast: true });
      this.publication = publication;
      // Every change, with when (ms since the page loaded), bounded: why media is where it is.
      const mediaHistory: string[] = [];
      exposeForTests({ mediaHistory });
      publication.on('state', ({ state }) => {
        this.setStatus(statusText(state), state === 'connected');
        mediaHistory.push(`${Math.round(performance.now())} ${state}`);
        if (mediaHistory.length > 50) mediaHistory.shift();
      });
      publication.on('error', ({ error }) => {
        console.warn('media:', error);
        toast(t.media(describeError(error)), 'error');
      });
      publication.on('trackended', ({ source }) => source === 'screen' && this.local.stopScreen());
      if (this.cameraOff) await publication.pause('camera');
      if (this.micMuted) await publication.pause('microphone');
      this.setLive(true, true);
    } catch (err) {
      this.setStatus(t.notLive);
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
    byId('ended-summary').textContent = t.summary(
      minutes,
      this.peakViewers,
      this.likes,
      money(this.tipTotal, this.room.currency),
    );
    showReplayLinks(this.room);
    showSessionSales(this.room, this.sales);
    showView('ended');
    void this.client.close();
  }

  private trackChanged(source: string, track: MediaStreamTrack | null): void {
    if (source === 'camera' && track) track.enabled = !this.cameraOff;
    if (source === 'microphone' && track) track.enabled = !this.micMuted;
    byId<HTMLButtonElement>('toggle-screen').textContent = this.local.has('screen') ? t.stopSharing : t.shareScreen;
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
    goLive.textContent = live ? t.resume : t.goLive;
    show(byId('end-stream'), live);
    show(byId('recording'), live && this.room.record);
    if (live) {
      this.setStatus(this.publication ? t.liveStatus : t.liveNotSending, !!this.publication);
      clearInterval(this.clockTimer);
      const tick = () => {
        const started = this.room.startedAt ? Date.parse(this.room.startedAt) : Date.now();
        byId('elapsed').textContent = t.liveFor(clock(Date.now() - started));
      };
      tick();
      this.clockTimer = setInterval(tick, 1000);
      if (justStarted) toast(t.youAreLive, 'success');
    }
  }

  private setStatus(text: string, live = false): void {
    const status = byId('publish-status');
    status.textContent = text;
    status.classList.toggle('live', live);
  }

  private setViewers(count: number): void {
    this.peakViewers = Math.max(this.peakViewers, count);
    byId('viewer-count').textContent = formatNumber(count);
  }

  private setLikes(total: number): void {
    this.likes = total;
    byId('like-count').textContent = formatNumber(total);
  }

  private renderStageHint(): void {
    show(byId('stage-empty'), !this.local.has('camera') && !this.local.has('screen'));
  }
}

function statusText(state: Publication['state']): string {
  switch (state) {
    case 'connecting':
      return t.connecting;
    case 'connected':
      return t.liveStatus;
    case 'reconnecting':
      return t.reconnecting;
    case 'ended':
      return t.endedStatus;
    default:
      return t.notLive;
  }
}

function showEnded(room: Room, text: string): void {
  byId('ended-summary').textContent = t.endedText(room.title, text);
  showReplayLinks(room);
  showView('ended');
}

/** After the end: the session's sales (exact, from its analytics) and its page on the dashboard. */
function showSessionSales(room: Room, feed: SalesFeed): void {
  const text = byId('ended-sales');
  text.textContent = t.counting;
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
  byId('ended-replay').textContent = room.record || room.hasReplay ? t.replaySoon : t.noReplay;
}

async function main(): Promise<void> {
  fillText(t);
  document.title = `${t.studio} — Lectern`;
  const session = loadSession();
  renderAccount(byId('account'), session, { onSignIn: () => showSignIn(null) });
  if (!session || !isCreator(session)) return showSignIn(session);
  const roomId = new URLSearchParams(location.search).get('room');
  if (roomId) await openStudio(session, roomId);
  else await showRooms(session);
}

main().catch((err) => toast(describeError(err), 'error'));
