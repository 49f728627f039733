// The Reports screen's logic without Svelte: period presets in the shop's calendar, the
// export's default file name, the daily chart's scale and the payment-method split.
import type { DayRow, GroupRow, ReportFilter } from '../../lib/bindings';

/** A period as the report reads it: the shop's local dates ("YYYY-MM-DD"), both included. */
export type Period = { from: string; to: string };

export const PRESETS = ['thisMonth', 'lastMonth', 'last30Days', 'thisYear'] as const;
export type PresetId = (typeof PRESETS)[number];

export type ReportFormat = 'csv' | 'pdf';

/** Report statuses: "" is every sale, "refunded" only fully refunded ones. */
export const REPORT_STATUSES = ['paid', 'refunded'] as const;

type Ymd = { y: number; m: number; d: number };

function parseYmd(date: string): Ymd | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim());
  if (!match) return null;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  return { y, m, d };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const ymd = ({ y, m, d }: Ymd) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`;

/** Days in month `m` (1–12) of year `y`, Gregorian leap years included. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/** `date` plus `days` calendar days (negative goes back); null for a malformed date. */
export function addDays(date: string, days: number): string | null {
  const p = parseYmd(date);
  if (!p) return null;
  // Calendar arithmetic on a UTC date: no time zone or DST can shift the day.
  return new Date(Date.UTC(p.y, p.m - 1, p.d + days)).toISOString().slice(0, 10);
}

/**
 * The period a preset means on `today` (the shop's local date, see `zonedToday`): whole
 * calendar months and years, so an export of "this month" covers the month to its last day.
 */
export function presetPeriod(preset: PresetId, today: string): Period | null {
  const p = parseYmd(today);
  if (!p) return null;
  switch (preset) {
    case 'thisMonth':
      return { from: ymd({ ...p, d: 1 }), to: ymd({ ...p, d: daysInMonth(p.y, p.m) }) };
    case 'lastMonth': {
      const y = p.m === 1 ? p.y - 1 : p.y;
      const m = p.m === 1 ? 12 : p.m - 1;
      return { from: ymd({ y, m, d: 1 }), to: ymd({ y, m, d: daysInMonth(y, m) }) };
    }
    case 'last30Days':
      // Today and the 29 days before it, like the dashboard's chart.
      return { from: addDays(today, -29)!, to: ymd(p) };
    case 'thisYear':
      return { from: ymd({ y: p.y, m: 1, d: 1 }), to: ymd({ y: p.y, m: 12, d: 31 }) };
  }
}

/** The preset that gives exactly `period` on `today`, if any (to show it as chosen). */
export function matchingPreset(period: Period, today: string): PresetId | null {
  for (const preset of PRESETS) {
    const p = presetPeriod(preset, today);
    if (p && p.from === period.from && p.to === period.to) return preset;
  }
  return null;
}

/**
 * The save dialog's suggestion: "sales-2026-11-01_2026-11-30.csv". `prefix` is the UI's word
 * for sales; characters file systems refuse are replaced, and a period still being typed
 * leaves its date out.
 */
export function exportFileName(period: Period, format: ReportFormat, prefix = 'sales'): string {
  const safe = prefix.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '-').trim() || 'sales';
  const dates = [period.from, period.to].filter((d) => parseYmd(d) !== null);
  const span = dates.length === 2 && dates[0] === dates[1] ? [dates[0]] : dates;
  return [safe, span.join('_')].filter((s) => s !== '').join('-') + `.${format}`;
}

/** What the export form holds; '' means any. */
export type ExportForm = Period & {
  provider: string;
  channel: string;
  status: string;
  sku: string;
  /** A till's name; '' for every till. */
  till: string;
  includeTest: boolean;
};

export function toReportFilter(form: ExportForm): ReportFilter {
  const or = (s: string) => (s.trim() === '' ? null : s.trim());
  return {
    from: form.from,
    to: form.to,
    provider: or(form.provider),
    channel: or(form.channel),
    status: or(form.status),
    sku: or(form.sku),
    till: or(form.till),
    includeTest: form.includeTest,
  };
}

/**
 * The smallest 1, 2 or 5 × 10ⁿ at or above `n` (an amount in minor units), so the chart's
 * axis reads as a round number; 0 for nothing to show.
 */
export function niceCeil(n: number): number {
  if (!(n > 0)) return 0;
  const target = Math.ceil(n);
  let step = 1;
  for (;;) {
    for (const m of [1, 2, 5]) if (m * step >= target) return m * step;
    step *= 10;
  }
}

export type Bar = { date: string; netMinor: number; height: number };
export type DayChart = { currency: string; axisMax: number; bars: Bar[] };

/**
 * One bar per day of `days` in `currency` (net takings), scaled so `axisMax` (a round amount
 * at or above the best day) is `height` tall. A day with any takings is at least 1 high so it
 * never looks like a day without; days without are 0.
 */
export function dayChart(days: readonly DayRow[], currency: string, height: number): DayChart {
  const rows = days.filter((d) => d.currency === currency);
  const best = rows.reduce((max, d) => Math.max(max, d.netMinor), 0);
  const axisMax = niceCeil(best);
  const bars = rows.map((d) => {
    const net = Math.max(0, d.netMinor);
    const h = axisMax === 0 || net === 0 ? 0 : Math.max(1, Math.round((net * height) / axisMax));
    return { date: d.date, netMinor: d.netMinor, height: h };
  });
  return { currency, axisMax, bars };
}

/** The currencies in `rows`, in first-seen order. */
export function currenciesOf(rows: readonly { currency: string }[]): string[] {
  return [...new Set(rows.map((r) => r.currency))];
}

/** A method row's key as the engine writes it: "manual · cash", "test · —". */
export function splitMethodKey(key: string): { provider: string; method: string | null } {
  const at = key.indexOf(' · ');
  if (at < 0) return { provider: key, method: null };
  const method = key.slice(at + 3);
  return { provider: key.slice(0, at), method: method === '' || method === '—' ? null : method };
}

export type MethodShare = {
  key: string;
  provider: string;
  method: string | null;
  netMinor: number;
  payments: number;
  /** Whole percent of the currency's net; the shares of a currency add up to 100. */
  percent: number;
};
export type MethodSplit = { currency: string; netMinor: number; shares: MethodShare[] };

/**
 * How each currency's net takings split over payment methods, in whole percents that add up to
 * exactly 100 (largest remainders get the leftover points), computed on integers so no
 * rounding error can make it 99 or 101. Amounts of different currencies are never combined.
 */
export function methodSplit(rows: readonly GroupRow[]): MethodSplit[] {
  return currenciesOf(rows).map((currency) => {
    const mine = rows.filter((r) => r.currency === currency);
    const total = mine.reduce((sum, r) => sum + BigInt(Math.max(0, r.netMinor)), 0n);
    const parts = mine.map((r, index) => {
      const net = BigInt(Math.max(0, r.netMinor));
      const scaled = total === 0n ? 0n : net * 100n;
      return { index, floor: total === 0n ? 0n : scaled / total, rest: total === 0n ? 0n : scaled % total };
    });
    if (total > 0n) {
      let left = 100n - parts.reduce((sum, p) => sum + p.floor, 0n);
      const byRest = [...parts].sort((a, b) => (b.rest > a.rest ? 1 : b.rest < a.rest ? -1 : a.index - b.index));
      for (const p of byRest) {
        if (left <= 0n) break;
        if (p.rest === 0n) continue;
        p.floor += 1n;
        left -= 1n;
      }
    }
    const shares = mine
      .map((r, i) => ({
        key: r.key,
        ...splitMethodKey(r.key),
        netMinor: r.netMinor,
        payments: r.payments,
        percent: Number(parts[i].floor),
      }))
      .sort((a, b) => b.netMinor - a.netMinor || a.key.localeCompare(b.key));
    return { currency, netMinor: Number(total), shares };
  });
}

/** A file size for people: "812 bytes", "3.4 kB", "1.2 MB" (decimal units, the UI's locale). */
export function formatBytes(bytes: number, locale: string): string {
  const [unit, value] =
    bytes < 1000 ? (['byte', bytes] as const) : bytes < 1_000_000 ? (['kilobyte', bytes / 1000] as const) : (['megabyte', bytes / 1_000_000] as const);
  try {
    return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: unit === 'byte' ? 'long' : 'short', maximumFractionDigits: 1 }).format(value);
  } catch {
    return `${bytes} B`;
  }
}
