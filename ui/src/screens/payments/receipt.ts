// Printing a sale's receipt and saving it as a PDF, from the till's receipt and from a
// payment's detail; both say what happened in a toast.
import { api } from '../../lib/api';
import { askSavePath } from '../../lib/dialogs';
import { errorText } from '../../lib/errors';
import { t } from '../../lib/i18n/index.svelte';
import { showToast } from '../../lib/toast.svelte';

/** Prints on the shop's receipt printer (Settings → Receipts). */
export async function printReceipt(orderId: number): Promise<void> {
  try {
    const printed = await api.printReceipt(orderId, null);
    showToast(t('receipt.printed', { printer: printed.printer }));
  } catch (err) {
    showToast(t('receipt.printFailed', { error: errorText(err) }), 'error');
  }
}

/** Asks where, then writes the receipt there on the shop's receipt paper. */
export async function saveReceiptPdf(orderId: number, orderRef: string): Promise<void> {
  try {
    const path = await askSavePath({ defaultPath: `receipt-${orderRef}.pdf`, filters: [{ name: 'PDF', extensions: ['pdf'] }] });
    if (!path) return;
    await api.saveReceiptPdf(orderId, null, path);
    showToast(t('receipt.pdfSaved', { path }));
  } catch (err) {
    showToast(errorText(err), 'error');
  }
}
