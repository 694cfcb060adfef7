import { h } from './dom';

let region: HTMLElement | undefined;

/** A short message at the bottom of the screen, read out by screen readers too. */
export function toast(message: string, kind: 'info' | 'error' | 'success' = 'info', ms = 4000): void {
  if (!region) {
    region = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const item = h('div', { class: `toast ${kind}` }, message);
  region.append(item);
  setTimeout(() => item.remove(), ms);
}
