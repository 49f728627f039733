import { describe, expect, it } from 'vitest';
import {
  graphemeCount,
  isHttpUrl,
  parseStock,
  splitTags,
  validateProductForm,
  validateSettingsForm,
  type ProductForm,
  type SettingsForm,
} from './validation';

const product = (over: Partial<ProductForm> = {}): ProductForm => ({
  name: 'Mug',
  description: '',
  sku: '',
  price: '12.50',
  currency: 'EUR',
  stock: '',
  tags: [],
  tax: '',
  barcode: '',
  lowStock: '',
  ...over,
});

describe('validateProductForm: barcode and low stock', () => {
  it('leaves the check digit to the engine but wants digits', () => {
    expect(validateProductForm(product({ barcode: '4006381333931' })).barcode).toBeUndefined();
    expect(validateProductForm(product({ barcode: '4 006381 333931' })).barcode).toBeUndefined();
    expect(validateProductForm(product({ barcode: '4006381333932' })).barcode).toBeUndefined();
    expect(validateProductForm(product({ barcode: 'ABC123' })).barcode).toBe('validation.barcodeDigits');
    expect(validateProductForm(product({ barcode: '' })).barcode).toBeUndefined();
  });

  it('wants a whole number for the low-stock level', () => {
    expect(validateProductForm(product({ lowStock: '3' })).lowStock).toBeUndefined();
    expect(validateProductForm(product({ lowStock: '' })).lowStock).toBeUndefined();
    expect(validateProductForm(product({ lowStock: '-1' })).lowStock).toBe('validation.stockWhole');
    expect(validateProductForm(product({ lowStock: '2.5' })).lowStock).toBe('validation.stockWhole');
  });
});

const settings = (over: Partial<SettingsForm> = {}): SettingsForm => ({
  name: 'Corner Shop',
  currency: 'EUR',
  timezone: 'Europe/Berlin',
  locale: 'en',
  buyLinkBase: '',
  ...over,
});

describe('graphemeCount', () => {
  it('counts user-perceived characters, not UTF-16 units', () => {
    expect(graphemeCount('abc')).toBe(3);
    expect(graphemeCount('中文')).toBe(2);
    expect(graphemeCount('😀')).toBe(1); // 2 UTF-16 units
    expect(graphemeCount('👩‍👩‍👧')).toBe(1); // ZWJ family: 8 units, 5 code points
    expect(graphemeCount('🇨🇳')).toBe(1); // flag: 2 code points
    expect(graphemeCount('é')).toBe(1); // e + combining acute
    expect(graphemeCount('')).toBe(0);
  });
});

describe('validateProductForm: name', () => {
  it('requires a name', () => {
    expect(validateProductForm(product({ name: '' })).name).toBe('validation.nameRequired');
    expect(validateProductForm(product({ name: '   ' })).name).toBe('validation.nameRequired');
  });
  it('accepts 200 and rejects 201 ASCII characters', () => {
    expect(validateProductForm(product({ name: 'a'.repeat(200) })).name).toBeUndefined();
    expect(validateProductForm(product({ name: 'a'.repeat(201) })).name).toBe('validation.nameTooLong');
  });
  it('counts Chinese characters one each (200 ok, 201 too long)', () => {
    expect(validateProductForm(product({ name: '茶'.repeat(200) })).name).toBeUndefined();
    expect(validateProductForm(product({ name: '茶'.repeat(201) })).name).toBe('validation.nameTooLong');
  });
  it('counts emoji as one character each, even with surrogate pairs and ZWJ', () => {
    // 200 × "😀" is 400 UTF-16 units: must still be accepted.
    expect(validateProductForm(product({ name: '😀'.repeat(200) })).name).toBeUndefined();
    expect(validateProductForm(product({ name: '😀'.repeat(201) })).name).toBe('validation.nameTooLong');
    expect(validateProductForm(product({ name: '👩‍👩‍👧'.repeat(200) })).name).toBeUndefined();
    expect(validateProductForm(product({ name: '👩‍👩‍👧'.repeat(201) })).name).toBe('validation.nameTooLong');
  });
  it('accepts mixed scripts', () => {
    expect(validateProductForm(product({ name: '手工香皂 Lavender 🌿' }))).toEqual({});
  });
});

describe('validateProductForm: other fields', () => {
  it('accepts a minimal valid form', () => {
    expect(validateProductForm(product())).toEqual({});
  });
  it('requires a price but leaves its parsing to the backend', () => {
    expect(validateProductForm(product({ price: '' })).price).toBe('validation.priceRequired');
    expect(validateProductForm(product({ price: '¥88' })).price).toBeUndefined();
    expect(validateProductForm(product({ price: '12,50' })).price).toBeUndefined();
  });
  it('checks stock is a whole number', () => {
    expect(validateProductForm(product({ stock: '' })).stock).toBeUndefined();
    expect(validateProductForm(product({ stock: '0' })).stock).toBeUndefined();
    expect(validateProductForm(product({ stock: ' 12 ' })).stock).toBeUndefined();
    for (const bad of ['1.5', '-1', 'ten', '1e3', '99999999999999999999']) {
      expect(validateProductForm(product({ stock: bad })).stock).toBe('validation.stockWhole');
    }
  });
  it('rejects tags with a semicolon', () => {
    expect(validateProductForm(product({ tags: ['gift', 'eco'] })).tags).toBeUndefined();
    expect(validateProductForm(product({ tags: ['gift', 'a;b'] })).tags).toBe('validation.tagSemicolon');
  });
  it('checks the SKU', () => {
    expect(validateProductForm(product({ sku: 'ABC-1 x' })).sku).toBeUndefined();
    expect(validateProductForm(product({ sku: ' ABC' })).sku).toBe('validation.skuSpaces');
    expect(validateProductForm(product({ sku: 'ABC ' })).sku).toBe('validation.skuSpaces');
    expect(validateProductForm(product({ sku: '   ' })).sku).toBe('validation.skuSpaces');
    expect(validateProductForm(product({ sku: 'x'.repeat(64) })).sku).toBeUndefined();
    expect(validateProductForm(product({ sku: 'x'.repeat(65) })).sku).toBe('validation.skuTooLong');
  });
  it('checks the currency code when given', () => {
    expect(validateProductForm(product({ currency: '' })).currency).toBeUndefined();
    expect(validateProductForm(product({ currency: 'jpy' })).currency).toBeUndefined();
    expect(validateProductForm(product({ currency: 'EURO' })).currency).toBe('validation.currencyInvalid');
    expect(validateProductForm(product({ currency: '€' })).currency).toBe('validation.currencyInvalid');
  });
});

describe('parseStock', () => {
  it('parses', () => {
    expect(parseStock('')).toBeNull();
    expect(parseStock('7')).toBe(7);
    expect(parseStock('x')).toBeUndefined();
  });
});

describe('splitTags', () => {
  it('splits on commas (also full-width), trims and de-duplicates', () => {
    expect(splitTags('a, b')).toEqual(['a', 'b']);
    expect(splitTags(' gift ,, 新品，夏季 ')).toEqual(['gift', '新品', '夏季']);
    expect(splitTags('Gift, gift, eco', ['ECO'])).toEqual(['Gift']);
  });
});

describe('isHttpUrl / settings form', () => {
  it('accepts http(s) URLs only', () => {
    expect(isHttpUrl('https://shop.example.com/p/')).toBe(true);
    expect(isHttpUrl('http://localhost:8080/')).toBe(true);
    expect(isHttpUrl('ftp://shop.example.com/')).toBe(false);
    expect(isHttpUrl('javascript:alert(1)')).toBe(false);
    expect(isHttpUrl('shop.example.com')).toBe(false);
    expect(isHttpUrl('')).toBe(false);
  });
  it('validates the settings form', () => {
    expect(validateSettingsForm(settings())).toEqual({});
    expect(validateSettingsForm(settings({ buyLinkBase: 'https://shop.example.com/p/' }))).toEqual({});
    expect(validateSettingsForm(settings({ buyLinkBase: 'shop.example.com/p/' })).buyLinkBase).toBe('validation.urlInvalid');
    expect(validateSettingsForm(settings({ buyLinkBase: 'mailto:me@example.com' })).buyLinkBase).toBe('validation.urlInvalid');
    expect(validateSettingsForm(settings({ name: ' ' })).name).toBe('validation.shopNameRequired');
    expect(validateSettingsForm(settings({ name: '店'.repeat(201) })).name).toBe('validation.nameTooLong');
    expect(validateSettingsForm(settings({ currency: 'cny' })).currency).toBeUndefined();
    expect(validateSettingsForm(settings({ currency: 'RMB1' })).currency).toBe('validation.currencyInvalid');
    expect(validateSettingsForm(settings({ timezone: '' })).timezone).toBe('validation.timezoneRequired');
  });
});
