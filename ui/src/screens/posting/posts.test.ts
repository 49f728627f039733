import { describe, expect, it } from 'vitest';
import type { Post, PostStatus } from '../../lib/bindings';
import {
  asSentence,
  atForEngine,
  canPostNow,
  canSkip,
  checkSchedule,
  counterLevel,
  fromLocalInput,
  insertAt,
  isRetrying,
  mergePosts,
  missedPosts,
  newerPost,
  postsIn,
  toLocalInput,
} from './posts';

function post(id: number, scheduledAt: number, extra: Partial<Post> = {}): Post {
  return {
    id,
    accountId: 1,
    network: 'bluesky',
    handle: 'shop.test',
    productId: 10,
    text: `post ${id}`,
    link: `https://shop.example.com/p/TEA?src=post&post=${id}`,
    status: 'queued',
    scheduledAt,
    postedAt: null,
    attempts: 0,
    nextAttemptAt: scheduledAt,
    remoteId: null,
    url: null,
    errorCode: null,
    errorMessage: null,
    errorRaw: null,
    ...extra,
  };
}

describe('datetime-local values in the shop’s time zone', () => {
  it('reads a wall-clock time in the shop’s zone, not the computer’s', () => {
    // 18:00 in Shanghai (UTC+8, no DST) is 10:00 UTC.
    expect(fromLocalInput('2026-11-25T18:00', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 25, 10, 0));
    expect(fromLocalInput('2026-11-25T18:00', 'America/New_York')).toBe(Date.UTC(2026, 10, 25, 23, 0));
    expect(fromLocalInput('2026-11-25T18:00', 'UTC')).toBe(Date.UTC(2026, 10, 25, 18, 0));
  });

  it('shows an instant as the shop’s wall clock', () => {
    const ms = Date.UTC(2026, 10, 25, 10, 0);
    expect(toLocalInput(ms, 'Asia/Shanghai')).toBe('2026-11-25T18:00');
    expect(toLocalInput(ms, 'Europe/Berlin')).toBe('2026-11-25T11:00');
    // Across midnight and the year.
    expect(toLocalInput(Date.UTC(2026, 11, 31, 20, 30), 'Asia/Tokyo')).toBe('2027-01-01T05:30');
  });

  it('round-trips every quarter hour of a DST year', () => {
    for (const zone of ['Europe/Berlin', 'America/New_York', 'Asia/Shanghai', 'Australia/Lord_Howe']) {
      for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 15 * 60_000 * 97) {
        const shown = toLocalInput(ms, zone);
        const back = fromLocalInput(shown, zone)!;
        expect(toLocalInput(back, zone), `${zone} ${new Date(ms).toISOString()}`).toBe(shown);
      }
    }
  });

  it('moves a time skipped by the clocks going forward ahead, like the engine', () => {
    // Berlin, 29 March 2026: 02:00 → 03:00. 02:30 does not exist; it means 03:30 CEST.
    const ms = fromLocalInput('2026-03-29T02:30', 'Europe/Berlin');
    expect(ms).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(toLocalInput(ms!, 'Europe/Berlin')).toBe('2026-03-29T03:30');
  });

  it('takes the first of a time that happens twice when the clocks go back', () => {
    // Berlin, 25 October 2026: 03:00 → 02:00. 02:30 happens at 00:30 and 01:30 UTC.
    expect(fromLocalInput('2026-10-25T02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(fromLocalInput('2026-11-01T01:30', 'America/New_York')).toBe(Date.UTC(2026, 10, 1, 5, 30));
  });

  it('refuses what is not a date and time', () => {
    for (const bad of ['', '2026-11-25', '18:00', '2026-13-01T10:00', '2026-02-30T10:00', '2026-11-25T24:00', 'tomorrow']) {
      expect(fromLocalInput(bad, 'Asia/Shanghai'), bad).toBeNull();
    }
    expect(atForEngine('2026-11-25T18:00')).toBe('2026-11-25T18:00');
    expect(atForEngine('2026-11-25T18:00:30')).toBe('2026-11-25T18:00');
    expect(atForEngine('')).toBeNull();
  });

  it('falls back to UTC for an unknown zone', () => {
    expect(fromLocalInput('2026-11-25T18:00', 'Mars/Olympus')).toBe(Date.UTC(2026, 10, 25, 18, 0));
    expect(toLocalInput(Date.UTC(2026, 10, 25, 18, 0), 'Mars/Olympus')).toBe('2026-11-25T18:00');
  });

  it('checks a schedule: now, a future time, a past one, nothing', () => {
    const now = Date.UTC(2026, 10, 25, 10, 0); // 18:00 in Shanghai
    expect(checkSchedule('now', '', 'Asia/Shanghai', now)).toEqual({ kind: 'now' });
    expect(checkSchedule('at', '2026-11-25T19:00', 'Asia/Shanghai', now)).toEqual({ kind: 'at', ms: now + 3_600_000 });
    expect(checkSchedule('at', '2026-11-25T18:00', 'Asia/Shanghai', now + 30_000).kind).toBe('at');
    expect(checkSchedule('at', '2026-11-25T17:00', 'Asia/Shanghai', now).kind).toBe('past');
    expect(checkSchedule('at', '', 'Asia/Shanghai', now).kind).toBe('invalid');
  });
});

describe('post history from replies and events', () => {
  it('keeps the engine’s order: latest scheduled first, then newest id', () => {
    const merged = mergePosts([], [post(1, 1000), post(3, 3000), post(2, 3000), post(4, 500)]);
    expect(merged.map((p) => p.id)).toEqual([3, 2, 1, 4]);
  });

  it('replaces a post by id and adds new ones', () => {
    const history = [post(2, 2000), post(1, 1000)];
    const sent = post(1, 1000, { status: 'posted', attempts: 1, url: 'https://bsky.app/profile/shop.test/post/abc' });
    const merged = mergePosts(history, [sent, post(3, 3000)]);
    expect(merged.map((p) => [p.id, p.status])).toEqual([[3, 'queued'], [2, 'queued'], [1, 'posted']]);
    expect(history.map((p) => p.status)).toEqual(['queued', 'queued']); // not mutated
  });

  it('never lets the late reply to “Post” undo the event that it was sent', () => {
    const event = post(7, 1000, { status: 'posted', attempts: 1 });
    const reply = post(7, 1000, { status: 'queued', attempts: 0 });
    expect(mergePosts([event], [reply])[0].status).toBe('posted');
    expect(mergePosts([reply], [event])[0].status).toBe('posted');
  });

  it('lets “post now” turn a failed post back into a queued one', () => {
    const failed = post(8, 1000, { status: 'failed', attempts: 3, errorMessage: 'bluesky refused the post: too long' });
    const again = post(8, 1000, { status: 'queued', attempts: 3 });
    expect(newerPost(failed, again)).toBe(again);
    // …and a later attempt still wins over the reply.
    const sent = post(8, 1000, { status: 'posted', attempts: 4 });
    expect(newerPost(sent, again)).toBe(sent);
  });

  it('keeps a final state over a stale snapshot of the same attempt', () => {
    const posted = post(9, 1000, { status: 'posted', attempts: 1 });
    const sending = post(9, 1000, { status: 'sending', attempts: 1 });
    expect(newerPost(posted, sending)).toBe(posted);
    expect(newerPost(sending, posted)).toBe(posted);
    const skipped = post(9, 1000, { status: 'skipped' });
    expect(newerPost(skipped, post(9, 1000, { status: 'missed' }))).toBe(skipped);
  });

  it('caps the list', () => {
    const many = Array.from({ length: 10 }, (_, i) => post(i + 1, (i + 1) * 1000));
    expect(mergePosts([], many, 3).map((p) => p.id)).toEqual([10, 9, 8]);
  });

  it('filters by product and by account', () => {
    const all = [post(1, 1000), post(2, 2000, { productId: 11 }), post(3, 3000, { accountId: 2 })];
    expect(postsIn(all, { productId: 10 }).map((p) => p.id)).toEqual([3, 1]);
    expect(postsIn(all, { accountId: 2 }).map((p) => p.id)).toEqual([3]);
    expect(postsIn(all, { productId: 10, accountId: 1 }).map((p) => p.id)).toEqual([1]);
    expect(postsIn(all, {}).map((p) => p.id)).toEqual([3, 2, 1]);
  });

  it('finds missed posts and what the owner can do with each status', () => {
    const all = [post(1, 1, { status: 'missed' }), post(2, 2, { status: 'posted' }), post(3, 3, { status: 'missed' })];
    expect(missedPosts(all).map((p) => p.id)).toEqual([1, 3]);
    const can = (status: PostStatus) => [canPostNow(post(1, 1, { status })), canSkip(post(1, 1, { status }))];
    expect(can('missed')).toEqual([true, true]);
    expect(can('failed')).toEqual([true, true]);
    expect(can('queued')).toEqual([false, true]);
    expect(can('sending')).toEqual([false, false]);
    expect(can('posted')).toEqual([false, false]);
    expect(can('skipped')).toEqual([false, false]);
    expect(isRetrying(post(1, 1, { status: 'queued', attempts: 2, errorMessage: 'could not reach bluesky' }))).toBe(true);
    expect(isRetrying(post(1, 1, { status: 'queued' }))).toBe(false);
  });

  it('turns the engine’s error into a sentence', () => {
    expect(asSentence('bluesky needs you to reconnect the account: revoked')).toBe('Bluesky needs you to reconnect the account: revoked.');
    expect(asSentence('The post is empty.')).toBe('The post is empty.');
    expect(asSentence('  ')).toBe('');
  });
});

describe('preview counter', () => {
  it('is plain well under the limit, amber from 90 %, red over it', () => {
    expect(counterLevel(0, 300)).toBe('ok');
    expect(counterLevel(269, 300)).toBe('ok');
    expect(counterLevel(270, 300)).toBe('near');
    expect(counterLevel(300, 300)).toBe('near');
    expect(counterLevel(301, 300)).toBe('over');
    expect(counterLevel(449, 500)).toBe('ok');
    expect(counterLevel(450, 500)).toBe('near');
    expect(counterLevel(2001, 2000)).toBe('over');
  });

  it('does not colour a counter without a limit', () => {
    expect(counterLevel(10, 0)).toBe('ok');
  });
});

describe('placeholders', () => {
  it('inserts at the caret or over the selection', () => {
    expect(insertAt('Buy  now', '{name}', 4)).toEqual({ value: 'Buy {name} now', caret: 10 });
    expect(insertAt('Buy X now', '{name}', 4, 5)).toEqual({ value: 'Buy {name} now', caret: 10 });
    expect(insertAt('abc', '{link}', 99)).toEqual({ value: 'abc{link}', caret: 9 });
  });
});
