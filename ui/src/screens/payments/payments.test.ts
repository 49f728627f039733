import { describe, expect, it } from 'vitest';
import type { Payment } from '../../lib/bindings';
import {
  EMPTY_FILTER,
  matchesFilter,
  toPaymentFilter,
  sourceText,
  upsertPayment,
  zoneOffsetMs,
  zonedDayStart,
  zonedToday,
} from './payments';

function payment(id: number, occurredAt: number, extra: Partial<Payment> = {}): Payment {
  return {
    id,
    provider: 'test',
    providerRef: `ref-${id}`,
    orderId: id,
    orderRef: `O-${id}`,
    status: 'pending',
    amount: { amountMinor: 1000, currency: 'CNY' },
    refundedMinor: 0,
    method: null,
    channel: 'till',
    sourceRef: null,
    test: true,
    mismatch: null,
    occurredAt,
    updatedAt: occurredAt,
    ...extra,
  };
}

describe('upsertPayment', () => {
  const feed = [payment(3, 3000), payment(2, 2000), payment(1, 1000)];

  it('puts a new payment at the top', () => {
    expect(upsertPayment(feed, payment(4, 4000)).map((p) => p.id)).toEqual([4, 3, 2, 1]);
  });

  it('replaces an existing payment in place instead of duplicating it', () => {
    const out = upsertPayment(feed, payment(2, 2000, { status: 'paid' }));
    expect(out.map((p) => p.id)).toEqual([3, 2, 1]);
    expect(out[1].status).toBe('paid');
  });

  it('keeps the engine order: time, then id, newest first', () => {
    // A payment the provider dates earlier lands below newer ones; equal times sort by id.
    expect(upsertPayment(feed, payment(5, 1500)).map((p) => p.id)).toEqual([3, 2, 5, 1]);
    expect(upsertPayment(feed, payment(6, 2000)).map((p) => p.id)).toEqual([3, 6, 2, 1]);
    // An update that moves the time moves the row.
    expect(upsertPayment(feed, payment(1, 9000)).map((p) => p.id)).toEqual([1, 3, 2]);
  });

  it('drops what the filter excludes, including a row that stops matching', () => {
    expect(upsertPayment(feed, payment(4, 4000, { provider: 'stripe' }), { provider: 'test' })).toBe(feed);
    expect(upsertPayment(feed, payment(2, 2000, { status: 'paid' }), { status: 'pending' }).map((p) => p.id)).toEqual([3, 1]);
  });

  it('keeps at most `limit` rows', () => {
    expect(upsertPayment(feed, payment(4, 4000), {}, 3).map((p) => p.id)).toEqual([4, 3, 2]);
  });
});

describe('matchesFilter', () => {
  it('follows the engine: from inclusive, to exclusive, review = mismatch', () => {
    const p = payment(1, 1000, { status: 'paid', provider: 'stripe', channel: 'post' });
    expect(matchesFilter(p, {})).toBe(true);
    expect(matchesFilter(p, { from: 1000, to: 1001 })).toBe(true);
    expect(matchesFilter(p, { from: 1001 })).toBe(false);
    expect(matchesFilter(p, { to: 1000 })).toBe(false);
    expect(matchesFilter(p, { provider: 'stripe', status: 'paid', channel: 'post' })).toBe(true);
    expect(matchesFilter(p, { channel: 'till' })).toBe(false);
    expect(matchesFilter(p, { status: 'review' })).toBe(false);
    expect(matchesFilter({ ...p, mismatch: 'Paid 10.00, order is 12.00' }, { status: 'review' })).toBe(true);
  });
});

describe('shop time zone days', () => {
  it('knows offsets', () => {
    expect(zoneOffsetMs(Date.UTC(2024, 0, 15, 12), 'Asia/Shanghai')).toBe(8 * 3_600_000);
    expect(zoneOffsetMs(Date.UTC(2024, 6, 15, 12), 'Europe/Berlin')).toBe(2 * 3_600_000);
    expect(zoneOffsetMs(Date.UTC(2024, 0, 15, 12, 0, 0, 789), 'UTC')).toBe(0);
  });

  it('turns a local date into the UTC ms its midnight starts', () => {
    expect(zonedDayStart('2024-03-05', 'Asia/Shanghai')).toBe(Date.UTC(2024, 2, 4, 16));
    expect(zonedDayStart('2024-03-05', 'Asia/Shanghai', 1)).toBe(Date.UTC(2024, 2, 5, 16));
    expect(zonedDayStart('2024-03-05', 'America/New_York')).toBe(Date.UTC(2024, 2, 5, 5));
    expect(zonedDayStart('2024-12-31', 'UTC', 1)).toBe(Date.UTC(2025, 0, 1));
  });

  it('handles daylight saving days', () => {
    // Berlin: 31 March 2024 starts at +1, 1 April at +2.
    expect(zonedDayStart('2024-03-31', 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 30, 23));
    expect(zonedDayStart('2024-03-31', 'Europe/Berlin', 1)).toBe(Date.UTC(2024, 2, 31, 22));
    // São Paulo 2018: clocks jumped from 00:00 to 01:00, so the day began at 01:00 (-02).
    expect(zonedDayStart('2018-11-04', 'America/Sao_Paulo')).toBe(Date.UTC(2018, 10, 4, 3));
  });

  it('rejects malformed dates and falls back to UTC for unknown zones', () => {
    expect(zonedDayStart('5.3.2024', 'UTC')).toBeNull();
    expect(zonedDayStart('2024-03-05', 'Mars/Olympus')).toBe(Date.UTC(2024, 2, 5));
  });

  it("gives today's date in the shop's zone", () => {
    const ms = Date.UTC(2024, 2, 4, 17); // 01:00 on 5 March in Shanghai
    expect(zonedToday(ms, 'Asia/Shanghai')).toBe('2024-03-05');
    expect(zonedToday(ms, 'UTC')).toBe('2024-03-04');
  });

  it('builds the request from the filter bar', () => {
    expect(toPaymentFilter(EMPTY_FILTER, 'UTC')).toEqual({ from: null, to: null, provider: null, status: null, channel: null, till: null, limit: 200 });
    expect(toPaymentFilter({ from: '2024-03-05', to: '2024-03-05', provider: 'test', status: 'review', channel: 'till', till: ' Front ' }, 'Asia/Shanghai')).toEqual({
      from: Date.UTC(2024, 2, 4, 16),
      to: Date.UTC(2024, 2, 5, 16),
      provider: 'test',
      status: 'review',
      channel: 'till',
      till: 'Front',
      limit: 200,
    });
  });
});

describe('sourceText', () => {
  const sale = (channel: Payment['channel'], sourceRef: string | null) => ({ channel, sourceRef });
  it('names the sign, the post with its network, and the shared order', () => {
    expect(sourceText(sale('till', null), 'en')).toBe('Till');
    expect(sourceText(sale('link', null), 'en')).toBe('Link');
    expect(sourceText(sale('signage', 'S7K2QXAB'), 'en')).toBe('Sign S7K2QXAB');
    expect(sourceText(sale('post', '12'), 'en')).toBe('Post #12');
    expect(sourceText(sale('post', '12'), 'en', { network: 'bluesky', handle: 'shop.bsky.social' })).toBe(
      'Post #12 · Bluesky @shop.bsky.social',
    );
    expect(sourceText(sale('share', 'O-7K3F9Q2M'), 'en')).toBe('Shared from order O-7K3F9Q2M');
    expect(sourceText(sale('post', '12'), 'zh-CN', { network: 'weibo', handle: '小店' })).toBe('帖子 #12 · 微博 @小店');
    expect(sourceText(sale('signage', 'S7K2QXAB'), 'zh-CN')).toBe('标牌 S7K2QXAB');
  });
  it('falls back to the channel name without a reference', () => {
    expect(sourceText(sale('signage', null), 'en')).toBe('Sign');
    expect(sourceText(sale('post', null), 'zh-CN')).toBe('帖子');
  });
});
