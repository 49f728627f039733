import { describe, expect, it } from 'vitest';
import {
  MAX_QUANTITY,
  addToCart,
  buyLink,
  effectiveBuyLinkBase,
  cartTotal,
  formatCountdown,
  lineTotal,
  orderLines,
  removeFromCart,
  setQuantity,
  shareUrl,
  type CartLine,
} from './till';

const tea = { id: 1, name: '龙井绿茶', sku: 'TEA-LJ-1', price: { amountMinor: 8800, currency: 'CNY' } };
const cup = { id: 2, name: 'Blue cup', sku: null, price: { amountMinor: 3550, currency: 'CNY' } };
const yen = { id: 3, name: 'Sencha', sku: 'S', price: { amountMinor: 500, currency: 'JPY' } };

describe('cart', () => {
  it('adds a product once, then counts it up', () => {
    let cart: CartLine[] = [];
    cart = addToCart(cart, tea);
    cart = addToCart(cart, cup);
    cart = addToCart(cart, tea);
    expect(cart.map((l) => [l.productId, l.quantity])).toEqual([[1, 2], [2, 1]]);
    expect(orderLines(cart)).toEqual([{ productId: 1, quantity: 2 }, { productId: 2, quantity: 1 }]);
  });

  it('sets, clamps and removes quantities', () => {
    let cart = addToCart(addToCart([], tea), cup);
    cart = setQuantity(cart, 1, 5);
    expect(cart[0].quantity).toBe(5);
    cart = setQuantity(cart, 1, 2.7);
    expect(cart[0].quantity).toBe(2);
    cart = setQuantity(cart, 1, 1e9);
    expect(cart[0].quantity).toBe(MAX_QUANTITY);
    cart = setQuantity(cart, 1, 0);
    expect(cart.map((l) => l.productId)).toEqual([2]);
    cart = setQuantity(cart, 2, Number.NaN);
    expect(cart).toEqual([]);
    expect(removeFromCart(addToCart([], tea), 1)).toEqual([]);
  });

  it('totals in integer minor units without float drift', () => {
    // 0.1 + 0.2 style trouble: 3 × 35.50 + 88.00 must be exactly 194.50.
    let cart = addToCart([], tea);
    cart = setQuantity(addToCart(cart, cup), 2, 3);
    expect(cartTotal(cart)).toEqual({ kind: 'ok', total: { amountMinor: 19450, currency: 'CNY' } });
    expect(lineTotal(cart[1])).toEqual({ amountMinor: 10650, currency: 'CNY' });
    const dimes = Array.from({ length: 3 }, (_, i) => ({ productId: 10 + i, name: 'x', sku: null, quantity: 1, unitPrice: { amountMinor: 10, currency: 'EUR' } }));
    expect(cartTotal(dimes)).toEqual({ kind: 'ok', total: { amountMinor: 30, currency: 'EUR' } });
  });

  it('reports an empty cart, mixed currencies and totals beyond safe integers', () => {
    expect(cartTotal([])).toEqual({ kind: 'empty' });
    expect(cartTotal(addToCart(addToCart([], tea), yen))).toEqual({ kind: 'mixed', currencies: ['CNY', 'JPY'] });
    const huge = [{ productId: 1, name: 'x', sku: null, quantity: 9999, unitPrice: { amountMinor: Number.MAX_SAFE_INTEGER, currency: 'EUR' } }];
    expect(cartTotal(huge)).toEqual({ kind: 'tooLarge' });
  });
});

describe('formatCountdown', () => {
  const now = 1_700_000_000_000;
  it('shows minutes and seconds, rounding seconds up', () => {
    expect(formatCountdown(now + 15 * 60_000, now)).toBe('15:00');
    expect(formatCountdown(now + 14 * 60_000 + 59_001, now)).toBe('15:00');
    expect(formatCountdown(now + 14 * 60_000 + 59_000, now)).toBe('14:59');
    expect(formatCountdown(now + 9_000, now)).toBe('0:09');
    expect(formatCountdown(now + 1, now)).toBe('0:01');
  });
  it('adds hours past an hour and stops at 0:00', () => {
    expect(formatCountdown(now + 3_723_000, now)).toBe('1:02:03');
    expect(formatCountdown(now + 24 * 3_600_000, now)).toBe('24:00:00');
    expect(formatCountdown(now, now)).toBe('0:00');
    expect(formatCountdown(now - 5_000, now)).toBe('0:00');
  });
});

describe('buyLink', () => {
  it('appends the SKU (or the id) as a path segment, like the engine', () => {
    expect(buyLink('https://shop.example.com/p/', { id: 1, sku: 'TEA-LJ-1' })).toBe('https://shop.example.com/p/TEA-LJ-1');
    expect(buyLink('https://shop.example.com/p', { id: 7, sku: null })).toBe('https://shop.example.com/p/7');
    expect(buyLink('https://shop.example.com', { id: 7, sku: null })).toBe('https://shop.example.com/7');
    expect(buyLink('https://shop.example.com/p/', { id: 1, sku: '茶 1' }, { src: 'weibo' })).toBe(
      'https://shop.example.com/p/%E8%8C%B6%201?src=weibo',
    );
  });
  it('gives null without a usable base or key', () => {
    expect(buyLink('', { id: 1, sku: 'A' })).toBeNull();
    expect(buyLink('not a url', { id: 1, sku: 'A' })).toBeNull();
    expect(buyLink('ftp://x.example/', { id: 1, sku: 'A' })).toBeNull();
    expect(buyLink('https://x.example/', { id: null, sku: null })).toBeNull();
  });
});

describe('shareUrl', () => {
  const url = 'https://shop.example.com/p/TEA-LJ-1?src=weibo&x=1';
  const text = '我刚买了 龙井绿茶 & more';

  it('builds the Weibo share page with url and title encoded as UTF-8', () => {
    const out = new URL(shareUrl('weibo', url, text));
    expect(out.origin + out.pathname).toBe('https://service.weibo.com/share/share.php');
    expect(out.searchParams.get('url')).toBe(url);
    expect(out.searchParams.get('title')).toBe(text);
    expect(shareUrl('weibo', url, text)).toContain('title=%E6%88%91%E5%88%9A%E4%B9%B0%E4%BA%86%20');
  });

  it('puts the link at the end of the Bluesky and Mastodon text', () => {
    const bsky = new URL(shareUrl('bluesky', url, text));
    expect(bsky.origin + bsky.pathname).toBe('https://bsky.app/intent/compose');
    expect(bsky.searchParams.get('text')).toBe(`${text} ${url}`);
    const masto = new URL(shareUrl('mastodon', url, text));
    expect(masto.origin).toBe('https://mastodonshare.com');
    expect(masto.searchParams.get('text')).toBe(`${text} ${url}`);
    // Nothing unencoded that would split the query.
    expect(shareUrl('mastodon', url, text).split('?')[1]).not.toMatch(/[&=].*[&=]/);
  });
});

describe('effectiveBuyLinkBase', () => {
  it('uses the typed base, else the shop page, else nothing', () => {
    expect(effectiveBuyLinkBase({ buyLinkBase: ' https://elsewhere.example/buy/ ', publicUrl: 'https://shop.example.com' })).toBe(
      'https://elsewhere.example/buy/',
    );
    expect(effectiveBuyLinkBase({ buyLinkBase: '', publicUrl: 'https://shop.example.com' })).toBe('https://shop.example.com/p/');
    expect(effectiveBuyLinkBase({ buyLinkBase: '', publicUrl: '' })).toBe('');
    expect(buyLink(effectiveBuyLinkBase({ buyLinkBase: '', publicUrl: 'http://127.0.0.1:8080' }), { id: 3, sku: 'TEA-1' }, { src: 'weibo' })).toBe(
      'http://127.0.0.1:8080/p/TEA-1?src=weibo',
    );
  });
});
