import { locale, messages } from './i18n';

/** Number formatting for the creator dashboard: money in minor units, durations, ratios, in the page's language. */

export type MoneyFormat = (minorUnits: number) => string;

/** Formats minor units of `currency` (cents for USD) in the page's language. */
export function moneyFormat(currency: string): MoneyFormat {
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat(locale(), { style: 'currency', currency });
  } catch {
    format = new Intl.NumberFormat(locale(), { style: 'currency', currency: 'USD' });
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return (minorUnits) => format.format(minorUnits / 10 ** digits);
}

const integer = new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 });

const units = messages({
  en: {
    hm: (h: number, m: number) => `${h}h ${m}m`,
    ms: (m: number, s: number) => `${m}m ${s}s`,
    s: (s: number) => `${s}s`,
  },
  'zh-CN': {
    hm: (h: number, m: number) => `${h}小时${m}分`,
    ms: (m: number, s: number) => `${m}分${s}秒`,
    s: (s: number) => `${s}秒`,
  },
});

export const formatCount = (n: number): string => integer.format(n);
export const formatDecimal = (n: number): string => decimal.format(n);
export const formatPercent = (ratio: number | null): string => (ratio === null ? '—' : percent.format(ratio));

/** 3725 s → "1h 2m"; 125 s → "2m 5s"; 7 s → "7s". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return units.hm(h, m);
  if (m > 0) return units.ms(m, rest);
  return units.s(rest);
}

const dateTime = new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat(locale(), { timeStyle: 'medium' });

export const formatDateTime = (iso: string | null): string => (iso ? dateTime.format(new Date(iso)) : '—');
export const formatTime = (date: Date): string => time.format(date);

/** Digits after the point of `currency` (2 for USD, 0 for JPY). */
export function currencyDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat(locale(), { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}

/**
 * Labels of a money axis (values in minor units, whole steps): without the cents when every tick
 * is a whole amount ("$0", "$5", "$10"), with them otherwise, so neighbours never read alike.
 */
export function moneyAxis(currency: string): (values: number[]) => string[] {
  const digits = currencyDigits(currency);
  const unit = 10 ** digits;
  const make = (fraction: boolean) => {
    try {
      return new Intl.NumberFormat(locale(), {
        style: 'currency',
        currency,
        minimumFractionDigits: fraction ? digits : 0,
        maximumFractionDigits: fraction ? digits : 0,
      });
    } catch {
      return new Intl.NumberFormat(locale(), { maximumFractionDigits: fraction ? digits : 0 });
    }
  };
  const whole = make(false);
  const cents = make(true);
  return (values) => {
    const format = values.every((v) => v % unit === 0) ? whole : cents;
    return values.map((v) => format.format(v / unit));
  };
}

/** Axis labels of counts (the axis steps in whole numbers). */
export const countAxis = (values: number[]): string[] => values.map(formatCount);

/** What a person typed ("25", "25.50") in minor units of a currency with `digits`; NaN if it is no amount. */
export function parseAmount(text: string, digits: number): number {
  const trimmed = text.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return Number.NaN;
  const value = Math.round(Number(trimmed) * 10 ** digits);
  return value > 0 ? value : Number.NaN;
}

const relative = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });

/** "in 3 hours", "in 2 days", "in 5 minutes" (or "now"). */
export function formatFromNow(iso: string, now = Date.now()): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(0, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400 * 2) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}
