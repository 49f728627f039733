// The Reports screen on a shop of its own: a cash sale and a test-mode sale paid the way a
// phone pays; the dashboard counts today's cash, the test sale only when asked and live as it is
// paid; the CSV and the PDF export land where the save dialog says, with the columns and the
// amounts the shop sold; a period that ends before it starts is explained beside the dates.
// Steps run in order; after a failing step the rest are skipped.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe } from 'node:test';
import {
  answerSaveDialog,
  askedSaveDialogs,
  env,
  eventually,
  messages,
  newShopWithProduct,
  payTestCheckout,
  screenshot,
  setDate,
  startApp,
  textOf,
  textsOf,
  tid,
  journey,
} from './helpers.js';

const DATA_DIR = path.join(path.dirname(env.dataDir), 'shop-reports');
const OUT_DIR = path.join(path.dirname(env.dataDir), 'reports-out');
const SHOP = { name: 'Reports Tea Shop', currency: 'CNY', timezone: 'Asia/Shanghai' };
const TEA = { name: '龙井绿茶 Longjing', price: '88', sku: 'TEA-LJ-1' };
const lang = messages.en;

/** The engine's CSV columns, in order (crates/core/src/reports.rs, README). */
const CSV_COLUMNS = [
  'local_date', 'local_time', 'order_id', 'provider', 'provider_ref', 'method', 'sku', 'product', 'quantity',
  'gross', 'refunded', 'net', 'currency', 'status', 'channel', 'post_network', 'post_url', 'signage_id', 'test',
  'discount', 'tax_rate', 'tax',
];

/** Today's date in the shop's time zone, and this month's first and last day. */
function shopMonth(now = new Date()) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: SHOP.timezone }).format(now);
  const [y, m] = today.split('-').map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const mm = String(m).padStart(2, '0');
  return { today, from: `${y}-${mm}-01`, to: `${y}-${mm}-${String(last).padStart(2, '0')}` };
}

/** RFC 4180 CSV into rows of cells (quotes, doubled quotes, CRLF). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** The CSV's data rows as objects keyed by its header. */
function csvRecords(text) {
  const [header, ...rows] = parseCsv(text);
  assert.deepEqual(header, CSV_COLUMNS, 'CSV header columns');
  return rows.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i]])));
}

describe('reports journey', () => {
  /** @type {WebdriverIO.Browser | null} */
  let browser = null;

  const $ = (id) => browser.$(tid(id));
  const text = (id) => textOf(browser, tid(id));

  const step = journey('reports', () => browser);

  /** Today's net per currency as the dashboard shows it: { CNY: '¥176.00' }. */
  async function todayTotals() {
    return browser.execute((sel) => Object.fromEntries(
      Array.from(document.querySelectorAll(sel)).map((el) => [el.dataset.currency, el.querySelector('.net').textContent.trim()]),
    ), tid('dash-today-total'));
  }

  /** Put the product on the till `times` times. */
  async function addTea(times) {
    await $('till-search').waitForDisplayed({ timeoutMsg: 'till search not shown' });
    await $('till-search').setValue('龙井');
    await eventually(async () => assert.deepEqual(await textsOf(browser, `${tid('till-result')} .name`), [TEA.name]));
    for (let i = 0; i < times; i++) await $('till-result').click();
    await eventually(async () => assert.equal(await text('till-qty'), String(times)));
  }

  /** Export with the form as it is, answering the save dialog with `file`; returns the "done" line. */
  async function exportTo(file) {
    await answerSaveDialog(browser, file);
    await $('report-export-button').waitForEnabled({ timeoutMsg: 'Export… is not enabled' });
    await $('report-export-button').click();
    await $('report-done').waitForDisplayed({ timeout: 20_000, timeoutMsg: `no export result for ${file}` });
    await eventually(async () => assert.equal(await text('report-path'), file));
    return { rows: Number(await $('report-done').getAttribute('data-rows')), text: await text('report-done') };
  }

  after(async () => {
    if (browser) await browser.deleteSession().catch(() => {});
  });

  step('a new shop with one product', async () => {
    mkdirSync(DATA_DIR, { recursive: true });
    mkdirSync(OUT_DIR, { recursive: true });
    browser = await startApp({ dataDir: DATA_DIR });
    await newShopWithProduct(browser, SHOP, TEA);
  });

  step('before any sale the dashboard says so', async () => {
    await $('nav-reports').click();
    await $('reports-dashboard').waitForDisplayed({ timeoutMsg: 'Reports screen not shown' });
    await $('dash-today-empty').waitForDisplayed({ timeoutMsg: 'no "no sales yet" on a new shop' });
    assert.equal(await text('dash-today-empty'), lang['reports.noSalesToday']);
  });

  step('a cash sale of two teas at the till', async () => {
    await $('nav-till').click();
    await addTea(2);
    await eventually(async () => assert.equal(await text('till-total'), '¥176.00'));
    await $('till-pay-cash').click();
    await browser.$('#till-paid').waitForDisplayed({ timeoutMsg: 'cash payment not shown as paid' });
    assert.equal(await text('receipt-total'), '¥176.00');
  });

  step('the dashboard counts the cash; a test sale paid while it is open only with the toggle, live', async () => {
    // A test-mode sale whose QR stays up while the owner looks at Reports.
    await $('till-new-sale').click();
    await addTea(1);
    await $('till-pay-test').waitForEnabled({ timeoutMsg: 'the Test QR button is not enabled' });
    await $('till-pay-test').click();
    await $('till-qr').waitForDisplayed({ timeoutMsg: 'no QR shown after choosing Test' });
    const checkout = await textOf(browser, '#till-checkout-url');
    assert.match(checkout, /^http:\/\/127\.0\.0\.1:\d+\/pay\/[A-Za-z0-9_-]+$/);

    await $('nav-reports').click();
    await eventually(async () => assert.deepEqual(await todayTotals(), { CNY: '¥176.00' }));
    assert.match(await text('dash-today'), /1 payment · ¥176\.00 in/);
    // One bar per day of the last 30; today's holds the cash, and the scale is a round amount.
    await eventually(async () => {
      const bars = await browser.execute((sel) => Array.from(document.querySelectorAll(sel)).map((b) => [b.dataset.date, Number(b.dataset.net)]), tid('dash-bar'));
      assert.equal(bars.length, 30, 'bars in the 30-day chart');
      assert.deepEqual(bars.at(-1), [shopMonth().today, 17_600]);
      assert.equal(bars.filter(([, net]) => net > 0).length, 1);
    });
    assert.equal(await text('dash-chart-max'), '¥200.00');
    assert.match(await textOf(browser, `${tid('dash-product')} .name`), /^龙井绿茶 Longjing\s*TEA-LJ-1$/);

    await $('dash-include-test').click();
    // Still unpaid: nothing changes.
    await eventually(async () => assert.deepEqual(await todayTotals(), { CNY: '¥176.00' }));

    const reply = await payTestCheckout(checkout);
    assert.equal(reply.status, 200, 'the test checkout page takes the payment');
    await eventually(async () => assert.deepEqual(await todayTotals(), { CNY: '¥264.00' }), { timeout: 5_000 });
    // Cash 176 of 264 is 66.7 %: whole percents that add up to 100.
    await eventually(async () => {
      const split = await browser.execute((sel) => Array.from(document.querySelectorAll(sel)).map((li) => [li.querySelector('.name').textContent.trim(), Number(li.dataset.percent)]), tid('dash-method'));
      assert.deepEqual(split, [[lang['method.cash'], 67], [lang['provider.test'], 33]]);
    });
    await screenshot(browser, 'reports-dashboard.png');

    await $('dash-include-test').click();
    await eventually(async () => assert.deepEqual(await todayTotals(), { CNY: '¥176.00' }));
  });

  step('export this month as CSV: the file has the columns and the cash sale', async () => {
    const month = shopMonth();
    await $('report-preset-thisMonth').click();
    await eventually(async () => {
      assert.equal(await $('report-from').getValue(), month.from);
      assert.equal(await $('report-to').getValue(), month.to);
      assert.equal(await $('report-preset-thisMonth').getAttribute('aria-pressed'), 'true');
    });
    await eventually(async () => assert.match(await text('report-preview-total'), /^¥176\.00 1 payment · ¥176\.00 in/));
    await $('report-format-csv').click();

    const file = path.join(OUT_DIR, `sales-${month.from}_${month.to}.csv`);
    const done = await exportTo(file);
    const [asked] = await askedSaveDialogs(browser);
    assert.equal(asked.defaultPath, `sales-${month.from}_${month.to}.csv`, 'the save dialog suggests the period as the file name');
    assert.deepEqual(asked.filters[0].extensions, ['csv']);
    assert.equal(done.rows, 1);
    assert.match(done.text, /Saved 1 row \(\d+ bytes\)/);
    assert.ok(await $('report-open').isDisplayed(), 'Open file offered');
    assert.ok(await $('report-show').isDisplayed(), 'Show in folder offered');

    const csv = readFileSync(file, 'utf8');
    assert.notEqual(csv.charCodeAt(0), 0xfeff, 'no byte-order mark unless asked for Excel');
    const records = csvRecords(csv);
    assert.equal(records.length, 1, `one sale line without test payments: ${JSON.stringify(records)}`);
    assert.deepEqual(
      (({ local_date, provider, method, sku, product, quantity, gross, refunded, net, currency, status, channel, test }) =>
        ({ local_date, provider, method, sku, product, quantity, gross, refunded, net, currency, status, channel, test }))(records[0]),
      {
        local_date: month.today, provider: 'manual', method: 'cash', sku: TEA.sku, product: TEA.name, quantity: '2',
        gross: '176.00', refunded: '0.00', net: '176.00', currency: 'CNY', status: 'paid', channel: 'till', test: 'no',
      },
    );
    await browser.execute((sel) => document.querySelector(sel).scrollIntoView({ block: 'end' }), tid('report-done'));
    await screenshot(browser, 'reports-export.png');
  });

  step('with test payments and for Excel: a byte-order mark and both sales', async () => {
    const month = shopMonth();
    await $('report-include-test').click();
    await eventually(async () => assert.match(await text('report-preview-total'), /^¥264\.00 2 payments/));
    await $('report-excel').click();
    const file = path.join(OUT_DIR, 'with-test.csv');
    const done = await exportTo(file);
    assert.equal(done.rows, 2);
    const csv = readFileSync(file, 'utf8');
    assert.equal(csv.charCodeAt(0), 0xfeff, 'Excel needs the byte-order mark');
    const records = csvRecords(csv.slice(1));
    assert.deepEqual(records.map((r) => [r.provider, r.gross, r.test, r.local_date]).sort(), [
      ['manual', '176.00', 'no', month.today],
      ['test', '88.00', 'yes', month.today],
    ]);
    await $('report-excel').click();
    await $('report-include-test').click();
  });

  step('export the PDF report', async () => {
    const month = shopMonth();
    await $('report-format-pdf').click();
    assert.equal(await $('report-excel').isExisting(), false, '"for Excel" only goes with CSV');
    const file = path.join(OUT_DIR, 'report.pdf');
    await exportTo(file);
    const asked = await askedSaveDialogs(browser);
    assert.equal(asked.at(-1).defaultPath, `sales-${month.from}_${month.to}.pdf`);
    assert.equal(readFileSync(file).subarray(0, 5).toString('latin1'), '%PDF-');
  });

  step('a folder that does not exist is explained, and no file appears', async () => {
    await $('report-format-csv').click();
    const file = path.join(OUT_DIR, 'no-such-folder', 'sales.csv');
    await answerSaveDialog(browser, file);
    await $('report-export-button').click();
    await eventually(async () => {
      const banner = await textOf(browser, `${tid('report-export')} ${tid('error-banner')}`);
      assert.ok(banner.includes(lang['error.io']), `io error in plain words, got ${JSON.stringify(banner)}`);
    });
    assert.equal(await $('report-done').isExisting(), false, 'no success shown after a failed export');
    assert.equal(existsSync(file), false);
  });

  step('a period that ends before it starts is explained beside the dates', async () => {
    const month = shopMonth();
    await setDate(browser, tid('report-from'), month.to);
    await setDate(browser, tid('report-to'), month.from);
    await eventually(async () => assert.equal(await textOf(browser, '#report-from-error'), 'The start date is after the end date.'));
    assert.equal(await $('report-from').getAttribute('aria-invalid'), 'true');
    assert.equal(await $('report-export-button').isEnabled(), false, 'Export… waits for a valid period');
    assert.equal(await $('report-preset-thisMonth').getAttribute('aria-pressed'), 'false');
    await screenshot(browser, 'reports-period-error.png');

    // Choosing a preset puts it right.
    await $('report-preset-lastMonth').click();
    await browser.$('#report-from-error').waitForExist({ reverse: true, timeoutMsg: 'the period error stayed after choosing Last month' });
    await $('report-export-button').waitForEnabled();
    await eventually(async () => assert.equal(await text('report-preview-empty'), lang['reports.previewEmpty']));
  });
});
