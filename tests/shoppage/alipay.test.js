// Buying through Alipay in a real browser. The shop is connected to Alipay's production
// gateway; Chromium resolves openapi.alipay.com to a local HTTPS sink (--host-resolver-rules),
// so the browser really follows the shop page's 303 to https://openapi.alipay.com/gateway.do
// under the page's CSP (form-action covers the redirect after a POST). On a phone the signed
// request is alipay.trade.wap.pay, on a computer alipay.trade.page.pay; its signature checks
// with the app's public key; its return_url is the receipt. Alipay's notify, signed with the
// Alipay key the shop trusts, turns the receipt paid with share links, once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSign, createVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { consoleErrors, drawPhoto, makeShop, openBrowser, screenshot, serve, shopcast, tempDir, visit } from './helpers.js';

const APP_ID = '2021000000000042';
const GATEWAY_HOST = 'openapi.alipay.com';

/** An RSA key pair in PEM files, as the owner downloads them from the Alipay console. */
function keyPair(dir, name) {
  const key = path.join(dir, `${name}.pem`);
  const pub = path.join(dir, `${name}.pub.pem`);
  execFileSync('openssl', ['genrsa', '-out', key, '2048'], { stdio: 'ignore' });
  execFileSync('openssl', ['rsa', '-in', key, '-pubout', '-out', pub], { stdio: 'ignore' });
  return { key, pub };
}

/** Alipay's sign string: every non-empty parameter but the ones left out, sorted, k=v&… raw. */
function signString(params, leaveOut) {
  return Object.keys(params)
    .filter((k) => !leaveOut.includes(k) && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

/** The gateway as the browser reaches it: an HTTPS server on loopback that notes each visit. */
async function gatewaySink(dir) {
  const key = path.join(dir, 'gateway.key');
  const cert = path.join(dir, 'gateway.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${GATEWAY_HOST}`], {
    stdio: 'ignore',
  });
  const visits = [];
  const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const url = new URL(req.url, `https://${GATEWAY_HOST}`);
    if (url.pathname === '/gateway.do') visits.push({ method: req.method, url, userAgent: req.headers['user-agent'] });
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><meta charset="utf-8"><title>支付宝</title><p id="cashier">支付宝收银台 (test sink)</p>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, visits, close: () => server.close() };
}

describe('buying through Alipay in the browser: wap.pay on a phone, page.pay on a computer', { concurrency: false }, () => {
  let dataDir;
  let server;
  let sink;
  let keys;
  const browsers = {};
  const seen = {};

  before(async () => {
    const dir = tempDir('alipay');
    keys = { app: keyPair(dir, 'app'), alipay: keyPair(dir, 'alipay') };
    dataDir = makeShop({
      name: '青花瓷小店',
      locale: 'zh-CN',
      currency: 'CNY',
      rows: ['CUP-1,青花瓷杯,景德镇手绘青花,88.00,CNY,10,茶具'],
      photos: { 'CUP-1': [drawPhoto(path.join(dir, 'cup.png'))] },
    });
    const added = shopcast(dataDir, [
      'providers', 'add', 'alipay', '--app-id', APP_ID, '--gateway', 'production',
      '--app-private-key', keys.app.key, '--alipay-public-key', keys.alipay.pub,
    ]);
    assert.match(added, /alipay connected/);
    sink = await gatewaySink(dir);
    server = await serve(dataDir);
    const rules = [`--host-resolver-rules=MAP ${GATEWAY_HOST} 127.0.0.1:${sink.port}`, '--ignore-certificate-errors'];
    browsers.phone = await openBrowser('phone', { args: rules });
    browsers.desktop = await openBrowser('desktop', { args: rules });
  });

  after(async () => {
    for (const b of Object.values(browsers)) await b?.deleteSession().catch(() => {});
    await server?.stop();
    sink?.close();
  });

  for (const kind of ['phone', 'desktop']) {
    it(`on a ${kind}, Buy sends the browser to Alipay with a signed ${kind === 'phone' ? 'wap' : 'page'}.pay request`, async () => {
      const b = browsers[kind];
      const before = sink.visits.length;
      await visit(b, `${server.url}/p/CUP-1`);
      await (await b.$('form[action$="/buy"] button')).click();
      await b.waitUntil(async () => sink.visits.length > before, {
        timeoutMsg: `the browser never reached the gateway (at ${await b.getUrl()}; console: ${JSON.stringify(await consoleErrors(b))})`,
      });
      await b.waitUntil(() => b.execute(() => document.readyState === 'complete'));
      assert.deepEqual(await consoleErrors(b), [], 'no CSP refusal on the way to Alipay');
      assert.equal(new URL(await b.getUrl()).host, GATEWAY_HOST);
      await screenshot(b, 'alipay-gateway');

      const visit_ = sink.visits.at(-1);
      assert.equal(visit_.method, 'GET');
      const params = Object.fromEntries(visit_.url.searchParams);
      assert.equal(params.method, kind === 'phone' ? 'alipay.trade.wap.pay' : 'alipay.trade.page.pay');
      assert.equal(params.app_id, APP_ID);
      assert.equal(params.charset, 'utf-8');
      assert.equal(params.sign_type, 'RSA2');
      assert.ok(params.return_url.startsWith(`${server.url}/r/`), `return_url is the receipt: ${params.return_url}`);
      assert.equal(params.notify_url, undefined, 'no notify_url for a public address Alipay cannot reach (plain http)');
      const biz = JSON.parse(params.biz_content);
      assert.equal(biz.total_amount, '88.00');
      assert.equal(biz.product_code, kind === 'phone' ? 'QUICK_WAP_WAY' : 'FAST_INSTANT_TRADE_PAY');
      assert.ok(biz.subject.includes('青花瓷杯'), biz.subject);
      // Signed by the app's private key over the request sign string (sign left out).
      const verify = createVerify('RSA-SHA256');
      verify.update(signString(params, ['sign']), 'utf8');
      assert.ok(verify.verify(readFileSync(keys.app.pub), params.sign, 'base64'), 'the request signature checks');
      seen[kind] = { outTradeNo: biz.out_trade_no, returnUrl: params.return_url };
    });
  }

  it('back from Alipay the receipt waits; the signed notify makes it paid with share links, once', async () => {
    const b = browsers.phone;
    const { outTradeNo, returnUrl } = seen.phone;
    await visit(b, returnUrl);
    assert.equal(await (await b.$('a[href^="https://bsky.app/intent/compose"]')).isExisting(), false, 'no share links before paid');
    const refresh = await b.execute(() => document.querySelector('meta[http-equiv="refresh" i]')?.content);
    assert.ok(refresh, 'the unpaid receipt refreshes itself');
    await screenshot(b, 'alipay-receipt-waiting');

    const now = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', dateStyle: 'short', timeStyle: 'medium' }).format(new Date());
    const notify = {
      app_id: APP_ID,
      auth_app_id: APP_ID,
      buyer_id: '2088102177846880',
      charset: 'utf-8',
      gmt_create: now,
      gmt_payment: now,
      notify_id: '2026120200222143013000000001',
      notify_time: now,
      notify_type: 'trade_status_sync',
      out_trade_no: outTradeNo,
      receipt_amount: '88.00',
      seller_id: '2088102177846889',
      subject: '青花瓷杯',
      total_amount: '88.00',
      trade_no: '2026120222001446880500000001',
      trade_status: 'TRADE_SUCCESS',
      version: '1.0',
      sign_type: 'RSA2',
    };
    const signer = createSign('RSA-SHA256');
    signer.update(signString(notify, ['sign', 'sign_type']), 'utf8');
    const signed = new URLSearchParams({ ...notify, sign: signer.sign(readFileSync(keys.alipay.key), 'base64') }).toString();
    const post = (body) =>
      fetch(`${server.url}/hooks/alipay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body });

    // Tampered on the way (the amount): refused, nothing recorded.
    const tampered = await post(signed.replace('total_amount=88.00', 'total_amount=8.80'));
    assert.equal((await tampered.text()).trim(), 'fail');
    assert.equal(JSON.parse(shopcast(dataDir, ['payments', 'list', '--json'])).length, 0);

    const first = await post(signed);
    assert.equal((await first.text()).trim(), 'success');
    const again = await post(signed);
    assert.equal((await again.text()).trim(), 'success', 'a resent notify is answered success');
    const payments = JSON.parse(shopcast(dataDir, ['payments', 'list', '--json']));
    assert.equal(payments.length, 1, `one payment: ${JSON.stringify(payments)}`);
    assert.equal(payments[0].provider, 'alipay');
    assert.equal(payments[0].status, 'paid');
    assert.equal(payments[0].channel, 'link');
    assert.deepEqual(payments[0].amount, { amountMinor: 8800, currency: 'CNY' });

    // The receipt the buyer is looking at turns paid by itself.
    await b.waitUntil(async () => (await b.$('a[href^="https://bsky.app/intent/compose"]')).isExisting(), {
      timeout: 15_000,
      timeoutMsg: 'the receipt never turned paid',
    });
    assert.deepEqual(await consoleErrors(b), []);
    await screenshot(b, 'alipay-receipt-paid');
  });
});
