/** Number formatting for the creator dashboard: money in minor units, durations, ratios. */

export type MoneyFormat = (minorUnits: number) => string;

/** Formats minor units of `currency` (cents for USD) in the browser's locale. */
export function moneyFormat(currency: string): MoneyFormat {
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
  } catch {
    format = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' });
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return (minorUnits) => format.format(minorUnits / 10 ** digits);
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

export const formatCount = (n: number): string => integer.format(n);
export const formatDecimal = (n: number): string => decimal.format(n);
export const formatPercent = (ratio: number | null): string => (ratio === null ? '—' : percent.format(ratio));

/** 3725 s → "1h 2m"; 125 s → "2m 5s"; 7 s → "7s". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${rest}s`;
  return `${rest}s`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export const formatDateTime = (iso: string | null): string => (iso ? dateTime.format(new Date(iso)) : '—');
export const formatTime = (date: Date): string => time.format(date);
