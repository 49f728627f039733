// The payments screen's logic without Svelte: the live feed (upserts from events, newest
// first, as the engine orders it), its filters, and the shop-time-zone day boundaries.
import type { Payment, PaymentFilter } from '../../lib/bindings';
import { isMessageKey, translate, type Locale } from '../../lib/i18n/translate';

/** What the filter bar holds: dates as typed ("YYYY-MM-DD", shop time zone), '' = any. */
export type FeedFilter = {
  from: string;
  to: string;
  provider: string;
  status: string;
  channel: string;
  /** A till's name; '' for every till. */
  till: string;
};

export const EMPTY_FILTER: FeedFilter = { from: '', to: '', provider: '', status: '', channel: '', till: '' };

/** Most rows the feed keeps (the engine's default page). */
export const FEED_LIMIT = 200;

export const PROVIDERS = ['test', 'stripe', 'alipay', 'wechat', 'manual'] as const;
/** Payment statuses, plus "review": payments that do not match their order. */
export const STATUSES = ['pending', 'paid', 'failed', 'expired', 'refunded', 'review'] as const;
export const CHANNELS = ['till', 'signage', 'post', 'link', 'share'] as const;

/** The post a sale came from, when the shop still has it: its network and handle. */
export type SourcePost = { network: string; handle: string };

/**
 * Where a sale came from, in the owner's words: "Till", "Sign S7K2QXAB",
 * "Post #12 · Bluesky @shop.bsky.social", "Link", "Shared from order O-7K3F9Q2M".
 */
export function sourceText(p: Pick<Payment, 'channel' | 'sourceRef'>, locale: Locale, post?: SourcePost | null): string {
  const label = (key: string, params?: Record<string, string>) => (isMessageKey(key) ? translate(locale, key, params) : key);
  const ref = p.sourceRef;
  if (!ref) return label(`channel.${p.channel}`);
  switch (p.channel) {
    case 'signage':
      return label('source.sign', { id: ref });
    case 'share':
      return label('source.share', { order: ref });
    case 'post': {
      const text = label('source.post', { id: ref });
      return post ? `${text} · ${label(`network.${post.network}`)} @${post.handle}` : text;
    }
    default:
      return label(`channel.${p.channel}`);
  }
}

/** Newest first; ties by id, newest first (the engine's ORDER BY). */
export function compareFeed(a: Payment, b: Payment): number {
  return b.occurredAt - a.occurredAt || b.id - a.id;
}

/**
 * The feed after a live update: the payment replaces its old row (by id) or is added, and
 * the list stays in feed order. A payment that no longer matches the filter leaves it.
 */
export function upsertPayment(feed: readonly Payment[], payment: Payment, range: PaymentFilter = {}, limit = FEED_LIMIT): Payment[] {
  const rest = feed.filter((p) => p.id !== payment.id);
  if (!matchesFilter(payment, range)) return rest.length === feed.length ? (feed as Payment[]) : rest;
  const out = [...rest, payment].sort(compareFeed);
  return out.length > limit ? out.slice(0, limit) : out;
}

/** Whether the engine's `list_payments(filter)` would return `p` (same rules as its SQL). */
export function matchesFilter(p: Payment, f: PaymentFilter): boolean {
  if (f.from != null && p.occurredAt < f.from) return false;
  if (f.to != null && p.occurredAt >= f.to) return false;
  if (f.provider && p.provider !== f.provider) return false;
  if (f.status) {
    if (f.status === 'review') {
      if (p.mismatch == null) return false;
    } else if (p.status !== f.status) return false;
  }
  if (f.channel && p.channel !== f.channel) return false;
  return true;
}

/** The request for the filter bar's values, dates read in the shop's time zone. */
export function toPaymentFilter(f: FeedFilter, timeZone: string, limit = FEED_LIMIT): PaymentFilter {
  const from = f.from ? zonedDayStart(f.from, timeZone) : null;
  // "To" is the last day shown, so the range ends where the next day starts.
  const to = f.to ? zonedDayStart(f.to, timeZone, 1) : null;
  return {
    from,
    to,
    provider: f.provider || null,
    status: f.status || null,
    channel: f.channel || null,
    till: f.till.trim() || null,
    limit,
  };
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** How far the wall clock in `timeZone` is ahead of UTC at `ms`, in ms. */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  let fmt = offsetFormatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormatters.set(timeZone, fmt);
  }
  const parts: Record<string, number> = {};
  for (const part of fmt.formatToParts(ms)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  // Intl drops the milliseconds; compare with `ms` rounded down to the second.
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * UTC ms of midnight starting the day `date` ("YYYY-MM-DD") plus `addDays` in `timeZone`.
 * On a day that starts with a DST gap the first existing instant is returned. Unknown
 * time zones fall back to UTC; a malformed date gives null.
 */
export function zonedDayStart(date: string, timeZone: string, addDays = 0): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim());
  if (!m) return null;
  const naive = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + addDays);
  if (Number.isNaN(naive)) return null;
  let zone = timeZone;
  try {
    zoneOffsetMs(naive, zone);
  } catch {
    zone = 'UTC';
  }
  // Two rounds settle the offset across a DST change between the guess and the answer.
  const first = naive - zoneOffsetMs(naive, zone);
  const second = naive - zoneOffsetMs(first, zone);
  if (second === first) return first;
  // In a gap the two guesses straddle it; the later one is the first instant of the day.
  return Math.max(first, second);
}

/** Today's date ("YYYY-MM-DD") in `timeZone` at `now`. */
export function zonedToday(now: number, timeZone: string): string {
  let offset = 0;
  try {
    offset = zoneOffsetMs(now, timeZone);
  } catch {
    offset = 0;
  }
  return new Date(now + offset).toISOString().slice(0, 10);
}
