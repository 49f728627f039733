import { describe, expect, it } from 'vitest';
import { currencyExponent, formatDateTime, formatMoney, formatTime, minorToDecimalString, safeLocale } from './format';

/** Intl uses (narrow) no-break spaces; compare with plain spaces. */
const norm = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('currencyExponent', () => {
  it('knows zero, two, three and four decimal currencies', () => {
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KRW')).toBe(0);
    expect(currencyExponent('VND')).toBe(0);
    expect(currencyExponent('CLP')).toBe(0);
    expect(currencyExponent('ISK')).toBe(0);
    expect(currencyExponent('UGX')).toBe(0);
    expect(currencyExponent('EUR')).toBe(2);
    expect(currencyExponent('CNY')).toBe(2);
    expect(currencyExponent('USD')).toBe(2);
    for (const c of ['BHD', 'KWD', 'JOD', 'OMR', 'TND', 'IQD', 'LYD']) expect(currencyExponent(c)).toBe(3);
    expect(currencyExponent('CLF')).toBe(4);
  });
  it('defaults to 2 and ignores case', () => {
    expect(currencyExponent('XYZ')).toBe(2);
    expect(currencyExponent('jpy')).toBe(0);
  });
});

describe('minorToDecimalString', () => {
  it('moves the decimal point without floating point', () => {
    expect(minorToDecimalString(1250, 'EUR')).toBe('12.50');
    expect(minorToDecimalString(5, 'USD')).toBe('0.05');
    expect(minorToDecimalString(0, 'USD')).toBe('0.00');
    expect(minorToDecimalString(-5, 'USD')).toBe('-0.05');
    expect(minorToDecimalString(500, 'JPY')).toBe('500');
    expect(minorToDecimalString(1234, 'KWD')).toBe('1.234');
    expect(minorToDecimalString(7, 'BHD')).toBe('0.007');
    // 0.1 + 0.2 style errors would show here with float division.
    expect(minorToDecimalString(30, 'EUR')).toBe('0.30');
    expect(minorToDecimalString(9_007_199_254_740_991, 'USD')).toBe('90071992547409.91');
  });
  it('rejects non-integers', () => {
    expect(() => minorToDecimalString(1.5, 'USD')).toThrow(RangeError);
  });
});

describe('formatMoney', () => {
  it('formats JPY with no decimals', () => {
    expect(formatMoney({ amountMinor: 500, currency: 'JPY' }, 'en')).toBe('¥500');
    expect(formatMoney({ amountMinor: 500, currency: 'JPY' }, 'zh-CN')).toBe('¥500');
    expect(norm(formatMoney({ amountMinor: 1234567, currency: 'JPY' }, 'de-DE'))).toBe('1.234.567 ¥');
  });
  it('formats CNY with two decimals', () => {
    expect(formatMoney({ amountMinor: 8800, currency: 'CNY' }, 'zh-CN')).toBe('¥88.00');
    expect(formatMoney({ amountMinor: 8800, currency: 'CNY' }, 'en')).toBe('¥88.00');
  });
  it('formats EUR per locale', () => {
    expect(norm(formatMoney({ amountMinor: 1250, currency: 'EUR' }, 'de-DE'))).toBe('12,50 €');
    expect(formatMoney({ amountMinor: 1250, currency: 'EUR' }, 'en')).toBe('€12.50');
    expect(formatMoney({ amountMinor: 1250, currency: 'EUR' }, 'zh-CN')).toBe('€12.50');
    expect(norm(formatMoney({ amountMinor: 123456789, currency: 'EUR' }, 'de-DE'))).toBe('1.234.567,89 €');
  });
  it('formats USD', () => {
    expect(formatMoney({ amountMinor: 199, currency: 'USD' }, 'en')).toBe('$1.99');
    expect(formatMoney({ amountMinor: 199, currency: 'USD' }, 'zh-CN')).toBe('$1.99');
    expect(formatMoney({ amountMinor: 100000000, currency: 'USD' }, 'en')).toBe('$1,000,000.00');
    expect(formatMoney({ amountMinor: -250, currency: 'USD' }, 'en')).toBe('-$2.50');
  });
  it('uses the table exponent, not floats, for 3-decimal currencies', () => {
    expect(norm(formatMoney({ amountMinor: 1234, currency: 'KWD' }, 'en'))).toBe('KWD 1.234');
  });
  it('stays exact for amounts beyond double precision of the major unit', () => {
    // 90071992547409.91 as a double would be 90071992547409.906…
    expect(formatMoney({ amountMinor: 9_007_199_254_740_991, currency: 'USD' }, 'en')).toBe('$90,071,992,547,409.91');
  });
  it('never throws on odd input', () => {
    expect(formatMoney({ amountMinor: 100, currency: 'EURO' }, 'en')).toBe('1.00 EURO');
    expect(formatMoney({ amountMinor: 100, currency: 'USD' }, 'not a locale!')).toBe('$1.00');
  });
});

describe('formatDateTime', () => {
  const ms = Date.UTC(2024, 0, 15, 23, 30); // 2024-01-15 23:30 UTC
  it('uses the shop time zone', () => {
    expect(norm(formatDateTime(ms, 'Asia/Shanghai', 'en'))).toContain('Jan 16, 2024');
    expect(norm(formatDateTime(ms, 'Asia/Shanghai', 'en'))).toContain('7:30');
    expect(norm(formatDateTime(ms, 'America/New_York', 'en'))).toContain('Jan 15, 2024');
    expect(norm(formatDateTime(ms, 'America/New_York', 'en'))).toContain('6:30');
  });
  it('uses the locale', () => {
    const zh = formatDateTime(ms, 'Asia/Shanghai', 'zh-CN');
    expect(zh).toContain('2024年1月16日');
    expect(zh).toContain('07:30');
  });
  it('falls back to UTC for unknown zones', () => {
    expect(formatDateTime(ms, 'Mars/Olympus', 'en')).toMatch(/UTC$/);
  });
});

describe('formatTime', () => {
  const ms = Date.UTC(2024, 0, 15, 4, 3); // 12:03 in Shanghai
  it('shows the time of day in the shop time zone', () => {
    expect(norm(formatTime(ms, 'Asia/Shanghai', 'en'))).toBe('12:03 PM');
    expect(formatTime(ms, 'Asia/Shanghai', 'zh-CN')).toBe('12:03');
    expect(norm(formatTime(ms, 'Mars/Olympus', 'en'))).toBe('4:03 AM UTC');
  });
});

describe('safeLocale', () => {
  it('canonicalises or falls back to en', () => {
    expect(safeLocale('zh-cn')).toBe('zh-CN');
    expect(safeLocale('')).toBe('en');
    expect(safeLocale('???')).toBe('en');
  });
});
