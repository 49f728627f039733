import { describe, expect, it } from 'vitest';
import { discountOk, discountShape, looksLikeBarcode, percentOfPpm } from './discount';

describe('discountShape', () => {
  it('reads percentages the way the engine does', () => {
    expect(discountShape('10%')).toBe('percent');
    expect(discountShape(' 12,5 % ')).toBe('percent');
    expect(discountShape('100%')).toBe('percent');
    expect(discountShape('8.875%')).toBe('percent');
    expect(discountShape('10％')).toBe('percent');
  });

  it('refuses percentages out of range or malformed', () => {
    expect(discountShape('0%')).toBe('percentRange');
    expect(discountShape('101%')).toBe('percentRange');
    expect(discountShape('%')).toBe('notPercent');
    expect(discountShape('1e3%')).toBe('notPercent');
    expect(discountShape('-5%')).toBe('notPercent');
    expect(discountShape('1.23456%')).toBe('notPercent');
  });

  it('reads amounts, with a currency sign in front', () => {
    expect(discountShape('5.00')).toBe('amount');
    expect(discountShape('5,50')).toBe('amount');
    expect(discountShape('¥5')).toBe('amount');
    expect(discountShape('0')).toBe('zero');
    expect(discountShape('0.00')).toBe('zero');
    expect(discountShape('-5')).toBe('notAmount');
    expect(discountShape('abc')).toBe('notAmount');
    expect(discountShape('5.5.5')).toBe('notAmount');
  });

  it('takes empty as no discount', () => {
    expect(discountShape('  ')).toBe('none');
    expect(discountOk('')).toBe(true);
    expect(discountOk('10%')).toBe(true);
    expect(discountOk('3')).toBe(true);
    expect(discountOk('0%')).toBe(false);
    expect(discountOk('ten')).toBe(false);
  });
});

describe('looksLikeBarcode', () => {
  it('takes GTIN-8, UPC-A, EAN-13 and GTIN-14 lengths of digits', () => {
    expect(looksLikeBarcode('96385074')).toBe(true);
    expect(looksLikeBarcode('036000291452')).toBe(true);
    expect(looksLikeBarcode('4006381333931')).toBe(true);
    expect(looksLikeBarcode(' 4006381333931 ')).toBe(true);
    expect(looksLikeBarcode('14006381333938')).toBe(true);
  });

  it('leaves names, SKUs and other lengths to the search', () => {
    expect(looksLikeBarcode('1234')).toBe(false);
    expect(looksLikeBarcode('4006381333')).toBe(false);
    expect(looksLikeBarcode('400638133393')).toBe(true);
    expect(looksLikeBarcode('4006-381333931')).toBe(false);
    expect(looksLikeBarcode('SKU-000001')).toBe(false);
    expect(looksLikeBarcode('')).toBe(false);
    expect(looksLikeBarcode('400638133393100')).toBe(false);
  });
});

describe('percentOfPpm', () => {
  it('writes rates as the engine does', () => {
    expect(percentOfPpm(190_000)).toBe('19');
    expect(percentOfPpm(88_750)).toBe('8.875');
    expect(percentOfPpm(70_000)).toBe('7');
    expect(percentOfPpm(1)).toBe('0.0001');
    expect(percentOfPpm(0)).toBe('0');
  });
});
