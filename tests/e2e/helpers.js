// Shared helpers of the Shopcast end-to-end tests (run through ./run.sh).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { remote } from 'webdriverio';
import { eventually } from '../lib/eventually.mjs';
import { it } from 'node:test';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through tests/e2e/run.sh`);
  return v;
}

/** What run.sh hands over. */
export const env = {
  port: Number(need('E2E_DRIVER_PORT')),
  binary: need('E2E_APP_BINARY'),
  dataDir: need('E2E_DATA_DIR'),
  decoyDataDir: process.env.E2E_DECOY_DATA_DIR ?? '',
  screenshotDir: need('E2E_SCREENSHOT_DIR'),
  /** The local WeChat Pay gateway (crates/testkit's `wechat-gateway` bin). */
  wechatGateway: process.env.E2E_WECHAT_GATEWAY ?? '',
};

/** The UI's own message catalogs, so text assertions follow the translations. */
export const messages = {
  en: JSON.parse(readFileSync(path.join(HERE, '../../ui/src/lib/i18n/en.json'), 'utf8')),
  'zh-CN': JSON.parse(readFileSync(path.join(HERE, '../../ui/src/lib/i18n/zh-CN.json'), 'utf8')),
};

export const TIMEOUT = 10_000;

/**
 * Start the app in a new WebDriver session (one app process per session), on the shop
 * folder `dataDir` (run.sh's fresh folder unless a test file wants a shop of its own).
 */
export async function startApp({ dataDir = env.dataDir } = {}) {
  return remote({
    hostname: '127.0.0.1',
    port: env.port,
    path: '/',
    logLevel: 'error',
    // Never retry a request: a retried POST /session would start a second app.
    connectionRetryCount: 0,
    connectionRetryTimeout: 60_000,
    waitforTimeout: TIMEOUT,
    waitforInterval: 100,
    capabilities: {
      browserName: 'wry',
      // WebKitWebDriver speaks classic WebDriver only (no BiDi webSocketUrl).
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': { application: env.binary, args: ['--data-dir', dataDir] },
    },
  });
}

/** Selector of a data-testid. */
export const tid = (id) => `[data-testid="${id}"]`;

/** Retry until it passes (tests/lib/eventually.mjs). */
export { eventually };

/** Wait until the page has painted what the DOM holds (WebKit's snapshot lags a frame). */
export async function settlePaint(browser) {
  await browser.executeAsync((done) => {
    requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(() => done())));
  });
}

/** Save a screenshot of the window to the screenshot folder. */
export async function screenshot(browser, name) {
  await mkdir(env.screenshotDir, { recursive: true });
  await settlePaint(browser);
  const file = path.join(env.screenshotDir, name);
  await browser.saveScreenshot(file);
  return file;
}

/**
 * Text content of the elements matching `selector` (whitespace collapsed). Used instead of
 * WebDriver's getText, which WebKitWebDriver sometimes answers with "" right after a render.
 */
export async function textsOf(browser, selector) {
  return browser.execute(
    (sel) => Array.from(document.querySelectorAll(sel)).map((el) => el.textContent.replace(/\s+/g, ' ').trim()),
    selector,
  );
}

/** Text of the first element matching `selector`; throws if there is none. */
export async function textOf(browser, selector) {
  const [text] = await textsOf(browser, selector);
  if (text === undefined) throw new Error(`no element ${selector}`);
  return text;
}

/** The catalog rows as the user sees them, in one consistent read. */
export async function readRows(browser) {
  return browser.execute(() =>
    Array.from(document.querySelectorAll('[data-testid="catalog-row"]'))
      .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
      .map((row) => {
        const img = row.querySelector('img[data-testid="row-thumb"]');
        return {
          id: row.dataset.productId,
          name: row.querySelector('[data-testid="row-name"]')?.textContent ?? null,
          price: row.querySelector('[data-testid="row-price"]')?.textContent.trim() ?? null,
          sku: row.querySelector('.sku')?.textContent.trim() ?? null,
          tags: Array.from(row.querySelectorAll('.tags .tag')).map((t) => t.textContent),
          thumb: img
            ? { src: img.getAttribute('src'), complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight }
            : null,
        };
      }),
  );
}

/** The catalog's count as the app reports it (`data-count`; '' while loading). */
export async function readCount(browser) {
  return browser.$(tid('catalog-count')).getAttribute('data-count');
}

/**
 * Type `text` into an input like a user would. WebKitWebDriver's keyboard cannot send
 * characters outside the BMP (emoji): those runs are committed the way an input method
 * (emoji picker) does, with an `insertText` edit that fires the same input events.
 */
export async function typeInto(browser, selector, text) {
  const el = await browser.$(selector);
  await el.clearValue();
  for (const run of text.match(/[\u{10000}-\u{10FFFF}]+|[^\u{10000}-\u{10FFFF}]+/gu) ?? []) {
    if (run.codePointAt(0) > 0xffff) {
      const ok = await browser.execute(
        (input, s) => {
          input.focus();
          input.setSelectionRange(input.value.length, input.value.length);
          return document.execCommand('insertText', false, s);
        },
        el,
        run,
      );
      assert.ok(ok, `insertText ${run}`);
    } else {
      await el.addValue(run);
    }
  }
  assert.equal(await el.getValue(), text, `text typed into ${selector}`);
}

/** Put a file on an `<input type=file>` the way a file chooser would, and fire `change`. */
export async function setInputFile(browser, selector, { name, type, bytes }) {
  const result = await browser.execute(
    (sel, fileName, mime, b64) => {
      const input = document.querySelector(sel);
      if (!input) return `no element ${sel}`;
      const bin = atob(b64);
      const data = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([data], fileName, { type: mime }));
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      return input.files.length;
    },
    selector,
    name,
    type,
    Buffer.from(bytes).toString('base64'),
  );
  assert.equal(result, 1, `setting the file on ${selector}`);
}

/** A valid RGB PNG with a diagonal colour gradient (no image library needed). */
export function makePng(width, height) {
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    raw[y * stride] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const o = y * stride + 1 + x * 3;
      raw[o] = Math.round((x / (width - 1)) * 255); // red grows to the right
      raw[o + 1] = Math.round((y / (height - 1)) * 200) + 40; // green grows downwards
      raw[o + 2] = 120;
    }
  }
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Process ids whose command line mentions `needle` (to see that the app really quit). */
export function processesMentioning(needle) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(needle)) found.push(`${entry}: ${cmdline.trim()}`);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/**
 * Answer the app's next native save dialog with `filePath`. WebDriver cannot reach a GTK
 * dialog; the UI's `askSavePath` (ui/src/lib/dialogs.ts) takes queued answers from
 * `window.__shopcastE2E` instead of opening it, hands each to the app (which grants it as a
 * chosen file only because run.sh started it with SHOPCAST_E2E_DIALOGS=1), and records what
 * it was asked.
 */
export async function answerSaveDialog(browser, filePath) {
  await browser.execute((p) => {
    window.__shopcastE2E ??= { savePaths: [], asked: [] };
    window.__shopcastE2E.savePaths.push(p);
  }, filePath);
}

/** The options (defaultPath, filters) of the save dialogs answered so far, oldest first. */
export async function askedSaveDialogs(browser) {
  return browser.execute(() => window.__shopcastE2E?.asked ?? []);
}

/**
 * Set an `<input type=date>` to "YYYY-MM-DD". WebKitWebDriver's keyboard does not fill the
 * date control's fields, so the value is set and the events a user's edit fires are sent.
 */
export async function setDate(browser, selector, value) {
  const shown = await browser.execute(
    (sel, v) => {
      const input = document.querySelector(sel);
      if (!input) return `no element ${sel}`;
      input.value = v;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
      return input.value;
    },
    selector,
    value,
  );
  assert.equal(shown, value, `date set on ${selector}`);
}

/**
 * Set a text field (a `<textarea>` with line breaks, a `datetime-local`) to `value` and fire
 * the events a user's edit fires. For text WebDriver's keyboard cannot type in one go.
 */
export async function setFieldValue(browser, selector, value) {
  const shown = await browser.execute(
    (sel, v) => {
      const input = document.querySelector(sel);
      if (!input) return `no element ${sel}`;
      input.value = v;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
      return input.value;
    },
    selector,
    value,
  );
  assert.equal(shown, value, `value set on ${selector}`);
}

/**
 * The steps of one journey. Each step builds on the ones before, so after a failure the rest
 * are skipped (saying which step failed); a failing step leaves a screenshot
 * `FAILED-<journey>-<step>.png`.
 */
export function journey(name, getBrowser, { timeout = 90_000 } = {}) {
  let failedStep = null;
  return function step(stepName, fn) {
    it(stepName, { timeout }, async (t) => {
      if (failedStep) {
        t.skip(`skipped: "${failedStep}" failed`);
        return;
      }
      try {
        await fn();
      } catch (err) {
        failedStep = stepName;
        const browser = getBrowser();
        if (browser) {
          const file = `FAILED-${name}-${stepName.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)}.png`;
          await screenshot(browser, file).catch(() => {});
        }
        throw err;
      }
    });
  };
}

/**
 * What a phone's "Pay (test)" button does on the test checkout page at `url`: open the page
 * and post its form, with the form token the page carries, to `<url>/pay`. Returns the reply.
 */
export async function payTestCheckout(url) {
  const page = await (await fetch(url)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error(`no form token on the test checkout page ${url}`);
  return fetch(`${url}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf }).toString(),
  });
}

/**
 * First start on an empty shop folder: the setup form (English UI), then one product made in
 * the catalog editor. `shop`: name, currency, timezone, optional buyLink; `product`: name,
 * price, sku.
 */
export async function newShopWithProduct(browser, shop, product) {
  const $ = (id) => browser.$(tid(id));
  await $('setup-form').waitForDisplayed({ timeoutMsg: 'setup-form not shown on first start' });
  await $('setup-name').setValue(shop.name);
  await $('setup-currency').setValue(shop.currency);
  await $('setup-timezone').selectByAttribute('value', shop.timezone);
  await $('setup-locale').selectByAttribute('value', 'en');
  if (shop.buyLink) await $('setup-buylink').setValue(shop.buyLink);
  await $('setup-save').click();
  await $('shop-name').waitForDisplayed({ timeoutMsg: 'header shop-name not shown after setup' });

  await $('catalog-new').click();
  await $('editor').waitForDisplayed();
  await $('editor-name').setValue(product.name);
  await $('editor-price').setValue(product.price);
  await $('editor-sku').setValue(product.sku);
  await $('editor-save').click();
  await eventually(async () => assert.match((await $('editor').getAttribute('data-product-id')) ?? '', /^\d+$/));
  await $('editor-close').click();
  await $('editor').waitForExist({ reverse: true, timeoutMsg: 'editor did not close' });
}

/**
 * Start the local WeChat Pay gateway (`wechat-gateway --keys-dir DIR`, from crates/testkit): it
 * makes fresh keys, writes the merchant's private key and WeChat Pay's public key into `keysDir`
 * and prints one JSON line (url, mchid, appid, merchant_serial, public_key_id, apiv3_key).
 * Returns those with both PEMs, `control(path, body)` for its /_gateway/ switches, `trade(no)`
 * and `stop()`.
 */
export async function startWechatGateway(keysDir) {
  if (!env.wechatGateway) throw new Error('E2E_WECHAT_GATEWAY is not set: run the tests through tests/e2e/run.sh');
  mkdirSync(keysDir, { recursive: true });
  const child = spawn(env.wechatGateway, ['--keys-dir', keysDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const line = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`wechat-gateway printed nothing within 20 s; stderr: ${stderr}`)), 20_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, end));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`wechat-gateway exited (${code}) before it was ready; stderr: ${stderr}`));
    });
  });
  const info = JSON.parse(line);
  const gateway = {
    ...info,
    merchantPrivateKeyPem: readFileSync(path.join(keysDir, 'merchant_private_key.pem'), 'utf8'),
    wechatpayPublicKeyPem: readFileSync(path.join(keysDir, 'wechatpay_public_key.pem'), 'utf8'),
    /** POST `{url}/_gateway/{path}` with a JSON body; throws unless it answers 2xx. */
    async control(controlPath, body) {
      const reply = await fetch(`${info.url}/_gateway/${controlPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!reply.ok) throw new Error(`POST /_gateway/${controlPath}: ${reply.status} ${await reply.text()}`);
    },
    /** The gateway's view of a trade (state NOTPAY/USERPAYING/SUCCESS/CLOSED/REVOKED…), or null. */
    async trade(outTradeNo) {
      const reply = await fetch(`${info.url}/_gateway/trades/${encodeURIComponent(outTradeNo)}`);
      if (reply.status === 404) return null;
      if (!reply.ok) throw new Error(`GET /_gateway/trades/${outTradeNo}: ${reply.status} ${await reply.text()}`);
      return reply.json();
    },
    stop() {
      child.kill();
    },
  };
  return gateway;
}
