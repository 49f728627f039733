import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...a: unknown[]) => invoke(...a), Channel: class {} }));

const { api, ApiError } = await import('./api');

describe('api', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('passes camelCase args to the snake_case command and returns the data', async () => {
    invoke.mockResolvedValue({ items: [], total: 0, offset: 0 });
    const q = { search: 'x', includeArchived: false, offset: 0, limit: 100 };
    await expect(api.listProducts(q)).resolves.toEqual({ items: [], total: 0, offset: 0 });
    expect(invoke).toHaveBeenCalledWith('list_products', { query: q });

    invoke.mockResolvedValue({});
    await api.addPhotoFromBytes(7, 'AAAA');
    expect(invoke).toHaveBeenLastCalledWith('add_photo_from_bytes', { productId: 7, dataBase64: 'AAAA' });
  });

  it('throws a typed ApiError for error results', async () => {
    invoke.mockRejectedValue({ code: 'has_sales', message: 'Has 3 sales', field: null });
    const err = await api.deleteProduct(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'has_sales', message: 'Has 3 sales', field: null });
  });

  it('keeps the field of validation errors', async () => {
    invoke.mockRejectedValue({ code: 'conflict', message: 'SKU taken', field: 'sku' });
    await expect(api.createProduct({ sku: 'A', name: 'n', description: '', price: '1', currency: null, stock: null, tags: [] }))
      .rejects.toMatchObject({ code: 'conflict', field: 'sku' });
  });

  it('normalises thrown Errors and strings', async () => {
    invoke.mockRejectedValue(new Error('IPC down'));
    await expect(api.getSettings()).rejects.toMatchObject({ name: 'ApiError', code: 'internal', message: 'IPC down' });
    invoke.mockRejectedValue('plain string');
    await expect(api.getSettings()).rejects.toMatchObject({ code: 'internal', message: 'plain string' });
  });
});

describe('payment commands and updates', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('calls the payment commands with their argument names', async () => {
    invoke.mockResolvedValue({});
    await api.startCharge(5, 'test');
    expect(invoke).toHaveBeenLastCalledWith('start_charge', { orderId: 5, providerName: 'test' });
    await api.markPaid(5, 'cash');
    expect(invoke).toHaveBeenLastCalledWith('mark_paid', { orderId: 5, method: 'cash' });
    await api.refundPayment(9, null);
    expect(invoke).toHaveBeenLastCalledWith('refund_payment', { paymentId: 9, amount: null });
    await api.openUrl('https://bsky.app/intent/compose?text=hi');
    expect(invoke).toHaveBeenLastCalledWith('open_share_link', { url: 'https://bsky.app/intent/compose?text=hi' });
  });

  it('turns a refused URL into an ApiError', async () => {
    invoke.mockRejectedValue({ code: 'validation', message: 'Only share links', field: 'url' });
    await expect(api.openUrl('https://x.example')).rejects.toMatchObject({ name: 'ApiError', code: 'validation' });
  });

  it('normalises update payloads, whichever case the order fields use', async () => {
    const { normalizeUpdate } = await import('./api');
    expect(normalizeUpdate({ kind: 'order', order_id: 3, order_ref: 'O-1', status: 'paid' })).toEqual({
      kind: 'order',
      orderId: 3,
      orderRef: 'O-1',
      status: 'paid',
    });
    expect(normalizeUpdate({ kind: 'order', orderId: 3, orderRef: 'O-1', status: 'review' })).toMatchObject({ orderId: 3, status: 'review' });
    expect(normalizeUpdate({ kind: 'health', health: { provider: 'stripe', ok: false } })).toMatchObject({ kind: 'health' });
    expect(normalizeUpdate({ kind: 'payment', payment: { id: 1 } })).toEqual({ kind: 'payment', payment: { id: 1 } });
    expect(normalizeUpdate({ kind: 'order', status: 'paid' })).toBeNull();
    expect(normalizeUpdate({ kind: 'other' })).toBeNull();
    expect(normalizeUpdate(null)).toBeNull();
  });
});

describe('report commands', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('hands the export a progress channel that reaches the caller', async () => {
    invoke.mockResolvedValue({ rows: 3, bytes: 120 });
    const seen: number[] = [];
    const filter = { from: '2026-11-01', to: '2026-11-30', includeTest: false };
    await expect(api.exportReport(filter, 'csv', '/tmp/s.csv', true, (rows) => seen.push(rows))).resolves.toEqual({ rows: 3, bytes: 120 });
    const [command, args] = invoke.mock.lastCall as [string, { progress: { onmessage: (n: number) => void } }];
    expect(command).toBe('export_report');
    expect(args).toMatchObject({ filter, format: 'csv', path: '/tmp/s.csv', excel: true });
    args.progress.onmessage(20_000);
    expect(seen).toEqual([20_000]);
  });

  it('reports a cancelled export as an ApiError with its code', async () => {
    invoke.mockRejectedValue({ code: 'cancelled', message: 'Cancelled.', field: null });
    await expect(api.exportReport({}, 'pdf', '/tmp/s.pdf', false, () => {})).rejects.toMatchObject({ name: 'ApiError', code: 'cancelled' });
    invoke.mockResolvedValue(null);
    await api.cancelExport();
    expect(invoke).toHaveBeenLastCalledWith('cancel_export');
  });

  it('asks for the dashboard and a period summary', async () => {
    invoke.mockResolvedValue({});
    await api.dashboard(true);
    expect(invoke).toHaveBeenLastCalledWith('dashboard', { includeTest: true });
    await api.reportSummary({ from: '2026-11-01', to: '2026-11-30' });
    expect(invoke).toHaveBeenLastCalledWith('report_summary', { filter: { from: '2026-11-01', to: '2026-11-30' } });
  });
});

describe('posting commands', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('calls the posting commands with their argument names', async () => {
    invoke.mockResolvedValue([]);
    const request = { productId: 3, accountIds: [1, 2], template: '{name} {link}', at: '2026-11-25T18:00' };
    await api.previewPost(request);
    expect(invoke).toHaveBeenLastCalledWith('preview_post', { request });
    await api.queuePosts(request);
    expect(invoke).toHaveBeenLastCalledWith('queue_posts', { request });
    await api.postHistory(3, null);
    expect(invoke).toHaveBeenLastCalledWith('post_history', { productId: 3, accountId: null });
    invoke.mockResolvedValue({});
    await api.postNow(9);
    expect(invoke).toHaveBeenLastCalledWith('post_now', { postId: 9 });
    await api.skipPost(9);
    expect(invoke).toHaveBeenLastCalledWith('skip_post', { postId: 9 });
    await api.connectBluesky('https://bsky.social', 'shop.bsky.social', 'abcd-efgh-ijkl-mnop');
    expect(invoke).toHaveBeenLastCalledWith('connect_bluesky', {
      service: 'https://bsky.social',
      handle: 'shop.bsky.social',
      appPassword: 'abcd-efgh-ijkl-mnop',
    });
    await api.disconnectAccount(4);
    expect(invoke).toHaveBeenLastCalledWith('disconnect_account', { accountId: 4 });
  });

  it('reports a refused app password with its code, for the form to explain', async () => {
    invoke.mockRejectedValue({ code: 'account_reconnect', message: 'bluesky needs you to reconnect the account: …', field: null });
    await expect(api.connectBluesky('https://bsky.social', 'a.test', 'x')).rejects.toMatchObject({ name: 'ApiError', code: 'account_reconnect' });
  });
});

describe('database commands', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('calls the database commands with their argument names', async () => {
    const info = { address: 'sqlite:/shop.sqlite', server: false, chosenInSettings: false, namedAtStart: false };
    invoke.mockResolvedValue(info);
    await expect(api.databaseInfo()).resolves.toEqual(info);
    expect(invoke).toHaveBeenLastCalledWith('database_info');
    const check = { address: 'postgres://shop@tills.local/shop', empty: true, products: null };
    invoke.mockResolvedValue(check);
    await expect(api.testDatabase('postgres://shop@tills.local/shop', 'pw')).resolves.toEqual(check);
    expect(invoke).toHaveBeenLastCalledWith('test_database', { url: 'postgres://shop@tills.local/shop', password: 'pw' });
    await api.chooseDatabase('', null);
    expect(invoke).toHaveBeenLastCalledWith('choose_database', { url: '', password: null });
  });
});
