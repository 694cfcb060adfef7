import Hls, { type ErrorData } from 'hls.js';
import type { MediaInfo, ProgressInput, WatchProgress } from '../../../protocol';
import { authHeaders } from './api';
import { h, show } from './dom';
import { describeError } from './errors';
import { duration } from './format';
import { messages } from './i18n';
import { failureText, processingText } from './media-status';

const t = messages({
  en: {
    video: 'Video',
    loading: 'Loading the video…',
    cannotPlay: 'This video cannot be played',
    preparing: 'Preparing',
    playsWhenReady: 'It plays here by itself when it is ready.',
    noVideo: 'There is no video here',
    cannotStart: 'The video cannot start',
    browserCannot: 'This browser cannot play the video',
    tryBrowser: 'Try a recent Chrome, Firefox, Edge or Safari.',
    play: 'Play',
    startOver: 'Start over',
    resumedAt: (time: string) => `Resumed at ${time}`,
    stopped: 'The video stopped',
    thisBrowser: 'This browser could not play it.',
    stoppedLoading: 'The video stopped loading',
    checkConnection: 'Check your connection, then try again.',
    tryAgain: 'Try again',
  },
  'zh-CN': {
    video: '视频',
    loading: '视频加载中…',
    cannotPlay: '这个视频无法播放',
    preparing: '处理中',
    playsWhenReady: '处理完成后会在这里自动播放。',
    noVideo: '这里没有视频',
    cannotStart: '视频无法开始播放',
    browserCannot: '这个浏览器无法播放视频',
    tryBrowser: '请使用较新版本的 Chrome、Firefox、Edge 或 Safari。',
    play: '播放',
    startOver: '从头播放',
    resumedAt: (time: string) => `已从 ${time} 继续播放`,
    stopped: '视频播放中断了',
    thisBrowser: '这个浏览器无法播放它。',
    stoppedLoading: '视频加载中断了',
    checkConnection: '请检查网络连接后重试。',
    tryAgain: '重试',
  },
});

/**
 * The video player for lessons and replays: HLS through hls.js (the browser's own HLS where
 * there is no MediaSource, as on older iPhones), resuming where the viewer stopped, reporting
 * progress (`POST /api/progress` for signed-in viewers, localStorage for guests), waiting for a
 * video that is still being prepared, and fetching a fresh signed URL when the old one expired.
 */

export type ProgressTarget = { contentId: string } | { roomId: string };

export interface PlayerItem {
  /** What the progress is kept against. */
  target: ProgressTarget;
  /** Asks the API for the video: a fresh signed playlist URL each time. */
  fetchMedia: () => Promise<MediaInfo>;
  /** The video as already fetched, if the page has it (saves a request). */
  media?: MediaInfo;
  /** Where a signed-in viewer stopped, as the server remembers it. */
  progress?: WatchProgress | null;
  /** Shown before the video plays (the content's cover). */
  poster?: string | null;
}

export interface PlayerOptions {
  signedIn: boolean;
  /** Keep the viewer's progress (default); a creator's preview does not. */
  remember?: boolean;
  /** Start playing as soon as the video is ready (default; browsers may ask for a tap first). */
  autoplay?: boolean;
  /** The video played to its end (a course moves on to its next lesson). */
  onEnded?: () => void;
  /** The video was refused (sign in, pay): what the overlay shows instead of the reason in words. */
  onRefused?: (err: unknown) => HTMLElement[] | undefined;
  /** Each time the page learns something new about the video (status, duration). */
  onMedia?: (media: MediaInfo) => void;
}

type State = 'idle' | 'loading' | 'processing' | 'failed' | 'ready' | 'refused' | 'error';

const REPORT_EVERY_MS = 15_000;
const POLL_MS = 2500;
/** Signed URLs renewed at most this often in a minute before the player gives up and says so. */
const MAX_RELOADS_PER_MINUTE = 3;
const GUEST_KEY = 'lectern.progress.';

const keyOf = (target: ProgressTarget) =>
  'contentId' in target ? `${GUEST_KEY}content:${target.contentId}` : `${GUEST_KEY}room:${target.roomId}`;

/** A guest's progress, kept in this browser only. */
function guestProgress(target: ProgressTarget): WatchProgress | null {
  try {
    const raw = localStorage.getItem(keyOf(target));
    return raw ? (JSON.parse(raw) as WatchProgress) : null;
  } catch {
    return null;
  }
}

export class Player {
  readonly element: HTMLElement;
  readonly video: HTMLVideoElement;
  private readonly overlay: HTMLElement;
  private readonly resumeChip: HTMLElement;
  private state: State = 'idle';
  private hls: Hls | undefined;
  private engine: 'hls.js' | 'native' | 'none' = 'none';
  private item: PlayerItem | undefined;
  private media: MediaInfo | undefined;
  /** Bumped on every load: late answers for an earlier video are ignored. */
  private generation = 0;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private reportTimer: ReturnType<typeof setInterval> | undefined;
  private chipTimer: ReturnType<typeof setTimeout> | undefined;
  private lastReported: number | undefined;
  private reloads: number[] = [];
  private recoveredMediaError = false;
  private renewing = false;
  /** play() was asked for (autoplay or a tap) and may still be waiting for data. */
  private wantsPlay = false;
  private readonly onPageHide = () => this.report('leave');
  private readonly onVisibility = () => {
    if (document.visibilityState === 'hidden') this.report('leave');
  };

  constructor(private readonly options: PlayerOptions) {
    this.video = h('video', { controls: false, playsInline: true, preload: 'metadata', 'aria-label': t.video });
    this.video.setAttribute('playsinline', '');
    this.overlay = h('div', { class: 'stage-overlay', role: 'status' });
    this.resumeChip = h('div', { class: 'resume-chip', hidden: true });
    this.element = h('div', { class: 'stage player' }, this.video, this.overlay, this.resumeChip);
    this.video.addEventListener('play', () => {
      show(this.overlay, false);
      clearInterval(this.reportTimer);
      this.reportTimer = setInterval(() => this.report('playing'), REPORT_EVERY_MS);
    });
    this.video.addEventListener('pause', () => {
      this.wantsPlay = false;
      clearInterval(this.reportTimer);
      if (!this.video.ended) this.report('pause');
    });
    this.video.addEventListener('ended', () => {
      clearInterval(this.reportTimer);
      this.report('ended');
      this.options.onEnded?.();
    });
    this.video.addEventListener('error', () => this.nativeError());
    window.addEventListener('pagehide', this.onPageHide);
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  /** Plays `item` (stopping whatever played before). */
  async load(item: PlayerItem): Promise<void> {
    this.stop();
    const generation = ++this.generation;
    this.item = item;
    this.lastReported = undefined;
    this.reloads = [];
    this.recoveredMediaError = false;
    this.video.poster = item.poster ?? '';
    this.setState('loading', [h('div', { class: 'spinner', 'aria-hidden': 'true' }), h('p', {}, t.loading)]);
    let media = item.media;
    try {
      media ??= await item.fetchMedia();
    } catch (err) {
      if (generation === this.generation) this.refused(err);
      return;
    }
    if (generation !== this.generation) return;
    this.show(media, generation, this.options.autoplay ?? true);
  }

  /** Stops playing and reporting (the page moves on); the last position is reported first. */
  stop(): void {
    if (this.engine !== 'none') this.report('leave');
    this.generation++;
    clearTimeout(this.pollTimer);
    clearInterval(this.reportTimer);
    this.detach();
  }

  destroy(): void {
    this.stop();
    window.removeEventListener('pagehide', this.onPageHide);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  /** For tests and the console: what the player is doing. */
  snapshot(): Record<string, unknown> {
    const quality = this.video.getVideoPlaybackQuality?.();
    return {
      state: this.state,
      engine: this.engine,
      currentTime: this.video.currentTime,
      duration: this.video.duration,
      paused: this.video.paused,
      ended: this.video.ended,
      frames: quality?.totalVideoFrames ?? 0,
      reloads: this.reloads.length,
    };
  }

  // --- states ----------------------------------------------------------------------------------

  private show(media: MediaInfo, generation: number, autoplay: boolean): void {
    this.media = media;
    this.options.onMedia?.(media);
    if (media.status === 'ready' && media.playlistUrl) {
      this.state = 'ready';
      this.video.controls = true;
      show(this.overlay, false);
      this.attach(media.playlistUrl, this.resumePoint(media), autoplay);
      return;
    }
    if (media.status === 'failed') {
      this.setState('failed', [h('h2', {}, t.cannotPlay), h('p', {}, failureText(media))]);
      return;
    }
    const percent = media.stage === 'packaging' && media.progress !== undefined ? media.progress : undefined;
    const content: HTMLElement[] = [
      h('div', { class: 'spinner', 'aria-hidden': 'true' }),
      h('p', {}, processingText(media)),
    ];
    if (percent !== undefined) content.push(h('progress', { max: 1, value: percent, 'aria-label': t.preparing }));
    content.push(h('p', { class: 'small' }, t.playsWhenReady));
    this.setState('processing', content);
    this.pollTimer = setTimeout(() => void this.poll(generation), POLL_MS);
  }

  private async poll(generation: number): Promise<void> {
    if (generation !== this.generation || !this.item) return;
    try {
      const media = await this.item.fetchMedia();
      if (generation === this.generation) this.show(media, generation, false);
    } catch (err) {
      if (generation !== this.generation) return;
      // A passing failure: keep waiting, a little slower.
      if ((err as { code?: string }).code === 'UNAVAILABLE') {
        this.pollTimer = setTimeout(() => void this.poll(generation), POLL_MS * 2);
      } else {
        this.refused(err);
      }
    }
  }

  private refused(err: unknown): void {
    const custom = this.options.onRefused?.(err);
    const code = (err as { code?: string } | null)?.code;
    const content = custom ?? [
      h('h2', {}, code === 'NOT_FOUND' ? t.noVideo : t.cannotStart),
      h('p', {}, describeError(err)),
    ];
    this.setState(code === 'PAYMENT_REQUIRED' || code === 'UNAUTHENTICATED' ? 'refused' : 'error', content);
  }

  private setState(state: State, content: HTMLElement[]): void {
    this.state = state;
    // The video's own controls only once there is something to control.
    this.video.controls = state === 'ready';
    this.overlay.replaceChildren(...content);
    this.overlay.classList.toggle('paywall', state === 'refused');
    show(this.overlay, content.length > 0);
  }

  // --- playback ----------------------------------------------------------------------------------

  /** Where to start: the remembered position, unless it is at the very start or the very end. */
  private resumePoint(media: MediaInfo): number {
    if (!this.item) return 0;
    const saved = this.options.signedIn ? this.item.progress : guestProgress(this.item.target);
    if (!saved || saved.completed) return 0;
    const length = media.durationSeconds ?? saved.durationSeconds;
    const at = saved.positionSeconds;
    return at < 3 || (length && at > length - 5) ? 0 : at;
  }

  private attach(url: string, startAt: number, autoplay: boolean, announce = true): void {
    this.detach();
    const video = this.video;
    const start = () => {
      if (startAt > 0 && announce) this.showResumed(startAt);
      if (autoplay) this.tryPlay();
    };
    if (Hls.isSupported()) {
      this.engine = 'hls.js';
      const hls = new Hls({ startPosition: startAt > 0 ? startAt : -1 });
      this.hls = hls;
      hls.on(Hls.Events.MANIFEST_PARSED, start);
      hls.on(Hls.Events.ERROR, (_event, data) => this.hlsError(hls, data));
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      this.engine = 'native';
      video.addEventListener(
        'loadedmetadata',
        () => {
          if (startAt > 0) video.currentTime = startAt;
          start();
        },
        { once: true },
      );
      video.src = url;
    } else {
      this.engine = 'none';
      this.setState('error', [h('h2', {}, t.browserCannot), h('p', {}, t.tryBrowser)]);
    }
  }

  private detach(): void {
    this.hls?.destroy();
    this.hls = undefined;
    if (this.engine === 'native' || this.video.getAttribute('src')) {
      this.video.removeAttribute('src');
      this.video.load();
    }
    this.engine = 'none';
  }

  /** Autoplay with sound is often refused until the viewer has touched the page: offer a button. */
  private tryPlay(): void {
    this.wantsPlay = true;
    this.video.play().catch((err: unknown) => {
      this.wantsPlay = false;
      if ((err as { name?: string }).name !== 'NotAllowedError') return;
      const play = h(
        'button',
        { type: 'button', class: 'play-button', 'aria-label': t.play },
        h('span', { 'aria-hidden': 'true' }, '▶'),
        ` ${t.play}`,
      );
      play.addEventListener('click', () => {
        show(this.overlay, false);
        void this.video.play().catch(() => undefined);
      });
      this.setState('ready', [play]);
      this.overlay.classList.add('clear');
      play.focus({ preventScroll: true });
    });
  }

  private showResumed(at: number): void {
    const restart = h('button', { type: 'button', class: 'link' }, t.startOver);
    restart.addEventListener('click', () => {
      this.video.currentTime = 0;
      show(this.resumeChip, false);
    });
    this.resumeChip.replaceChildren(h('span', {}, t.resumedAt(duration(Math.floor(at)))), restart);
    show(this.resumeChip, true);
    clearTimeout(this.chipTimer);
    this.chipTimer = setTimeout(() => show(this.resumeChip, false), 10_000);
  }

  private hlsError(hls: Hls, data: ErrorData): void {
    if (hls !== this.hls) return;
    // An expired signed URL is refused with 403: no use retrying it (hls.js would, for a while);
    // ask for a fresh link at once and carry on where we were.
    if (data.response?.code === 403) {
      void this.renew();
      return;
    }
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
      void this.renew();
    } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !this.recoveredMediaError) {
      this.recoveredMediaError = true;
      hls.recoverMediaError();
    } else {
      this.setState('error', [h('h2', {}, t.stopped), h('p', {}, t.thisBrowser), this.retryButton()]);
    }
  }

  private nativeError(): void {
    if (this.engine !== 'native') return;
    const code = this.video.error?.code;
    // Safari reports a refused playlist or segment as a network or "not supported" error.
    if (code === MediaError.MEDIA_ERR_NETWORK || code === MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED) void this.renew();
  }

  /** A fresh signed URL, resumed at the current time (and playing if it was). */
  private async renew(): Promise<void> {
    const item = this.item;
    if (!item || this.renewing) return;
    const now = Date.now();
    this.reloads = this.reloads.filter((t) => now - t < 60_000);
    if (this.reloads.length >= MAX_RELOADS_PER_MINUTE) {
      this.setState('error', [h('h2', {}, t.stoppedLoading), h('p', {}, t.checkConnection), this.retryButton()]);
      return;
    }
    this.reloads.push(now);
    this.renewing = true;
    const generation = this.generation;
    const at = this.video.currentTime;
    // Playing, or about to (autoplay waits for the first segment): carry on playing after.
    const wasPlaying = !this.video.paused || this.wantsPlay;
    try {
      const media = await item.fetchMedia();
      if (generation !== this.generation) return;
      this.media = media;
      if (media.status !== 'ready' || !media.playlistUrl) return this.show(media, generation, false);
      this.attach(media.playlistUrl, at, wasPlaying, false);
    } catch (err) {
      if (generation === this.generation) this.refused(err);
    } finally {
      this.renewing = false;
    }
  }

  private retryButton(): HTMLButtonElement {
    return h(
      'button',
      {
        type: 'button',
        onclick: () => {
          this.reloads = [];
          if (this.item) void this.load({ ...this.item, media: undefined, progress: this.currentProgress() });
        },
      },
      t.tryAgain,
    );
  }

  private currentProgress(): WatchProgress | null {
    const length = this.lengthSeconds();
    if (!length) return null;
    return {
      positionSeconds: this.video.currentTime,
      durationSeconds: length,
      completed: false,
      updatedAt: new Date().toISOString(),
    };
  }

  private lengthSeconds(): number | undefined {
    const d = this.video.duration;
    if (Number.isFinite(d) && d > 0) return d;
    return this.media?.durationSeconds;
  }

  // --- progress ----------------------------------------------------------------------------------

  /** Tells the server (or, for a guest, this browser) where the viewer is. */
  private report(reason: 'playing' | 'pause' | 'ended' | 'leave'): void {
    const item = this.item;
    const length = this.lengthSeconds();
    if (!item || this.engine === 'none' || !length || this.options.remember === false) return;
    // A video being swapped (a fresh link) has no position worth keeping until it has loaded again.
    if (reason !== 'ended' && this.video.readyState < HTMLMediaElement.HAVE_METADATA) return;
    const position = reason === 'ended' ? length : Math.min(this.video.currentTime, length);
    if (this.lastReported !== undefined && Math.abs(position - this.lastReported) < 0.5) return;
    if (this.lastReported === undefined && position < 1 && reason !== 'ended') return;
    this.lastReported = position;
    const round = (n: number) => Math.round(n * 10) / 10;
    const body: ProgressInput = { ...item.target, positionSeconds: round(position), durationSeconds: round(length) };
    if (!this.options.signedIn) {
      const saved: WatchProgress = {
        positionSeconds: body.positionSeconds,
        durationSeconds: body.durationSeconds,
        completed: position >= length * 0.9,
        updatedAt: new Date().toISOString(),
      };
      try {
        localStorage.setItem(keyOf(item.target), JSON.stringify(saved));
      } catch {
        // Private mode or a full storage: the position is simply not kept.
      }
      return;
    }
    // sendBeacon cannot carry the Authorization header; a keepalive fetch outlives the page too.
    void fetch('/api/progress', {
      method: 'POST',
      keepalive: true,
      headers: { ...authHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch(() => undefined);
  }
}
