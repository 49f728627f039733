import type { Money } from './bindings';

/** ISO 4217 minor-unit exponents that differ from the default of 2. */
const EXPONENTS: Readonly<Record<string, number>> = {
  // 0 decimals
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0,
  RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  // 3 decimals
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  // 4 decimals
  CLF: 4, UYW: 4,
};

/** Number of decimals of a currency's minor unit (ISO 4217; default 2). */
export function currencyExponent(currency: string): number {
  return EXPONENTS[currency.trim().toUpperCase()] ?? 2;
}

/** Common currencies offered in pickers (any ISO code can still be typed). */
export const COMMON_CURRENCIES: readonly string[] = [
  'CNY', 'EUR', 'USD', 'JPY', 'GBP', 'HKD', 'TWD', 'SGD', 'AUD', 'CAD', 'CHF',
  'KRW', 'INR', 'BRL', 'MXN', 'NZD', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF',
  'TRY', 'ZAR', 'THB', 'MYR', 'IDR', 'PHP', 'VND', 'AED', 'SAR', 'ILS', 'RUB',
  'UAH', 'KWD', 'BHD',
];

/** True for a syntactically valid ISO 4217 code (three letters A–Z). */
export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code);
}

/**
 * Exact decimal string of an integer amount of minor units, e.g.
 * (1250, "EUR") → "12.50", (500, "JPY") → "500", (-5, "USD") → "-0.05".
 * No floating-point arithmetic: the digits are moved, not divided.
 */
export function minorToDecimalString(amountMinor: number, currency: string): string {
  if (!Number.isSafeInteger(amountMinor)) {
    throw new RangeError(`amount is not a safe integer: ${amountMinor}`);
  }
  const exp = currencyExponent(currency);
  const negative = amountMinor < 0;
  let digits = String(Math.abs(amountMinor));
  if (exp === 0) return (negative ? '-' : '') + digits;
  digits = digits.padStart(exp + 1, '0');
  const whole = digits.slice(0, digits.length - exp);
  const frac = digits.slice(digits.length - exp);
  return `${negative ? '-' : ''}${whole}.${frac}`;
}

const numberFormatCache = new Map<string, Intl.NumberFormat>();

function moneyFormatter(locale: string, currency: string, exp: number): Intl.NumberFormat {
  const key = `${locale}|${currency}|${exp}`;
  let nf = numberFormatCache.get(key);
  if (!nf) {
    nf = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      // "¥88.00", not "CN¥88.00": a shop shows its own prices, so the short symbol is what
      // owners and buyers expect (the code is in every export and report).
      currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: exp,
      maximumFractionDigits: exp,
    });
    numberFormatCache.set(key, nf);
  }
  return nf;
}

/**
 * Format money for display in `locale` with the currency's own exponent.
 * The decimal is built exactly from the integer and handed to Intl as a
 * string (Intl.NumberFormat v3 formats decimal strings without rounding
 * through a double).
 */
export function formatMoney(money: Money, locale: string): string {
  const currency = money.currency.trim().toUpperCase();
  const decimal = minorToDecimalString(money.amountMinor, currency);
  try {
    const nf = moneyFormatter(safeLocale(locale), currency, currencyExponent(currency));
    // `format` accepts decimal strings (ES2023 Intl.NumberFormat v3); the cast
    // keeps older lib typings happy.
    return nf.format(decimal as unknown as number);
  } catch {
    return `${decimal} ${currency}`;
  }
}

/** Format a whole number (e.g. stock, counts) in the UI locale. */
export function formatInteger(n: number, locale: string): string {
  return new Intl.NumberFormat(safeLocale(locale), { maximumFractionDigits: 0 }).format(n);
}

/** Date and time of a unix-milliseconds timestamp in the shop's time zone. */
export function formatDateTime(ms: number, timeZone: string, locale: string): string {
  const options: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short' };
  try {
    return new Intl.DateTimeFormat(safeLocale(locale), { ...options, timeZone }).format(ms);
  } catch {
    // Unknown time zone: fall back to UTC and say so.
    return `${new Intl.DateTimeFormat(safeLocale(locale), { ...options, timeZone: 'UTC' }).format(ms)} UTC`;
  }
}

/** Time of day ("12:03") of a unix-milliseconds timestamp in the shop's time zone. */
export function formatTime(ms: number, timeZone: string, locale: string): string {
  const options: Intl.DateTimeFormatOptions = { timeStyle: 'short' };
  try {
    return new Intl.DateTimeFormat(safeLocale(locale), { ...options, timeZone }).format(ms);
  } catch {
    return `${new Intl.DateTimeFormat(safeLocale(locale), { ...options, timeZone: 'UTC' }).format(ms)} UTC`;
  }
}

/** A locale tag Intl accepts; anything malformed becomes "en". */
export function safeLocale(locale: string): string {
  try {
    return Intl.getCanonicalLocales(locale)[0] ?? 'en';
  } catch {
    return 'en';
  }
}

/** The browser's time zone, or UTC. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}
