import {
  type Content,
  type LecternClient,
  type LiveRoom,
  newIdempotencyKey,
  type Room,
  type RoomState,
  type SuggestionItem,
  type Tip,
} from '@lectern/client-sdk';
import { type RemoteTrack, type Viewing, watch } from '@lectern/client-sdk/media';
import type { CreatorProfile, ServerLimits } from '../../../protocol';
import { openDialog } from '../lib/account';
import { api } from '../lib/api';
import { authForm } from '../lib/auth';
import { ChatPanel } from '../lib/chat';
import { connectClient } from '../lib/client';
import { Danmaku } from '../lib/danmaku';
import { busy, byId, h, show } from '../lib/dom';
import { codeOf, describeError, UserFacingError } from '../lib/errors';
import { followButton } from '../lib/follow';
import { clock, money, perPeriod } from '../lib/format';
import { formatNumber, messages } from '../lib/i18n';
import { ModerationTools } from '../lib/moderation';
import { chatRefusal, mutedText, rulesText, untilText } from '../lib/moderation-text';
import { type StandingChange, ViewerStanding } from '../lib/moderation-viewer';
import { MoreLiveRooms } from '../lib/more-live';
import { ownedAll } from '../lib/owned';
import { fillText } from '../lib/page-text';
import { PinnedBar } from '../lib/pinned';
import { PollsPanel, type VoteStanding } from '../lib/polls';
import { QuestionsPanel } from '../lib/questions';
import { accessLabel, startLabel } from '../lib/room-cards';
import { buyFromRoom } from '../lib/sale-room';
import { type Shell, startShell } from '../lib/shell';
import { spend } from '../lib/spend';
import { kindLabel, SuggestionsPanel } from '../lib/suggestions';
import { exposeForTests, mark } from '../lib/test-hook';
import { pinSeconds, spanWords, TipForm } from '../lib/tips';
import { toast } from '../lib/toast';

const t = messages({
  en: {
    live: 'Live',
    unmute: 'Tap to unmute',
    roomBar: 'Room',
    tabChat: 'Chat',
    tabTip: 'Tip',
    tabQuestions: 'Q&A',
    tabPolls: 'Polls',
    watching: 'watching',
    like: 'Like',
    loading: 'Loading…',
    support: 'Support the stream',
    buyTicket: 'Buy ticket',
    suggested: 'Suggested for you',
    suggestedEmpty: 'Lessons and courses picked for this stream will appear here.',
    fromCreator: 'From this creator',
    nothingForSale: 'Nothing for sale yet.',
    fullAccess: 'You have full access now. Enjoy!',
    nowModerator: 'You are a moderator of this room now.',
    noLongerModerator: 'You no longer moderate this room.',
    reconnecting: 'Connection lost: reconnecting…',
    timedOut: (until: string) => `A moderator timed you out until ${until}.`,
    canChat: 'You can chat again.',
    signInToTakePart: 'Sign in to take part',
    streamEnded: 'The stream has ended',
    removedShort: 'Removed from this room',
    signInToChat: 'Sign in to chat',
    accessToChat: 'Get access to chat',
    timedOutUntil: (until: string) => `Timed out until ${until}`,
    ticketText: (price: string) => `Ticket: ${price} for the whole stream`,
    freePreview: 'Free preview: ',
    left: ' left.',
    buyTicketFor: (price: string) => `Buy a ticket (${price})`,
    thanks: 'Thanks for watching.',
    thanksReplay: 'Thanks for watching. Its replay is on its way.',
    watchReplay: 'Watch the replay',
    findAnother: 'Find another live room',
    moreLive: 'More live rooms',
    seeOthers: 'See other live rooms',
    removedTitle: 'You were removed from this room by a moderator',
    removedText: 'You can no longer watch or chat here.',
    reasonGiven: (reason: string) => `Reason given: “${reason}”`,
    comeBack: 'You can come back',
    banLifted: 'A moderator lifted your ban from this room.',
    rejoin: 'Rejoin the room',
    cannotStart: 'The video cannot start',
    tryAgain: 'Try again',
    waitingVideo: 'Waiting for the video…',
    startsSoon: 'The stream starts here soon.',
    starts: (when: string) => `Starts: ${when}`,
    cameraOff: 'The camera is off for a moment.',
    theCreator: 'the creator',
    previewOver: 'Your free preview is over.',
    notStarted: 'The stream has not started yet.',
    previewWhenLive: (start: string, length: string) =>
      `${start} Your free ${length} preview starts when it goes live.`,
    notFree: 'This stream is not free.',
    signInToWatch: 'Sign in to watch',
    signInTo: (intro: string, ticket: boolean) => `${intro} Sign in to ${ticket ? 'buy a ticket' : 'subscribe'}.`,
    signIn: 'Sign in',
    forSubscribers: (name: string) => `For ${name}'s subscribers`,
    subscribeFor: (price: string) => `Subscribe for ${price}`,
    notOpen: 'Subscriptions are not open yet.',
    getTicket: 'Get a ticket to keep watching',
    ticketCosts: (intro: string, price: string) => `${intro} A ticket for the whole stream costs ${price}.`,
    buyTicketDash: (price: string) => `Buy ticket — ${price}`,
    minutePreview: (n: number) => `${n}-minute`,
    secondPreview: (n: number) => `${n}-second`,
    ticketBought: 'Ticket bought.',
    subscribed: 'Subscribed.',
    yours: (title: string) => `${title} is yours.`,
    alreadyYours: (title: string) => `You already own ${title}.`,
    ticketWhat: (title: string) => `A ticket to “${title}”`,
    ticketDetail: 'For the whole stream, on every device you sign in on.',
    subscriptionWhat: (name: string) => `A subscription to ${name}`,
    subscriptionDetail: (period: string) => `Renews ${period}; ends when you stop it.`,
    upgrade: (owned: number, credit: string) =>
      `You already own ${owned === 1 ? '1 of its items' : `${formatNumber(owned)} of its items`}: ${credit} off.`,
    tipWhat: (name: string) => `A tip to ${name}`,
    tipPins: (span: string) => `Your message is pinned above the chat for everyone for ${span}.`,
    tipSent: 'Thank you! Your tip is sent.',
    tipNotLive: 'Tips are taken only while the stream is live.',
    tipOwnRoom: 'You cannot tip your own room.',
    tipWord: 'Your tip message has a word this room does not allow.',
    ownContent: 'This is your own content.',
    notForSale: 'This is not for sale right now.',
    topTippers: 'Top supporters: ',
    removedFatal: 'You were removed from this room',
    removedFatalText: 'A moderator removed you from this room, so you cannot watch or chat here.',
    noRoom: 'No such room',
    mistyped: 'The link may be mistyped.',
    cannotOpen: 'Cannot open this room',
    seeLive: 'See live rooms',
    canReplay: 'You can watch its replay.',
    over: 'This room is over. Thanks for stopping by.',
    free: 'Free',
  },
  'zh-CN': {
    live: '直播中',
    unmute: '点击开启声音',
    roomBar: '直播间',
    tabChat: '聊天',
    tabTip: '打赏',
    tabQuestions: '提问',
    tabPolls: '投票',
    watching: '人在看',
    like: '点赞',
    loading: '加载中…',
    support: '支持主播',
    buyTicket: '购买门票',
    suggested: '为你推荐',
    suggestedEmpty: '为本场直播挑选的课程会显示在这里。',
    fromCreator: '主播的其他内容',
    nothingForSale: '暂时没有在售内容。',
    fullAccess: '你已获得完整观看权限，祝你观看愉快！',
    nowModerator: '你现在是本直播间的管理员。',
    noLongerModerator: '你已不再是本直播间的管理员。',
    reconnecting: '连接已断开，正在重新连接…',
    timedOut: (until: string) => `管理员已将你禁言至 ${until}。`,
    canChat: '你可以重新发言了。',
    signInToTakePart: '登录后参与互动',
    streamEnded: '直播已结束',
    removedShort: '你已被移出本直播间',
    signInToChat: '登录后才能聊天',
    accessToChat: '获得观看权限后才能聊天',
    timedOutUntil: (until: string) => `禁言至 ${until}`,
    ticketText: (price: string) => `门票：${price}，可观看整场直播`,
    freePreview: '免费试看：剩余 ',
    left: '。',
    buyTicketFor: (price: string) => `购买门票（${price}）`,
    thanks: '感谢观看。',
    thanksReplay: '感谢观看，回放正在生成中。',
    watchReplay: '观看回放',
    findAnother: '看看其他直播',
    moreLive: '更多直播',
    seeOthers: '看看其他正在直播的房间',
    removedTitle: '你已被管理员移出本直播间',
    removedText: '你不能再在这里观看或聊天。',
    reasonGiven: (reason: string) => `原因：“${reason}”`,
    comeBack: '你可以回来了',
    banLifted: '管理员已解除你在本直播间的封禁。',
    rejoin: '重新进入直播间',
    cannotStart: '视频无法播放',
    tryAgain: '重试',
    waitingVideo: '正在等待视频…',
    startsSoon: '直播即将在这里开始。',
    starts: (when: string) => `开始时间：${when}`,
    cameraOff: '主播暂时关闭了摄像头。',
    theCreator: '主播',
    previewOver: '你的免费试看已结束。',
    notStarted: '直播还没有开始。',
    previewWhenLive: (start: string, length: string) => `${start} 你的 ${length}免费试看将在开播后开始。`,
    notFree: '这场直播需要付费观看。',
    signInToWatch: '登录后观看',
    signInTo: (intro: string, ticket: boolean) => `${intro} 登录后即可${ticket ? '购买门票' : '订阅'}。`,
    signIn: '登录',
    forSubscribers: (name: string) => `${name} 的订阅者专享`,
    subscribeFor: (price: string) => `订阅 ${price}`,
    notOpen: '主播暂未开放订阅。',
    getTicket: '购买门票继续观看',
    ticketCosts: (intro: string, price: string) => `${intro} 整场直播的门票为 ${price}。`,
    buyTicketDash: (price: string) => `购买门票 — ${price}`,
    minutePreview: (n: number) => `${n} 分钟`,
    secondPreview: (n: number) => `${n} 秒`,
    ticketBought: '门票购买成功。',
    subscribed: '订阅成功。',
    yours: (title: string) => `《${title}》已归你所有。`,
    alreadyYours: (title: string) => `你已经拥有《${title}》。`,
    ticketWhat: (title: string) => `“${title}”的门票`,
    ticketDetail: '可观看整场直播，登录的任何设备都能看。',
    subscriptionWhat: (name: string) => `订阅 ${name}`,
    subscriptionDetail: (period: string) => `按${period}续订，可随时停止。`,
    upgrade: (owned: number, credit: string) => `你已拥有其中 ${formatNumber(owned)} 项内容：优惠 ${credit}。`,
    tipWhat: (name: string) => `打赏 ${name}`,
    tipPins: (span: string) => `你的留言会在聊天上方向所有人置顶 ${span}。`,
    tipSent: '谢谢！打赏已送出。',
    tipNotLive: '只有直播进行时才能打赏。',
    tipOwnRoom: '不能给自己的直播间打赏。',
    tipWord: '你的打赏留言包含本直播间不允许的词语。',
    ownContent: '这是你自己的内容。',
    notForSale: '这个内容暂不出售。',
    topTippers: '打赏榜：',
    removedFatal: '你已被移出本直播间',
    removedFatalText: '管理员已将你移出本直播间，你不能在这里观看或聊天。',
    noRoom: '直播间不存在',
    mistyped: '链接可能有误。',
    cannotOpen: '无法打开这个直播间',
    seeLive: '查看正在直播',
    canReplay: '你可以观看回放。',
    over: '这场直播已经结束，感谢光临。',
    free: '免费',
  },
});

/**
 * The viewer page: the stream (camera, screen, sound), chat (with tips in it, and optionally
 * flying over the video), paid pinned messages, likes, tips, questions, polls, tickets and content
 * to buy, the free-preview countdown, the paywall when access runs out, and the end. The room's
 * live state is the SDK's LiveRoom; the page only draws it. On a phone the panels are tabs under
 * the video.
 */

type Tab = 'chat' | 'support' | 'questions' | 'polls';

/**
 * Shows `tracks` in a video element. A new picture gets a new stream; sound coming or going is
 * added to the playing stream in place, so the picture does not restart (no black flash).
 */
function setTracks(video: HTMLVideoElement, tracks: MediaStreamTrack[]): void {
  const stream = video.srcObject as MediaStream | null;
  const picture = tracks.find((track) => track.kind === 'video');
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
  private hadPreview: boolean;
  /** Why the video could not start at all (the chat still works). */
  private mediaError: string | undefined;
  private creator: CreatorProfile | undefined;
  private readonly chat: ChatPanel;
  private readonly questions: QuestionsPanel;
  private readonly polls: PollsPanel;
  private readonly pinned = new PinnedBar();
  private readonly danmaku = new Danmaku();
  private readonly tipForm: TipForm;
  private readonly suggestions: SuggestionsPanel;
  private readonly contents: SuggestionsPanel;
  private readonly video = byId<HTMLVideoElement>('main-video');
  private readonly pip = byId<HTMLVideoElement>('pip-video');
  private countdown: ReturnType<typeof setInterval> | undefined;
  /** Likes shown: the room's total plus this viewer's taps not yet counted by the server. */
  private likes = 0;
  /** Timed out, removed by a ban, let back in. */
  private readonly standing: ViewerStanding;
  /** For the owner and moderators (and a viewer made one while watching); none for guests. */
  private readonly moderation: ModerationTools | undefined;
  /** Other rooms live now: by its button, and by itself once this room is over for the viewer. */
  private readonly moreLive: MoreLiveRooms;

  constructor(
    private readonly shell: Shell,
    private readonly client: LecternClient,
    private readonly live: LiveRoom,
    private readonly limits: ServerLimits,
  ) {
    const { session } = shell;
    const state = live.state;
    this.hadPreview = state.access === 'preview';
    this.chat = new ChatPanel(async (text) => {
      try {
        await live.sendChat(text);
      } catch (err) {
        const until = (err as { details?: { until?: unknown } }).details?.until;
        if (codeOf(err) === 'MUTED' && typeof until === 'string') this.standing.mute(until);
        throw new UserFacingError(chatRefusal(err, this.room));
      }
    }, state.room.ownerId);
    this.standing = new ViewerStanding(client, live.id, (change) => this.standingChanged(change));
    this.moreLive = new MoreLiveRooms(live.id);
    this.moderation = session
      ? new ModerationTools(client, state.room, session.user.id, this.chat, state.role)
      : undefined;
    this.questions = new QuestionsPanel({
      mode: 'viewer',
      selfId: session?.user.id,
      onAsk: async (text) => void (await live.ask(text)),
      onUpvote: async (id) => void (await live.upvote(id)),
    });
    this.polls = new PollsPanel(live);
    this.polls.onOpenCount = (n) => {
      const badge = byId('polls-count');
      badge.textContent = n ? formatNumber(n) : '';
      show(badge, n > 0);
    };
    this.tipForm = new TipForm(state.room.currency, limits, (amount, message) => this.tip(amount, message));
    // What the viewer does with a suggestion teaches the recommender; a lost report is no reason
    // to bother the viewer, so failures stay in the console.
    const feedback = (action: 'click' | 'dismiss') => (item: SuggestionItem) => {
      if (!session) return;
      const sent =
        action === 'click'
          ? client.clickSuggestion(live.id, item.contentId)
          : client.dismissSuggestion(live.id, item.contentId);
      sent.catch((err) => console.warn(`suggestion ${action}:`, err));
    };
    const periodDays = (item: SuggestionItem) =>
      (item.creatorId ?? item.contentId) === this.room.ownerId ? (this.creator?.subscriptionPeriodDays ?? 30) : 30;
    this.suggestions = new SuggestionsPanel({
      title: t.suggested,
      empty: t.suggestedEmpty,
      currency: state.room.currency,
      onBuy: (item) => (item.kind === 'subscription' ? this.subscribeFrom(item) : this.buyContent(item)),
      onOpen: feedback('click'),
      onDismiss: feedback('dismiss'),
      periodDays,
    });
    this.contents = new SuggestionsPanel({
      title: t.fromCreator,
      empty: t.nothingForSale,
      currency: state.room.currency,
      onBuy: (item) => this.buyContent(item),
      describe: (item) => kindLabel(item.kind),
    });
    this.video.addEventListener('loadeddata', () => mark('video:first-frame'));
  }

  private get room(): Room {
    return this.live.state.room;
  }

  private get access() {
    return this.live.state.access;
  }

  private get ended(): boolean {
    return this.live.state.status === 'ended';
  }

  async start(): Promise<void> {
    const { room } = this;
    document.title = `${room.title} — Lectern`;
    byId('room-title').textContent = room.title;
    byId('pinned-slot').replaceWith(this.pinned.element);
    byId('stage').append(this.danmaku.layer);
    byId('danmaku-slot').replaceWith(this.danmaku.toggle);
    byId('tip-slot').replaceWith(this.tipForm.element);
    byId('watch-side').replaceChildren(
      this.chat.element,
      this.polls.element,
      this.questions.element,
      this.suggestions.element,
    );
    if (this.moderation) this.chat.element.after(this.moderation.element);
    byId('contents-slot').replaceWith(this.contents.element);
    this.wireActions();
    this.wireTabs();
    this.listen();
    this.renderAll(this.live.state);
    if (this.ended) this.offerOtherRooms();
    this.chat.scrollToEnd();
    exposeForTests({
      stats: () => this.viewing?.getStats() ?? Promise.resolve([]),
      state: () => ({
        access: this.access,
        previewEndsAt: this.live.state.previewEndsAt?.getTime(),
        ended: this.ended,
        role: this.live.state.role,
        removed: this.standing.removed,
        mutedUntil: this.standing.muted ? this.standing.mutedUntil : undefined,
        pinned: this.live.state.pinned.length,
        polls: this.live.state.polls.length,
        media: this.viewing?.state ?? 'none',
        tracks: (this.viewing?.tracks() ?? []).map((track) => ({
          source: track.source,
          kind: track.kind,
          paused: track.paused,
          readyState: track.track.readyState,
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
    // Every change, with when (ms since the page loaded), bounded: why media is where it is.
    const mediaHistory: string[] = [];
    exposeForTests({ mediaHistory });
    this.viewing.on('state', ({ state }) => {
      mark(`media:${state}`);
      mediaHistory.push(`${Math.round(performance.now())} ${state}`);
      if (mediaHistory.length > 50) mediaHistory.shift();
      this.renderStage();
    });
    this.viewing.on('error', ({ error }) => console.warn('media:', error));
    mark(`media:${this.viewing.state}`);
    this.renderStage();
  }

  // --- the room's state ----------------------------------------------------------------------------

  /** Everything from the room's state: at the start and after a re-synchronisation. */
  private renderAll(state: RoomState): void {
    this.chat.setHistory(state.chat);
    this.pinned.set(state.pinned, false);
    this.polls.setPolls(state.polls);
    for (const q of [...state.answeredQuestions].reverse()) this.questions.markAnswered(q);
    this.questions.render(state.questions);
    this.leaderboard(state);
    this.likes = state.likesTotal;
    byId('like-count').textContent = formatNumber(this.likes);
    byId('viewer-count').textContent = formatNumber(state.viewerCount);
    if (state.mutedUntil) this.standing.mute(state.mutedUntil.toISOString());
    if (this.moderation && this.moderation.role !== state.role) this.moderation.setRole(state.role);
    this.polls.setStaff(state.role === 'owner' || state.role === 'moderator');
    this.renderAccess();
  }

  private listen(): void {
    const { live, client } = this;
    live.on('synced', (state) => this.renderAll(state));
    live.on('chat', (m) => {
      this.chat.add(m);
      this.danmaku.push(`${m.user.username}: ${m.text}`);
    });
    live.on('chatDeleted', ({ messageId }) => this.chat.remove(messageId));
    live.on('tip', (tip) => this.tipArrived(tip));
    live.on('tipsSummed', (summed) => this.chat.addTipsSummed(summed));
    live.on('pinned', (tips) => this.pinned.set(tips));
    live.on('poll', (poll) => this.polls.update(poll));
    live.on('questions', (questions) => this.questions.render(questions));
    live.on('leaderboard', () => this.leaderboard(live.state));
    live.on('viewers', (count) => {
      byId('viewer-count').textContent = formatNumber(count);
    });
    live.on('likes', (total) => {
      this.likes = total;
      byId('like-count').textContent = formatNumber(this.likes);
    });
    live.on('settings', (settings) => {
      this.moderation?.setSettings(settings);
      this.renderAccess();
    });
    live.on('access', ({ access }) => {
      // A scheduled room's preview starts when it goes live, while the viewer waits here.
      if (access === 'preview') this.hadPreview = true;
      if (access === 'full' && this.hadPreview) toast(t.fullAccess, 'success');
      this.renderAccess();
    });
    live.on('role', (role) => {
      this.moderation?.setRole(role);
      this.polls.setStaff(role === 'owner' || role === 'moderator');
      toast(role === 'moderator' ? t.nowModerator : t.noLongerModerator, 'success');
    });
    live.on('ended', () => {
      this.renderAccess();
      this.offerOtherRooms();
    });
    client.on('suggestion', (p) => {
      if (p.roomId === live.id) this.suggestions.show(p.items);
    });
    client.on('disconnected', () => !this.ended && !this.standing.removed && toast(t.reconnecting, 'error'));
  }

  private tipArrived(tip: Tip): void {
    this.chat.addTip(tip);
    this.danmaku.push(
      `${tip.user.username} ${money(tip.amount, tip.currency)}${tip.message ? `: ${tip.message}` : ''}`,
      'tip',
    );
  }

  private leaderboard(state: RoomState): void {
    const top = state.leaderboard.slice(0, 3);
    const line = byId('top-tippers');
    line.textContent = top.length
      ? t.topTippers + top.map((e) => `${e.user.username} ${money(e.total, state.room.currency)}`).join(' · ')
      : '';
    show(line, top.length > 0);
  }

  /** Moderation reached this viewer: a timeout (or its end), removal by a ban, an unban. */
  private standingChanged(change: StandingChange): void {
    if (change === 'muted' && this.standing.mutedUntil) {
      toast(t.timedOut(untilText(this.standing.mutedUntil)), 'error');
    } else if (change === 'unmuted') {
      toast(t.canChat, 'success');
    } else if (change === 'removed') {
      // The server has taken this connection out of the room and released its media.
      void this.viewing?.stop();
      this.offerOtherRooms();
    }
    this.renderAccess();
  }

  /** The room is over for this viewer (it ended, or they were removed): other live rooms, shown at once. */
  private offerOtherRooms(): void {
    this.moreLive.hideToggle();
    void this.moreLive.open().then((count) => mark(`more-live:${count}`));
  }

  // --- actions -------------------------------------------------------------------------------------

  private wireActions(): void {
    const like = byId<HTMLButtonElement>('like');
    like.addEventListener('click', () => {
      if (!this.shell.session) return this.signIn();
      if (!this.canInteract()) return toast(describeError({ code: 'PAYMENT_REQUIRED' }), 'error');
      // Taps are summed by the SDK and sent in batches; show them at once.
      this.live.like();
      this.likes += 1;
      byId('like-count').textContent = formatNumber(this.likes);
      like.classList.remove('pop');
      void like.offsetWidth; // restart the animation
      like.classList.add('pop');
    });
    byId('unmute').addEventListener('click', () => {
      this.video.muted = false;
      void this.video.play().catch(() => undefined);
      this.renderStage();
    });
    byId<HTMLButtonElement>('buy-ticket').addEventListener('click', (e) => this.buyFrom(e));
  }

  /** On a phone the panels are tabs under the video: one tap to chat, tip, ask or vote. */
  private wireTabs(): void {
    const main = byId('watch');
    const tabs = [...byId('room-tabs').querySelectorAll<HTMLButtonElement>('button[data-tab]')];
    const select = (tab: Tab) => {
      main.dataset.tab = tab;
      for (const b of tabs) b.setAttribute('aria-pressed', String(b.dataset.tab === tab));
      if (tab === 'chat') this.chat.scrollToEnd();
    };
    for (const b of tabs) b.addEventListener('click', () => select(b.dataset.tab as Tab));
  }

  private async tip(amount: number, message: string): Promise<boolean> {
    if (!this.shell.session) {
      this.signIn();
      return false;
    }
    const pins = pinSeconds(amount, this.limits);
    const refusal = (err: unknown) => {
      if (codeOf(err) === 'CONFLICT') return t.tipNotLive;
      if (codeOf(err) === 'FORBIDDEN' && this.live.state.role === 'owner') return t.tipOwnRoom;
      if ((err as { details?: { reason?: string } }).details?.reason === 'banned_word') return t.tipWord;
      return undefined;
    };
    // One key per tip: a retried request never pays twice.
    const key = newIdempotencyKey();
    const pay = () => this.live.tip(amount, { message: message || undefined, idempotencyKey: key });
    const name = this.creator?.displayName ?? t.theCreator;
    const confirmed = async () => {
      const outcome = await spend(this.shell, {
        what: t.tipWhat(name),
        detail: pins ? t.tipPins(spanWords(pins)) : undefined,
        price: amount,
        currency: this.room.currency,
        pay,
        refusal,
      });
      if (outcome.paid) toast(t.tipSent, 'success');
      return outcome.paid;
    };
    // Small tips go at once; from the pin threshold up (Super Chat) the viewer confirms first.
    if (pins) return confirmed();
    try {
      const { balance } = await pay();
      this.shell.wallet?.set(balance);
      toast(t.tipSent, 'success');
      return true;
    } catch (err) {
      if (codeOf(err) === 'INSUFFICIENT_FUNDS') return confirmed(); // the top-up, then the tip
      toast(refusal(err) ?? describeError(err), 'error');
      return false;
    }
  }

  private async buyTicket(): Promise<void> {
    const { room } = this;
    const outcome = await spend(this.shell, {
      what: t.ticketWhat(room.title),
      detail: t.ticketDetail,
      price: room.ticketPrice ?? 0,
      currency: room.currency,
      pay: (expectedPrice) => this.client.buyTicket(room.id, { expectedPrice, idempotencyKey: newIdempotencyKey() }),
    });
    if (outcome.paid) toast(t.ticketBought, 'success');
  }

  private async subscribe(creatorId: string, price: number): Promise<boolean> {
    const name = creatorId === this.room.ownerId ? (this.creator?.displayName ?? t.theCreator) : t.theCreator;
    const period = perPeriod(creatorId === this.room.ownerId ? (this.creator?.subscriptionPeriodDays ?? 30) : 30);
    const outcome = await spend(this.shell, {
      what: t.subscriptionWhat(name),
      detail: t.subscriptionDetail(`${money(price, this.room.currency)}${period}`),
      price,
      currency: this.room.currency,
      pay: (expectedPrice) => this.subscribeTo(creatorId, expectedPrice),
    });
    if (outcome.paid) toast(t.subscribed, 'success');
    return outcome.paid;
  }

  /** A suggested subscription: `contentId` is the creator's id. Resolves whether it is held now. */
  private subscribeFrom(item: SuggestionItem): Promise<boolean> {
    return this.subscribe(item.creatorId ?? item.contentId, item.price);
  }

  /** Buys a lesson, course or bundle (at the upgrade price when some of it is owned); resolves whether it is the viewer's now. */
  private async buyContent(item: SuggestionItem): Promise<boolean> {
    if (!this.shell.session) {
      this.signIn();
      return false;
    }
    const owned = () => {
      this.markOwned(item.contentId);
      return true;
    };
    let price = item.price;
    let detail = kindLabel(item.kind) || undefined;
    try {
      const details = await api<{
        content: Content;
        owned: boolean;
        upgrade?: { yourPrice: number; credit: number; ownedItems: number };
      }>('GET', `/api/contents/${encodeURIComponent(item.contentId)}`);
      if (details.owned) {
        toast(t.alreadyYours(item.title), 'success');
        return owned();
      }
      price = details.upgrade?.yourPrice ?? details.content.price;
      detail = details.upgrade
        ? t.upgrade(details.upgrade.ownedItems, money(details.upgrade.credit, this.room.currency))
        : kindLabel(details.content.kind);
    } catch {
      // The price on the card, then: the server charges what it decides either way.
    }
    const outcome = await spend(this.shell, {
      what: item.title,
      detail,
      price,
      currency: this.room.currency,
      pay: (expectedPrice) =>
        buyFromRoom(this.saleRoom(item.creatorId ?? this.room.ownerId), (fromRoomId) =>
          this.client.buyContent(item.contentId, { fromRoomId, expectedPrice, idempotencyKey: newIdempotencyKey() }),
        ),
      refusal: (err) => {
        const code = codeOf(err);
        if (code === 'FORBIDDEN') return t.ownContent;
        if (code === 'NOT_FOUND') return t.notForSale;
        return undefined;
      },
    });
    if (outcome.paid) toast(t.yours(item.title), 'success');
    if (outcome.paid || codeOf(outcome.error) === 'CONFLICT') return owned(); // bought now, or before
    return false;
  }

  private markOwned(contentId: string): void {
    this.suggestions.markOwned(contentId);
    this.contents.markOwned(contentId);
  }

  /** This room, when buying `sellerId`'s item here counts for its session (their own room, still on). */
  private saleRoom(sellerId: string): string | undefined {
    return sellerId === this.room.ownerId && !this.ended ? this.room.id : undefined;
  }

  private subscribeTo(creatorId: string, expectedPrice: number): Promise<{ balance: number }> {
    return buyFromRoom(this.saleRoom(creatorId), (fromRoomId) =>
      api<{ balance: number }>(
        'POST',
        '/api/subscriptions',
        { creatorId, expectedPrice, ...(fromRoomId ? { fromRoomId } : {}) },
        { idempotencyKey: newIdempotencyKey() },
      ),
    );
  }

  private signIn(): void {
    const dialog = openDialog(
      t.signInToTakePart,
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
    return !!this.shell.session && this.access !== 'none' && !this.ended && !this.standing.removed;
  }

  private voteStanding(): VoteStanding {
    if (this.ended || this.standing.removed) return 'ended';
    if (!this.shell.session) return 'guest';
    if (this.access === 'preview') return 'preview';
    if (this.access === 'none') return 'none';
    return 'ok';
  }

  private renderAccess(): void {
    const { room } = this;
    const settings = this.live.state.settings;
    const canAct = this.canInteract();
    const { removed, muted, mutedUntil } = this.standing;
    const reason = this.ended
      ? t.streamEnded
      : removed
        ? t.removedShort
        : !this.shell.session
          ? t.signInToChat
          : this.access === 'none'
            ? t.accessToChat
            : muted && mutedUntil
              ? t.timedOutUntil(untilText(mutedUntil))
              : '';
    this.chat.setEnabled(canAct && !muted, reason);
    this.chat.setRules(
      this.ended || removed
        ? ''
        : muted && mutedUntil
          ? mutedText(mutedUntil, this.standing.muteReason)
          : rulesText(room, settings),
    );
    this.chat.element.classList.toggle('muted-chat', muted && !removed);
    this.questions.setAsking(canAct && !muted);
    this.polls.setStanding(this.voteStanding());
    byId<HTMLButtonElement>('like').disabled = this.ended || removed;
    this.tipForm.setEnabled(canAct);

    show(byId('support'), !this.ended && !removed);
    byId('watch').classList.toggle('over', this.ended || removed);
    // Out of the room, the count is no longer sent: a stale figure would mislead.
    show(byId('viewer-count').parentElement as HTMLElement, !removed && !this.ended);
    const needsTicket = room.access === 'ticket' && this.access !== 'full' && !this.ended;
    show(byId('ticket-row'), needsTicket);
    byId('ticket-text').textContent = t.ticketText(money(room.ticketPrice ?? 0, room.currency));

    clearInterval(this.countdown);
    const banner = byId('preview-banner');
    banner.replaceChildren();
    const previewEndsAt = this.live.state.previewEndsAt?.getTime();
    if (this.access === 'preview' && previewEndsAt && !this.ended && !removed) {
      const tick = () => {
        const left = previewEndsAt - Date.now();
        // Only the figure changes each tick; the button is kept so a click is never lost.
        const figure = banner.querySelector('#preview-left');
        if (figure) {
          figure.textContent = clock(left);
          return;
        }
        banner.replaceChildren(h('span', {}, t.freePreview, h('b', { id: 'preview-left' }, clock(left)), t.left));
        if (room.access === 'ticket')
          banner.append(
            h(
              'button',
              { type: 'button', class: 'primary small', onclick: (e: Event) => this.buyFrom(e) },
              t.buyTicketFor(money(room.ticketPrice ?? 0, room.currency)),
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
    const screen = tracks.find((track) => track.source === 'screen' && !track.paused);
    const camera = tracks.find((track) => track.source === 'camera');
    const main: RemoteTrack | undefined = screen ?? camera;
    const audio = tracks.filter((track) => track.kind === 'audio').map((track) => track.track);
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
    if (this.ended || removed) this.danmaku.set(false);
    show(this.danmaku.toggle, !this.ended && !removed);
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
        h('h2', {}, t.streamEnded),
        h('p', {}, replay ? t.thanksReplay : t.thanks),
        h(
          'div',
          { class: 'row buttons' },
          replay ? h('a', { class: 'button primary', href: `/replay/${this.room.id}` }, t.watchReplay) : null,
          // The list of other live rooms, under the stage (it takes the focus: tabindex -1).
          h('a', { class: 'button', href: '#more-live' }, t.seeOthers),
        ),
      ];
    } else if (what === 'removed') {
      const reason = this.standing.removedReason;
      content = [
        h('h2', {}, t.removedTitle),
        h('p', {}, t.removedText),
        ...(reason ? [h('p', { class: 'muted' }, t.reasonGiven(reason))] : []),
        h('div', { class: 'row buttons' }, h('a', { class: 'button primary', href: '/' }, t.findAnother)),
      ];
    } else if (what === 'reinstated') {
      content = [
        h('h2', {}, t.comeBack),
        h('p', {}, t.banLifted),
        h(
          'div',
          { class: 'row buttons' },
          h('button', { type: 'button', class: 'primary', onclick: () => location.reload() }, t.rejoin),
          h('a', { class: 'button', href: '/' }, t.findAnother),
        ),
      ];
    } else if (what === 'unavailable') {
      content = [
        h('h2', {}, t.cannotStart),
        h('p', {}, this.mediaError ?? ''),
        h('button', { type: 'button', onclick: () => location.reload() }, t.tryAgain),
      ];
    } else if (what === 'paywall') {
      content = this.paywall();
    } else if (what === 'waiting') {
      content = [
        h('div', { class: 'spinner', 'aria-hidden': 'true' }),
        h('p', {}, this.room.status === 'live' ? t.waitingVideo : t.startsSoon),
      ];
      if (this.room.status !== 'live' && this.room.scheduledAt) {
        content.push(h('p', { class: 'small' }, t.starts(startLabel(this.room.scheduledAt))));
      }
    } else if (what === 'paused') {
      content = [h('p', {}, t.cameraOff)];
    }
    overlay.replaceChildren(...content);
    overlay.classList.toggle('paywall', what === 'paywall');
    overlay.classList.toggle('removed', what === 'removed' || what === 'reinstated');
    show(overlay, content.length > 0);
  }

  private paywall(): HTMLElement[] {
    const { room, creator } = this;
    const name = creator?.displayName ?? t.theCreator;
    const waiting = room.status === 'scheduled' && room.previewSeconds > 0 && !this.hadPreview;
    const intro = this.hadPreview
      ? t.previewOver
      : waiting
        ? t.previewWhenLive(
            room.scheduledAt ? `${t.starts(startLabel(room.scheduledAt))}.` : t.notStarted,
            previewLength(room.previewSeconds),
          )
        : t.notFree;
    if (!this.shell.session) {
      return [
        h('h2', {}, t.signInToWatch),
        h('p', {}, t.signInTo(intro, room.access === 'ticket')),
        h('button', { type: 'button', class: 'primary', onclick: () => this.signIn() }, t.signIn),
      ];
    }
    if (room.access === 'subscribers') {
      const price = creator?.subscriptionPrice;
      return [
        h('h2', {}, t.forSubscribers(name)),
        h('p', {}, intro),
        price
          ? h(
              'button',
              {
                type: 'button',
                class: 'primary',
                onclick: (e: Event) =>
                  void busy(e.currentTarget as HTMLButtonElement, () => this.subscribe(room.ownerId, price)),
              },
              t.subscribeFor(`${money(price, room.currency)}${perPeriod(creator?.subscriptionPeriodDays ?? 30)}`),
            )
          : h('p', { class: 'muted' }, t.notOpen),
      ];
    }
    return [
      h('h2', {}, t.getTicket),
      h('p', {}, t.ticketCosts(intro, money(room.ticketPrice ?? 0, room.currency))),
      h(
        'button',
        { type: 'button', class: 'primary big', id: 'paywall-buy', onclick: (e: Event) => this.buyFrom(e) },
        t.buyTicketDash(money(room.ticketPrice ?? 0, room.currency)),
      ),
    ];
  }

  private buyFrom(event: Event): void {
    if (!this.shell.session) {
      this.signIn();
      return;
    }
    void busy(event.currentTarget as HTMLButtonElement, () => this.buyTicket());
  }

  private async loadCreator(): Promise<void> {
    const { room } = this;
    const [answer, owned, catalog] = await Promise.all([
      api<{ profile: CreatorProfile; following: boolean }>('GET', `/api/creators/${room.ownerId}`)
        // An older account without a profile: the room still plays.
        .catch(() => undefined),
      ownedAll(),
      api<{ contents: Content[] }>('GET', `/api/contents?creatorId=${room.ownerId}&limit=6`)
        .then((r) => r.contents)
        // Optional: the stream matters more than the shop.
        .catch(() => [] as Content[]),
    ]);
    const profile = answer?.profile;
    this.creator = profile;
    // What the viewer owns says so after a reload too, on both panels.
    const ids = [...owned.contents, ...owned.subscribedTo];
    this.suggestions.markOwned(...ids);
    this.contents.markOwned(...ids);
    // The creator's name opens their page (profile, upcoming streams, subscription).
    const rest = [accessLabel(room), ...room.tags.map((tag) => `#${tag}`)].join(' · ');
    // Next to the name: Follow / Following (not in one's own room).
    const follow =
      profile && this.shell.session?.user.id !== room.ownerId
        ? followButton({
            creatorId: room.ownerId,
            name: profile.displayName,
            following: answer?.following ?? false,
            signedIn: !!this.shell.session,
            signIn: () => this.signIn(),
          })
        : null;
    byId('room-meta').replaceChildren(
      ...(this.creator
        ? [
            h(
              'span',
              { class: 'creator-line' },
              h('a', { href: `/creators/${room.ownerId}`, class: 'creator-link' }, this.creator.displayName),
              follow,
            ),
            ' · ',
          ]
        : []),
      rest,
    );
    if (follow) mark('follow:ready');
    this.contents.show(
      catalog.map((c) => ({ contentId: c.id, title: c.title, price: c.price, score: 0, reason: '', kind: c.kind })),
    );
    this.renderStage();
  }
}

/** "2-second", "1-minute", "90-second": how long a free preview is. */
function previewLength(seconds: number): string {
  return seconds % 60 === 0 ? t.minutePreview(seconds / 60) : t.secondPreview(seconds);
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
      replayOf ? h('a', { class: 'button primary', href: `/replay/${replayOf}` }, t.watchReplay) : null,
      h('a', { class: 'button', href: '/' }, t.seeLive),
    ),
  );
  show(overlay, true);
  byId('support').hidden = true;
  byId('room-bar').hidden = true;
}

/** An ended room: its replay, when it has one (or will have: it is still being prepared). */
async function endedRoom(roomId: string): Promise<void> {
  const room = await api<{ room: Room }>('GET', `/api/rooms/${encodeURIComponent(roomId)}`)
    .then((r) => r.room)
    .catch(() => undefined);
  if (room) document.title = `${room.title} — Lectern`;
  if (room?.hasReplay) fatal(t.streamEnded, t.canReplay, room.id);
  else fatal(t.streamEnded, t.over);
  if (room) byId('room-title').textContent = room.title;
  // Other rooms live now, with this one's topic as the context.
  byId('watch').classList.add('over');
  const more = new MoreLiveRooms(roomId);
  more.hideToggle();
  void more.open().then((count) => mark(`more-live:${count}`));
}

const DEFAULT_LIMITS = { tipPinThreshold: 500, tipPinBaseSeconds: 30, tipPinMaxSeconds: 600 };

async function main(): Promise<void> {
  fillText(t);
  const roomId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
  const shell = startShell({ wallet: true });
  const limits = api<ServerLimits>('GET', '/api/limits').catch(() => undefined);

  let client: LecternClient;
  let live: LiveRoom;
  try {
    client = await connectClient(shell.session);
    mark('connected');
    live = await client.room(roomId);
    mark('joined');
  } catch (err) {
    const code = codeOf(err);
    if (code === 'CONFLICT') return endedRoom(roomId);
    if (code === 'BANNED') return fatal(t.removedFatal, t.removedFatalText);
    if (code === 'NOT_FOUND' || code === 'INVALID_ARGUMENT') return fatal(t.noRoom, t.mistyped);
    return fatal(t.cannotOpen, describeError(err));
  }
  const known = await limits;
  await new WatchPage(
    shell,
    client,
    live,
    known ?? ({ ...DEFAULT_LIMITS, currency: live.state.room.currency } as ServerLimits),
  ).start();
}

main().catch((err) => toast(describeError(err), 'error'));
