// The product being edited: the draft the owner types, its checks, whether it changed since the
// last save, and the save / archive / delete calls. The editor's components only show it.
import { ApiError, api, type Money, type Product, type ProductDraft } from '../../lib/api';
import { errorText } from '../../lib/errors';
import { FormFields } from '../../lib/form.svelte';
import { minorToDecimalString } from '../../lib/format';
import { t, type MessageKey } from '../../lib/i18n/index.svelte';
import { showToast } from '../../lib/toast.svelte';
import {
  graphemeCount,
  hasErrors,
  parseStock,
  validateProductForm,
  type ProductField,
  type ProductForm,
} from '../../lib/validation';

const FIELDS: readonly ProductField[] = ['name', 'description', 'sku', 'price', 'currency', 'stock', 'tags', 'tax', 'barcode', 'lowStock'];

/** What the engine made of the typed price: the amount, its refusal, or still asking. */
export type PricePreview = { money: Money } | { error: string } | { checking: true } | null;

function emptyForm(currency: string): ProductForm {
  return { name: '', description: '', sku: '', price: '', currency, stock: '', tags: [], tax: '', barcode: '', lowStock: '' };
}

function formFrom(p: Product): ProductForm {
  return {
    name: p.name,
    description: p.description,
    sku: p.sku ?? '',
    price: minorToDecimalString(p.price.amountMinor, p.price.currency),
    currency: p.price.currency,
    stock: p.stock === null ? '' : String(p.stock),
    tags: [...p.tags],
    tax: p.tax ?? '',
    barcode: p.barcode ?? '',
    lowStock: p.lowStock === null ? '' : String(p.lowStock),
  };
}

function toDraft(f: ProductForm): ProductDraft {
  const sku = f.sku.trim();
  const currency = f.currency.trim().toUpperCase();
  return {
    sku: sku === '' ? null : sku,
    name: f.name.trim(),
    description: f.description,
    price: f.price,
    currency: currency === '' ? null : currency,
    stock: parseStock(f.stock) ?? null,
    tags: [...f.tags],
    tax: f.tax === '' ? null : f.tax,
    barcode: f.barcode.trim() === '' ? null : f.barcode.trim(),
    lowStock: parseStock(f.lowStock) ?? null,
  };
}

export class ProductFormModel extends FormFields<ProductField> {
  /** The saved product; null until a new one is first saved. */
  product = $state<Product | null>(null);
  form = $state<ProductForm>(emptyForm(''));
  saving = $state(false);
  /** Archive or delete in flight. */
  busy = $state(false);
  confirm = $state<null | 'delete' | 'discard'>(null);
  /** Deleting was refused because the product has sales: archiving is offered instead. */
  hasSalesOffer = $state(false);
  /** A typed tag not yet committed that would be refused. */
  tagError = $state<MessageKey | null>(null);
  pricePreview = $state<PricePreview>(null);

  private savedSnapshot = $state('');

  readonly isNew = $derived(this.product === null);
  readonly dirty = $derived(JSON.stringify(this.form) !== this.savedSnapshot);
  readonly clientErrors = $derived(validateProductForm(this.form));
  readonly nameCount = $derived(graphemeCount(this.form.name.trim()));

  constructor(
    readonly shopCurrency: string,
    /** The product was created, saved, archived, got photos (Product) or was deleted (null). */
    private readonly onChanged: (p: Product | null) => void,
  ) {
    super('editor', FIELDS, () => this.clientErrors);
    this.form = emptyForm(shopCurrency);
    this.savedSnapshot = JSON.stringify(this.form);
  }

  override error(f: ProductField): string | null {
    if (f === 'tags' && this.tagError) return t(this.tagError);
    if (this.serverErrors[f]) return this.serverErrors[f] ?? null;
    const preview = this.pricePreview;
    if (f === 'price' && preview && 'error' in preview && this.form.price.trim() !== '') return preview.error;
    return super.error(f);
  }

  /** Unsaved edits that closing would lose. */
  get unsaved(): boolean {
    return this.dirty && !this.saving;
  }

  load(p: Product) {
    this.product = p;
    this.form = formFrom(p);
    this.savedSnapshot = JSON.stringify(this.form);
    this.reset();
  }

  /**
   * Check and save. `commitTags` commits a half-typed tag first (false: it is refused);
   * `focusInvalid` moves focus to the first field in error. Resolves to the saved product or null.
   */
  async save(commitTags: () => boolean, focusInvalid: () => Promise<void>): Promise<Product | null> {
    if (this.saving) return null;
    this.submitted = true;
    if (!commitTags()) return null;
    this.confirm = null;
    if (hasErrors(this.clientErrors)) {
      await focusInvalid();
      return null;
    }
    this.saving = true;
    this.startAttempt();
    const current = this.product;
    try {
      const draft = toDraft(this.form);
      const saved = current ? await api.updateProduct(current.id, draft) : await api.createProduct(draft);
      this.load(saved);
      this.onChanged(saved);
      showToast(current ? t('editor.saved') : t('editor.created'));
      return saved;
    } catch (err) {
      if (this.refuse(err)) await focusInvalid();
      return null;
    } finally {
      this.saving = false;
    }
  }

  async toggleArchived() {
    const product = this.product;
    if (!product || this.busy) return;
    this.busy = true;
    this.banner = null;
    try {
      const p = await api.setArchived(product.id, !product.archived);
      this.product = p;
      this.hasSalesOffer = false;
      this.confirm = null;
      this.onChanged(p);
      showToast(p.archived ? t('editor.archivedToast') : t('editor.unarchivedToast'));
    } catch (err) {
      this.banner = { text: errorText(err), detail: null };
    } finally {
      this.busy = false;
    }
  }

  /** Deletes the product; true when it is gone. */
  async delete(): Promise<boolean> {
    const product = this.product;
    if (!product || this.busy) return false;
    this.busy = true;
    this.banner = null;
    try {
      await api.deleteProduct(product.id);
      this.confirm = null;
      this.onChanged(null);
      showToast(t('editor.deleted'));
      return true;
    } catch (err) {
      this.confirm = null;
      if (err instanceof ApiError && err.code === 'has_sales') this.hasSalesOffer = true;
      else this.banner = { text: errorText(err), detail: null };
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** New photos keep the rest of the draft as typed. */
  applyPhotos(p: Product) {
    this.product = this.product ? { ...this.product, photos: p.photos, updatedAt: p.updatedAt } : p;
    this.onChanged(p);
  }
}
