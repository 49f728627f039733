// The public pages in a real browser: an English and a Chinese shop made with the CLI, served
// by `shopcast serve`, looked at in headless Chromium at phone and desktop width (screenshots
// as artifacts), with a clean console; Chinese drawn with a CJK font; link-preview meta read
// back with parse5 as an unfurler would, its image fetched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  consoleErrors,
  drawPhoto,
  fontsUsedFor,
  imageKind,
  makeShop,
  one,
  openBrowser,
  readMeta,
  screenshot,
  serve,
  shopcast,
  tempDir,
  textsOf,
  visit,
} from './helpers.js';
import { buyAndPay } from './journey-steps.js';

const HAN = /[\u3400-\u9fff]/;
// An unfurler's User-Agent (Mastodon fetching a link preview).
const UNFURLER = 'http.rb/5.1.1 (Mastodon/4.3.0; +https://mastodon.example/)';

const shops = {
  en: {
    name: 'Harbour Tea & Co',
    locale: 'en',
    currency: 'USD',
    timezone: 'Europe/London',
    rows: [
      'TEA-1,Sencha green tea,"Steamed, first flush <b>not bold</b>",12.50,USD,20,tea',
      'MUG-2,Enamel mug,Blue rim,8.00,USD,0,mug',
      'POT-3,Iron kettle,Cast in Morioka,64.00,USD,,kettle',
    ],
    product: { sku: 'TEA-1', name: 'Sencha green tea', amount: '12.50', currency: 'USD', left: 20 },
    soldOut: 'MUG-2',
    search: { q: 'kettle', finds: 'Iron kettle', misses: 'Enamel mug' },
  },
  zh: {
    name: '青花瓷小店',
    locale: 'zh-CN',
    currency: 'CNY',
    timezone: 'Asia/Shanghai',
    rows: [
      'CUP-1,青花瓷杯,"景德镇手绘青花，容量 200 毫升",88.00,CNY,5,茶具',
      'POT-2,紫砂壶,宜兴朱泥,398.00,CNY,0,茶具',
      'TEA-3,龙井绿茶,"明前茶, ""特级""",168.00,CNY,,绿茶',
    ],
    product: { sku: 'CUP-1', name: '青花瓷杯', amount: '88.00', currency: 'CNY', left: 5 },
    soldOut: 'POT-2',
    search: { q: '瓷', finds: '青花瓷杯', misses: '龙井绿茶' },
  },
};

for (const [key, shop] of Object.entries(shops)) {
  describe(`the ${key} shop's pages`, () => {
    let dataDir;
    let server;
    const browsers = {};

    before(async () => {
      const pics = tempDir(`photos-${key}`);
      const photos = {};
      shop.rows.forEach((row, i) => {
        const sku = row.split(',')[0];
        photos[sku] = [drawPhoto(path.join(pics, `${sku}.${i % 2 ? 'jpg' : 'png'}`), { width: 1600 - i * 200, height: 1200 })];
      });
      // A second photo on the main product: the page shows both, the first is the main one.
      photos[shop.product.sku].push(drawPhoto(path.join(pics, 'second.png'), { width: 900, height: 1200, from: '#8a1c1c' }));
      dataDir = makeShop({ ...shop, photos });
      server = await serve(dataDir);
      browsers.phone = await openBrowser('phone');
      browsers.desktop = await openBrowser('desktop');
    });

    after(async () => {
      for (const b of Object.values(browsers)) await b?.deleteSession().catch(() => {});
      if (server) {
        const how = await server.stop();
        assert.deepEqual(how, { code: 0, signal: null }, `serve ends cleanly on SIGTERM: ${server.output()}`);
      }
    });

    for (const kind of ['phone', 'desktop']) {
      it(`index, product, checkout and receipt at ${kind} width, console clean`, async () => {
        const b = browsers[kind];
        await visit(b, `${server.url}/`);
        const layout = await b.execute(() => ({
          width: innerWidth,
          scroll: document.scrollingElement.scrollWidth,
          lang: document.documentElement.lang,
        }));
        assert.equal(layout.width, kind === 'phone' ? 390 : 1280, 'the page sets its viewport to the device width');
        assert.ok(layout.scroll <= layout.width, `nothing wider than the screen (${layout.scroll} > ${layout.width})`);
        assert.equal(layout.lang.toLowerCase().slice(0, 2), shop.locale.slice(0, 2), 'html lang is the shop language');
        const body = (await textsOf(b, 'body'))[0];
        for (const row of shop.rows) assert.ok(body.includes(row.split(',')[1]), `index lists ${row.split(',')[1]}`);
        const images = await b.execute(() => Array.from(document.images).map((i) => ({ src: i.currentSrc, w: i.naturalWidth })));
        assert.ok(images.length >= shop.rows.length, `a photo per product on the index: ${JSON.stringify(images)}`);
        assert.ok(images.every((i) => i.w > 0 && i.src.startsWith(`${server.url}/media/`)), JSON.stringify(images));
        await screenshot(b, `${key}-index`);

        // Search: a substring (a single Chinese character in the zh shop).
        await visit(b, `${server.url}/?q=${encodeURIComponent(shop.search.q)}`);
        const found = (await textsOf(b, 'body'))[0];
        assert.ok(found.includes(shop.search.finds), `search ${shop.search.q} finds ${shop.search.finds}`);
        assert.ok(!found.includes(shop.search.misses), `search ${shop.search.q} leaves out ${shop.search.misses}`);

        // Product page, reached by clicking it on the index like a visitor.
        await visit(b, `${server.url}/`);
        const link = await b.$(`a[href$="/p/${shop.product.sku}"]`);
        await link.click();
        await b.waitUntil(async () => (await b.getUrl()).includes(`/p/${shop.product.sku}`));
        await visit(b, await b.getUrl());
        const heading = (await textsOf(b, 'h1'))[0];
        assert.ok(heading.includes(shop.product.name), `h1 ${heading}`);
        const product = await b.execute(() => ({
          scroll: document.scrollingElement.scrollWidth,
          width: innerWidth,
          photos: Array.from(document.images).map((i) => ({ w: i.naturalWidth, srcset: i.getAttribute('srcset') })),
          qty: document.querySelector('input[name="quantity"]')?.getAttribute('max'),
        }));
        assert.ok(product.scroll <= product.width, 'the product page fits the screen');
        assert.ok(product.photos.length >= 2, `both photos shown: ${JSON.stringify(product.photos)}`);
        assert.ok(product.photos.some((p) => p.srcset && p.srcset.includes('/medium')), `srcset with the medium size: ${JSON.stringify(product.photos)}`);
        assert.equal(product.qty, String(Math.min(99, shop.product.left)), 'quantity up to 99 and to what is left');
        if (shop.locale === 'en') {
          // The owner's text is shown as text: the tag in the description is not markup.
          const escaped = await b.execute(() => ({ text: document.body.textContent, bold: document.querySelectorAll('main b, body b').length }));
          assert.ok(escaped.text.includes('<b>not bold</b>'), 'the description is shown as typed');
          assert.equal(escaped.bold, 0, 'the description made no element');
        }
        await screenshot(b, `${key}-product`);

        // Buy → test checkout → Pay → receipt.
        const receipt = await buyAndPay(b, { screenshotAs: `${key}-checkout` });
        assert.ok(receipt.text.includes(shop.product.name), `receipt names the product: ${receipt.text}`);
        await screenshot(b, `${key}-receipt`);
        assert.deepEqual(await consoleErrors(b), [], 'console clean after paying');
      });
    }

    it('Chinese and English text are drawn with real fonts, not boxes', async () => {
      const b = browsers.desktop;
      await visit(b, `${server.url}/p/${shop.product.sku}`);
      const fonts = await fontsUsedFor(b, 'h1');
      const drawn = fonts.reduce((n, f) => n + f.glyphCount, 0);
      assert.ok(drawn >= [...shop.product.name].filter((c) => c !== ' ').length, `glyphs drawn: ${JSON.stringify(fonts)}`);
      if (HAN.test(shop.product.name)) {
        const cjk = fonts.filter((f) => /CJK|WenQuanYi|Han Sans|Droid Sans Fallback|Hei|Song/i.test(f.familyName));
        assert.ok(cjk.length > 0 && cjk[0].glyphCount >= 4, `a CJK font draws the name: ${JSON.stringify(fonts)}`);
        // The shop's own words are Chinese too (the Buy button), not English left over.
        const button = (await textsOf(b, 'form button, form input[type="submit"]')).join(' ');
        assert.match(button, HAN, `the Buy button speaks Chinese: ${button}`);
      }
    });

    it('link-preview meta read back with parse5: title, absolute fetchable image, url, price', async () => {
      const before = JSON.parse(shopcast(dataDir, ['payments', 'list', '--json']));
      const res = await fetch(`${server.url}/p/${shop.product.sku}?src=post&post=7`, { headers: { 'user-agent': UNFURLER } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/html; charset=utf-8/i);
      const { meta, canonical, title, lang, stray } = readMeta(await res.text());
      assert.equal(stray, 0, 'every meta is in <head>');
      assert.equal(lang.slice(0, 2), shop.locale.slice(0, 2));
      assert.ok(title.includes(shop.product.name), `<title> ${title}`);
      const productUrl = `${server.url}/p/${shop.product.sku}`;
      assert.ok(one(meta, 'og:title').includes(shop.product.name), `og:title ${meta['og:title']}`);
      assert.equal(one(meta, 'og:type'), 'product');
      // The preview points at the plain page: a reshared preview does not carry this post's tag.
      assert.equal(one(meta, 'og:url'), productUrl);
      assert.equal(canonical, productUrl);
      assert.ok(one(meta, 'og:description').length > 0);
      assert.equal(one(meta, 'product:price:amount'), shop.product.amount);
      assert.equal(one(meta, 'product:price:currency'), shop.product.currency);
      assert.equal(one(meta, 'twitter:card'), 'summary_large_image');
      assert.ok(one(meta, 'twitter:title').includes(shop.product.name));
      for (const key of ['og:image', 'twitter:image']) {
        const image = one(meta, key);
        assert.ok(image.startsWith(`${server.url}/media/`), `${key} is absolute on the public URL: ${image}`);
        const got = await fetch(image, { headers: { 'user-agent': UNFURLER } });
        assert.equal(got.status, 200, `${key} fetchable`);
        const type = got.headers.get('content-type');
        assert.match(type, /^image\/(png|jpeg|webp)$/);
        const bytes = new Uint8Array(await got.arrayBuffer());
        assert.equal(imageKind(bytes), type.split('/')[1], `${key} bytes are the image its type says`);
        assert.ok(bytes.length > 1000, `${key} is a real photo (${bytes.length} bytes)`);
        if (key === 'og:image') {
          // The size the preview announces is the size of the image it points at.
          const file = path.join(tempDir('og-image'), `image.${imageKind(bytes)}`);
          writeFileSync(file, bytes);
          const [w, h] = execFileSync('identify', ['-format', '%w %h', file], { encoding: 'utf8' }).split(' ').map(Number);
          assert.equal(Number(one(meta, 'og:image:width')), w, 'og:image:width');
          assert.equal(Number(one(meta, 'og:image:height')), h, 'og:image:height');
        }
      }
      // Unfurling (and the browser tests' page views) created nothing.
      const afterList = JSON.parse(shopcast(dataDir, ['payments', 'list', '--json']));
      assert.equal(afterList.length, before.length, 'a GET creates no payment');
    });

    it('a declined payment leads back to a receipt that is not paid, offers no sharing and lets the buyer try again', async () => {
      const b = browsers.phone;
      const paidBefore = JSON.parse(shopcast(dataDir, ['payments', 'list', '--json'])).filter((p) => p.status === 'paid');
      await visit(b, `${server.url}/p/${shop.product.sku}`);
      await (await b.$('form[action$="/buy"] button')).click();
      await b.waitUntil(async () => (await b.getUrl()).includes('/pay/'));
      await (await b.$('#decline')).click();
      const back = await b.$('a#return');
      await back.waitForExist();
      await back.click();
      await b.waitUntil(async () => (await b.getUrl()).includes('/r/'));
      await visit(b, await b.getUrl());
      // Once the decline is recorded the page stops waiting and offers to try again (it
      // refreshes itself until then).
      const again = await b.$('a#try-again');
      await again.waitForExist({ timeout: 15000 });
      assert.match(await again.getAttribute('href'), new RegExp(`^/p/${shop.product.sku}$`));
      assert.equal(await b.execute(() => document.querySelectorAll('meta[http-equiv="refresh"]').length), 0);
      const state = await b.execute(() => ({
        share: document.querySelectorAll('a[href*="bsky.app"], a[href*="weibo.com"], a[href*="/share/mastodon"]').length,
        order: document.getElementById('order')?.textContent,
        paid: !!document.querySelector('.paid'),
      }));
      assert.equal(state.share, 0, 'nothing to share from an unpaid order');
      assert.equal(state.paid, false, 'the receipt does not say paid');
      assert.match(state.order ?? '', /^O-/);
      await screenshot(b, `${key}-receipt-declined`);
      const paidAfter = JSON.parse(shopcast(dataDir, ['payments', 'list', '--json'])).filter((p) => p.status === 'paid');
      assert.equal(paidAfter.length, paidBefore.length, 'declining paid nothing');
      assert.ok(!paidAfter.some((p) => p.orderRef === state.order));
    });

    it('a sold-out product says so and its Buy is disabled', async () => {
      const b = browsers.phone;
      await visit(b, `${server.url}/p/${shop.soldOut}`);
      const state = await b.execute(() => {
        const buttons = Array.from(document.querySelectorAll('form button, form input[type="submit"]'));
        return { buttons: buttons.map((x) => x.disabled), text: document.body.textContent };
      });
      assert.ok(state.buttons.length === 0 || state.buttons.every(Boolean), `no live Buy button: ${JSON.stringify(state.buttons)}`);
      await screenshot(b, `${key}-sold-out`);
    });

    it('an unknown product is a 404 page in the shop language, console aside', async () => {
      const res = await fetch(`${server.url}/p/NO-SUCH-SKU`);
      assert.equal(res.status, 404);
      const { lang } = readMeta(await res.text());
      assert.equal(lang.slice(0, 2), shop.locale.slice(0, 2));
    });
  });
}
