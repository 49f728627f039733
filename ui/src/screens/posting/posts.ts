// The Post screen's logic without Svelte: schedule times in the shop's time zone, the post
// history kept current from events and command replies, and the preview's length counter.
import type { Post } from '../../lib/bindings';
import { zoneOffsetMs } from '../payments/payments';

/** What the template box starts with; an empty template means the engine's own default. */
export const DEFAULT_TEMPLATE = '{name} — {price}\n{link}\n{tags}';

/** The placeholders a template may use, in the order the composer lists them. */
export const PLACEHOLDERS = ['{name}', '{price}', '{link}', '{tags}', '{description}'] as const;

/** Every status of a post, in the order a post usually goes through them. */
export const POST_STATUSES = ['missed', 'queued', 'sending', 'posted', 'failed', 'skipped'] as const;
export type PostStatus = (typeof POST_STATUSES)[number];

/** Most posts the engine returns per history request. */
export const HISTORY_LIMIT = 500;

// ---------- Times: a datetime-local value is a wall-clock time in the shop's time zone ----------

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

function offsetOrUtc(ms: number, timeZone: string): number {
  try {
    return zoneOffsetMs(ms, timeZone);
  } catch {
    return 0; // unknown zone: UTC, like the rest of the UI
  }
}

/** The `<input type=datetime-local>` value ("YYYY-MM-DDTHH:MM") of `ms` in `timeZone`. */
export function toLocalInput(ms: number, timeZone: string): string {
  return new Date(ms + offsetOrUtc(ms, timeZone)).toISOString().slice(0, 16);
}

/**
 * UTC ms of a datetime-local value read in `timeZone`, as the engine reads it: a time that
 * does not exist (the hour skipped when clocks go forward) moves forward by the gap; one
 * that happens twice (clocks go back) is the first. Null when `value` is not a date and time.
 */
export function fromLocalInput(value: string, timeZone: string): number | null {
  const m = LOCAL_INPUT.exec(value.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((x) => Number(x ?? 0));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const naive = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 February over into March; such a date was never typed.
  if (new Date(naive).getUTCDate() !== day) return null;
  const DAY = 86_400_000;
  // The offsets either side of any change on that day: at most one change happens per day.
  const before = offsetOrUtc(naive - DAY, timeZone);
  const after = offsetOrUtc(naive + DAY, timeZone);
  const valid = [naive - before, naive - after].filter((c) => c + offsetOrUtc(c, timeZone) === naive);
  if (valid.length > 0) return Math.min(...valid);
  // In a gap: the offset from before the change puts the time as far forward as the gap is long.
  return naive - before;
}

/** The text the engine's `at` takes: the datetime-local value, or null for "now". */
export function atForEngine(value: string): string | null {
  const v = value.trim();
  return LOCAL_INPUT.test(v) ? v.slice(0, 16) : null;
}

export type ScheduleCheck = { kind: 'now' } | { kind: 'at'; ms: number } | { kind: 'invalid' } | { kind: 'past' };

/** Whether a schedule the owner typed can be queued: a valid time, not already past. */
export function checkSchedule(mode: 'now' | 'at', value: string, timeZone: string, now: number): ScheduleCheck {
  if (mode === 'now') return { kind: 'now' };
  const ms = fromLocalInput(value, timeZone);
  if (ms === null) return { kind: 'invalid' };
  // A minute's grace: "18:00" typed at 18:00:30 still means this minute.
  if (ms < now - 60_000) return { kind: 'past' };
  return { kind: 'at', ms };
}

// ---------- History: newest first, kept current from events and replies ----------

/** The engine's order: latest scheduled first, then the newest post. */
export function compareHistory(a: Post, b: Post): number {
  return b.scheduledAt - a.scheduledAt || b.id - a.id;
}

const FINAL: ReadonlySet<string> = new Set(['posted', 'skipped']);

/**
 * Which of two snapshots of the same post is current. Events and command replies can cross
 * (the reply to "Post" says queued after the event already said posted), so: more attempts
 * wins; at equal attempts a final state (posted, skipped) wins; otherwise the newcomer does
 * ("post now" turns failed back into queued without a new attempt).
 */
export function newerPost(current: Post, incoming: Post): Post {
  if (incoming.attempts !== current.attempts) return incoming.attempts > current.attempts ? incoming : current;
  if (FINAL.has(current.status) && !FINAL.has(incoming.status)) return current;
  return incoming;
}

/** `history` with `posts` merged in (by id, current snapshot kept), in history order. */
export function mergePosts(history: readonly Post[], posts: readonly Post[], limit = Infinity): Post[] {
  if (posts.length === 0) return history as Post[];
  const byId = new Map(history.map((p) => [p.id, p]));
  for (const p of posts) {
    const old = byId.get(p.id);
    byId.set(p.id, old ? newerPost(old, p) : p);
  }
  const out = [...byId.values()].sort(compareHistory);
  return out.length > limit ? out.slice(0, limit) : out;
}

/** Which posts a history list shows: one product's, one account's, or all. */
export type HistoryScope = { productId?: number | null; accountId?: number | null };

export function inScope(post: Post, scope: HistoryScope): boolean {
  if (scope.productId != null && post.productId !== scope.productId) return false;
  if (scope.accountId != null && post.accountId !== scope.accountId) return false;
  return true;
}

/** The posts of `scope`, in history order. */
export function postsIn(posts: readonly Post[], scope: HistoryScope): Post[] {
  return posts.filter((p) => inScope(p, scope)).sort(compareHistory);
}

/** Posts that were due while the app was closed and wait for the owner. */
export function missedPosts(posts: readonly Post[]): Post[] {
  return posts.filter((p) => p.status === 'missed');
}

/** Whether the owner can still act on the post: post now (missed, failed) or skip it. */
export function canPostNow(post: Post): boolean {
  return post.status === 'missed' || post.status === 'failed';
}

export function canSkip(post: Post): boolean {
  return post.status === 'missed' || post.status === 'failed' || post.status === 'queued';
}

/** A queued post whose last attempt failed and that will be tried again by itself. */
export function isRetrying(post: Post): boolean {
  return post.status === 'queued' && post.attempts > 0 && !!post.errorMessage;
}

/** The time a post's row shows: when it went out, else when it is (or was) due. */
export function shownTime(post: Post): number {
  return post.status === 'posted' && post.postedAt != null ? post.postedAt : post.scheduledAt;
}

/** The engine's error sentences start with the network's id ("bluesky refused …"). */
export function asSentence(text: string): string {
  const s = text.trim();
  if (s === '') return s;
  const first = s[0].toUpperCase() + s.slice(1);
  return /[.!?。！？)]$/.test(first) ? first : `${first}.`;
}

// ---------- Preview counter ----------

export type CounterLevel = 'ok' | 'near' | 'over';

/** Share of the limit from which the counter warns (amber) before it turns red. */
export const NEAR_LIMIT = 0.9;

/** How the "length / max" counter is coloured: red over the limit, amber close to it. */
export function counterLevel(length: number, max: number): CounterLevel {
  if (max <= 0) return 'ok';
  if (length > max) return 'over';
  if (length >= Math.ceil(max * NEAR_LIMIT)) return 'near';
  return 'ok';
}

/** Inserts `text` into `value` at the selection [start, end); returns the new value and caret. */
export function insertAt(value: string, text: string, start: number, end = start): { value: string; caret: number } {
  const s = Math.max(0, Math.min(start, value.length));
  const e = Math.max(s, Math.min(end, value.length));
  return { value: value.slice(0, s) + text + value.slice(e), caret: s + text.length };
}
