// N buyers at once on the shop page: each from its own loopback address (127.0.1.x, so each
// is its own client for the per-client limits), each GETs the product page for a fresh form
// token, then all POST Buy at the same moment. Prints one JSON line: statuses, distinct
// checkout addresses, wall time and POST latency percentiles.
//
//   node tests/bench/shop_page_buys.mjs BASE_URL SKU [N]
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// The real HTML parser the browser tests use (tests/shoppage: npm ci).
const { parse } = createRequire(path.join(here, '../shoppage/package.json'))('parse5');

const [base, sku, count = '200'] = process.argv.slice(2);
if (!base || !sku) {
  console.error('usage: node shop_page_buys.mjs BASE_URL SKU [N]');
  process.exit(2);
}
const n = Number(count);
const origin = new URL(base);

function request(method, target, { localAddress, body, headers = {} }) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: origin.hostname,
        port: origin.port,
        method,
        path: target,
        localAddress,
        agent: false,
        headers: { 'user-agent': 'shopcast-bench', ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
    if (body) req.write(body);
    req.end();
  });
}

function* walk(node) {
  yield node;
  for (const c of node.childNodes ?? []) yield* walk(c);
}
const attr = (node, name) => node.attrs?.find((a) => a.name === name)?.value;

/** The Buy form's action and fields (hidden ones and the quantity) as a browser would send them. */
function buyForm(html) {
  for (const node of walk(parse(html))) {
    if (node.nodeName !== 'form' || !attr(node, 'action')?.endsWith('/buy')) continue;
    const fields = new URLSearchParams();
    for (const input of walk(node)) {
      if (input.nodeName === 'input' && attr(input, 'name')) fields.set(attr(input, 'name'), attr(input, 'value') ?? '');
    }
    if (!fields.has('quantity')) fields.set('quantity', '1');
    return { action: attr(node, 'action'), body: fields.toString() };
  }
  throw new Error('no Buy form on the product page');
}

const clients = Array.from({ length: n }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
const forms = await Promise.all(
  clients.map(async (localAddress) => {
    const page = await request('GET', `/p/${encodeURIComponent(sku)}`, { localAddress });
    if (page.status !== 200) throw new Error(`GET product page from ${localAddress}: ${page.status}`);
    const cookie = page.headers['set-cookie']?.map((c) => c.split(';')[0]).join('; ');
    return { localAddress, cookie, ...buyForm(page.text) };
  }),
);

const started = performance.now();
const results = await Promise.all(
  forms.map(async (f) => {
    const t0 = performance.now();
    try {
      const res = await request('POST', f.action, {
        localAddress: f.localAddress,
        body: f.body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: origin.origin, ...(f.cookie ? { cookie: f.cookie } : {}) },
      });
      return { status: res.status, location: res.headers.location ?? null, ms: performance.now() - t0 };
    } catch (err) {
      return { status: 0, error: String(err), ms: performance.now() - t0 };
    }
  }),
);
const wallMs = performance.now() - started;

const statuses = {};
for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
const checkouts = new Set(results.filter((r) => r.status === 303 && r.location).map((r) => r.location));
const ms = results.map((r) => r.ms).sort((a, b) => a - b);
const pct = (p) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)];
console.log(
  JSON.stringify({
    buyers: n,
    statuses,
    distinctCheckouts: checkouts.size,
    errors: results.filter((r) => r.error).map((r) => r.error).slice(0, 5),
    wallMs: Math.round(wallMs),
    p50Ms: Math.round(pct(50)),
    p99Ms: Math.round(pct(99)),
    ordersPerSecond: Math.round((n / wallMs) * 1000),
  }),
);
