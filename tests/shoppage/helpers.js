// Shared helpers of the shop page's browser tests (run through ./run.sh): the real shopcast
// binary on temp shops, `shopcast serve`, Chromium sessions, the reference Bluesky PDS.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { remote } from 'webdriverio';
import { eventually } from '../lib/eventually.mjs';
import { parse } from 'parse5';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through tests/shoppage/run.sh`);
  return v;
}

/** What run.sh hands over. */
export const env = {
  driverPort: Number(need('SHOPPAGE_DRIVER_PORT')),
  bin: need('SHOPPAGE_BIN'),
  chromium: need('SHOPPAGE_CHROMIUM'),
  work: need('SHOPPAGE_WORK'),
  artifacts: need('SHOPPAGE_ARTIFACTS'),
  pdsStart: need('SHOPPAGE_PDS'),
};

export const TIMEOUT = 15_000;

/** A new empty folder under the run's temp folder. */
export function tempDir(prefix) {
  return mkdtempSync(path.join(env.work, `${prefix}-`));
}

/** Runs `shopcast --data-dir DIR ARGS…` and returns its stdout; throws with its stderr. */
export function shopcast(dataDir, args, extraEnv = {}) {
  const childEnv = { ...process.env, SHOPCAST_SECRETS: 'file', ...extraEnv };
  delete childEnv.SHOPCAST_DATA_DIR;
  delete childEnv.SHOPCAST_FAULT;
  try {
    return execFileSync(env.bin, ['--data-dir', dataDir, ...args], {
      env: childEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  } catch (err) {
    throw new Error(`shopcast ${args.join(' ')} failed (${err.status}): ${err.stderr || err.message}`);
  }
}

/** A photo drawn by ImageMagick (a real PNG or JPEG the media store checks by content). */
export function drawPhoto(file, { width = 1200, height = 900, from = '#1d4e89', to = '#f2f2f2' } = {}) {
  execFileSync('convert', ['-size', `${width}x${height}`, `gradient:${from}-${to}`, file]);
  return file;
}

/**
 * A shop made the way an owner would from a script: settings, a catalog CSV (header
 * sku,name,description,price,currency,stock,tags), photos per SKU. Test mode is on for a
 * new shop; checked here so a change of that default fails loudly.
 */
export function makeShop({ name, locale, currency, timezone = 'Asia/Shanghai', rows, photos = {} }) {
  const dataDir = tempDir(`shop-${locale}`);
  shopcast(dataDir, ['settings', 'set', 'shop.name', name]);
  shopcast(dataDir, ['settings', 'set', 'shop.locale', locale]);
  shopcast(dataDir, ['settings', 'set', 'shop.currency', currency]);
  shopcast(dataDir, ['settings', 'set', 'shop.timezone', timezone]);
  const csv = path.join(dataDir, 'catalog.csv');
  writeFileSync(csv, `sku,name,description,price,currency,stock,tags\n${rows.join('\n')}\n`);
  const imported = shopcast(dataDir, ['products', 'import', csv]);
  assert.match(imported, new RegExp(`imported ${rows.length} new`), imported);
  for (const [sku, files] of Object.entries(photos)) {
    const added = shopcast(dataDir, ['products', 'photo', '--sku', sku, ...files]);
    assert.match(added, new RegExp(`${files.length} photo`), added);
  }
  const providers = shopcast(dataDir, ['providers', 'list']);
  assert.match(providers, /test mode: on/, `a new shop has test mode on: ${providers}`);
  return dataDir;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Retry until it passes (tests/lib/eventually.mjs). */
export { eventually };

/**
 * `shopcast serve` on a free loopback port whose public URL is that same address, as an
 * owner testing at home would run it. Resolves once /healthz answers; `stop()` sends SIGTERM
 * and checks it ends cleanly.
 */
export async function serve(dataDir) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dataDir, `serve-${port}.log`);
  const log = createWriteStream(logFile);
  const childEnv = { ...process.env, SHOPCAST_SECRETS: 'file' };
  delete childEnv.SHOPCAST_DATA_DIR;
  delete childEnv.SHOPCAST_FAULT;
  const child = spawn(env.bin, ['--data-dir', dataDir, 'serve', '--listen', `127.0.0.1:${port}`, '--public-url', url], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      output += chunk;
      log.write(chunk);
    });
  }
  let gone = null;
  exited.then((how) => (gone = how));
  await eventually(
    async () => {
      if (gone) throw new Error(`shopcast serve exited (${JSON.stringify(gone)}): ${output}`);
      const res = await fetch(`${url}/healthz`);
      assert.equal(res.status, 200, `healthz: ${res.status}`);
    },
    { timeout: 30_000 },
  );
  return {
    url,
    port,
    output: () => output,
    async stop() {
      if (!gone) child.kill('SIGTERM');
      const how = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 10_000))]);
      if (!how) {
        child.kill('SIGKILL');
        throw new Error(`shopcast serve did not stop within 10 s of SIGTERM: ${output}`);
      }
      log.end();
      return how;
    },
  };
}

const PHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

/** The two widths every page is looked at. */
export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
};

/**
 * A headless Chromium session: `phone` emulates a 390×844 phone (touch, phone User-Agent),
 * `desktop` a 1280×800 window; `args` adds Chromium switches. Its console is recorded (read
 * with `consoleErrors`).
 */
export async function openBrowser(kind = 'desktop', { args = [] } = {}) {
  const size = VIEWPORTS[kind];
  // Each test file runs in its own process: a fresh folder, never a shared profile.
  const profile = tempDir('chromium-profile');
  const chromeOptions = {
    binary: env.chromium,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--user-data-dir=${profile}`, '--lang=en-US', ...args],
  };
  if (kind === 'phone') {
    chromeOptions.mobileEmulation = {
      deviceMetrics: { width: size.width, height: size.height, pixelRatio: 1, touch: true, mobile: true },
      userAgent: PHONE_UA,
    };
  } else {
    chromeOptions.args.push(`--window-size=${size.width},${size.height}`);
  }
  const browser = await remote({
    hostname: '127.0.0.1',
    port: env.driverPort,
    path: '/',
    logLevel: 'error',
    connectionRetryCount: 0,
    waitforTimeout: TIMEOUT,
    capabilities: {
      browserName: 'chrome',
      'wdio:enforceWebDriverClassic': true,
      'goog:loggingPrefs': { browser: 'ALL' },
      'goog:chromeOptions': chromeOptions,
    },
  });
  if (kind === 'desktop') {
    // The window's frame is not the page: pin the page's own size.
    await browser.sendCommandAndGetResult('Emulation.setDeviceMetricsOverride', {
      width: size.width,
      height: size.height,
      deviceScaleFactor: 1,
      mobile: false,
    });
  }
  browser.kind = kind;
  return browser;
}

/** Console messages of level SEVERE since the last call (errors, CSP refusals, failed loads). */
export async function consoleErrors(browser) {
  const entries = await browser.getLogs('browser');
  return entries.filter((e) => e.level === 'SEVERE').map((e) => e.message);
}

/** Opens `url`, waits for the document and its images, and checks the console stayed clean. */
export async function visit(browser, url) {
  await browser.url(url);
  await browser.waitUntil(() => browser.execute(() => document.readyState === 'complete'), { timeout: TIMEOUT });
  await browser.waitUntil(() => browser.execute(() => Array.from(document.images).every((i) => i.complete)), {
    timeout: TIMEOUT,
    timeoutMsg: 'images did not finish loading',
  });
  assert.deepEqual(await consoleErrors(browser), [], `console errors on ${url}`);
  // Photos keep their shape: drawn at their own aspect ratio, or cropped/fitted on purpose.
  const distorted = await browser.execute(() =>
    Array.from(document.images)
      .filter((i) => i.naturalWidth && i.clientWidth && !['cover', 'contain', 'scale-down'].includes(getComputedStyle(i).objectFit))
      .map((i) => ({ src: i.currentSrc, natural: i.naturalWidth / i.naturalHeight, drawn: i.clientWidth / i.clientHeight }))
      .filter((i) => Math.abs(i.drawn / i.natural - 1) > 0.03),
  );
  assert.deepEqual(distorted, [], `photos stretched out of shape on ${url}`);
}

/** Saves a full-viewport screenshot as an artifact and checks it has the viewport's size. */
export async function screenshot(browser, name) {
  mkdirSync(env.artifacts, { recursive: true });
  const file = path.join(env.artifacts, `${name}-${browser.kind}.png`);
  await browser.saveScreenshot(file);
  const png = readFileSync(file);
  const { width, height } = VIEWPORTS[browser.kind];
  assert.equal(png.readUInt32BE(16), width, `${file} width`);
  assert.equal(png.readUInt32BE(20), height, `${file} height`);
  return file;
}

/** Text of the elements matching `selector`, whitespace collapsed. */
export async function textsOf(browser, selector) {
  return browser.execute(
    (sel) => Array.from(document.querySelectorAll(sel)).map((el) => el.textContent.replace(/\s+/g, ' ').trim()),
    selector,
  );
}

/**
 * The fonts Chromium really drew the first element matching `selector` with (DevTools'
 * CSS.getPlatformFontsForNode): family names and glyph counts.
 */
export async function fontsUsedFor(browser, selector) {
  await browser.sendCommandAndGetResult('DOM.enable', {});
  await browser.sendCommandAndGetResult('CSS.enable', {});
  const doc = await browser.sendCommandAndGetResult('DOM.getDocument', { depth: -1 });
  const { nodeId } = await browser.sendCommandAndGetResult('DOM.querySelector', { nodeId: doc.root.nodeId, selector });
  assert.ok(nodeId, `no element ${selector}`);
  const { fonts } = await browser.sendCommandAndGetResult('CSS.getPlatformFontsForNode', { nodeId });
  return fonts;
}

// ---------- HTML read back with a real parser (parse5, the WHATWG algorithm) ----------

function* walk(node) {
  yield node;
  for (const child of node.childNodes ?? []) yield* walk(child);
  if (node.content) yield* walk(node.content);
}

const attr = (node, name) => node.attrs?.find((a) => a.name === name)?.value;

/**
 * The link-preview meta of a page as an unfurler sees it: `<meta property|name=… content=…>`
 * in <head>, the canonical link and the <html lang>, parsed by parse5.
 */
export function readMeta(html) {
  const document = parse(html);
  const htmlEl = document.childNodes.find((n) => n.nodeName === 'html');
  const head = htmlEl.childNodes.find((n) => n.nodeName === 'head');
  const meta = {};
  let canonical = null;
  let title = null;
  for (const node of walk(head)) {
    if (node.nodeName === 'meta') {
      const key = attr(node, 'property') ?? attr(node, 'name');
      if (key) (meta[key] ??= []).push(attr(node, 'content'));
    }
    if (node.nodeName === 'link' && attr(node, 'rel') === 'canonical') canonical = attr(node, 'href');
    if (node.nodeName === 'title') title = node.childNodes.map((c) => c.value ?? '').join('');
  }
  // Meta outside <head> (after a parse error moved it) would not unfurl: say so.
  const inHead = new Set(walk(head));
  const stray = [...walk(htmlEl)].filter((n) => n.nodeName === 'meta' && !inHead.has(n));
  return { meta, canonical, title, lang: attr(htmlEl, 'lang'), stray: stray.length };
}

/** The first content of meta `key`, asserting there is exactly one. */
export function one(meta, key) {
  const values = meta[key];
  assert.ok(values, `meta ${key} is missing (have: ${Object.keys(meta).join(', ')})`);
  assert.equal(values.length, 1, `meta ${key} appears ${values.length} times`);
  return values[0];
}

/** What the bytes are by their magic number (what the og:image must be). */
export function imageKind(bytes) {
  const b = Buffer.from(bytes);
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  return null;
}

/** Rows of a CSV file as Python's csv module reads them (RFC 4180, BOM-tolerant). */
export function readCsv(file) {
  const out = execFileSync(
    'python3',
    ['-c', 'import csv,json,sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8-sig")))))', file],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
}

// ---------- The reference Bluesky PDS (tests/peers/pds) ----------

/** Starts the PDS on a free loopback port; it stops when `stop()` closes its stdin. */
export async function startPds() {
  const data = tempDir('pds');
  const log = createWriteStream(path.join(data, 'pds.log'));
  const child = spawn('node', [env.pdsStart, path.join(data, 'data')], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.pipe(log);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the PDS did not start within 120 s: ${out}`)), 120_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/^PDS (\S+)$/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`the PDS exited (${code}); see ${data}/pds.log`)));
  });
  const xrpc = async (nsid, { body, token, query } = {}) => {
    const target = new URL(`${url}/xrpc/${nsid}`);
    for (const [k, v] of Object.entries(query ?? {})) target.searchParams.set(k, v);
    const res = await fetch(target, {
      method: body ? 'POST' : 'GET',
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    assert.ok(res.ok, `PDS ${nsid} said ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    url,
    xrpc,
    /** An account and an app password for Shopcast, as the owner makes them. */
    async account(handle) {
      const made = await xrpc('com.atproto.server.createAccount', {
        body: { handle, email: `${handle.replace(/\./g, '-')}@example.com`, password: 'main-password-not-for-apps' },
      });
      const app = await xrpc('com.atproto.server.createAppPassword', { token: made.accessJwt, body: { name: 'shopcast' } });
      return { did: made.did, handle: made.handle, appPassword: app.password };
    },
    /** The account's posts as stored in its repository (no AppView here). */
    async posts(did) {
      const list = await xrpc('com.atproto.repo.listRecords', { query: { repo: did, collection: 'app.bsky.feed.post' } });
      return list.records;
    },
    stop() {
      child.stdin.end();
      child.kill('SIGTERM');
    },
  };
}
