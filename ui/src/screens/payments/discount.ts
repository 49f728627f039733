// What the cashier types at the till before the engine prices the sale: a discount ("10%",
// "5.00") and a scanner's barcode. Checks only the shape; the engine has the last word.

/** A discount as typed, by its shape: none, a percentage, an amount, or not one of them. */
export type DiscountShape = 'none' | 'percent' | 'amount' | 'notPercent' | 'percentRange' | 'notAmount' | 'zero';

/** The same shapes the engine reads: "10%", "12.5 %", "12,5%", "5.00", "5,00". */
export function discountShape(typed: string): DiscountShape {
  const text = typed.trim();
  if (text === '') return 'none';
  const percent = /^(.*?)\s*[%％]$/.exec(text);
  if (percent) {
    const number = percent[1].replace(',', '.');
    if (!/^(\d{1,7}(\.\d{0,4})?|\.\d{1,4})$/.test(number)) return 'notPercent';
    const value = Number(number);
    return value > 0 && value <= 100 ? 'percent' : 'percentRange';
  }
  const amount = text.replace(/^[^\d.,+\-\s]{1,3}\s*/, '').replace(',', '.');
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(amount)) return 'notAmount';
  return Number(amount) > 0 ? 'amount' : 'zero';
}

/** Whether the discount can go to the engine as typed (empty is no discount). */
export function discountOk(typed: string): boolean {
  const shape = discountShape(typed);
  return shape === 'none' || shape === 'percent' || shape === 'amount';
}

/** The GTIN lengths a till scanner types: GTIN-8, UPC-A (12), EAN-13, GTIN-14. */
const BARCODE_LENGTHS = new Set([8, 12, 13, 14]);

/**
 * Whether the search box's text is a scanned barcode rather than a name: only digits, and as
 * many as a GTIN has. A short SKU of digits ("1234") stays a search.
 */
export function looksLikeBarcode(typed: string): boolean {
  const text = typed.trim();
  return /^\d+$/.test(text) && BARCODE_LENGTHS.has(text.length);
}

/** A rate in parts per million as people write it: 190000 → "19", 88750 → "8.875". */
export function percentOfPpm(ppm: number): string {
  const whole = Math.trunc(ppm / 10_000);
  const frac = Math.abs(ppm % 10_000);
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(4, '0').replace(/0+$/, '')}`;
}
