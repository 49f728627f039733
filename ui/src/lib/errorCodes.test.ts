import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { ApiError, KNOWN_ERROR_CODES } from './api';
import type { ErrorCode } from './bindings';
import { ERROR_CODES } from './errorCodes';
import { errorDetail, errorText, errorWithDetail } from './errors';
import en from './i18n/en.json';
import { setLocale } from './i18n/index.svelte';
import zhCN from './i18n/zh-CN.json';

/** `error.*` keys that are not an error code's sentence. */
const NON_CODE_ERROR_KEYS = ['error.details'];

const CATALOGS: Record<string, Record<string, string>> = { en, 'zh-CN': zhCN };

describe('error codes', () => {
  it('lists every code of the generated ErrorCode type', () => {
    // Checked by svelte-check: a code in bindings' ErrorCode that ERROR_CODES lacks.
    expectTypeOf<Exclude<ErrorCode, (typeof ERROR_CODES)[number]>>().toBeNever();
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(KNOWN_ERROR_CODES).toEqual(ERROR_CODES);
  });

  describe.each(Object.keys(CATALOGS))('%s', (locale) => {
    const catalog = CATALOGS[locale];

    it('has a sentence for every error code', () => {
      const missing = ERROR_CODES.filter((code) => {
        const sentence = catalog[`error.${code}`];
        return typeof sentence !== 'string' || sentence.trim() === '';
      });
      expect(missing, `error.<code> sentences missing or empty in ${locale}.json`).toEqual([]);
    });

    it('has no error sentence for a code the engine does not send', () => {
      const codes = new Set<string>(ERROR_CODES);
      const stray = Object.keys(catalog).filter(
        (key) => key.startsWith('error.') && !NON_CODE_ERROR_KEYS.includes(key) && !codes.has(key.slice('error.'.length)),
      );
      expect(stray, `error.* keys in ${locale}.json that are neither a code nor in NON_CODE_ERROR_KEYS`).toEqual([]);
    });

    it('still has the non-code error keys it exempts', () => {
      for (const key of NON_CODE_ERROR_KEYS) expect(catalog[key], key).toBeTruthy();
    });
  });
});

describe('print and sign-in errors in the UI language', () => {
  afterEach(() => {
    setLocale('en');
  });

  const labelsDoNotFit = new ApiError('labels_do_not_fit', 'The labels do not fit the page: they are 3.2 mm too wide.');

  it('uses the Chinese sentence for a print error when the UI is in Chinese', () => {
    setLocale('zh-CN');
    expect(errorText(labelsDoNotFit)).toBe(zhCN['error.labels_do_not_fit']);
    expect(errorText(labelsDoNotFit)).toBe('标签在此纸张上放不下。请缩小标签尺寸或间距，或减少列数、行数。');
    // The engine's numbers stay available as the detail.
    expect(errorDetail(labelsDoNotFit)).toBe('详细信息：The labels do not fit the page: they are 3.2 mm too wide.');
  });

  it('gives one-line places (signage preview, toasts) the sentence and the engine’s numbers', () => {
    setLocale('zh-CN');
    expect(errorWithDetail(labelsDoNotFit)).toBe(
      '标签在此纸张上放不下。请缩小标签尺寸或间距，或减少列数、行数。 详细信息：The labels do not fit the page: they are 3.2 mm too wide.',
    );
    // Without engine words worth adding, just the sentence.
    expect(errorWithDetail(new ApiError('no_signs', ''))).toBe(zhCN['error.no_signs']);
  });

  it('uses the English sentence for a print error when the UI is in English', () => {
    expect(errorText(labelsDoNotFit)).toBe(en['error.labels_do_not_fit']);
    expect(errorText(new ApiError('no_signs', 'There is nothing to print: the list of signs is empty.'))).toBe(en['error.no_signs']);
  });

  it('translates sign-in errors and keeps the network’s reason as the detail', () => {
    setLocale('zh-CN');
    const refused = new ApiError('oauth_refused', 'mastodon refused the sign-in: invalid_grant');
    expect(errorText(refused)).toBe(zhCN['error.oauth_refused']);
    expect(errorDetail(refused)).toBe('详细信息：mastodon refused the sign-in: invalid_grant');
    expect(errorText(new ApiError('oauth_no_code', 'No sign-in code found in "x".'))).toBe(zhCN['error.oauth_no_code']);
  });

  it('shows the engine’s sentence for a payment-QR field, the plain sentence when there is none', () => {
    const iban = new ApiError('payload_invalid', 'The IBAN DE89370400440532013001 has a wrong check digit.', 'IBAN');
    expect(errorText(iban)).toBe('The IBAN DE89370400440532013001 has a wrong check digit.');
    expect(errorDetail(iban)).toBeNull();
    setLocale('zh-CN');
    expect(errorText(new ApiError('payload_invalid', ''))).toBe(zhCN['error.payload_invalid']);
  });
});
