import { describe, expect, it } from 'vitest';
import {
  CODE_READY,
  MAX_QUANTITY,
  addToCart,
  canChargeCodes,
  codeInFlight,
  nextCodeState,
  normalizePaymentCode,
  type CodeEvent,
  type CodeState,
  buyLink,
  effectiveBuyLinkBase,
  cartTotal,
  formatCountdown,
  lineTotal,
  orderLines,
  removeFromCart,
  setLineDiscount,
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

  it('sends a line discount and its reason only when one is typed', () => {
    let cart = addToCart(addToCart([], tea), cup);
    cart = setLineDiscount(cart, 2, ' 10% ', ' chipped ');
    expect(orderLines(cart)).toEqual([
      { productId: 1, quantity: 1 },
      { productId: 2, quantity: 1, discount: '10%', discountReason: 'chipped' },
    ]);
    cart = setLineDiscount(cart, 2, '2.00', '');
    expect(orderLines(cart)[1]).toEqual({ productId: 2, quantity: 1, discount: '2.00', discountReason: null });
    cart = setLineDiscount(cart, 2, '  ', 'kept only with a discount');
    expect(orderLines(cart)[1]).toEqual({ productId: 2, quantity: 1 });
    // Counting the line up keeps its discount.
    cart = setLineDiscount(cart, 1, '5%', '');
    cart = addToCart(cart, tea);
    expect(orderLines(cart)[0]).toEqual({ productId: 1, quantity: 2, discount: '5%', discountReason: null });
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

/** The states a list of events leads to, from ready. */
function run(events: CodeEvent[], from: CodeState = CODE_READY): CodeState {
  return events.reduce(nextCodeState, from);
}

const WECHAT = '134567890123456789';

describe('normalizePaymentCode', () => {
  it('keeps a scanner’s digits and drops its Enter, spaces and dashes', () => {
    expect(normalizePaymentCode(`${WECHAT}\r\n`)).toBe(WECHAT);
    expect(normalizePaymentCode(' 1345 6789 0123 4567 89 ')).toBe(WECHAT);
    expect(normalizePaymentCode('1345-6789-0123-456789')).toBe(WECHAT);
    expect(normalizePaymentCode('\t2830\u30001234\u00a05678 9012')).toBe('2830123456789012');
  });

  it('turns full-width digits (a Chinese input method left on) into ASCII', () => {
    expect(normalizePaymentCode('１３４５６７８９０１２３４５６７８９')).toBe(WECHAT);
    expect(normalizePaymentCode('１３４５－６７８９')).toBe('13456789');
  });

  it('leaves anything else for the engine to explain', () => {
    expect(normalizePaymentCode('TEA-LJ-1')).toBe('TEALJ1');
    expect(normalizePaymentCode('   ')).toBe('');
  });
});

describe('canChargeCodes', () => {
  it('needs Alipay or WeChat Pay; test mode and Stripe cannot charge a code', () => {
    expect(canChargeCodes(['test', 'stripe'])).toBe(false);
    expect(canChargeCodes([])).toBe(false);
    expect(canChargeCodes(['test', 'alipay'])).toBe(true);
    expect(canChargeCodes(['wechat'])).toBe(true);
  });
});

describe('nextCodeState', () => {
  it('sends the normalised code on Enter, and ignores an empty Enter', () => {
    expect(run([{ kind: 'scanned', typed: ' ' }])).toEqual(CODE_READY);
    expect(run([{ kind: 'scanned', typed: `１３４５ ${WECHAT.slice(4)}\n` }])).toEqual({ kind: 'sending', code: WECHAT });
  });

  it('paid on the spot', () => {
    expect(run([{ kind: 'scanned', typed: WECHAT }, { kind: 'charged', paid: true }])).toEqual({ kind: 'paid' });
  });

  it('waits while the customer confirms, then is paid by the live update', () => {
    const waiting = run([{ kind: 'scanned', typed: WECHAT }, { kind: 'charged', paid: false }]);
    expect(waiting).toEqual({ kind: 'waiting' });
    expect(codeInFlight(waiting)).toBe(true);
    expect(run([{ kind: 'order', status: 'awaiting_payment' }], waiting)).toBe(waiting);
    expect(run([{ kind: 'payment', status: 'pending' }], waiting)).toBe(waiting);
    expect(run([{ kind: 'order', status: 'paid' }], waiting)).toEqual({ kind: 'paid' });
  });

  it('a "paid" that overtakes the engine’s answer is not undone by the answer', () => {
    expect(
      run([{ kind: 'scanned', typed: WECHAT }, { kind: 'order', status: 'paid' }, { kind: 'charged', paid: false }]),
    ).toEqual({ kind: 'paid' });
  });

  it('declined on the spot: the provider’s words, then a rescan sends again', () => {
    const declined = run([
      { kind: 'scanned', typed: WECHAT },
      { kind: 'refused', message: 'The payment provider refused the request.', detail: 'Details: 余额不足' },
    ]);
    expect(declined).toEqual({ kind: 'declined', message: 'The payment provider refused the request.', detail: 'Details: 余额不足' });
    expect(codeInFlight(declined)).toBe(false);
    expect(run([{ kind: 'scanned', typed: '284567890123456789' }], declined)).toEqual({ kind: 'sending', code: '284567890123456789' });
  });

  it('declined on the phone after waiting: no words from the provider', () => {
    expect(run([{ kind: 'payment', status: 'failed' }], { kind: 'waiting' })).toEqual({ kind: 'declined', message: null, detail: null });
  });

  it('expires when the customer never confirms (order or payment says so), then a rescan works', () => {
    const byOrder = run([{ kind: 'order', status: 'expired' }], { kind: 'waiting' });
    expect(byOrder).toEqual({ kind: 'expired' });
    expect(run([{ kind: 'payment', status: 'expired' }], { kind: 'waiting' })).toEqual({ kind: 'expired' });
    expect(run([{ kind: 'scanned', typed: WECHAT }], byOrder)).toEqual({ kind: 'sending', code: WECHAT });
  });

  it('a second scan while one is in flight is ignored: the customer is not charged twice', () => {
    const sending: CodeState = { kind: 'sending', code: WECHAT };
    expect(run([{ kind: 'scanned', typed: '134000000000000000' }], sending)).toBe(sending);
    expect(run([{ kind: 'scanned', typed: '134000000000000000' }], { kind: 'waiting' })).toEqual({ kind: 'waiting' });
    expect(run([{ kind: 'scanned', typed: '134000000000000000' }], { kind: 'paid' })).toEqual({ kind: 'paid' });
  });

  it('updates about other sales’ states change nothing once the code is settled', () => {
    for (const settled of [CODE_READY, { kind: 'paid' } as const, { kind: 'expired' } as const]) {
      expect(run([{ kind: 'order', status: 'expired' }, { kind: 'payment', status: 'failed' }, { kind: 'charged', paid: true }], settled)).toBe(settled);
    }
    // An answer or refusal that arrives late (after a cancel) does not bring the code back.
    expect(run([{ kind: 'refused', message: 'x', detail: null }], CODE_READY)).toBe(CODE_READY);
  });

  it('cancel or review ends it; reset starts over', () => {
    expect(run([{ kind: 'order', status: 'cancelled' }], { kind: 'waiting' })).toEqual(CODE_READY);
    expect(run([{ kind: 'order', status: 'review' }], { kind: 'waiting' })).toEqual(CODE_READY);
    expect(run([{ kind: 'reset' }], { kind: 'declined', message: 'x', detail: null })).toEqual(CODE_READY);
  });
});
