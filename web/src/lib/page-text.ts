/**
 * The words written in a page's HTML, in the page's language. An element marked
 * `data-t="key"` gets the catalog's `key` as its text; `data-t-label="key"` sets its
 * `aria-label`, `data-t-placeholder="key"` its placeholder. The HTML keeps the English words, so
 * a page reads sensibly even before its script runs.
 *
 * A key the catalog lacks is a bug in the page: it is logged and the English stays.
 */
export function fillText(catalog: Record<string, unknown>, root: ParentNode = document): void {
  const text = (key: string | undefined): string | undefined => {
    if (!key) return undefined;
    const value = catalog[key];
    if (typeof value === 'string') return value;
    console.error(`page text: no message "${key}"`);
    return undefined;
  };
  for (const el of root.querySelectorAll<HTMLElement>('[data-t]')) {
    const value = text(el.dataset.t);
    if (value !== undefined) el.textContent = value;
  }
  for (const el of root.querySelectorAll<HTMLElement>('[data-t-label]')) {
    const value = text(el.dataset.tLabel);
    if (value !== undefined) el.setAttribute('aria-label', value);
  }
  for (const el of root.querySelectorAll<HTMLInputElement>('[data-t-placeholder]')) {
    const value = text(el.dataset.tPlaceholder);
    if (value !== undefined) el.placeholder = value;
  }
}
