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
