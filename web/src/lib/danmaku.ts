import { h } from './dom';
import { messages } from './i18n';

const t = messages({
  en: { toggle: 'Danmaku: chat over the video', short: 'Danmaku' },
  'zh-CN': { toggle: '弹幕：在画面上显示聊天', short: '弹幕' },
});

const KEY = 'lectern.danmaku';
/** Lines that start flying per second, at most; more wait in a short queue. */
const PER_SECOND = 3;
/** Lines waiting; past this the oldest are dropped (a busy chat is sampled, not delayed). */
const QUEUE_MAX = 6;
const LANES = 6;
const FLIGHT_MS = 8000;
/** Without motion: lines shown at once, each for this long. */
const STILL_SHOWN = 3;
const STILL_MS = 4000;
const TEXT_MAX = 60;

/**
 * Danmaku: chat flying over the video, off by default and remembered per browser. Rate-limited
 * (a few lines a second, the oldest waiting ones dropped); with reduced motion asked for, lines
 * appear still and fade instead of flying. Hidden from screen readers: the chat itself is read.
 */
export class Danmaku {
  readonly layer = h('div', { class: 'danmaku', 'aria-hidden': 'true' });
  readonly toggle: HTMLButtonElement;
  private on: boolean;
  private readonly queue: { text: string; kind: string }[] = [];
  private readonly laneFree = new Array<number>(LANES).fill(0);
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly reducedMotion = matchMedia('(prefers-reduced-motion: reduce)');

  constructor() {
    this.on = readSetting();
    this.toggle = h(
      'button',
      { type: 'button', class: 'danmaku-toggle ghost small', title: t.toggle, 'aria-label': t.toggle },
      bubbles(),
      h('span', { class: 'danmaku-label' }, t.short),
    );
    this.toggle.addEventListener('click', () => this.set(!this.on));
    this.set(this.on);
  }

  get enabled(): boolean {
    return this.on;
  }

  set(on: boolean): void {
    this.on = on;
    this.toggle.setAttribute('aria-pressed', String(on));
    this.layer.hidden = !on;
    try {
      localStorage.setItem(KEY, on ? 'on' : 'off');
    } catch {
      // not remembered: this page still switches
    }
    if (!on) {
      this.queue.length = 0;
      this.layer.replaceChildren();
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** A line of chat (or a tip: `kind` "tip") to fly over the video, when switched on. */
  push(text: string, kind = 'chat'): void {
    if (!this.on || document.hidden) return;
    const short = text.length > TEXT_MAX ? `${text.slice(0, TEXT_MAX - 1)}…` : text;
    this.queue.push({ text: short, kind });
    while (this.queue.length > QUEUE_MAX) this.queue.shift();
    this.timer ??= setInterval(() => this.launch(), 1000 / PER_SECOND);
  }

  private launch(): void {
    const next = this.queue.shift();
    if (!next) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const line = h('span', { class: `danmaku-line ${next.kind}` }, next.text);
    if (this.reducedMotion.matches) {
      this.layer.classList.add('still');
      this.layer.append(line);
      while (this.layer.children.length > STILL_SHOWN) this.layer.firstElementChild?.remove();
      setTimeout(() => line.remove(), STILL_MS);
      return;
    }
    this.layer.classList.remove('still');
    const now = Date.now();
    // The lane free the longest; a line waits for none (a full screen overlaps a little).
    let lane = 0;
    for (let i = 1; i < LANES; i++) if (this.laneFree[i] < this.laneFree[lane]) lane = i;
    line.style.top = `${(lane / LANES) * 100}%`;
    this.layer.append(line);
    const width = this.layer.clientWidth;
    const own = line.offsetWidth;
    // The next line in this lane starts once this one has fully entered the screen, plus a gap.
    this.laneFree[lane] = now + (FLIGHT_MS * (own + 40)) / (width + own);
    const flight = line.animate([{ transform: `translateX(${width}px)` }, { transform: `translateX(-${own}px)` }], {
      duration: FLIGHT_MS,
      easing: 'linear',
    });
    flight.onfinish = () => line.remove();
  }
}

/** Two speech bubbles, drawn (emoji fonts are not everywhere), hidden from screen readers. */
function bubbles(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [k, v] of Object.entries({ viewBox: '0 0 20 16', width: '18', height: '15', 'aria-hidden': 'true' })) {
    svg.setAttribute(k, v);
  }
  for (const d of ['M1 2h11v6H5l-3 3V8H1z', 'M14 5h5v6h-1v3l-3-3H9V9.5']) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '1.6');
    path.setAttribute('stroke-linejoin', 'round');
    svg.append(path);
  }
  return svg;
}

function readSetting(): boolean {
  try {
    return localStorage.getItem(KEY) === 'on';
  } catch {
    return false;
  }
}
