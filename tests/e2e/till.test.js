// A sale at the till the way a shop with a scanner and a receipt printer makes it: the receipt
// printer set in Settings → Receipts (an independent ESC/POS reader on a local port plays the
// printer), a product with its EAN-13 made in the catalog, the barcode typed into the till's
// search with Enter as a scanner does, 10 % off the line, paid in cash: the receipt prints by
// itself, and the reader reads back the product, the discount and the cut. Then a reprint from
// Payments and the receipt as a PDF, read back with pdftotext.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe } from 'node:test';
import { answerSaveDialog, env, eventually, journey, messages, screenshot, startApp, textOf, textsOf, tid } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const READER = path.join(HERE, '../peers/escpos_reader.py');
// A shop folder of its own: this journey starts from a first start.
const WORK = path.dirname(env.dataDir);
const DATA_DIR = path.join(WORK, 'shop-till');
const PRINTER_DIR = path.join(WORK, 'till-printer');
const SHOP = { name: 'Till Corner Shop', currency: 'EUR', timezone: 'Europe/Berlin' };
const TOTE = { name: 'Linen tote bag', price: '12.00', sku: 'TOTE-1', barcode: '4006381333931' };
const lang = messages.en;
const TILL = '收银台 2';
const fill = (text, params) => text.replace(/\{(\w+)\}/g, (_, k) => String(params[k]));

/** The ESC/POS reader's `serve`: a raw-TCP printer on a free port writing DIR/receipt-N.json. */
async function startPrinter(dir) {
  mkdirSync(dir, { recursive: true });
  const child = spawn('python3', [READER, 'serve', '--port', '0', '--out', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const ready = path.join(dir, 'ready');
  await eventually(async () => {
    assert.equal(child.exitCode, null, `the ESC/POS reader exited: ${stderr}`);
    assert.ok(existsSync(ready), 'the ESC/POS reader is not listening yet');
  }, { timeout: 10_000 });
  const port = Number(readFileSync(ready, 'utf8').trim());
  assert.ok(port > 0, `ready holds a port, got ${readFileSync(ready, 'utf8')}`);
  return { port, stop: () => child.kill() };
}

/** The receipt the reader decoded from its n-th connection (waits for it). */
async function printedReceipt(n) {
  const file = path.join(PRINTER_DIR, `receipt-${n}.json`);
  await eventually(async () => assert.ok(existsSync(file), `no ${path.basename(file)} from the printer`), { timeout: 10_000 });
  return JSON.parse(readFileSync(file, 'utf8'));
}

describe('till with a scanner and a receipt printer', () => {
  /** @type {WebdriverIO.Browser | null} */
  let browser = null;
  let printer = null;
  let orderRef = null;

  const $ = (id) => browser.$(tid(id));
  const text = (id) => textOf(browser, tid(id));
  const step = journey('till', () => browser);

  /** Close the toasts still on screen with their ✕ (they would cover the Till day panel). */
  async function closeToasts() {
    for (const close of await browser.$$(`${tid('toast')} button`)) await close.click().catch(() => {}); // may expire meanwhile
    await browser.$(tid('toast')).waitForExist({ reverse: true });
  }

  /** What a USB scanner does in the till's search box: the digits, then Enter (U+E007). */
  async function scan(digits) {
    await $('till-search').addValue(`${digits}\uE007`);
  }

  after(async () => {
    if (browser) await browser.deleteSession().catch(() => {});
    printer?.stop();
  });

  step('a new shop and a receipt printer on the network', async () => {
    printer = await startPrinter(PRINTER_DIR);
    mkdirSync(DATA_DIR, { recursive: true });
    browser = await startApp({ dataDir: DATA_DIR });
    await $('setup-form').waitForDisplayed({ timeoutMsg: 'setup-form not shown on first start' });
    await $('setup-name').setValue(SHOP.name);
    await $('setup-currency').setValue(SHOP.currency);
    await $('setup-timezone').selectByAttribute('value', SHOP.timezone);
    await $('setup-locale').selectByAttribute('value', 'en');
    await $('setup-save').click();
    await $('shop-name').waitForDisplayed({ timeoutMsg: 'header shop-name not shown after setup' });
  });

  step('Settings → Receipts: the printer address is checked, then saved with auto print', async () => {
    await $('nav-settings').click();
    await $('receipt-settings').waitForDisplayed({ timeoutMsg: 'no Receipts panel in Settings' });
    await $('receipt-settings').scrollIntoView();
    await $('receipt-printer').setValue('printer-in-the-back');
    await $('receipt-settings-save').click();
    await eventually(async () => {
      const errors = await textsOf(browser, `${tid('receipt-settings')} .field-error`);
      assert.equal(errors.length, 1, `one field error for a made-up address, got ${JSON.stringify(errors)}`);
    });
    await $('receipt-printer').clearValue();
    await $('receipt-printer').setValue(`tcp://127.0.0.1:${printer.port}`);
    if (!(await $('receipt-auto-print').isSelected())) await $('receipt-auto-print').click();
    await $('receipt-settings-save').click();
    await eventually(async () => {
      const toasts = await textsOf(browser, tid('toast'));
      assert.ok(toasts.some((t) => t.includes(lang['receiptSettings.saved'])), `saved toast, got ${JSON.stringify(toasts)}`);
    });
    // The headless command reads the same shop file: what the panel saved is stored.
    const got = spawnSync(env.binary, ['--data-dir', DATA_DIR, 'settings', 'get', 'receipt.printer'], { encoding: 'utf8' });
    assert.equal(got.stdout.trim(), `tcp://127.0.0.1:${printer.port}`, got.stderr);
    await screenshot(browser, 'till-receipt-settings.png');
  });

  step('Settings → This till: a name too long is refused, then this computer is till 收银台 2', async () => {
    await $('till-settings').scrollIntoView();
    await $('till-name').setValue('x'.repeat(65));
    await $('till-settings-save').click();
    await eventually(async () => assert.match(await textOf(browser, '#till-name-error'), /64/, 'the limit is said under the field'));
    assert.equal((await browser.$$(tid('till-badge'))).length, 0, 'nothing saved: no till in the header');
    await $('till-name').clearValue();
    await $('till-name').setValue(` ${TILL} `);
    await $('till-settings-save').click();
    await eventually(async () => assert.equal(await text('till-badge'), fill(lang['app.tillBadge'], { till: TILL })));
    // Kept on this computer beside the shop's other files, not in the shared database.
    assert.deepEqual(JSON.parse(readFileSync(path.join(DATA_DIR, 'till.json'), 'utf8')), { name: TILL });
  });

  step('Settings → Taxes: a percentage out of range is refused, then VAT 19 % is the default', async () => {
    await $('tax-settings').scrollIntoView();
    assert.equal(await $('prices-include-tax').isSelected(), true, 'a new shop prices with tax included');
    await $('tax-rate-name').setValue('VAT');
    await $('tax-rate-percent').setValue('190');
    await $('tax-rate-add').click();
    await eventually(async () => assert.match(await textOf(browser, '#tax-rate-percent-error'), /\S/, 'a sentence under the percent'));
    await $('tax-rate-percent').clearValue();
    await $('tax-rate-percent').setValue('19');
    await $('tax-rate-add').click();
    await eventually(async () => {
      assert.deepEqual(await textsOf(browser, `${tid('tax-rate')} .name`), ['VAT']);
      assert.equal(await text('tax-rate-default'), lang['taxSettings.default'], 'the first rate is the default');
    });
  });

  step('the catalog: a product with a barcode (a wrong check digit refused first) and a low-stock level', async () => {
    await $('nav-catalog').click();
    await $('catalog-new').click();
    await $('editor').waitForDisplayed();
    await $('editor-name').setValue(TOTE.name);
    await $('editor-price').setValue(TOTE.price);
    await $('editor-sku').setValue(TOTE.sku);
    await $('editor-stock').setValue('3');
    await $('editor-lowStock').setValue('5');
    await $('editor-barcode').setValue('4006381333932');
    await $('editor-save').click();
    await eventually(async () => {
      assert.equal(await $('editor-barcode').getAttribute('aria-invalid'), 'true', 'the wrong check digit is marked on the field');
      assert.match(await textOf(browser, '#editor-barcode-error'), /\S/, 'a sentence under the barcode field');
    });
    assert.equal(await $('editor').getAttribute('data-product-id'), '', 'nothing was saved');
    await $('editor-barcode').clearValue();
    await $('editor-barcode').setValue(TOTE.barcode);
    await $('editor-save').click();
    await eventually(async () => assert.match((await $('editor').getAttribute('data-product-id')) ?? '', /^\d+$/));
    await $('editor-close').click();
    await $('editor').waitForExist({ reverse: true, timeoutMsg: 'editor did not close' });
    // 3 in stock at a level of 5: the list says it runs low.
    await eventually(async () => assert.deepEqual(await textsOf(browser, tid('row-low-stock')), [lang['row.lowStock']]));
  });

  step('the till day opens with a float of €100.00', async () => {
    await $('nav-till').click();
    await $('till-day-float').waitForDisplayed({ timeoutMsg: 'no Till day panel on the till' });
    await $('till-day-float').setValue('100.00');
    await $('till-day-open-btn').click();
    await eventually(async () => assert.match(await text('till-day-open'), /€100\.00/));
  });

  step('the till: an unknown barcode says so, the product’s barcode adds it and clears the box', async () => {
    await $('till-search').waitForDisplayed({ timeoutMsg: 'till screen not shown' });
    // A valid GTIN-8 no product has.
    await scan('96385074');
    await eventually(async () => assert.equal(await text('till-search-notice'), fill(lang['till.barcodeUnknown'], { barcode: '96385074' })));
    assert.equal((await browser.$$(tid('till-line'))).length, 0, 'nothing added');

    await $('till-search').clearValue();
    await scan(TOTE.barcode);
    await eventually(async () => {
      assert.deepEqual(await textsOf(browser, `${tid('till-line')} .name`), [TOTE.name]);
      assert.equal(await $('till-search').getValue(), '', 'the search box is cleared for the next scan');
      assert.equal((await browser.$$(tid('till-search-notice'))).length, 0, 'the sentence about the last scan is gone');
      assert.equal(await text('till-total'), '€12.00');
    });
  });

  step('10 % off the line, paid in cash: the receipt shows the engine’s discount and prints by itself', async () => {
    await $('till-line-discount').setValue('10%');
    await $('till-line-discount-reason').setValue('shop-worn');
    // The engine prices the cart as it is typed: the discounted total and the tax in it.
    await eventually(async () => {
      assert.equal(await text('till-total'), '€10.80');
      assert.equal(await text('till-preview-discount'), fill(lang['till.previewDiscount'], { amount: '€1.20' }));
      assert.equal(await text('till-preview-tax'), fill(lang['till.previewTaxIncluded'], { name: 'VAT', amount: '€1.72' }));
    });
    await screenshot(browser, 'till-discount.png');
    await $('till-pay-cash').click();
    await browser.$('#till-paid').waitForDisplayed({ timeoutMsg: 'no receipt after a cash sale' });
    orderRef = await text('receipt-ref');
    assert.equal(await text('receipt-total'), '€10.80');
    assert.deepEqual(await textsOf(browser, `${tid('receipt-line-discount')} td`), [`${lang['receipt.discount']} · shop-worn`, '−€1.20']);
    // 19 % included in €10.80: €1.72 of tax on €9.08.
    assert.deepEqual(await textsOf(browser, `${tid('receipt-tax')} td`), ['VAT (19 %)', fill(lang['receipt.taxIncluded'], { net: '€9.08' }), '€1.72']);
    await eventually(async () => {
      const toasts = await textsOf(browser, tid('toast'));
      const printed = fill(lang['receipt.printed'], { printer: `tcp://127.0.0.1:${printer.port}` });
      assert.ok(toasts.some((t) => t.includes(printed)), `"${printed}" toast, got ${JSON.stringify(toasts)}`);
    });
    await screenshot(browser, 'till-receipt.png');

    const receipt = await printedReceipt(1);
    const lines = receipt.lines.join('\n');
    assert.ok(receipt.lines.some((l) => l.includes(TOTE.name)), `the product on the receipt:\n${lines}`);
    assert.ok(receipt.lines.some((l) => /Discount \(shop-worn\) -€1\.20/.test(l)), `the line's discount on the receipt:\n${lines}`);
    assert.ok(receipt.lines.some((l) => l.includes('€10.80')), `the total on the receipt:\n${lines}`);
    assert.ok(receipt.lines.some((l) => l.includes('VAT 19%') && l.includes('€1.72')), `the tax on the receipt:\n${lines}`);
    assert.ok(receipt.lines.some((l) => l.includes(orderRef)), `the order reference on the receipt:\n${lines}`);
    assert.equal(receipt.cut_last, true, 'the paper is cut after the receipt');
    assert.deepEqual(receipt.drawer_kicks, [], 'the drawer kick is off in Settings');
    assert.deepEqual(receipt.unknown, [], 'every command the printer got is a known one');
  });

  step('Payments: the till filter finds the sale; its receipt reprints, and saves as a PDF', async () => {
    await $('nav-payments').click();
    await $('payment-row').waitForDisplayed({ timeoutMsg: 'no payment in the feed' });
    // The sale carries this computer's till: the till filter finds it, another till's shows nothing.
    await $('filter-till').setValue('Front');
    await eventually(async () => assert.equal((await browser.$$(tid('payment-row'))).length, 0, 'no sale at till Front'));
    await $('filter-till').clearValue();
    await $('filter-till').setValue(TILL);
    await eventually(async () => assert.equal((await browser.$$(tid('payment-row'))).length, 1, `the sale at ${TILL}`));
    const listed = spawnSync(env.binary, ['--data-dir', DATA_DIR, 'payments', 'list', '--till', TILL, '--json'], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(JSON.parse(listed.stdout).length, 1, `the headless list agrees: ${listed.stdout}`);
    await $('payment-row').click();
    await $('detail-reprint').waitForDisplayed({ timeoutMsg: 'no Reprint receipt in the payment detail' });
    await $('detail-reprint').click();
    const again = await printedReceipt(2);
    assert.ok(again.lines.some((l) => l.includes(TOTE.name)) && again.cut_last, 'the reprint is the same receipt');

    const pdf = path.join(WORK, 'till-receipt.pdf');
    await answerSaveDialog(browser, pdf);
    await $('detail-receipt-pdf').click();
    await eventually(async () => assert.ok(existsSync(pdf), 'no receipt PDF written'));
    await eventually(async () => {
      const out = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stdout, /Linen tote bag/);
      assert.match(out.stdout, /10\.80/);
    });
  });

  step('the till day: the X report counts the sale, closing with €110.00 counted shows the Z figures and saves them', async () => {
    await $('nav-till').click();
    // The till still shows the last sale's receipt (it survives a look at Payments).
    await $('till-new-sale').click();
    await closeToasts();
    await $('till-day-x').waitForDisplayed({ timeoutMsg: 'the till day is not open' });
    await $('till-day-x').click();
    await eventually(async () => {
      assert.equal(await $('till-report').getAttribute('data-kind'), 'X');
      assert.equal(await text('till-report-sales'), '€10.80');
      assert.equal(await text('till-report-expected'), '€110.80', 'float + the cash sale');
    });
    await $('till-day-counted').setValue('110.00');
    await $('till-day-close').click();
    await eventually(async () => {
      assert.equal(await $('till-report').getAttribute('data-kind'), 'Z');
      assert.equal(await text('till-report-counted'), '€110.00');
      assert.match(await text('till-report-difference'), /^[-−]€0\.80$/, 'eighty cents short');
    });
    assert.equal((await browser.$$(tid('till-day-float'))).length, 1, 'the till is closed: it offers to open again');
    await screenshot(browser, 'till-z-report.png');

    const pdf = path.join(WORK, 'till-z.pdf');
    await answerSaveDialog(browser, pdf);
    await $('till-report-pdf').click();
    await eventually(async () => {
      assert.ok(existsSync(pdf), 'no Z report PDF written');
      const out = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stdout, /10\.80/);
      assert.match(out.stdout, /110\.00/);
    });
  });

  step('Reports: the tote runs low (2 left of a level of 5), and the day’s discount and tax are counted', async () => {
    await $('nav-reports').click();
    await $('dash-low-stock').waitForDisplayed({ timeoutMsg: 'no Running low list on the dashboard' });
    await eventually(async () => {
      const rows = await textsOf(browser, tid('dash-low-product'));
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.match(rows[0], new RegExp(`^${TOTE.name}`));
      assert.match(rows[0], new RegExp(fill(lang['reports.left'], { count: 2 })));
      assert.equal(
        await text('dash-today-extra'),
        fill(lang['reports.discountsAndTax'], { discounts: '€1.20', tax: '€1.72' }),
      );
    });
    await screenshot(browser, 'till-dashboard.png');
  });
});
