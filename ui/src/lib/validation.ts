import type { MessageKey } from './i18n/translate';
import { isCurrencyCode } from './format';

export const NAME_MAX = 200;
export const SKU_MAX = 64;

export type FieldErrors<F extends string> = Partial<Record<F, MessageKey>>;

let segmenter: Intl.Segmenter | null | undefined;

/**
 * Number of user-perceived characters (extended grapheme clusters), so
 * "中文" is 2 and "👩‍👩‍👧" is 1. Falls back to code points where
 * Intl.Segmenter is missing; never counts UTF-16 units.
 */
export function graphemeCount(s: string): number {
  if (segmenter === undefined) {
    segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;
  }
  if (!segmenter) return Array.from(s).length;
  let n = 0;
  for (const _ of segmenter.segment(s)) n++;
  return n;
}

/** http(s) URL with a host. */
export function isHttpUrl(s: string): boolean {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
}

/**
 * Stock as typed: "" → null (not tracked), "12" → 12, anything that is not
 * a non-negative whole number → undefined (invalid).
 */
export function parseStock(input: string): number | null | undefined {
  const s = input.trim();
  if (s === '') return null;
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A tag is valid when it is not empty and has no ";" (the CSV list separator). */
export function tagError(tag: string): MessageKey | null {
  if (tag.includes(';')) return 'validation.tagSemicolon';
  return null;
}

/**
 * Split what was typed in the tag box ("a, b,c") into trimmed, non-empty
 * tags; tags already present (case-insensitively) are dropped.
 */
export function splitTags(input: string, existing: readonly string[] = []): string[] {
  const seen = new Set(existing.map((t) => t.toLocaleLowerCase()));
  const out: string[] = [];
  for (const raw of input.split(/[,，\n]/)) {
    const tag = raw.trim();
    if (!tag) continue;
    const key = tag.toLocaleLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(tag);
  }
  return out;
}

export type ProductForm = {
  name: string;
  description: string;
  sku: string;
  price: string;
  currency: string;
  stock: string;
  tags: string[];
  /** A tax rate's name; '' is the shop's default rate. */
  tax: string;
  /** GTIN/EAN/UPC digits as typed or scanned; the engine checks the check digit. */
  barcode: string;
  /** Stock at or below which the product shows as running low; '' for no warning. */
  lowStock: string;
};
export type ProductField = keyof ProductForm;

export function validateProductForm(form: ProductForm): FieldErrors<ProductField> {
  const errors: FieldErrors<ProductField> = {};

  const name = form.name.trim();
  if (name === '') errors.name = 'validation.nameRequired';
  else if (graphemeCount(name) > NAME_MAX) errors.name = 'validation.nameTooLong';

  if (form.sku !== '') {
    if (form.sku.trim() === '' || form.sku !== form.sku.trim()) errors.sku = 'validation.skuSpaces';
    else if (graphemeCount(form.sku) > SKU_MAX) errors.sku = 'validation.skuTooLong';
  }

  if (form.price.trim() === '') errors.price = 'validation.priceRequired';

  const currency = form.currency.trim();
  if (currency !== '' && !isCurrencyCode(currency.toUpperCase())) errors.currency = 'validation.currencyInvalid';

  if (parseStock(form.stock) === undefined) errors.stock = 'validation.stockWhole';
  if (parseStock(form.lowStock) === undefined) errors.lowStock = 'validation.stockWhole';
  // Digits with spaces or hyphens between them, as printed under the bars.
  if (form.barcode.trim() !== '' && !/^[\d\s-]+$/.test(form.barcode.trim())) errors.barcode = 'validation.barcodeDigits';

  for (const tag of form.tags) {
    const e = tagError(tag);
    if (e) {
      errors.tags = e;
      break;
    }
  }
  return errors;
}

export type SettingsForm = {
  name: string;
  currency: string;
  timezone: string;
  locale: string;
  buyLinkBase: string;
};
export type SettingsField = keyof SettingsForm;

export function validateSettingsForm(form: SettingsForm): FieldErrors<SettingsField> {
  const errors: FieldErrors<SettingsField> = {};
  const name = form.name.trim();
  if (name === '') errors.name = 'validation.shopNameRequired';
  else if (graphemeCount(name) > NAME_MAX) errors.name = 'validation.nameTooLong';
  if (!isCurrencyCode(form.currency.trim().toUpperCase())) errors.currency = 'validation.currencyInvalid';
  if (form.timezone.trim() === '') errors.timezone = 'validation.timezoneRequired';
  const link = form.buyLinkBase.trim();
  if (link !== '' && !isHttpUrl(link)) errors.buyLinkBase = 'validation.urlInvalid';
  return errors;
}

export function hasErrors(errors: Partial<Record<string, unknown>>): boolean {
  return Object.values(errors).some((v) => v !== undefined && v !== null);
}
