// The only module components talk to. It unwraps tauri-specta's
// `Result` values and throws a typed `ApiError` instead.
import { Channel } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { commands } from './bindings';
import type {
  SignInStart,
  Account,
  AppInfo,
  ComposeRequest,
  Dashboard,
  ExportOutcome,
  ReportFilter,
  ReportSummary,
  ChargeView,
  CurrencyTotal,
  Order,
  OrderDraft,
  Payment,
  PaymentDetail,
  PaymentFilter,
  PaymentSettings,
  PaymentUpdate,
  ProviderHealth,
  ProvidersView,
  Photo,
  Post,
  PostPreview,
  ExportReport,
  ImportReport,
  Money,
  Product,
  ProductDraft,
  ProductPage,
  ProductQuery,
  ShopSettings,
  SignagePreview,
  SignageReport,
  SignageRequest,
  QrImage,
  QrPayloadRequest,
  QrPreview,
  ApiError as ApiErrorPayload,
} from './bindings';

export type {
  Account,
  AppInfo,
  ComposeRequest,
  CurrencySummary,
  Dashboard,
  DayRow,
  ExportOutcome,
  GroupRow,
  ReportFilter,
  ReportSummary,
  ChargeView,
  CurrencyTotal,
  Order,
  OrderDraft,
  OrderLine,
  OrderLineDraft,
  Payment,
  PaymentDetail,
  PaymentEventRecord,
  PaymentFilter,
  PaymentSettings,
  PaymentUpdate,
  ProviderHealth,
  ProvidersView,
  SalesChannel,
  SecretBackend,
  ExportReport,
  ImportReport,
  Money,
  Photo,
  Post,
  PostPreview,
  Product,
  ProductDraft,
  ProductPage,
  ProductQuery,
  ProductSummary,
  RowError,
  Selection,
  ShopSettings,
  SignagePreview,
  SignageReport,
  SignageRequest,
  QrImage,
  QrPayloadRequest,
  QrPreview,
  CustomGrid,
  Paper,
} from './bindings';

/** Error codes the Rust side is known to return. Others may appear. */
export const KNOWN_ERROR_CODES = [
  'validation',
  'not_found',
  'conflict',
  'has_sales',
  'photo_too_large',
  'photo_unsupported',
  'photo_broken',
  'csv_invalid',
  'io',
  'internal',
  // A payment provider (Stripe, Alipay) refused or could not be reached.
  'provider_unreachable',
  'provider_rate_limited',
  'provider_server_error',
  'provider_bad_response',
  'provider_rejected',
  'provider_bad_signature',
  'provider_config',
  'provider_unsupported',
  // Reports: the owner stopped an export; the report could not be made.
  'cancelled',
  'report_failed',
  // Posting: a network (Bluesky, Mastodon, Weibo) refused or could not be reached.
  'network_unreachable',
  'network_rate_limited',
  'network_server_error',
  'network_bad_response',
  'account_reconnect',
  'post_rejected',
  'post_invalid',
] as const;
export type KnownErrorCode = (typeof KNOWN_ERROR_CODES)[number];

export class ApiError extends Error {
  readonly code: string;
  readonly field: string | null;

  constructor(code: string, message: string, field: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = field;
  }

  /** Build from whatever the IPC layer rejected with. */
  static from(raw: unknown): ApiError {
    if (raw instanceof ApiError) return raw;
    if (raw && typeof raw === 'object') {
      const r = raw as Partial<ApiErrorPayload> & { message?: unknown };
      if (typeof r.code === 'string') {
        return new ApiError(
          r.code,
          typeof r.message === 'string' ? r.message : r.code,
          typeof r.field === 'string' && r.field !== '' ? r.field : null,
        );
      }
      if (raw instanceof Error) return new ApiError('internal', raw.message);
    }
    if (typeof raw === 'string') return new ApiError('internal', raw);
    return new ApiError('internal', String(raw));
  }
}

/** Structural so it accepts the generated `Result` whatever its exact spelling. */
type AnyResult<T> = { status: 'ok'; data: T } | { status: 'error'; error: unknown };

async function unwrap<T>(call: () => Promise<AnyResult<T>>): Promise<T> {
  let result: AnyResult<T>;
  try {
    result = await call();
  } catch (e) {
    // tauri-specta rethrows `Error`s (e.g. IPC not available); plain
    // rejections of other shapes are normalised too.
    throw ApiError.from(e);
  }
  if (result.status === 'ok') return result.data;
  throw ApiError.from(result.error);
}

export const api = {
  appInfo: (): Promise<AppInfo> => unwrap(() => commands.appInfo()),
  reportFirstPaint: (): Promise<void> => commands.reportFirstPaint(),
  showInFolder: (path: string): Promise<null> => unwrap(() => commands.showInFolder(path)),

  getSettings: (): Promise<ShopSettings> => unwrap(() => commands.getSettings()),
  saveSettings: (settings: ShopSettings): Promise<ShopSettings> =>
    unwrap(() => commands.saveSettings(settings)),
  listTimezones: (): Promise<string[]> => commands.listTimezones(),
  shopLogo: (): Promise<Photo | null> => unwrap(() => commands.shopLogo()),
  setShopLogo: (dataBase64: string): Promise<Photo> => unwrap(() => commands.setShopLogo(dataBase64)),
  clearShopLogo: (): Promise<null> => unwrap(() => commands.clearShopLogo()),

  listProducts: (query: ProductQuery): Promise<ProductPage> =>
    unwrap(() => commands.listProducts(query)),
  getProduct: (id: number): Promise<Product> => unwrap(() => commands.getProduct(id)),
  createProduct: (draft: ProductDraft): Promise<Product> =>
    unwrap(() => commands.createProduct(draft)),
  updateProduct: (id: number, draft: ProductDraft): Promise<Product> =>
    unwrap(() => commands.updateProduct(id, draft)),
  setArchived: (id: number, archived: boolean): Promise<Product> =>
    unwrap(() => commands.setArchived(id, archived)),
  deleteProduct: async (id: number): Promise<void> => {
    await unwrap(() => commands.deleteProduct(id));
  },

  addPhotoFromPath: (productId: number, path: string): Promise<Product> =>
    unwrap(() => commands.addPhotoFromPath(productId, path)),
  addPhotoFromBytes: (productId: number, dataBase64: string): Promise<Product> =>
    unwrap(() => commands.addPhotoFromBytes(productId, dataBase64)),
  removePhoto: (productId: number, hash: string): Promise<Product> =>
    unwrap(() => commands.removePhoto(productId, hash)),

  signageTemplates: (): Promise<string[]> => commands.signageTemplates(),
  signagePreview: (request: SignageRequest, page: number): Promise<SignagePreview> =>
    unwrap(() => commands.signagePreview(request, page)),
  printSignage: (request: SignageRequest, path: string): Promise<SignageReport> =>
    unwrap(() => commands.printSignage(request, path)),
  lastSignageRequest: (): Promise<SignageRequest | null> => unwrap(() => commands.lastSignageRequest()),
  openPath: (path: string): Promise<null> => unwrap(() => commands.openPath(path)),
  productQrPreview: (productId: number, payload: QrPayloadRequest | null): Promise<QrPreview> =>
    unwrap(() => commands.productQrPreview(productId, payload)),
  saveProductQr: (productId: number, payload: QrPayloadRequest | null, format: QrImage, path: string): Promise<QrPreview> =>
    unwrap(() => commands.saveProductQr(productId, payload, format, path)),

  importCatalog: (path: string, skipInvalid: boolean): Promise<ImportReport> =>
    unwrap(() => commands.importCatalog(path, skipInvalid)),
  exportCatalog: (path: string): Promise<ExportReport> =>
    unwrap(() => commands.exportCatalog(path)),

  parsePrice: (price: string, currency: string): Promise<Money> =>
    unwrap(() => commands.parsePrice(price, currency)),

  /**
   * Opens a web page (a share link) in the system browser through the opener plugin.
   * Needs `opener:allow-open-url` in the window's capabilities; callers fall back to
   * copying the link when it is refused.
   */
  openUrl: (url: string): Promise<null> => unwrap(() => commands.openShareLink(url)),

  createOrder: (draft: OrderDraft): Promise<Order> => unwrap(() => commands.createOrder(draft)),
  getOrder: (orderId: number): Promise<Order> => unwrap(() => commands.getOrder(orderId)),
  startCharge: (orderId: number, provider: string): Promise<ChargeView> =>
    unwrap(() => commands.startCharge(orderId, provider)),
  cancelOrder: (orderId: number): Promise<Order> => unwrap(() => commands.cancelOrder(orderId)),
  /** Cash ("cash") or a bank QR the owner checked ("bank_qr"). */
  markPaid: (orderId: number, method: string): Promise<Payment> =>
    unwrap(() => commands.markPaid(orderId, method)),
  listPayments: (filter: PaymentFilter): Promise<Payment[]> => unwrap(() => commands.listPayments(filter)),
  paymentDetail: (paymentId: number): Promise<PaymentDetail> => unwrap(() => commands.paymentDetail(paymentId)),
  /** `amount` as typed in the payment's currency; null refunds everything left. */
  refundPayment: (paymentId: number, amount: string | null): Promise<Payment> =>
    unwrap(() => commands.refundPayment(paymentId, amount)),
  todayTotals: (includeTest: boolean): Promise<CurrencyTotal[]> => unwrap(() => commands.todayTotals(includeTest)),
  paymentProviders: (): Promise<ProvidersView> => unwrap(() => commands.paymentProviders()),
  savePaymentSettings: (settings: PaymentSettings): Promise<PaymentSettings> =>
    unwrap(() => commands.savePaymentSettings(settings)),
  connectStripe: (apiBase: string, secretKey: string): Promise<null> =>
    unwrap(() => commands.connectStripe(apiBase, secretKey)),
  connectAlipay: (appId: string, gateway: string, appPrivateKey: string, alipayPublicKey: string): Promise<null> =>
    unwrap(() => commands.connectAlipay(appId, gateway, appPrivateKey, alipayPublicKey)),
  disconnectProvider: (provider: string): Promise<null> => unwrap(() => commands.disconnectProvider(provider)),

  /** Today so far and the last 30 days, in the shop's time zone. */
  dashboard: (includeTest: boolean): Promise<Dashboard> => unwrap(() => commands.dashboard(includeTest)),
  reportSummary: (filter: ReportFilter): Promise<ReportSummary> => unwrap(() => commands.reportSummary(filter)),
  /**
   * Writes the period's sales to `path` as CSV (`excel`: with the byte-order mark Excel needs
   * for Chinese) or PDF; `onProgress` gets the rows written so far. Fails with code
   * "cancelled" after `cancelExport`, leaving no file.
   */
  exportReport: (
    filter: ReportFilter,
    format: 'csv' | 'pdf',
    path: string,
    excel: boolean,
    onProgress: (rows: number) => void,
  ): Promise<ExportOutcome> => {
    const progress = new Channel<number>();
    progress.onmessage = onProgress;
    return unwrap(() => commands.exportReport(filter, format, path, excel, progress));
  },
  cancelExport: (): Promise<void> => commands.cancelExport(),

  /** Connected microblog accounts, disconnected ones included (their history stays). */
  listAccounts: (): Promise<Account[]> => unwrap(() => commands.listAccounts()),
  /** Signs in to check the app password; it goes to the keychain and never comes back. */
  connectBluesky: (service: string, handle: string, appPassword: string): Promise<Account> =>
    unwrap(() => commands.connectBluesky(service, handle, appPassword)),
  disconnectAccount: (accountId: number): Promise<null> => unwrap(() => commands.disconnectAccount(accountId)),
  /** Registers Shopcast on the instance and opens its sign-in page in the browser. */
  startMastodonSignIn: (instance: string): Promise<SignInStart> => unwrap(() => commands.startMastodonSignIn(instance)),
  /** Opens Weibo's sign-in page for the owner's Weibo app. */
  startWeiboSignIn: (appKey: string, appSecret: string, redirectUri: string, secureDomain: string): Promise<SignInStart> =>
    unwrap(() => commands.startWeiboSignIn(appKey, appSecret, redirectUri, secureDomain)),
  /** Waits for the browser to come back (or uses the pasted address) and keeps the account. */
  finishSignIn: (flowId: string, pasted: string | null): Promise<Account> => unwrap(() => commands.finishSignIn(flowId, pasted)),
  /** The post as each account would send it, counted the network's way. */
  previewPost: (request: ComposeRequest): Promise<PostPreview[]> => unwrap(() => commands.previewPost(request)),
  /** One post per account, now or at `request.at` (shop's local time "YYYY-MM-DDTHH:MM"). */
  queuePosts: (request: ComposeRequest): Promise<Post[]> => unwrap(() => commands.queuePosts(request)),
  /** Newest first; null means any product / any account. */
  postHistory: (productId: number | null, accountId: number | null): Promise<Post[]> =>
    unwrap(() => commands.postHistory(productId, accountId)),
  /** Sends a missed or failed post now (same post: never a duplicate). */
  postNow: (postId: number): Promise<Post> => unwrap(() => commands.postNow(postId)),
  /** Leaves a missed, failed or scheduled post unsent. */
  skipPost: (postId: number): Promise<Post> => unwrap(() => commands.skipPost(postId)),

  /** Every post the outbox changes (sent, failed, retrying), as it happens. */
  onPostUpdate: (handler: (post: Post) => void): Promise<UnlistenFn> =>
    listen<Post>(POST_UPDATE_EVENT, (event) => {
      const post = event.payload;
      if (post && typeof post === 'object' && typeof post.id === 'number' && typeof post.status === 'string') handler(post);
    }),

  /** Every payment, order and provider-health change, as it happens. */
  onPaymentUpdate: (handler: (update: LiveUpdate) => void): Promise<UnlistenFn> =>
    listen<PaymentUpdate>(PAYMENT_UPDATE_EVENT, (event) => {
      const update = normalizeUpdate(event.payload);
      if (update) handler(update);
    }),
};

export type Api = typeof api;

/** Name of the window event the engine sends every changed `Post` on. */
export const POST_UPDATE_EVENT = 'post-update';

/** Name of the window event the engine sends every `PaymentUpdate` on. */
export const PAYMENT_UPDATE_EVENT = 'payment-update';

/** A `PaymentUpdate` with the order fields in camelCase whichever way Rust spells them. */
export type LiveUpdate =
  | { kind: 'payment'; payment: Payment }
  | { kind: 'order'; orderId: number; orderRef: string; status: string }
  | { kind: 'health'; health: ProviderHealth };

/** Checks and normalises an event payload; anything unexpected becomes null. */
export function normalizeUpdate(raw: unknown): LiveUpdate | null {
  if (!raw || typeof raw !== 'object') return null;
  const u = raw as Record<string, unknown>;
  switch (u.kind) {
    case 'payment':
      return u.payment && typeof u.payment === 'object' ? { kind: 'payment', payment: u.payment as Payment } : null;
    case 'order': {
      // The variant's fields are not renamed by serde's rename_all (snake_case today).
      const orderId = u.orderId ?? u.order_id;
      const orderRef = u.orderRef ?? u.order_ref;
      if (typeof orderId !== 'number' || typeof u.status !== 'string') return null;
      return { kind: 'order', orderId, orderRef: typeof orderRef === 'string' ? orderRef : '', status: u.status };
    }
    case 'health':
      return u.health && typeof u.health === 'object' ? { kind: 'health', health: u.health as ProviderHealth } : null;
    default:
      return null;
  }
}
