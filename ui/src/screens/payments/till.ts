// The till's arithmetic and links, kept free of Svelte so they unit-test in Node: the cart
// (integer minor units only), the QR countdown, the customer's payment code and share links.
import type { Money, OrderLineDraft, OrderStatus, PaymentStatus, ProductSummary } from '../../lib/bindings';

/** One product in the cart with how many the customer takes. */
export type CartLine = {
  productId: number;
  name: string;
  sku: string | null;
  unitPrice: Money;
  quantity: number;
  /** The line's discount as typed ("10%", "2.00"); empty or missing: none. */
  discount?: string;
  discountReason?: string;
};

/** The engine refuses more of one product in one sale. */
export const MAX_QUANTITY = 9_999;

/** The cart with `product` added once more (a new line, or one more of an existing line). */
export function addToCart(cart: readonly CartLine[], product: Pick<ProductSummary, 'id' | 'name' | 'sku' | 'price'>): CartLine[] {
  const existing = cart.find((l) => l.productId === product.id);
  if (existing) return setQuantity(cart, product.id, existing.quantity + 1);
  return [...cart, { productId: product.id, name: product.name, sku: product.sku, unitPrice: product.price, quantity: 1 }];
}

/** The cart with the line's quantity set (clamped to 1…MAX_QUANTITY); 0 or less removes it. */
export function setQuantity(cart: readonly CartLine[], productId: number, quantity: number): CartLine[] {
  if (!Number.isFinite(quantity) || quantity < 1) return removeFromCart(cart, productId);
  const q = Math.min(Math.trunc(quantity), MAX_QUANTITY);
  return cart.map((l) => (l.productId === productId ? { ...l, quantity: q } : l));
}

export function removeFromCart(cart: readonly CartLine[], productId: number): CartLine[] {
  return cart.filter((l) => l.productId !== productId);
}

export type CartTotal =
  | { kind: 'empty' }
  | { kind: 'ok'; total: Money }
  /** One sale cannot mix currencies (the engine refuses it too). */
  | { kind: 'mixed'; currencies: string[] }
  | { kind: 'tooLarge' };

/**
 * The cart's total in minor units. Integer arithmetic only, and every step is checked
 * to stay a safe integer, so the shown total is exactly what the engine will charge.
 */
export function cartTotal(cart: readonly CartLine[]): CartTotal {
  if (cart.length === 0) return { kind: 'empty' };
  const currencies = [...new Set(cart.map((l) => l.unitPrice.currency))];
  if (currencies.length > 1) return { kind: 'mixed', currencies };
  let total = 0;
  for (const line of cart) {
    const sub = line.unitPrice.amountMinor * line.quantity;
    if (!Number.isSafeInteger(sub)) return { kind: 'tooLarge' };
    total += sub;
    if (!Number.isSafeInteger(total)) return { kind: 'tooLarge' };
  }
  return { kind: 'ok', total: { amountMinor: total, currency: currencies[0] } };
}

/** A line's subtotal in minor units (same currency as its unit price). */
export function lineTotal(line: CartLine): Money {
  return { amountMinor: line.unitPrice.amountMinor * line.quantity, currency: line.unitPrice.currency };
}

export function orderLines(cart: readonly CartLine[]): OrderLineDraft[] {
  return cart.map((l) => {
    const discount = l.discount?.trim() ?? '';
    if (!discount) return { productId: l.productId, quantity: l.quantity };
    return { productId: l.productId, quantity: l.quantity, discount, discountReason: l.discountReason?.trim() || null };
  });
}

/** The cart with one line's discount (and its reason) as typed. */
export function setLineDiscount(cart: readonly CartLine[], productId: number, discount: string, reason: string): CartLine[] {
  return cart.map((l) => (l.productId === productId ? { ...l, discount, discountReason: reason } : l));
}

/**
 * Time left on a QR as the till shows it: "14:59", "1:02:03" past an hour, "0:00" once
 * expired. Seconds are rounded up so "0:00" appears only when the QR really expired.
 */
export function formatCountdown(expiresAt: number, now: number): string {
  const left = Math.max(0, Math.ceil((expiresAt - now) / 1000));
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The base buy links are built on, as the engine does: the typed one, else the shop page's `/p/`. */
export function effectiveBuyLinkBase(settings: { buyLinkBase: string; publicUrl: string }): string {
  const typed = settings.buyLinkBase.trim();
  if (typed || !settings.publicUrl) return typed;
  return `${settings.publicUrl.replace(/\/+$/, '')}/p/`;
}

/**
 * A product's buy link the way the engine builds it for signs: the shop's base address,
 * the SKU (or the id when there is none) as one more path segment, and `params` as the
 * query. Null when the shop has no (valid) base address.
 */
export function buyLink(base: string, product: { id: number | null; sku: string | null }, params: Record<string, string> = {}): string | null {
  const key = product.sku ?? (product.id === null ? null : String(product.id));
  if (!key || base.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(base.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  url.pathname = path + encodeURIComponent(key);
  for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value);
  return url.toString();
}

export type ShareNetwork = 'weibo' | 'bluesky' | 'mastodon';
export const SHARE_NETWORKS: readonly ShareNetwork[] = ['weibo', 'bluesky', 'mastodon'];

/**
 * The page that lets the buyer post `text` with `url` on a network. Everything is
 * percent-encoded as UTF-8 (Chinese text included); Bluesky and Mastodon take one text
 * field, so the link goes at its end.
 */
export function shareUrl(network: ShareNetwork, url: string, text: string): string {
  const withLink = text.trim() === '' ? url : `${text.trim()} ${url}`;
  switch (network) {
    case 'weibo':
      return `https://service.weibo.com/share/share.php?url=${encodeURIComponent(url)}&title=${encodeURIComponent(text)}`;
    case 'bluesky':
      return `https://bsky.app/intent/compose?text=${encodeURIComponent(withLink)}`;
    case 'mastodon':
      return `https://mastodonshare.com/?text=${encodeURIComponent(withLink)}`;
  }
}

/** Providers that can charge the payment code a customer shows (付款码). */
export const CODE_PROVIDERS: readonly string[] = ['alipay', 'wechat'];

/** Whether the till offers "Scan customer's code": a provider that charges codes is connected. */
export function canChargeCodes(connected: readonly string[]): boolean {
  return connected.some((p) => CODE_PROVIDERS.includes(p));
}

/**
 * What a scanner (keyboard wedge) or the cashier typed, as the engine takes it: full-width
 * digits (typed while a Chinese input method is on) become ASCII, and the spaces, dashes and
 * line ends a scanner or a hand adds between groups go. Anything else stays, so the engine can
 * say what is wrong with it.
 */
export function normalizePaymentCode(typed: string): string {
  return typed
    .replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/[\s\u3000\-\u2010-\u2015\uFF0D]/g, '');
}

/**
 * The payment code's progress at the till. ready: waiting for a scan; sending: the code is
 * with the provider; waiting: the customer confirms on the phone; paid; declined (with the
 * provider's words, or null when the refusal came later without words); expired: the
 * customer did not confirm and the charge was withdrawn.
 */
export type CodeState =
  | { kind: 'ready' }
  | { kind: 'sending'; code: string }
  | { kind: 'waiting' }
  | { kind: 'paid' }
  | { kind: 'declined'; message: string | null; detail: string | null }
  | { kind: 'expired' };

export type CodeEvent =
  /** Enter in the field (the code as typed). */
  | { kind: 'scanned'; typed: string }
  /** The engine's answer to the charge: paid on the spot, or waiting for the customer. */
  | { kind: 'charged'; paid: boolean }
  /** The engine refused or the provider declined the code. */
  | { kind: 'refused'; message: string; detail: string | null }
  /** Live updates (or a look-up) about the sale's order and its payment. */
  | { kind: 'order'; status: OrderStatus }
  | { kind: 'payment'; status: PaymentStatus }
  /** The cashier cancelled the sale, or a new one started. */
  | { kind: 'reset' };

export const CODE_READY: CodeState = { kind: 'ready' };

/** Whether the code is with the provider or the customer (a scan now is ignored). */
export function codeInFlight(state: CodeState): boolean {
  return state.kind === 'sending' || state.kind === 'waiting';
}

/**
 * The next state. Live updates can overtake the engine's answer (a code paid at once sends
 * its "paid" while the call is still returning), so "paid" and "expired" are taken while
 * sending too, and a late answer never undoes them. A second scan while one is in flight is
 * ignored: the customer is not charged twice.
 */
export function nextCodeState(state: CodeState, event: CodeEvent): CodeState {
  switch (event.kind) {
    case 'scanned': {
      if (codeInFlight(state) || state.kind === 'paid') return state;
      const code = normalizePaymentCode(event.typed);
      return code === '' ? state : { kind: 'sending', code };
    }
    case 'charged':
      if (state.kind !== 'sending') return state;
      return event.paid ? { kind: 'paid' } : { kind: 'waiting' };
    case 'refused':
      return state.kind === 'sending' ? { kind: 'declined', message: event.message, detail: event.detail } : state;
    case 'order':
      if (!codeInFlight(state)) return state;
      if (event.status === 'paid') return { kind: 'paid' };
      if (event.status === 'expired') return { kind: 'expired' };
      // Money that does not match the sale goes to review (the till shows that); the code is done.
      if (event.status === 'cancelled' || event.status === 'review') return CODE_READY;
      return state;
    case 'payment':
      // A paid payment may still not match the sale: the order's status says "paid".
      if (state.kind !== 'waiting') return state;
      if (event.status === 'failed') return { kind: 'declined', message: null, detail: null };
      if (event.status === 'expired') return { kind: 'expired' };
      return state;
    case 'reset':
      return CODE_READY;
  }
}
