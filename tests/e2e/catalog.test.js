// One shop owner's journey through the real Shopcast window: first-start setup, products
// with a photo, validation, search, price edits, language switch, and a restart.
// Steps run in order on one shop folder; after a failing step the rest are skipped.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe } from 'node:test';
import {
  env,
  eventually,
  makePng,
  messages,
  processesMentioning,
  readCount,
  readRows,
  screenshot,
  setInputFile,
  startApp,
  textOf,
  textsOf,
  typeInto,
  tid,
  journey,
} from './helpers.js';

const SHOP = {
  name: '茶叶铺 Tea & Co <b>',
  currency: 'CNY',
  timezone: 'Asia/Shanghai',
  locale: 'en',
  buyLink: 'https://shop.example.com/p/',
};
const TEA = { name: '龙井绿茶 Longjing 🍵', price: '¥88', sku: 'TEA-LJ-1', stock: '12', tags: 'tea, 绿茶' };
const CUP = { name: 'Blue cup 青花瓷杯', price: '35' };
const PHOTO = makePng(600, 400);
const PHOTO_HASH = createHash('sha256').update(PHOTO).digest('hex');

describe('shop owner journey', () => {
  /** @type {WebdriverIO.Browser | null} */
  let browser = null;
  let teaId = null;
  let lang = messages.en;

  const $ = (id) => browser.$(tid(id));
  const text = (id) => textOf(browser, tid(id));
  /** A CNY amount as the app shows it, in either language (narrow symbol: ¥88.00). */
  const money = (decimal) => '¥' + decimal;
  const preview = (amount) => lang['editor.pricePreview'].replace('{amount}', amount);

  const step = journey('catalog', () => browser);

  async function rowNamed(name) {
    const row = (await readRows(browser)).find((r) => r.name === name);
    assert.ok(row, `no catalog row named ${JSON.stringify(name)}`);
    return row;
  }

  async function expectRows(expected, timeout = undefined) {
    await eventually(async () => {
      assert.equal(await readCount(browser), String(expected.length), 'catalog-count data-count');
      assert.deepEqual(
        (await readRows(browser)).map((r) => r.name),
        expected,
        'names of the rendered rows',
      );
    }, { timeout });
  }

  async function expectThumbLoaded(name) {
    await eventually(async () => {
      const { thumb } = await rowNamed(name);
      assert.ok(thumb, `row ${name} has no row-thumb <img>`);
      assert.match(thumb.src, /^media:\/\/localhost\/[0-9a-f]{64}\/thumb$/, 'thumb URL');
      assert.ok(thumb.complete && thumb.naturalWidth > 0, `thumb not loaded: ${JSON.stringify(thumb)}`);
      // The app scales into 320x320 keeping the aspect: our 600x400 picture gives 3:2.
      assert.ok(Math.abs(thumb.naturalWidth / thumb.naturalHeight - 1.5) < 0.02, `thumb size ${thumb.naturalWidth}x${thumb.naturalHeight}`);
    });
  }

  async function setSearch(text) {
    const input = await $('catalog-search');
    await input.setValue(text);
    await eventually(async () => assert.equal(await input.getValue(), text));
  }

  async function openProduct(name) {
    const { id } = await rowNamed(name);
    await browser.$(`${tid('catalog-row')}[data-product-id="${id}"]`).click();
    await eventually(async () => {
      assert.equal(await $('editor').getAttribute('data-product-id'), id, 'editor shows the clicked product');
      assert.equal(await $('editor-name').getValue(), name);
      // The editor focuses the name once loaded; type elsewhere only after that.
      assert.equal(await browser.execute(() => document.activeElement?.dataset.testid), 'editor-name');
    });
    return id;
  }

  /** Close the editor; confirm discarding when it asks. */
  async function closeEditor({ expectConfirm }) {
    await $('editor-close').click();
    if (expectConfirm) {
      await $('confirm-yes').waitForDisplayed();
      await $('confirm-yes').click();
    }
    await $('editor').waitForExist({ reverse: true, timeoutMsg: 'editor did not close' });
  }

  async function expectPriceError() {
    await eventually(async () => {
      const err = await browser.$(`#editor-price-error${tid('field-error')}`);
      assert.ok(await err.isDisplayed(), 'price field-error is not shown');
      assert.notEqual(await textOf(browser, '#editor-price-error'), '', 'price field-error is empty');
    });
  }

  /** Close the toasts still on screen with their ✕ (they would hide the About box). */
  async function dismissToasts() {
    for (const close of await browser.$$(`${tid('toast')} button`)) await close.click().catch(() => {}); // may expire meanwhile
    await browser.$(tid('toast')).waitForExist({ reverse: true });
  }

  after(async () => {
    if (browser) await browser.deleteSession().catch(() => {});
  });

  step('first start shows the setup form; saving it opens the empty catalog', async () => {
    browser = await startApp();
    await $('setup-form').waitForDisplayed({ timeoutMsg: 'setup-form not shown on first start' });
    assert.equal(await $('shop-name').isExisting(), false, 'no shop header before setup');

    await $('setup-name').setValue(SHOP.name);
    await $('setup-currency').setValue(SHOP.currency);
    await $('setup-timezone').selectByAttribute('value', SHOP.timezone);
    await $('setup-locale').selectByAttribute('value', SHOP.locale);
    await $('setup-buylink').setValue(SHOP.buyLink);
    await eventually(async () => {
      assert.equal(await $('setup-name').getValue(), SHOP.name);
      assert.equal(await $('setup-currency').getValue(), SHOP.currency);
      assert.equal(await $('setup-timezone').getValue(), SHOP.timezone);
      assert.equal(await $('setup-locale').getValue(), SHOP.locale);
      assert.equal(await $('setup-buylink').getValue(), SHOP.buyLink);
    });
    await screenshot(browser, 'setup.png');

    await $('setup-save').click();
    await $('shop-name').waitForDisplayed({ timeoutMsg: 'header shop-name not shown after setup' });
    const header = await browser.execute((sel) => {
      const el = document.querySelector(sel);
      return { text: el.textContent, elements: el.querySelectorAll('*').length, bolds: document.querySelectorAll('b').length };
    }, tid('shop-name'));
    assert.deepEqual(header, { text: SHOP.name, elements: 0, bolds: 0 }, 'shop name rendered as plain text, no <b> injected');
    assert.equal(await $('setup-form').isExisting(), false);

    await $('empty-state').waitForDisplayed({ timeoutMsg: 'empty-state not shown for a new shop' });
    await eventually(async () => assert.equal(await readCount(browser), '0'));
    assert.equal(await text('nav-catalog'), lang['nav.catalog']);
    await screenshot(browser, 'catalog-empty.png');
  });

  step('create a product', async () => {
    await $('catalog-new').click();
    await $('editor').waitForDisplayed();
    await typeInto(browser, tid('editor-name'), TEA.name);
    await $('editor-price').setValue(TEA.price);
    await $('editor-sku').setValue(TEA.sku);
    await $('editor-stock').setValue(TEA.stock);
    await $('editor-tags').setValue(TEA.tags);
    assert.equal(await $('editor-currency').getValue(), SHOP.currency, 'a new product starts in the shop currency');
    // Live check of the price by the Rust parser.
    await eventually(async () => assert.equal(await text('price-preview'), preview(money('88.00'))));

    const savedFrom = Date.now();
    await $('editor-save').click();
    await eventually(async () => {
      teaId = await $('editor').getAttribute('data-product-id');
      assert.match(teaId ?? '', /^\d+$/, 'editor has the id of the created product');
    });
    // Times are shown in the shop's time zone (Asia/Shanghai, not the machine's UTC).
    const clock = new Intl.DateTimeFormat('en', { timeStyle: 'short', timeZone: SHOP.timezone });
    const minutes = new Set();
    for (let ms = savedFrom - 60_000; ms <= Date.now() + 60_000; ms += 30_000) minutes.add(clock.format(ms).replace(/\s+/g, ' '));
    await eventually(async () => {
      const stamps = (await textOf(browser, `${tid('editor')} .stamps`)).replace(/\s+/g, ' ');
      assert.ok([...minutes].some((m) => stamps.includes(m)), `stamps ${JSON.stringify(stamps)} show none of ${[...minutes].join(' | ')}`);
    });
    // The saved product is loaded back into the form: normalized price, committed tags.
    await eventually(async () => {
      assert.equal(await $('editor-price').getValue(), '88.00');
      const chips = await browser.execute((sel) => Array.from(document.querySelectorAll(sel)).map((c) => c.querySelector('.chip-text').textContent), tid('editor-tag'));
      assert.deepEqual(chips, ['tea', '绿茶'], 'tag chips');
    });
  });

  step('the catalog list shows the first product right after it is created', async () => {
    await expectRows([TEA.name], 5000);
  });

  step('add a photo through the file input', async () => {
    await $('photo-add').waitForDisplayed({ timeoutMsg: 'photo-add not offered for a saved product' });
    await setInputFile(browser, tid('photo-input'), { name: 'tea.png', type: 'image/png', bytes: PHOTO });
    await $('photo-thumb').waitForDisplayed({ timeoutMsg: 'photo-thumb did not appear after choosing a PNG' });
    const photo = await browser.execute((sel) => {
      const li = document.querySelector(sel);
      const img = li.querySelector('img');
      return { hash: li.dataset.hash, width: img.getAttribute('width'), height: img.getAttribute('height') };
    }, tid('photo-thumb'));
    assert.deepEqual(photo, { hash: PHOTO_HASH, width: '600', height: '400' }, 'stored photo = the uploaded bytes');
    const stored = path.join(env.dataDir, 'media', PHOTO_HASH.slice(0, 2), `${PHOTO_HASH}.img`);
    assert.ok(existsSync(stored), `photo file ${stored}`);
    assert.ok(readFileSync(stored).equals(PHOTO), 'photo file holds exactly the uploaded bytes');
    await eventually(async () => {
      const loaded = await browser.execute((sel) => {
        const img = document.querySelector(`${sel} img`);
        return img.complete && img.naturalWidth > 0;
      }, tid('photo-thumb'));
      assert.ok(loaded, 'editor photo thumbnail did not load');
    });
    await $('photo-thumb').scrollIntoView({ block: 'center' });
    await screenshot(browser, 'editor.png');
  });

  step('an invalid price shows a field error and does not change the stored price', async () => {
    await $('editor-price').setValue('12.5.5');
    await expectPriceError();
    await $('editor-save').click();
    await expectPriceError();
    await eventually(async () => assert.equal(await $('editor-save').isEnabled(), true));

    // Fractions of a yen do not exist.
    await $('editor-currency').setValue('JPY');
    await $('editor-price').setValue('500.5');
    await expectPriceError();
    await $('editor-save').click();
    await expectPriceError();
    await eventually(async () => assert.equal(await $('editor-save').isEnabled(), true));
    await $('editor-price').scrollIntoView({ block: 'center' });
    await screenshot(browser, 'editor-invalid-price.png');

    await closeEditor({ expectConfirm: true });
    await openProduct(TEA.name);
    assert.equal(await $('editor-price').getValue(), '88.00', 'stored price after reopening');
    assert.equal(await $('editor-currency').getValue(), 'CNY', 'stored currency after reopening');
    assert.equal(await browser.$(`#editor-price-error`).isExisting(), false, 'no price error on a fresh editor');
  });

  step('the catalog row shows name, formatted price and a loaded thumbnail', async () => {
    await closeEditor({ expectConfirm: false });
    await expectRows([TEA.name]);
    const row = await rowNamed(TEA.name);
    assert.equal(row.price, money('88.00'));
    assert.equal(row.sku, TEA.sku);
    assert.deepEqual(row.tags, ['tea', '绿茶']);
    await expectThumbLoaded(TEA.name);
    await screenshot(browser, 'catalog.png');
  });

  step('a second product, and search finds each by its Chinese name', async () => {
    await $('catalog-new').click();
    await $('editor').waitForDisplayed();
    await $('editor-name').setValue(CUP.name);
    await $('editor-price').setValue(CUP.price);
    await $('editor-save').click();
    await eventually(async () => assert.match((await $('editor').getAttribute('data-product-id')) ?? '', /^\d+$/));
    await closeEditor({ expectConfirm: false });
    await eventually(async () => {
      assert.equal(await readCount(browser), '2');
      const rows = await readRows(browser);
      assert.deepEqual(rows.map((r) => r.name).sort(), [CUP.name, TEA.name].sort());
      assert.equal(rows.find((r) => r.name === CUP.name).price, money('35.00'));
      assert.equal(rows.find((r) => r.name === CUP.name).thumb, null, 'the cup has no photo');
    });

    await setSearch('龙井');
    await expectRows([TEA.name]);
    await setSearch('青花');
    await expectRows([CUP.name]);
    await setSearch('nothing-matches-this');
    await $('empty-state').waitForDisplayed({ timeoutMsg: 'empty-state not shown for a search without results' });
    await expectRows([]);
    assert.match(await text('empty-state'), /nothing-matches-this/, 'empty state names the search');

    // Escape in the search box clears it.
    await $('catalog-search').click();
    await browser.keys('Escape');
    await eventually(async () => assert.equal(await $('catalog-search').getValue(), ''));
    await eventually(async () => assert.equal(await readCount(browser), '2'));
    assert.equal(await $('empty-state').isExisting(), false);
  });

  step('edit the price with a decimal comma', async () => {
    await openProduct(TEA.name);
    await $('editor-price').setValue('12,50');
    await eventually(async () => assert.equal(await text('price-preview'), preview(money('12.50'))));
    await $('editor-save').click();
    // The saved product comes back normalized.
    await eventually(async () => assert.equal(await $('editor-price').getValue(), '12.50'));
    await closeEditor({ expectConfirm: false });
    await eventually(async () => assert.equal((await rowNamed(TEA.name)).price, money('12.50')));
    await expectThumbLoaded(TEA.name);
  });

  step('settings: shows the saved shop; switching to 简体中文 translates the UI', async () => {
    await $('nav-settings').click();
    await $('settings-form').waitForDisplayed();
    await eventually(async () => {
      assert.equal(await $('settings-name').getValue(), SHOP.name);
      assert.equal(await $('settings-currency').getValue(), SHOP.currency);
      assert.equal(await $('settings-timezone').getValue(), SHOP.timezone);
      assert.equal(await $('settings-locale').getValue(), 'en');
      assert.equal(await $('settings-buylink').getValue(), SHOP.buyLink);
    });
    // The app uses the folder passed with --data-dir (not $SHOPCAST_DATA_DIR).
    await eventually(async () => {
      const shown = await browser.execute(() => document.querySelector('[data-testid=about-data-dir]')?.textContent);
      assert.equal(shown, env.dataDir, 'data folder shown in About');
    });
    if (env.decoyDataDir) assert.equal(existsSync(env.decoyDataDir), false, '$SHOPCAST_DATA_DIR must not be used over --data-dir');
    await dismissToasts();
    // The shop logo: a real PNG through the file input, shown from the media store.
    const LOGO = makePng(300, 120);
    await setInputFile(browser, tid('logo-input'), { name: 'logo.png', type: 'image/png', bytes: LOGO });
    await eventually(async () => {
      const loaded = await browser.execute((sel) => {
        const img = document.querySelector(sel);
        return !!img && img.complete && img.naturalWidth > 0;
      }, tid('logo-image'));
      assert.ok(loaded, 'logo thumbnail did not load');
    });
    await dismissToasts();
    await screenshot(browser, 'settings.png');

    await $('settings-locale').selectByAttribute('value', 'zh-CN');
    await $('settings-save').click();
    lang = messages['zh-CN'];
    await eventually(async () => {
      const toasts = await textsOf(browser, tid('toast'));
      assert.ok(toasts.some((t) => t.includes(lang['settings.saved'])), `saved toast, got ${JSON.stringify(toasts)}`);
    });
    await eventually(async () => {
      assert.equal(await text('nav-settings'), lang['nav.settings']);
      assert.equal(await textOf(browser, 'main h1'), lang['settings.title']);
      assert.equal(await browser.execute(() => document.documentElement.lang), 'zh-CN');
    });
    await screenshot(browser, 'settings-zh.png');

    // Leaving Settings restores the *saved* language: still Chinese means it was saved.
    await $('nav-catalog').click();
    await eventually(async () => {
      assert.equal(await textOf(browser, 'main h1'), lang['catalog.title']);
      assert.equal(await text('catalog-count'), lang['catalog.count.other'].replace('{count}', '2'));
    });
  });

  step('restart: the shop, both products, the new price and the photo are still there', async () => {
    assert.notDeepEqual(processesMentioning(env.dataDir), [], 'the app process is visible before the restart');
    await browser.deleteSession();
    browser = null;
    await eventually(() => assert.deepEqual(processesMentioning(env.dataDir), [], 'the app is still running after the session ended'));

    browser = await startApp();
    await $('shop-name').waitForDisplayed({ timeoutMsg: 'header shop-name not shown after restart' });
    assert.equal(await $('setup-form').isExisting(), false, 'setup form shown again after restart');
    assert.equal(await text('shop-name'), SHOP.name);
    await eventually(async () => {
      assert.equal(await readCount(browser), '2');
      const rows = await readRows(browser);
      assert.deepEqual(rows.map((r) => r.name).sort(), [CUP.name, TEA.name].sort());
      assert.equal(rows.find((r) => r.name === TEA.name).price, '¥12.50', 'Chinese UI: yuan as ¥');
      assert.equal(rows.find((r) => r.name === CUP.name).price, money('35.00'));
    });
    await expectThumbLoaded(TEA.name);
    // The language choice was stored too.
    assert.equal(await text('nav-catalog'), lang['nav.catalog']);
    await screenshot(browser, 'restart.png');

    const id = await openProduct(TEA.name);
    assert.equal(id, teaId, 'same product id after restart');
    assert.equal(await $('editor-sku').getValue(), TEA.sku);
    assert.equal(await $('editor-stock').getValue(), TEA.stock);
    assert.equal(await browser.$$(tid('photo-thumb')).length, 1);
    assert.equal(await $('photo-thumb').getAttribute('data-hash'), PHOTO_HASH);
  });

  step('a product QR: its tracked buy link, or a SEPA transfer with a checked IBAN', async () => {
    await $('editor-qr').click();
    await $('qr-dialog').waitForDisplayed({ timeoutMsg: 'QR dialog not shown' });
    await eventually(async () => {
      assert.match(await text('qr-payload'), /^https:\/\/shop\.example\.com\/p\/TEA-LJ-1\?src=qr&sign=S[0-9A-Z]{7}$/);
      const paths = await browser.execute((sel) => document.querySelectorAll(`${sel} svg path`).length, tid('qr-preview'));
      assert.equal(paths, 1, 'the QR is one vector path');
    });
    await $('qr-kind').selectByAttribute('value', 'epc');
    await $('qr-name').setValue('Tea and Co');
    await $('qr-iban').setValue('DE89 3704 0044 0532 0130 01');
    await eventually(async () => assert.match(await text('qr-error'), /check digit/i));
    await $('qr-iban').setValue('DE89 3704 0044 0532 0130 00');
    await $('qr-amount').setValue('12,50');
    await eventually(async () => {
      const payload = await browser.execute((sel) => document.querySelector(sel)?.textContent, tid('qr-payload'));
      assert.equal(payload, 'BCD\n002\n1\nSCT\n\nTea and Co\nDE89370400440532013000\nEUR12.5');
    });
    await screenshot(browser, 'qr-dialog.png');
    await $('qr-close').click();
    await $('qr-dialog').waitForDisplayed({ reverse: true });
  });

  step('signage: a live preview of QR labels for the catalog', async () => {
    await closeEditor({ expectConfirm: false });
    await $('nav-signage').click();
    await $('signage-form').waitForDisplayed({ timeoutMsg: 'signage screen not shown' });
    // Drawn by Rust from the same layout as the PDF: one vector QR and the names per label.
    await eventually(async () => {
      const svg = await browser.execute((sel) => document.querySelector(`${sel} svg`)?.outerHTML ?? '', tid('signage-preview'));
      assert.equal((svg.match(/<path/g) ?? []).length, 2, 'one QR per product on page 1');
      assert.equal((svg.match(/<image/g) ?? []).length, 2, 'the shop logo (set in Settings) on each label');
      assert.ok(svg.includes('¥12.50') && svg.includes('¥35.00'), 'prices on the labels');
      // The shop name is ellipsized beside the logo on a small label; no markup from it.
      assert.ok(svg.includes('茶叶铺 Tea') && !svg.includes('<b>'), 'shop name as text');
    });
    assert.equal(await browser.$(`${tid('signage-preview')} b`).isExisting(), false, 'no markup injected from the shop name');
    await screenshot(browser, 'signage.png');

    // A table tent is one product per sheet: two products, two pages.
    await $('signage-template').selectByAttribute('value', 'a5-tent');
    await eventually(async () => assert.match(await text('signage-pages'), /2/));
    await $('signage-copies').setValue('3');
    await eventually(async () => assert.match(await text('signage-pages'), /6/));

    // The owner's own label paper: 5 × 13 labels of 38.1 × 21.2 mm fit A4; 6 across do not.
    await $('signage-template').selectByAttribute('value', 'custom');
    await $('signage-grid').waitForDisplayed();
    await $('signage-copies').setValue('1');
    await eventually(async () => {
      const svg = await browser.execute((sel) => document.querySelector(`${sel} svg`)?.outerHTML ?? '', tid('signage-preview'));
      assert.equal((svg.match(/<path/g) ?? []).length, 2);
    });
    await $('grid-columns').setValue('6');
    await eventually(async () => assert.match(await text('error-banner'), /mm/));
  });
});
