/** Dates, numbers and money through Intl, in the UI's locale. Moscow time and rubles by default. */
export const DEFAULT_TIMEZONE = 'Europe/Moscow';
export const DEFAULT_CURRENCY = 'RUB';

const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();
function cached<T extends Intl.DateTimeFormat | Intl.NumberFormat>(key: string, make: () => T): T {
  let f = cache.get(key) as T | undefined;
  if (!f) cache.set(key, (f = make()));
  return f;
}

export function formatDateTime(ms: number | null | undefined, locale: string, timeZone = DEFAULT_TIMEZONE): string {
  if (ms === null || ms === undefined) return '—';
  return cached(`dt:${locale}:${timeZone}`, () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone })).format(ms);
}

export function formatDate(ms: number | null | undefined, locale: string, timeZone = DEFAULT_TIMEZONE): string {
  if (ms === null || ms === undefined) return '—';
  return cached(`d:${locale}:${timeZone}`, () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone })).format(ms);
}

export function formatNumber(n: number | null | undefined, locale: string): string {
  if (n === null || n === undefined) return '—';
  return cached(`n:${locale}`, () => new Intl.NumberFormat(locale)).format(n);
}

export function formatMoney(amount: number | null | undefined, locale: string, currency = DEFAULT_CURRENCY): string {
  if (amount === null || amount === undefined) return '—';
  return cached(`m:${locale}:${currency}`, () => new Intl.NumberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 2 })).format(amount);
}

/** "3 minutes ago" style, for timelines. */
export function formatRelative(ms: number, now: number, locale: string): string {
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const diff = ms - now;
  const abs = Math.abs(diff);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['year', 365 * 86_400_000],
    ['month', 30 * 86_400_000],
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000]
  ];
  for (const [unit, size] of units) if (abs >= size) return rtf.format(Math.round(diff / size), unit);
  return rtf.format(Math.round(diff / 1000), 'second');
}
