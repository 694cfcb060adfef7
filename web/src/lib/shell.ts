import { openDialog, renderAccount } from './account';
import { authForm } from './auth';
import { byId, h } from './dom';
import { messages } from './i18n';
import { loadSession, type Session } from './session';
import { WalletChip } from './wallet';

const t = messages({
  en: { signIn: 'Sign in' },
  'zh-CN': { signIn: '登录' },
});

/** What every page starts with: who is signed in, the account corner, and the wallet where money moves. */
export interface Shell {
  session: Session | null;
  wallet: WalletChip | undefined;
  signIn: () => void;
}

export function startShell(options: { wallet?: boolean; role?: 'viewer' | 'creator' } = {}): Shell {
  const session = loadSession();
  const wallet = session && options.wallet ? new WalletChip() : undefined;
  const signIn = () => {
    const dialog = openDialog(
      t.signIn,
      authForm({
        role: options.role ?? 'viewer',
        onSignedIn: () => {
          dialog.close();
          location.reload();
        },
      }),
    );
  };
  renderAccount(byId('account'), session, { onSignIn: signIn, extra: wallet ? [wallet.element] : [] });
  void wallet?.refresh().catch(() => undefined);
  return { session, wallet, signIn };
}

const PLACEHOLDER_HUES = [232, 262, 200, 160, 24, 330];

/** A content's cover, or a calm placeholder with its initial when there is none. */
export function coverOf(url: string | null | undefined, title: string, className = 'cover'): HTMLElement {
  if (url) {
    return h('div', { class: className }, h('img', { src: url, alt: '', loading: 'lazy', decoding: 'async' }));
  }
  let hash = 0;
  for (const c of title) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const hue = PLACEHOLDER_HUES[hash % PLACEHOLDER_HUES.length];
  const placeholder = h(
    'div',
    { class: `${className} placeholder`, 'aria-hidden': 'true' },
    h('span', {}, (title.trim()[0] ?? '·').toUpperCase()),
  );
  placeholder.style.setProperty('--hue', String(hue));
  return placeholder;
}

/** A thin bar for how far someone got, labelled for screen readers. */
export function progressBar(fraction: number, label: string): HTMLElement {
  const clamped = Math.max(0, Math.min(1, fraction));
  const fill = h('span');
  fill.style.width = `${(clamped * 100).toFixed(1)}%`;
  return h(
    'div',
    {
      class: 'meter',
      role: 'progressbar',
      'aria-label': label,
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': String(Math.round(clamped * 100)),
    },
    fill,
  );
}

/** A content's kind as a label: "Lesson", "Course", "Bundle". */
export const KIND_LABELS: Record<'lesson' | 'course' | 'bundle', string> = messages({
  en: { lesson: 'Lesson', course: 'Course', bundle: 'Bundle' },
  'zh-CN': { lesson: '单节课', course: '系列课', bundle: '合集' },
});

/** A small padlock drawn in SVG (emoji fonts are not everywhere), hidden from screen readers. */
export function lockIcon(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '14');
  svg.setAttribute('height', '14');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'lock');
  const body = document.createElementNS(ns, 'rect');
  for (const [k, v] of Object.entries({ x: '3', y: '7', width: '10', height: '8', rx: '1.5', fill: 'currentColor' })) {
    body.setAttribute(k, v);
  }
  const shackle = document.createElementNS(ns, 'path');
  shackle.setAttribute('d', 'M5 7V5a3 3 0 0 1 6 0v2');
  shackle.setAttribute('fill', 'none');
  shackle.setAttribute('stroke', 'currentColor');
  shackle.setAttribute('stroke-width', '1.6');
  svg.append(body, shackle);
  return svg;
}
