/**
 * `window.__lectern`: a small window into a page's state for automated browser tests and for
 * debugging from the console (media statistics, access, media state, a timeline). Read-only by
 * convention.
 */
export function exposeForTests(values: Record<string, unknown>): void {
  const w = window as unknown as { __lectern?: Record<string, unknown> };
  w.__lectern = { ...w.__lectern, ...values };
}

const timeline: Record<string, number> = {};
exposeForTests({ timeline });

/** Notes when something first happened (ms since the page started loading): where time goes. */
export function mark(what: string): void {
  timeline[what] ??= Math.round(performance.now());
}
