// The follower's journey with real parts: the shop posts with Shopcast to the reference Bluesky
// PDS; a follower opens the link facet read back from the record in Chromium against
// `shopcast serve`, buys, pays on the test checkout and gets a receipt with share links; the
// sale shows in `payments list --json` and the sales CSV as channel `post` with the post's
// network and URL. A friend then buys through the receipt's share link: channel `share`.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  drawPhoto,
  makeShop,
  openBrowser,
  readCsv,
  screenshot,
  serve,
  shopcast,
  startPds,
  tempDir,
  visit,
} from './helpers.js';
import { buyAndPay } from './journey-steps.js';

const TZ = 'Asia/Shanghai';
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date());
/** The shop's day before today: a sale just before its midnight is still in the export run after it. */
const yesterday = () => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(Date.now() - 86_400_000));

describe("the follower's journey: a Bluesky post → buy → share → a friend buys", { concurrency: false }, () => {
  let dataDir;
  let server;
  let pds;
  let account;
  const browsers = {};
  // Filled in step by step; each step needs the ones before it, so after a failure the rest
  // are skipped rather than failing for the same reason.
  const seen = {};
  let failed = null;
  const step = (name, fn) =>
    it(name, async (t) => {
      if (failed) return t.skip(`needs "${failed}"`);
      try {
        await fn();
      } catch (err) {
        failed = name;
        throw err;
      }
    });

  before(async () => {
    const pics = tempDir('journey-photos');
    dataDir = makeShop({
      name: '青花瓷小店',
      locale: 'zh-CN',
      currency: 'CNY',
      timezone: TZ,
      rows: ['CUP-1,青花瓷杯 🍵,景德镇手绘青花,88.00,CNY,10,茶具'],
      photos: { 'CUP-1': [drawPhoto(path.join(pics, 'cup.jpg'))] },
    });
    pds = await startPds();
    account = await pds.account('teashop.test');
  });

  after(async () => {
    for (const b of Object.values(browsers)) await b?.deleteSession().catch(() => {});
    await server?.stop();
    pds?.stop();
  });

  step('shopcast serve saves its public URL as the buy-link base', async () => {
    server = await serve(dataDir);
    assert.ok(server.output().includes(server.url), `serve prints the public URL: ${server.output()}`);
    assert.equal(shopcast(dataDir, ['settings', 'get', 'shop.public_url']).trim(), server.url);
  });

  step('the shop posts the product to the real PDS; the link facet is the tracked buy link', async () => {
    const added = shopcast(dataDir, ['accounts', 'add', 'bluesky', '--service', pds.url, '--handle', account.handle], {
      SHOPCAST_APP_PASSWORD: account.appPassword,
    });
    assert.match(added, /teashop\.test/);
    const printed = shopcast(dataDir, ['post', '--sku', 'CUP-1', '--account', '1']);
    const [uri, postUrl] = printed.trim().split('\t');
    assert.ok(uri.startsWith(`at://${account.did}/app.bsky.feed.post/`), printed);
    seen.postUrl = postUrl;
    const [post] = JSON.parse(shopcast(dataDir, ['posts', 'list', '--json']));
    seen.postId = String(post.id);

    const records = await pds.posts(account.did);
    assert.equal(records.length, 1, 'one post on the PDS');
    const record = records[0].value;
    const links = (record.facets ?? []).flatMap((f) => f.features.filter((x) => x.$type === 'app.bsky.richtext.facet#link'));
    assert.equal(links.length, 1, `one link facet: ${JSON.stringify(record.facets)}`);
    const link = links[0].uri;
    assert.equal(link, `${server.url}/p/CUP-1?src=post&post=${seen.postId}`);
    // The facet covers exactly the link in the text (offsets are UTF-8 bytes).
    const facet = record.facets.find((f) => f.features.some((x) => x.uri === link));
    const bytes = Buffer.from(record.text, 'utf8');
    assert.equal(bytes.subarray(facet.index.byteStart, facet.index.byteEnd).toString('utf8'), link);
    seen.link = link;
  });

  step('a follower opens the link on a phone, buys two, pays, and gets a receipt with share links', async () => {
    const b = (browsers.follower = await openBrowser('phone'));
    await visit(b, seen.link);
    assert.ok((await b.$('h1').getText()).includes('青花瓷杯'));
    const hidden = await b.execute(() =>
      Object.fromEntries(Array.from(document.querySelectorAll('form[action$="/buy"] input[type="hidden"]')).map((i) => [i.name, i.value])),
    );
    assert.equal(hidden.src, 'post', `the Buy form carries the post's tag: ${JSON.stringify(hidden)}`);
    assert.equal(hidden.post, seen.postId);
    assert.equal(JSON.parse(shopcast(dataDir, ['payments', 'list', '--json'])).length, 0, 'opening the link bought nothing');
    await screenshot(b, 'journey-post-link');

    const receipt = await buyAndPay(b, { quantity: 2, screenshotAs: 'journey-checkout' });
    await screenshot(b, 'journey-receipt');
    assert.match(receipt.text, /176\.00/, `the receipt shows the total: ${receipt.text}`);
    const orderRef = receipt.text.match(/O-[0-9A-Z]{6,}/)?.[0];
    assert.ok(orderRef, `the receipt names its order: ${receipt.text}`);
    seen.orderRef = orderRef;
    seen.receiptUrl = receipt.url;
    const share = new URL(receipt.share.url);
    assert.equal(share.origin + share.pathname, `${server.url}/p/CUP-1`);
    assert.equal(share.searchParams.get('src'), 'share');
    assert.equal(share.searchParams.get('order'), orderRef);
    seen.shareUrl = receipt.share.url;
  });

  step('the buyer taps Mastodon: the shop asks for their server, then hands the text over to it', async () => {
    const b = browsers.follower;
    await visit(b, seen.receiptUrl);
    await (await b.$('a[href*="/share/mastodon"]')).click();
    await b.waitUntil(async () => new URL(await b.getUrl()).pathname === '/share/mastodon');
    await visit(b, await b.getUrl());
    await screenshot(b, 'journey-share-mastodon');
    // The form as the browser has it: where it goes and what it sends.
    const form = await b.execute(() => {
      const f = document.querySelector('form');
      const field = f.querySelector('input[name="instance"]');
      field.value = '@friend@Mastodon.Example';
      return { action: f.action, method: f.method, fields: [...new FormData(f).entries()] };
    });
    assert.equal(form.method, 'get');
    const submit = new URL(form.action);
    for (const [k, v] of form.fields) submit.searchParams.set(k, v);
    const res = await fetch(submit, { redirect: 'manual' });
    assert.ok([302, 303, 307].includes(res.status), `redirects to the buyer's server: ${res.status}`);
    const to = new URL(res.headers.get('location'));
    assert.equal(to.origin + to.pathname, 'https://mastodon.example/share');
    assert.ok(to.searchParams.get('text').includes(seen.shareUrl), `the toot carries the share link: ${to}`);
    // Something that is not a server name goes nowhere.
    submit.searchParams.set('instance', 'javascript:alert(1)//');
    const refused = await fetch(submit, { redirect: 'manual' });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('location'), null);
  });

  step('the sale is in payments list --json and in the sales CSV as channel post, with the post', async () => {
    const payments = JSON.parse(shopcast(dataDir, ['payments', 'list', '--json']));
    assert.equal(payments.length, 1, JSON.stringify(payments));
    const [p] = payments;
    assert.equal(p.status, 'paid');
    assert.equal(p.provider, 'test');
    assert.equal(p.test, true);
    assert.equal(p.orderRef, seen.orderRef);
    assert.deepEqual(p.amount, { amountMinor: 17600, currency: 'CNY' });
    assert.equal(p.channel, 'post');
    assert.equal(p.sourceRef, seen.postId);

    const csv = path.join(dataDir, 'sales-1.csv');
    shopcast(dataDir, ['export', '--from', yesterday(), '--to', today(), '--include-test', '--out', csv]);
    const rows = readCsv(csv);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    const [row] = rows;
    assert.equal(row.order_id, seen.orderRef);
    assert.equal(row.sku, 'CUP-1');
    assert.equal(row.quantity, '2');
    assert.equal(row.gross, '176.00');
    assert.equal(row.currency, 'CNY');
    assert.equal(row.channel, 'post');
    assert.equal(row.post_network, 'bluesky');
    assert.equal(row.post_url, seen.postUrl);
    assert.equal(row.test, 'yes');
  });

  step("the receipt stays the buyer's: reloading it shows the same order, paid", async () => {
    const b = browsers.follower;
    await visit(b, seen.receiptUrl);
    const text = await b.execute(() => document.body.textContent);
    assert.ok(text.includes(seen.orderRef));
    const res = await fetch(seen.receiptUrl);
    assert.equal(res.headers.get('cache-control'), 'no-store', 'a receipt is never cached');
  });

  step("a friend opens the buyer's share link on a computer, buys and pays: channel share", async () => {
    const b = (browsers.friend = await openBrowser('desktop'));
    await visit(b, seen.shareUrl);
    const hidden = await b.execute(() =>
      Object.fromEntries(Array.from(document.querySelectorAll('form[action$="/buy"] input[type="hidden"]')).map((i) => [i.name, i.value])),
    );
    assert.equal(hidden.src, 'share');
    assert.equal(hidden.order, seen.orderRef);
    await screenshot(b, 'journey-share-link');
    const receipt = await buyAndPay(b);
    await screenshot(b, 'journey-share-receipt');
    const friendOrder = receipt.text.match(/O-[0-9A-Z]{6,}/)?.[0];
    assert.ok(friendOrder && friendOrder !== seen.orderRef, `a new order: ${receipt.text}`);
    // The friend's receipt shares the friend's own order, not the first buyer's.
    assert.equal(new URL(receipt.share.url).searchParams.get('order'), friendOrder);

    const payments = JSON.parse(shopcast(dataDir, ['payments', 'list', '--json']));
    assert.equal(payments.length, 2, JSON.stringify(payments));
    const p = payments.find((x) => x.orderRef === friendOrder);
    assert.equal(p.status, 'paid');
    assert.equal(p.channel, 'share');
    assert.equal(p.sourceRef, seen.orderRef);
    assert.deepEqual(p.amount, { amountMinor: 8800, currency: 'CNY' });

    const csv = path.join(dataDir, 'sales-2.csv');
    shopcast(dataDir, ['export', '--from', yesterday(), '--to', today(), '--include-test', '--out', csv]);
    const rows = readCsv(csv);
    assert.deepEqual(rows.map((r) => [r.order_id, r.channel]).sort(), [
      [seen.orderRef, 'post'],
      [friendOrder, 'share'],
    ].sort());
    const shared = path.join(dataDir, 'sales-share.csv');
    shopcast(dataDir, ['export', '--from', yesterday(), '--to', today(), '--include-test', '--channel', 'share', '--out', shared]);
    assert.deepEqual(readCsv(shared).map((r) => r.order_id), [friendOrder], 'the share channel filters');
  });
});
