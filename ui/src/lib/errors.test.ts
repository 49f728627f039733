import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { errorDetail, errorText, routeError } from './errors';
import en from './i18n/en.json';

describe('payment errors in plain words', () => {
  it('explains provider errors and keeps the provider’s words as the detail', () => {
    const err = new ApiError('provider_unreachable', 'could not reach stripe: connection failed');
    expect(errorText(err)).toBe(en['error.provider_unreachable']);
    expect(errorDetail(err)).toBe('Details: could not reach stripe: connection failed');
  });

  it('uses the engine’s sentence for conflicts that are not about a SKU', () => {
    expect(errorText(new ApiError('conflict', 'This order is already paid.', 'order'))).toBe('This order is already paid.');
    expect(errorText(new ApiError('conflict', 'SKU taken', 'sku'))).toBe(en['error.conflict']);
  });

  it('routes a refund amount error to its field', () => {
    const routed = routeError(new ApiError('validation', 'Refund between 0.01 and 80.00.', 'amount'), ['amount'] as const);
    expect(routed).toEqual({ field: 'amount', text: 'Refund between 0.01 and 80.00.' });
  });
});

describe('posting errors in plain words', () => {
  it('explains network errors and keeps the network’s words as the detail', () => {
    const err = new ApiError('post_rejected', 'bluesky refused the post: Record/text must not be longer than 300 graphemes');
    expect(errorText(err)).toBe(en['error.post_rejected']);
    expect(errorDetail(err)).toBe('Details: bluesky refused the post: Record/text must not be longer than 300 graphemes');
    expect(errorText(new ApiError('network_unreachable', 'could not reach bluesky: timed out'))).toBe(en['error.network_unreachable']);
    expect(errorDetail(new ApiError('account_reconnect', 'bluesky needs you to reconnect the account: revoked'))).toMatch(/^Details: /);
  });

  it('uses the engine’s sentence for a post that breaks the rules', () => {
    expect(errorText(new ApiError('post_invalid', 'The post is empty.'))).toBe('The post is empty.');
  });
});

describe('database errors in plain words', () => {
  it('explains a refused login and keeps the server’s words as the detail', () => {
    const err = new ApiError('database_login', 'password authentication failed for user "shop"');
    expect(errorText(err)).toBe(en['error.database_login']);
    expect(errorDetail(err)).toBe('Details: password authentication failed for user "shop"');
    expect(errorText(new ApiError('database_unreachable', 'tills.local:5432: connection refused'))).toBe(en['error.database_unreachable']);
  });

  it('puts a malformed address under the address field in the engine’s words', () => {
    const err = new ApiError('validation', 'Give the PostgreSQL server’s host, e.g. postgres://shop@tills.local/shop.', 'database');
    expect(routeError(err, ['database'] as const)).toEqual({ field: 'database', text: err.message });
  });
});
