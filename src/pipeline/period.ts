import type { Period } from '../model/records.js';

export type { Period };
// Periods: ISO weeks (Monday 00:00 UTC to the next Monday) and explicit date ranges.

const DAY = 24 * 3600 * 1000;

export function isoWeekOf(ts: number): { year: number; week: number } {
  const d = new Date(ts);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const jan4 = Date.UTC(year, 0, 4);
  const jan4Day = (new Date(jan4).getUTCDay() + 6) % 7;
  const week1Monday = jan4 - jan4Day * DAY;
  return { year, week: Math.floor((thursday - week1Monday) / (7 * DAY)) + 1 };
}

export function weekPeriod(year: number, week: number): Period {
  const jan4 = Date.UTC(year, 0, 4);
  const jan4Day = (new Date(jan4).getUTCDay() + 6) % 7;
  const start = jan4 - jan4Day * DAY + (week - 1) * 7 * DAY;
  return { start, end: start + 7 * DAY };
}

export function weekLabel(p: Period): string {
  const w = isoWeekOf(p.start);
  return `${w.year}-W${String(w.week).padStart(2, '0')}`;
}

/** `2024-W07` -> the period; throws a clear error otherwise. */
export function parseWeek(s: string): Period {
  const m = /^(\d{4})-?W(\d{1,2})$/i.exec(s.trim());
  if (!m) throw new Error(`not an ISO week: ${s} (expected YYYY-Www, e.g. 2024-W07)`);
  const year = Number(m[1]);
  const week = Number(m[2]);
  if (week < 1 || week > 53) throw new Error(`week out of range in ${s}`);
  return weekPeriod(year, week);
}

/** Dates as YYYY-MM-DD (UTC) or full ISO timestamps; `to` is inclusive for plain dates. */
export function parseRange(from: string, to: string): Period {
  const parse = (s: string, endOfDay: boolean): number => {
    const plain = /^\d{4}-\d{2}-\d{2}$/.test(s);
    const t = Date.parse(plain ? `${s}T00:00:00Z` : s);
    if (Number.isNaN(t)) throw new Error(`not a date: ${s} (expected YYYY-MM-DD)`);
    return plain && endOfDay ? t + DAY : t;
  };
  const p = { start: parse(from, false), end: parse(to, true) };
  if (p.end <= p.start) throw new Error(`empty period: ${from} .. ${to}`);
  return p;
}

export function weekContaining(ts: number): Period {
  const w = isoWeekOf(ts);
  return weekPeriod(w.year, w.week);
}
