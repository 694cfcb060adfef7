/** Tiny DOM helpers: the pages are small enough not to need a framework. */

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, unknown> & { class?: string };

/**
 * Creates an element. `on…` props become listeners, `class` the class name, props the element
 * knows (value, disabled, href, …) are set as properties and anything else as attributes.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key.startsWith('on') && typeof value === 'function')
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    else if (key in el) (el as unknown as Record<string, unknown>)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
}

/** The element with this id; a missing one is a bug in the page's HTML, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

/** Runs an async click handler with the button disabled meanwhile (no double purchases). */
export function busy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  return work().finally(() => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  });
}

/** Keeps a scrolling list pinned to its end, unless the reader has scrolled up. */
export function appendScrolled(list: HTMLElement, item: HTMLElement, max = 200): void {
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(item);
  while (list.children.length > max) list.firstElementChild?.remove();
  if (atEnd) list.scrollTop = list.scrollHeight;
}
