/**
 * The pages speak Simplified Chinese and English. The language comes from the person's choice
 * (kept in localStorage), else the browser's languages; dates, numbers and money are formatted
 * with `Intl` for it. Messages are defined next to the code that shows them, as typed pairs:
 *
 *   const t = messages({
 *     en: { watching: (n: number) => `${n} watching`, live: 'Live' },
 *     'zh-CN': { watching: (n: number) => `${n} 人在看`, live: '直播中' },
 *   });
 *   t.live; t.watching(3);
 *
 * The compiler checks that both languages have every message with the same parameters.
 */

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', 'zh-CN': '简体中文' };

const KEY = 'lectern.locale';

/** The browser's globals, absent when this module runs in Node (the pages' unit tests). */
const web = globalThis as {
  localStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  navigator?: { languages?: readonly string[]; language?: string };
  location?: { reload(): void };
  document?: { documentElement: { lang: string } };
};

function detect(): Locale {
  try {
    const chosen = web.localStorage?.getItem(KEY);
    if (chosen && (LOCALES as readonly string[]).includes(chosen)) return chosen as Locale;
  } catch {
    // storage unavailable: the browser's languages decide
  }
  const languages = web.navigator?.languages ?? [web.navigator?.language ?? ''];
  for (const lang of languages) {
    if (/^zh\b/i.test(lang)) return 'zh-CN';
    if (/^en\b/i.test(lang)) return 'en';
  }
  return 'en';
}

let current: Locale = detect();

/** The language the page is shown in. */
export function locale(): Locale {
  return current;
}

/** Switches language: remembered for every page of the site, applied by reloading this one. */
export function setLocale(next: Locale, reload = true): void {
  current = next;
  try {
    web.localStorage?.setItem(KEY, next);
  } catch {
    // not remembered: this page still switches
  }
  if (reload) web.location?.reload();
}

type Message = string | ((...args: never[]) => string);
type Catalog = Record<string, Message>;

/** The messages of one module in the current language; `en` is the reference, the rest must match it. */
export function messages<T extends Catalog>(
  catalogs: { en: T } & { [L in Exclude<Locale, 'en'>]: { [K in keyof T]: T[K] } },
): T {
  return (catalogs[current] ?? catalogs.en) as T;
}

/** Marks up the document: `<html lang>` for screen readers and fonts. Call once per page. */
export function applyLocale(): void {
  if (web.document) web.document.documentElement.lang = current;
}

// --- formatting ----------------------------------------------------------------------------------

const numberFormats = new Map<string, Intl.NumberFormat>();

function currencyFormat(currency: string): Intl.NumberFormat {
  const key = `${current}|${currency}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(current, { style: 'currency', currency });
    numberFormats.set(key, format);
  }
  return format;
}

/** Decimal places of a currency's minor unit (2 for CNY and USD, 0 for JPY). */
export function minorDigits(currency: string): number {
  try {
    return currencyFormat(currency).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Integer minor units as people read them in the current language: "$9.00", "¥9.00", "US$9.00". */
export function formatMoney(amount: number, currency: string): string {
  try {
    return currencyFormat(currency).format(amount / 10 ** minorDigits(currency));
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency}`;
  }
}

export function formatNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(current, options).format(value);
}

export function formatDate(value: string | number | Date, options: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat(current, options).format(new Date(value));
}
