import { ApiError, KNOWN_ERROR_CODES } from './api';
import { isMessageKey, t } from './i18n/index.svelte';

/** Codes whose Rust message is more precise than our generic sentence. */
const SPECIFIC_MESSAGE_CODES = new Set(['validation', 'csv_invalid', 'post_invalid']);

/** Codes whose engine message is the network's or provider's own words, kept as the detail. */
function keepsRawDetail(code: string): boolean {
  return (
    ['io', 'internal', 'report_failed', 'conflict', 'not_found', 'account_reconnect', 'post_rejected'].includes(code) ||
    code.startsWith('provider_') ||
    code.startsWith('network_')
  );
}

/**
 * A plain sentence for an error, in the UI language. Known codes are
 * translated; for validation-type errors the Rust message (which names the
 * exact problem) is used; unknown codes fall back to the Rust message.
 */
export function errorText(err: unknown): string {
  const e = ApiError.from(err);
  if (SPECIFIC_MESSAGE_CODES.has(e.code) && e.message && e.message !== e.code) return e.message;
  // The generic conflict sentence is about products (a taken SKU); other conflicts (an order
  // already paid, nothing left to refund) are explained best by the engine's own sentence.
  if (e.code === 'conflict' && e.field !== 'sku' && e.message && e.message !== e.code) return e.message;
  const key = `error.${e.code}`;
  if ((KNOWN_ERROR_CODES as readonly string[]).includes(e.code) && isMessageKey(key)) return t(key);
  return e.message || t('error.internal');
}

/** Extra detail worth showing under a banner (the Rust message), or null. */
export function errorDetail(err: unknown): string | null {
  const e = ApiError.from(err);
  const text = errorText(e);
  if (!e.message || e.message === text || e.message === e.code) return null;
  // Provider and network errors keep their own words behind the plain sentence.
  if (keepsRawDetail(e.code)) {
    return t('error.details', { message: e.message });
  }
  return null;
}

/**
 * Split an error into a field error (when the API names a field the form
 * shows) or a banner error.
 */
export function routeError<F extends string>(
  err: unknown,
  fields: readonly F[],
  aliases: Partial<Record<string, F>> = {},
): { field: F; text: string } | { field: null; text: string; detail: string | null } {
  const e = ApiError.from(err);
  const f = e.field ? (aliases[e.field] ?? (fields as readonly string[]).find((x) => x === e.field)) : undefined;
  if (f) return { field: f as F, text: errorText(e) };
  return { field: null, text: errorText(e), detail: errorDetail(e) };
}
