import { ApiError, isKnownErrorCode, type KnownErrorCode } from './api';
import { isMessageKey, t } from './i18n/index.svelte';

/**
 * Codes whose Rust message is more precise than our generic sentence: it names the exact
 * field and problem (a payment QR's IBAN check digit, a CSV row). The `error.<code>`
 * sentence is only the fallback when the engine sends no message.
 */
const SPECIFIC_MESSAGE_CODES: ReadonlySet<string> = new Set<KnownErrorCode>([
  'validation',
  'csv_invalid',
  'post_invalid',
  'payload_invalid',
]);

/**
 * Codes whose engine message adds what the plain sentence cannot know, kept as the detail:
 * the network's or provider's own words, or the numbers and names behind a print error
 * ("3.2 mm too wide", "Sign 4", the template's name).
 */
const RAW_DETAIL_CODES: ReadonlySet<string> = new Set<KnownErrorCode>([
  'io',
  'internal',
  'report_failed',
  'conflict',
  'not_found',
  'account_reconnect',
  'post_rejected',
  'oauth_denied',
  'oauth_listen_failed',
  'oauth_refused',
  'qr_payload_too_long',
  'empty_product_name',
  'bad_copies',
  'labels_do_not_fit',
  'label_too_small',
  'invalid_template',
  'unknown_template',
  'qr_error',
  'font_error',
  'pdf_error',
  'logo_unreadable',
  'report_row_cells',
  'report_links',
  'invalid_report',
  'secret_file_exposed',
  'settings_unreadable',
  'path_not_allowed',
  'csv_too_large',
  'barcode_invalid',
  'database_unreachable',
  'database_login',
  'database_not_shopcast',
  'database_newer',
  'printer_unreachable',
  'printer_timed_out',
]);

function keepsRawDetail(code: string): boolean {
  return RAW_DETAIL_CODES.has(code) || code.startsWith('provider_') || code.startsWith('network_');
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
  if (isKnownErrorCode(e.code) && isMessageKey(key)) return t(key);
  return e.message || t('error.internal');
}

/** Extra detail worth showing under a banner (the Rust message), or null. */
export function errorDetail(err: unknown): string | null {
  const e = ApiError.from(err);
  const text = errorText(e);
  if (!e.message || e.message === text || e.message === e.code) return null;
  // Provider, network and print errors keep the engine's words behind the plain sentence.
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

/** The plain sentence with the engine's exact words after it, for one-line places (toasts,
 * the signage preview) where a separate details line has no room. */
export function errorWithDetail(err: unknown): string {
  const detail = errorDetail(err);
  return detail ? `${errorText(err)} ${detail}` : errorText(err);
}
