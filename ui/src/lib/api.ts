// The only module components talk to. It unwraps tauri-specta's
// `Result` values and throws a typed `ApiError` instead.
import { Channel } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { commands } from './bindings';
import { ERROR_CODES } from './errorCodes';
import type {
  ApiError as ApiErrorPayload,
  DatabaseInfo,
  ErrorCode,
  ExportOutcome,
  OrderStatus,
  Payment,
  PaymentUpdate,
  Post,
  ProviderHealth,
  ReportFilter,
} from './bindings';

export type {
  Account,
  AppInfo,
  ComposeRequest,
  CurrencySummary,
  Dashboard,
  DayRow,
  ErrorCode,
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
  ShopPageView,
  ShopSettings,
  SignagePreview,
  SignageReport,
  SignageRequest,
  QrImage,
  QrPayloadRequest,
  QrPreview,
  CustomGrid,
  DatabaseCheck,
  DatabaseInfo,
  Paper,
  CodePayment,
  WechatConnect,
  WechatSetup,
  PrintedReceipt,
  TaxLine,
  TaxRate,
  TaxRow,
  TaxSum,
  TillDay,
  TillReport,
  MethodSales,
} from './bindings';

/**
 * Every error code the engine can send, generated from Rust (`shopcast_core::ErrorCode`).
 * An older or newer engine may still send a code outside it: `ApiError.code` stays a string.
 */
export const KNOWN_ERROR_CODES = ERROR_CODES;
export type KnownErrorCode = ErrorCode;

/** Whether the engine declares `code` (so it has an `error.<code>` sentence). */
export function isKnownErrorCode(code: string): code is KnownErrorCode {
  return (KNOWN_ERROR_CODES as readonly string[]).includes(code);
}

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

/**
 * A generated command that answers with a `Result`, as a function taking the same arguments
 * that answers with the data or throws an `ApiError`. Argument and data types come from
 * bindings.ts, so they follow the Rust commands.
 */
function unwrapped<A extends unknown[], T>(command: (...args: A) => Promise<AnyResult<T>>): (...args: A) => Promise<T> {
  return (...args) => unwrap(() => command(...args));
}

export const api = {
  appInfo: unwrapped(commands.appInfo),
  reportFirstPaint: (): Promise<void> => commands.reportFirstPaint(),
  showInFolder: unwrapped(commands.showInFolder),
  pickOpenFile: unwrapped(commands.pickOpenFile),
  pickSaveFile: unwrapped(commands.pickSaveFile),
  answerDialogForE2e: unwrapped(commands.answerDialogForE2e),

  getSettings: unwrapped(commands.getSettings),
  saveSettings: unwrapped(commands.saveSettings),
  listTimezones: (): Promise<string[]> => commands.listTimezones(),
  shopLogo: unwrapped(commands.shopLogo),
  setShopLogo: unwrapped(commands.setShopLogo),
  clearShopLogo: unwrapped(commands.clearShopLogo),
  /** Which database the shop uses now (the shop file or a server) and who chose it. */
  databaseInfo: (): Promise<DatabaseInfo> => commands.databaseInfo(),
  /** Tries a server without saving it; says what is there (empty, or a shop with N products). */
  testDatabase: unwrapped(commands.testDatabase),
  /** Tests and saves the server for the next start; '' goes back to the shop file. */
  chooseDatabase: unwrapped(commands.chooseDatabase),
  restartApp: (): Promise<void> => commands.restartApp(),
  /** This computer's till name (Settings → This till); null when none is saved. */
  tillName: unwrapped(commands.tillName),
  /** Saves (or, with null or blank, forgets) this computer's till name; returns it as stored. */
  setTillName: unwrapped(commands.setTillName),
  /** Every till the shop has seen, by name (for the till filters). */
  knownTills: unwrapped(commands.knownTills),
  shopPageStatus: unwrapped(commands.shopPageStatus),
  /** Saves the switch, port and public address, then starts, restarts or stops the page. */
  saveShopPage: unwrapped(commands.saveShopPage),
  checkShopPageReachable: unwrapped(commands.checkShopPageReachable),

  listProducts: unwrapped(commands.listProducts),
  getProduct: unwrapped(commands.getProduct),
  /** The product on sale whose barcode is this (a scan at the till), or null. */
  productByBarcode: unwrapped(commands.productByBarcode),
  createProduct: unwrapped(commands.createProduct),
  updateProduct: unwrapped(commands.updateProduct),
  setArchived: unwrapped(commands.setArchived),
  deleteProduct: async (id: number): Promise<void> => {
    await unwrap(() => commands.deleteProduct(id));
  },

  addPhotoFromPath: unwrapped(commands.addPhotoFromPath),
  addPhotoFromBytes: unwrapped(commands.addPhotoFromBytes),
  removePhoto: unwrapped(commands.removePhoto),

  signageTemplates: (): Promise<string[]> => commands.signageTemplates(),
  signagePreview: unwrapped(commands.signagePreview),
  printSignage: unwrapped(commands.printSignage),
  lastSignageRequest: unwrapped(commands.lastSignageRequest),
  openPath: unwrapped(commands.openPath),
  productQrPreview: unwrapped(commands.productQrPreview),
  saveProductQr: unwrapped(commands.saveProductQr),

  importCatalog: unwrapped(commands.importCatalog),
  exportCatalog: unwrapped(commands.exportCatalog),

  parsePrice: unwrapped(commands.parsePrice),

  /**
   * Opens a web page (a share link) in the system browser through the opener plugin.
   * Needs `opener:allow-open-url` in the window's capabilities; callers fall back to
   * copying the link when it is refused.
   */
  openUrl: unwrapped(commands.openShareLink),

  previewOrder: unwrapped(commands.previewOrder),
  createOrder: unwrapped(commands.createOrder),
  getOrder: unwrapped(commands.getOrder),
  startCharge: unwrapped(commands.startCharge),
  cancelOrder: unwrapped(commands.cancelOrder),
  /** Cash ("cash") or a bank QR the owner checked ("bank_qr"). */
  markPaid: unwrapped(commands.markPaid),
  listPayments: unwrapped(commands.listPayments),
  paymentDetail: unwrapped(commands.paymentDetail),
  /** `amount` as typed in the payment's currency; null refunds everything left. */
  refundPayment: unwrapped(commands.refundPayment),
  todayTotals: unwrapped(commands.todayTotals),
  paymentProviders: unwrapped(commands.paymentProviders),
  savePaymentSettings: unwrapped(commands.savePaymentSettings),
  connectStripe: unwrapped(commands.connectStripe),
  /** Stores the Stripe webhook signing secret in the keychain; '' removes it. */
  setStripeWebhookSecret: unwrapped(commands.setStripeWebhookSecret),
  connectAlipay: unwrapped(commands.connectAlipay),
  /** Signs one query with the keys before anything is stored; keys go to the keychain. */
  connectWechat: unwrapped(commands.connectWechat),
  /**
   * Charges the payment code the customer shows (付款码): paid on the spot, or `waiting` while
   * they confirm on the phone (the outcome then arrives as payment updates).
   */
  chargePaymentCode: unwrapped(commands.chargePaymentCode),
  disconnectProvider: unwrapped(commands.disconnectProvider),

  listTaxRates: unwrapped(commands.listTaxRates),
  /** `percent` as typed ("19", "8.875"). */
  addTaxRate: unwrapped(commands.addTaxRate),
  setDefaultTaxRate: unwrapped(commands.setDefaultTaxRate),
  /** Prints on the shop's receipt printer, or on `printer` when given. */
  printReceipt: unwrapped(commands.printReceipt),
  /** Prints when the shop prints after every sale; null when it does not. */
  autoPrintReceipt: unwrapped(commands.autoPrintReceipt),
  saveReceiptPdf: unwrapped(commands.saveReceiptPdf),
  tillDays: unwrapped(commands.tillDays),
  openTill: unwrapped(commands.openTill),
  tillXReport: unwrapped(commands.tillXReport),
  closeTill: unwrapped(commands.closeTill),
  saveTillReportPdf: unwrapped(commands.saveTillReportPdf),

  /** Today so far and the last 30 days, in the shop's time zone. */
  dashboard: unwrapped(commands.dashboard),
  reportSummary: unwrapped(commands.reportSummary),
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
  listAccounts: unwrapped(commands.listAccounts),
  /** Signs in to check the app password; it goes to the keychain and never comes back. */
  connectBluesky: unwrapped(commands.connectBluesky),
  disconnectAccount: unwrapped(commands.disconnectAccount),
  /** Registers Shopcast on the instance and opens its sign-in page in the browser. */
  startMastodonSignIn: unwrapped(commands.startMastodonSignIn),
  /** Opens Weibo's sign-in page for the owner's Weibo app. */
  startWeiboSignIn: unwrapped(commands.startWeiboSignIn),
  /** Waits for the browser to come back (or uses the pasted address) and keeps the account. */
  finishSignIn: unwrapped(commands.finishSignIn),
  /** The post as each account would send it, counted the network's way. */
  previewPost: unwrapped(commands.previewPost),
  /** One post per account, now or at `request.at` (shop's local time "YYYY-MM-DDTHH:MM"). */
  queuePosts: unwrapped(commands.queuePosts),
  /** Newest first; null means any product / any account. */
  postHistory: unwrapped(commands.postHistory),
  /** Sends a missed or failed post now (same post: never a duplicate). */
  postNow: unwrapped(commands.postNow),
  /** Leaves a missed, failed or scheduled post unsent. */
  skipPost: unwrapped(commands.skipPost),

  /** Every post the outbox changes (sent, failed, retrying), as it happens. */
  onPostUpdate: (handler: (post: Post) => void): Promise<UnlistenFn> =>
    listen<Post>(POST_UPDATE_EVENT, (event) => {
      const post = event.payload;
      if (post && typeof post === 'object' && typeof post.id === 'number' && typeof post.status === 'string') handler(post);
    }),

  /** The shop's database server stops answering (false) or answers again (true). */
  onDatabaseStatus: (handler: (reachable: boolean) => void): Promise<UnlistenFn> =>
    listen<{ reachable?: unknown }>(DATABASE_STATUS_EVENT, (event) => {
      const reachable = event.payload?.reachable;
      if (typeof reachable === 'boolean') handler(reachable);
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

/** Name of the window event that says whether the shop's database server answers. */
export const DATABASE_STATUS_EVENT = 'database-status';

/** Name of the window event the engine sends every `PaymentUpdate` on. */
export const PAYMENT_UPDATE_EVENT = 'payment-update';

/** A `PaymentUpdate` with the order fields in camelCase whichever way Rust spells them. */
export type LiveUpdate =
  | { kind: 'payment'; payment: Payment }
  | { kind: 'order'; orderId: number; orderRef: string; status: OrderStatus }
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
      return { kind: 'order', orderId, orderRef: typeof orderRef === 'string' ? orderRef : '', status: u.status as OrderStatus };
    }
    case 'health':
      return u.health && typeof u.health === 'object' ? { kind: 'health', health: u.health as ProviderHealth } : null;
    default:
      return null;
  }
}
