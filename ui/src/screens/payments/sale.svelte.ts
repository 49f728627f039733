// The sale on the till, kept outside the Till screen so a customer's QR and cart survive
// a look at another screen (e.g. Payments) while they pay.
import type { ChargeView, Order, Payment } from '../../lib/bindings';
import { CODE_READY, type CartLine, type CodeState } from './till';

/**
 * cart: choosing what is sold; charging: the QR is on screen; confirming: the customer's
 * payment code was sent and they confirm on the phone; paid: the receipt; review: a payment
 * arrived that does not match; expired: the QR ran out.
 */
export type SalePhase = 'cart' | 'charging' | 'confirming' | 'paid' | 'review' | 'expired';

export type Sale = {
  phase: SalePhase;
  cart: CartLine[];
  /** A typed amount, used when the cart is empty. */
  amount: string;
  currency: string;
  /** A discount on the whole sale as typed ("10%", "5.00"), and why. */
  discount: string;
  discountReason: string;
  /** The order made for this cart (reused while the cart is unchanged), and for what. */
  order: Order | null;
  orderKey: string | null;
  charge: ChargeView | null;
  /** How it was paid: "test", "stripe", "alipay", "wechat", "alipay-code", "wechat-code", "cash", "bank_qr". */
  paidWith: string | null;
  /** The customer's payment code, if one was scanned for this sale. */
  code: CodeState;
  payment: Payment | null;
  paidAt: number | null;
};

function fresh(currency: string): Sale {
  return {
    phase: 'cart',
    cart: [],
    amount: '',
    currency,
    discount: '',
    discountReason: '',
    order: null,
    orderKey: null,
    charge: null,
    paidWith: null,
    code: CODE_READY,
    payment: null,
    paidAt: null,
  };
}

export const sale = $state<Sale>(fresh(''));

/** Clear everything for the next customer. */
export function newSale(currency: string): void {
  Object.assign(sale, fresh(currency));
}
