import { formatDate, formatMoney, messages, minorDigits } from './i18n';

/**
 * Money is integer minor units on the wire; people read it in the deployment's currency (every
 * price, wallet and tip carries it), formatted for their language.
 */
export function money(amount: number, currency: string): string {
  return formatMoney(amount, currency);
}

/**
 * Parses what a person types ("5", "4.99") into minor units; NaN when it is not an amount.
 * Zero is refused unless `allowZero` (a free lesson is priced 0; a tip of 0 is no tip).
 */
export function toMinorUnits(text: string, options: { allowZero?: boolean; currency?: string } = {}): number {
  const trimmed = text
    .trim()
    .replace(',', '.')
    .replace(/^[^\d.]+/, '');
  const value = Number(trimmed);
  const ok = trimmed !== '' && Number.isFinite(value) && (value > 0 || (options.allowZero && value === 0));
  return ok ? Math.round(value * 10 ** digitsOf(options.currency)) : Number.NaN;
}

const digitsOf = (currency?: string) => (currency ? minorDigits(currency) : 2);

/** Minor units as a person types them back into an amount field ("4.99", "5"). */
export function toAmountText(minorUnits: number, currency?: string): string {
  const scale = 10 ** digitsOf(currency);
  return minorUnits % scale === 0 ? String(minorUnits / scale) : (minorUnits / scale).toFixed(digitsOf(currency));
}

/** `m:ss` (or `h:mm:ss`) for a countdown or a running time. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function timeOfDay(iso: string): string {
  return formatDate(iso, { hour: '2-digit', minute: '2-digit' });
}

/** A video's length: `m:ss`, or `h:mm:ss` past the hour. */
export function duration(seconds: number): string {
  return clock(Math.round(seconds) * 1000);
}

/** Parses a time a person types ("90", "1:30", "1:02:03") into seconds; NaN when it is none. */
export function parseTime(text: string): number {
  const parts = text.trim().split(':');
  if (!parts.length || parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return Number.NaN;
  return parts.reduce((total, p) => total * 60 + Number(p), 0);
}

/** File sizes as people read them: "820 KB", "12.4 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function shortDate(iso: string): string {
  return formatDate(iso, { day: 'numeric', month: 'short', year: 'numeric' });
}

const periods = messages({
  en: { month: '/month', year: '/year', week: '/week', days: (n: number) => ` / ${n} days` },
  'zh-CN': { month: '/月', year: '/年', week: '/周', days: (n: number) => ` / ${n} 天` },
});

/** A subscription's period after its price: "/month" for 30 days, "/year" for 365, "/ 14 days" otherwise. */
export function perPeriod(days: number): string {
  if (days === 30 || days === 31) return periods.month;
  if (days === 365 || days === 366) return periods.year;
  if (days === 7) return periods.week;
  return periods.days(days);
}
