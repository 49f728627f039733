// DEV ONLY: an in-memory stand-in for the Rust commands, so the UI runs in a
// plain browser with `npm run dev` (http://localhost:1420/?mock=big etc.).
// Loaded by main.ts only when import.meta.env.DEV and not inside Tauri.
//
//   ?mock=empty   first start: no shop name, no products
//   ?mock=big     100,000 products (virtual list check)
//   (default)     a small shop with a few dozen products
//   &lag=300      add latency (ms) to every command
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import type {
  ErrorCode,
  ApiError,
  ImportReport,
  Money,
  Photo,
  Product,
  ProductDraft,
  ProductQuery,
  ProductSummary,
  ShopSettings,
} from '../lib/bindings';
import { currencyExponent } from '../lib/format';
import { setMediaUrlOverride } from '../lib/media';

const COLORS = ['#c7d7fe', '#fde2c7', '#c9f2dc', '#f9cfe0', '#e4d4fb', '#fdf0b5'];

function fail(code: ErrorCode, message: string, field: string | null = null): never {
  const e: ApiError = { code, message, field };
  throw e;
}

export function parsePriceMock(price: string, currency: string): Money {
  const cur = currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(cur)) fail('validation', `Unknown currency “${currency}”.`, 'currency');
  const exp = currencyExponent(cur);
  const cleaned = price.replace(/[\s¥$€£₩]|CNY|EUR|USD|JPY|RMB|元/gi, '');
  const m = /^(-?)(\d{1,3}(?:[ .,'’]\d{3})*|\d+)(?:[.,](\d+))?$/.exec(cleaned);
  if (!m) fail('validation', `“${price}” is not a price. Type a number such as 12.50.`, 'price');
  const whole = m[2].replace(/[ .,'’]/g, '');
  const frac = m[3] ?? '';
  if (frac.length > exp) {
    fail('validation', exp === 0 ? `${cur} has no decimals.` : `${cur} has at most ${exp} decimals.`, 'price');
  }
  const minor = Number(whole + frac.padEnd(exp, '0'));
  if (!Number.isSafeInteger(minor)) fail('validation', 'The price is too large.', 'price');
  return { amountMinor: m[1] ? -minor : minor, currency: cur };
}

const ADJ = ['Red', 'Blue', 'Linen', 'Organic', 'Handmade', 'Vintage', 'Large', 'Mini', '手工', '有机'];
const NOUN = ['Mug', 'Tote bag', 'Notebook', 'Candle', 'Tea', 'Scarf', 'Poster', 'Soap', '茶杯', '香皂', 'Keyring 🔑'];
const TAGS = ['gift', 'summer', 'kitchen', 'bestseller', '新品', 'eco', 'sale'];

const RECEIPT_DEFAULTS = {
  pricesIncludeTax: true,
  receiptPaper: '80mm',
  receiptPrinter: '',
  receiptAutoPrint: false,
  receiptDrawerKick: false,
  receiptChinese: 'gb18030',
  receiptFooter: '',
};

function makeProduct(id: number, currency: string, now: number): Product {
  const name = `${ADJ[id % ADJ.length]} ${NOUN[(id * 7) % NOUN.length]} ${id}`;
  const photos: Photo[] =
    id % 3 === 0 ? [{ hash: `mock${(id % 6).toString().padStart(2, '0')}`, mime: 'image/png', width: 800, height: 800 }] : [];
  return {
    id,
    sku: id % 5 === 0 ? null : `SKU-${String(id).padStart(6, '0')}`,
    name,
    description: '',
    price: { amountMinor: 500 + ((id * 137) % 9000) * (currencyExponent(currency) === 0 ? 1 : 10), currency },
    stock: id % 4 === 0 ? null : (id * 13) % 40,
    tags: [TAGS[id % TAGS.length], ...(id % 2 ? [TAGS[(id + 3) % TAGS.length]] : [])],
    archived: id % 17 === 0,
    photos,
    tax: null,
    barcode: null,
    lowStock: id % 6 === 0 ? 5 : null,
    createdAt: now - id * 3_600_000,
    updatedAt: now - id * 1_800_000,
  };
}

function summary(p: Product): ProductSummary {
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    price: p.price,
    stock: p.stock,
    tags: p.tags,
    archived: p.archived,
    thumb: p.photos[0]?.hash ?? null,
    barcode: p.barcode,
    lowStock: p.lowStock,
  };
}

function svgPhoto(hash: string): string {
  let h = 0;
  for (const c of hash) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const color = COLORS[h % COLORS.length];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" fill="${color}"/><circle cx="100" cy="90" r="42" fill="#fff" fill-opacity=".7"/><rect x="50" y="140" width="100" height="16" rx="8" fill="#fff" fill-opacity=".7"/></svg>`;
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export function installMockBackend(params: URLSearchParams): void {
  const mode = params.get('mock') ?? 'small';
  const lag = Number(params.get('lag') ?? '40');
  const now = Date.now();

  let settings: ShopSettings =
    mode === 'empty'
      ? { name: '', currency: 'USD', timezone: 'UTC', locale: 'en', buyLinkBase: '', publicUrl: '', ...RECEIPT_DEFAULTS }
      : {
          ...RECEIPT_DEFAULTS,
          name: params.get('shop') ?? 'Corner Shop 街角小店',
          currency: params.get('currency') ?? 'EUR',
          timezone: 'Europe/Berlin',
          locale: params.get('locale') ?? 'en',
          buyLinkBase: 'https://shop.example.com/p/',
          publicUrl: '',
        };

  const count = mode === 'empty' ? 0 : mode === 'big' ? 100_000 : 48;
  const products = new Map<number, Product>();
  for (let i = 1; i <= count; i++) products.set(i, makeProduct(i, settings.currency, now));
  let nextId = count + 1;
  let photoSeq = 0;
  let mutations = 0;
  let listCache: { key: string; rows: Product[] } | null = null;

  setMediaUrlOverride((hash) => svgPhoto(hash));
  mockWindows('main');

  const get = (id: number): Product => products.get(id) ?? fail('not_found', `No product with id ${id}.`);

  function applyDraft(d: ProductDraft, base: Partial<Product>): Product {
    const name = d.name.trim();
    if (!name) fail('validation', 'Enter a name.', 'name');
    const price = parsePriceMock(d.price, d.currency ?? settings.currency);
    if (d.sku) {
      for (const p of products.values()) {
        if (p.sku === d.sku && p.id !== base.id) fail('conflict', `SKU “${d.sku}” is already used by “${p.name}”.`, 'sku');
      }
    }
    return {
      id: base.id ?? nextId++,
      sku: d.sku,
      name,
      description: d.description,
      price,
      stock: d.stock,
      tags: d.tags,
      archived: base.archived ?? false,
      photos: base.photos ?? [],
      tax: d.tax || null,
      barcode: d.barcode || null,
      lowStock: d.lowStock ?? null,
      createdAt: base.createdAt ?? Date.now(),
      updatedAt: Date.now(),
    };
  }

  function handle(cmd: string, a: Record<string, any>): unknown {
    switch (cmd) {
      case 'app_info':
        return { version: '0.1.0-mock', dataDir: '/home/me/.local/share/shopcast', logDir: '/home/me/.local/share/shopcast/logs', databasePath: '/home/me/.local/share/shopcast/shopcast.db' };
      case 'get_settings':
        return settings;
      case 'save_settings': {
        const s = a.settings as ShopSettings;
        if (!s.name.trim()) fail('validation', 'Enter a shop name.', 'name');
        settings = s;
        return settings;
      }
      case 'list_timezones':
        return Intl.supportedValuesOf('timeZone');
      case 'list_products': {
        const q = a.query as ProductQuery;
        const key = JSON.stringify([q.search ?? '', q.includeArchived, products.size, mutations]);
        if (listCache?.key === key) {
          const all = listCache.rows;
          return { items: all.slice(q.offset, q.offset + q.limit).map(summary), total: all.length, offset: q.offset };
        }
        const needle = (q.search ?? '').toLowerCase();
        let all = [...products.values()];
        if (!q.includeArchived) all = all.filter((p) => !p.archived);
        if (needle) {
          all = all.filter(
            (p) =>
              p.name.toLowerCase().includes(needle) ||
              (p.sku ?? '').toLowerCase().includes(needle) ||
              p.tags.some((t) => t.toLowerCase().includes(needle)),
          );
        }
        all.sort((x, y) => y.updatedAt - x.updatedAt);
        listCache = { key, rows: all };
        return { items: all.slice(q.offset, q.offset + q.limit).map(summary), total: all.length, offset: q.offset };
      }
      case 'get_product':
        return get(a.id);
      case 'product_by_barcode':
        return [...products.values()].find((p) => p.barcode === a.barcode && !p.archived) ?? null;
      case 'list_tax_rates':
        return [{ id: 1, name: 'VAT 19 %', ratePpm: 190_000, percent: '19', isDefault: true }, { id: 2, name: 'VAT 7 %', ratePpm: 70_000, percent: '7', isDefault: false }];
      case 'create_product': {
        const p = applyDraft(a.draft, {});
        products.set(p.id, p);
        return p;
      }
      case 'update_product': {
        const old = get(a.id);
        const p = applyDraft(a.draft, old);
        products.set(p.id, p);
        return p;
      }
      case 'set_archived': {
        const p = { ...get(a.id), archived: a.archived as boolean, updatedAt: Date.now() };
        products.set(p.id, p);
        return p;
      }
      case 'delete_product': {
        get(a.id);
        if (a.id % 2 === 0) fail('has_sales', 'This product has 3 sales.');
        products.delete(a.id);
        return null;
      }
      case 'add_photo_from_bytes':
      case 'add_photo_from_path': {
        const p = get(a.productId);
        if (cmd === 'add_photo_from_path' && !/\.(png|jpe?g|webp)$/i.test(a.path)) {
          fail('photo_unsupported', `Unsupported image type: ${a.path}`);
        }
        const photo: Photo = { hash: `new${photoSeq++}`, mime: 'image/png', width: 800, height: 600 };
        const next = { ...p, photos: [...p.photos, photo], updatedAt: Date.now() };
        products.set(p.id, next);
        return next;
      }
      case 'remove_photo': {
        const p = get(a.productId);
        const next = { ...p, photos: p.photos.filter((x) => x.hash !== a.hash) };
        products.set(p.id, next);
        return next;
      }
      case 'import_catalog': {
        const report: ImportReport = a.skipInvalid
          ? { valid: 9, created: 7, updated: 2, skipped: 2, errors: [{ line: 4, field: 'price', message: '“abc” is not a price.' }, { line: 9, field: 'name', message: 'The name is empty.' }], moreErrors: 0, applied: true }
          : { valid: 9, created: 0, updated: 0, skipped: 0, errors: [{ line: 4, field: 'price', message: '“abc” is not a price.' }, { line: 9, field: 'name', message: 'The name is empty.' }], moreErrors: 0, applied: false };
        if (report.applied) {
          for (let i = 0; i < report.created; i++) {
            const p = makeProduct(nextId++, settings.currency, Date.now());
            products.set(p.id, { ...p, archived: false });
          }
        }
        return report;
      }
      case 'export_catalog':
        return { rows: products.size, path: a.path };
      case 'parse_price':
        return parsePriceMock(a.price, a.currency);
      case 'pick_open_file':
        return '/home/me/Documents/catalog.csv';
      case 'pick_save_file':
        return '/home/me/Documents/shopcast-catalog.csv';
      case 'answer_dialog_for_e2e':
        return null;
      default:
        if (cmd.startsWith('plugin:event|')) return 1;
        fail('internal', `mock: unknown command ${cmd}`);
    }
  }

  mockIPC(async (cmd, args) => {
    if (lag > 0) await new Promise((r) => setTimeout(r, lag));
    if (!/^(list_|get_|app_info|parse_price|plugin:)/.test(cmd)) mutations++;
    return handle(cmd, (args ?? {}) as Record<string, any>);
  });
}
