// A sale at the till paid through the built-in test mode, the way a customer's phone pays:
// the till shows the QR, "the phone" posts to the checkout page's Pay button, and the till
// says "Paid ✓" within two seconds; Payments lists it live, marked TEST, and refunds it.
// Then WeChat Pay against the local gateway (crates/testkit): connected through the real
// Settings form, a Native QR paid, and the customer's payment code typed as a scanner does.
// Each journey's steps run in order on a shop folder of their own; after a failing step the
// rest of that journey are skipped.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, describe } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import {
  env,
  eventually,
  journey,
  messages,
  newShopWithProduct,
  payTestCheckout,
  screenshot,
  setFieldValue,
  setInputFile,
  startApp,
  startWechatGateway,
  textOf,
  textsOf,
  tid,
} from './helpers.js';

// Not the catalog journey's shop: this journey starts from a first start of its own.
const DATA_DIR = path.join(path.dirname(env.dataDir), 'shop-payments');
const SHOP = { name: 'Payments Tea Shop', currency: 'CNY', timezone: 'Asia/Shanghai', buyLink: 'https://shop.example.com/p/' };
const TEA = { name: '龙井绿茶 Longjing', price: '88', sku: 'TEA-LJ-1' };
const lang = messages.en;
/** The most the till may take to show a payment after the customer paid. */
const PAID_WITHIN_MS = 2_000;

describe('till and payments journey', () => {
  /** @type {WebdriverIO.Browser | null} */
  let browser = null;
  let firstOrderRef = null;

  const $ = (id) => browser.$(tid(id));
  const text = (id) => textOf(browser, tid(id));

  const step = journey('payments', () => browser);

  /** Show the test QR for what is on the till; returns the checkout page URL it encodes. */
  async function chargeWithTestQr() {
    await $('till-pay-test').waitForEnabled({ timeoutMsg: 'the Test QR button is not enabled' });
    await $('till-pay-test').click();
    await $('till-qr').waitForDisplayed({ timeoutMsg: 'no QR shown after choosing Test' });
    const url = await textOf(browser, '#till-checkout-url');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/pay\/[A-Za-z0-9_-]+$/, 'test checkout URL');
    assert.match(await text('till-test-badge'), /^TEST/, 'a test charge is marked TEST');
    const qr = await browser.execute((sel) => document.querySelectorAll(`${sel} svg path`).length, tid('till-qr'));
    assert.equal(qr, 1, 'the QR is drawn as one SVG path');
    return url;
  }

  /** What the phone's "Pay (test)" button does: the page's form, posted to <checkout URL>/pay. */
  async function payOnPhone(url) {
    const reply = await payTestCheckout(url);
    assert.equal(reply.status, 200, `POST ${url}/pay`);
    assert.match(await reply.text(), /Paid/, 'the checkout page confirms the payment');
  }

  async function feedRows() {
    return browser.execute((sel) =>
      Array.from(document.querySelectorAll(sel)).map((row) => ({
        id: row.dataset.paymentId,
        status: row.querySelector('.status')?.textContent.trim(),
        test: !!row.querySelector('[data-testid="payment-test"]'),
        order: row.querySelector('.order')?.textContent.trim(),
        amount: row.querySelector('.amount')?.textContent.replace(/\s+/g, ' ').trim(),
      })),
    tid('payment-row'));
  }

  after(async () => {
    if (browser) await browser.deleteSession().catch(() => {});
  });

  step('a new shop with one product', async () => {
    mkdirSync(DATA_DIR, { recursive: true });
    browser = await startApp({ dataDir: DATA_DIR });
    await newShopWithProduct(browser, SHOP, TEA);
  });

  step('the till: find the product, add it twice, see the total', async () => {
    await $('nav-till').click();
    await $('till-search').waitForDisplayed({ timeoutMsg: 'till screen not shown' });
    await $('till-search').setValue('龙井');
    await eventually(async () => assert.deepEqual(await textsOf(browser, `${tid('till-result')} .name`), [TEA.name]));
    await $('till-result').click();
    await $('till-result').click();
    await eventually(async () => {
      assert.equal(await text('till-qty'), '2');
      assert.equal(await text('till-total'), '¥176.00');
    });
    await $('till-less').click();
    await eventually(async () => assert.equal(await text('till-total'), '¥88.00'));
    await screenshot(browser, 'till-cart.png');
  });

  step('pay with the test QR from "the phone": Paid ✓ within 2 s', async () => {
    const url = await chargeWithTestQr();
    assert.equal(await text('till-charge-amount'), '¥88.00');
    assert.match(await text('till-countdown'), /^1[45]:\d\d$/, 'a 15-minute QR counts down');
    firstOrderRef = await text('till-order-ref');
    assert.match(firstOrderRef, /^O-[0-9A-Z]{8}$/);
    await screenshot(browser, 'till-qr.png');

    const postedAt = Date.now();
    await payOnPhone(url);
    await browser.$('#till-paid').waitForDisplayed({
      timeout: PAID_WITHIN_MS,
      interval: 50,
      timeoutMsg: `#till-paid not shown within ${PAID_WITHIN_MS} ms of paying`,
    });
    const took = Date.now() - postedAt;
    assert.ok(took <= PAID_WITHIN_MS, `paid shown after ${took} ms`);
    assert.equal(await textOf(browser, '#till-paid'), lang['till.paid']);
    assert.equal(await text('receipt-ref'), firstOrderRef);
    assert.equal(await text('receipt-total'), '¥88.00');
    assert.equal(await text('receipt-method'), lang['till.payTest']);
    // The buyer can share the product they bought: one row of share buttons for the tea.
    assert.equal((await browser.$$(tid('receipt-share'))).length, 1);
    await screenshot(browser, 'till-paid.png');
  });

  step('Payments lists the payment as paid and TEST; today’s totals leave test money out', async () => {
    await $('nav-payments').click();
    await $('payments-feed').waitForExist({ timeoutMsg: 'payments screen not shown' });
    await eventually(async () => {
      const rows = await feedRows();
      assert.equal(rows.length, 1, `feed rows ${JSON.stringify(rows)}`);
      assert.deepEqual(
        { status: rows[0].status, test: rows[0].test, order: rows[0].order, amount: rows[0].amount },
        { status: lang['payStatus.paid'], test: true, order: firstOrderRef, amount: '¥88.00' },
      );
    });
    await $('payments-no-totals').waitForDisplayed({ timeoutMsg: 'test payments counted in today’s totals by default' });
    await $('payments-include-test').click();
    await eventually(async () => assert.match(await text('payments-total'), /^¥88\.00/));
    await screenshot(browser, 'payments.png');
  });

  step('a payment made while Payments is open appears in the feed live', async () => {
    await $('nav-till').click();
    await $('till-new-sale').click();
    await $('till-amount').waitForDisplayed();
    await $('till-amount').setValue('12,50');
    await eventually(async () => assert.equal(await text('till-total'), '¥12.50'));
    const url = await chargeWithTestQr();
    const secondRef = await text('till-order-ref');

    // The QR stays up while the owner looks at Payments; the customer pays meanwhile.
    await $('nav-payments').click();
    await eventually(async () => assert.equal((await feedRows()).length, 1));
    await payOnPhone(url);
    await eventually(async () => {
      const rows = await feedRows();
      assert.equal(rows.length, 2, `feed rows ${JSON.stringify(rows)}`);
      assert.deepEqual([rows[0].order, rows[0].status, rows[0].test], [secondRef, lang['payStatus.paid'], true], 'newest first');
    }, { timeout: 3_000 });
    // Test money is left out of the totals again on a fresh visit of the screen.
    await $('payments-no-totals').waitForDisplayed();
    await $('payments-include-test').click();
    await eventually(async () => assert.match(await text('payments-total'), /^¥100\.50/));

    // Back at the till the sale shows as paid.
    await $('nav-till').click();
    await browser.$('#till-paid').waitForDisplayed({ timeoutMsg: 'the till did not show the payment made while away' });
    assert.equal(await text('receipt-ref'), secondRef);
  });

  step('refund part of a payment from its detail', async () => {
    await $('nav-payments').click();
    await eventually(async () => assert.equal((await feedRows()).length, 2));
    const [, first] = await feedRows();
    await browser.$(`${tid('payment-row')}[data-payment-id="${first.id}"]`).click();
    await $('payment-detail').waitForDisplayed();
    await eventually(async () => {
      assert.equal(await text('detail-amount'), '¥88.00');
      assert.equal(await text('detail-status'), lang['payStatus.paid']);
      assert.ok((await browser.$$(tid('detail-event'))).length >= 1, 'the provider’s raw events are shown');
    });
    await $('refund-amount').setValue('8');
    await $('refund-submit').click();
    await $('refund-yes').click();
    await eventually(async () => assert.equal(await text('detail-refunded'), '¥8.00'));
    await eventually(async () => {
      const row = (await feedRows()).find((r) => r.id === first.id);
      assert.match(row.amount, /¥88\.00 −¥8\.00/);
    });
    await screenshot(browser, 'payment-detail.png');
    await $('detail-close').click();
    await $('payment-detail').waitForExist({ reverse: true });
    await $('payments-include-test').click();
    await eventually(async () => assert.match(await text('payments-total'), /^¥92\.50/));
  });

  step('payment settings: QR minutes are checked, saved and used by the next QR; a bad Stripe address is explained', async () => {
    await $('nav-settings').click();
    await $('pay-settings-form').waitForDisplayed({ timeoutMsg: 'payment settings not shown in Settings' });
    await eventually(async () => {
      assert.equal(await $('pay-test-mode').isSelected(), true, 'test mode is on for a new shop');
      assert.equal(await $('pay-qr-minutes').getValue(), '15');
    });
    await $('pay-qr-minutes').setValue('0');
    await $('pay-save').click();
    await eventually(async () => assert.equal(await textOf(browser, '#pay-qr-minutes-error'), lang['paySettings.qrMinutesInvalid']));
    await $('pay-qr-minutes').setValue('10');
    await $('pay-save').click();
    await eventually(async () => {
      const toasts = await textsOf(browser, tid('toast'));
      assert.ok(toasts.some((t) => t.includes(lang['paySettings.saved'])), `saved toast, got ${JSON.stringify(toasts)}`);
    });

    // Nothing listens there: the owner reads why, and no key is stored.
    await $('stripe-api-base').setValue('http://127.0.0.1:9');
    await $('stripe-key').setValue('sk_test_e2e_not_a_real_key');
    await $('stripe-connect').click();
    await eventually(async () => assert.match(await textOf(browser, `${tid('stripe-form')} ${tid('error-banner')}`), /stripe/i), { timeout: 20_000 });
    assert.equal(await $('stripe-connected').isExisting(), false, 'Stripe shown as connected after a failed check');
    // Scroll the settings page itself (scrollIntoView would also shift the window's body).
    await browser.execute((sel) => {
      const section = document.querySelector(sel);
      const page = section.closest('.page');
      page.scrollTop += section.getBoundingClientRect().top - page.getBoundingClientRect().top - 16;
    }, tid('pay-settings'));
    await screenshot(browser, 'payment-settings.png');

    // The next QR is valid for 10 minutes; cancelling it returns to the cart.
    await $('nav-till').click();
    await $('till-new-sale').click();
    await $('till-amount').waitForDisplayed();
    await $('till-amount').setValue('5');
    await eventually(async () => assert.equal(await text('till-total'), '¥5.00'));
    await chargeWithTestQr();
    assert.match(await text('till-countdown'), /^(10:00|9:5\d)$/, 'QR minutes from the settings');
    await $('till-cancel').click();
    await $('till-amount').waitForDisplayed({ timeoutMsg: 'cancelling did not return to the sale' });
    assert.equal(await $('till-amount').getValue(), '5', 'the sale is kept to be paid another way');

    // Paid in cash instead: no QR, straight to the receipt.
    await $('till-pay-cash').click();
    await browser.$('#till-paid').waitForDisplayed({ timeoutMsg: 'cash payment not shown as paid' });
    assert.equal(await text('receipt-method'), lang['till.payCash']);
    assert.equal(await text('receipt-total'), '¥5.00');
  });

  step('Stripe: connect to a Stripe-like server; when it goes away Payments says so, live, and when it is back', async () => {
    // Just enough of Stripe's API for the key check and the watcher: an empty event list.
    const sockets = new Set();
    const stripe = http.createServer((req, res) => {
      const ok = req.method === 'GET' && req.url.startsWith('/v1/events');
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(ok ? '{"object":"list","data":[],"has_more":false,"url":"/v1/events"}' : '{"error":{"message":"not here"}}');
    });
    stripe.on('connection', (socket) => sockets.add(socket));
    const listen = (port) => new Promise((resolve) => stripe.listen(port, '127.0.0.1', () => resolve(stripe.address().port)));
    const port = await listen(0);
    try {
      await $('nav-settings').click();
      await $('stripe-form').waitForDisplayed();
      await $('stripe-api-base').setValue(`http://127.0.0.1:${port}`);
      await $('stripe-key').setValue('sk_test_e2e_key_4242');
      await $('stripe-connect').click();
      await eventually(async () => {
        const shown = await text('stripe-connected');
        assert.ok(shown.includes('…4242'), `key hint in ${JSON.stringify(shown)}`);
        assert.ok(
          shown.includes(lang['paySettings.inKeychain']) || shown.includes(lang['paySettings.inFile']),
          `where the key is kept, in ${JSON.stringify(shown)}`,
        );
      }, { timeout: 20_000 });
      assert.equal(await $('stripe-key').getValue(), '', 'the key is not kept in the page once stored');
      const html = await browser.execute(() => document.documentElement.outerHTML);
      assert.ok(!html.includes('sk_test_e2e_key_4242'), 'the secret key appears nowhere in the page');

      await $('nav-till').click();
      await $('till-new-sale').click();
      await $('till-pay-stripe').waitForExist({ timeoutMsg: 'no Stripe button at the till once connected' });

      await $('nav-payments').click();
      await $('payments-feed').waitForExist();
      assert.equal(await browser.$(tid('info-banner')).isExisting(), false, 'no provider warning while Stripe answers');
      // Stripe goes away: the watcher's next poll fails and the screen says so without a reload.
      stripe.close();
      stripe.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await eventually(async () => {
        const banner = await text('info-banner');
        assert.match(banner, /^Stripe unreachable since \d{1,2}:\d\d\s?[AP]M, (trying again at \d{1,2}:\d\d\s?[AP]M|retrying)/);
      }, { timeout: 15_000 });
      await screenshot(browser, 'payments-stripe-down.png');

      await listen(port);
      await browser.$(tid('info-banner')).waitForExist({ reverse: true, timeout: 45_000, timeoutMsg: 'the warning stayed after Stripe came back' });
    } finally {
      stripe.closeAllConnections();
      stripe.close();
    }

    await $('nav-settings').click();
    await $('stripe-disconnect').click();
    await $('stripe-connected').waitForExist({ reverse: true, timeoutMsg: 'Stripe still shown as connected after Disconnect' });
  });
});

describe('WeChat Pay journey: connect in Settings, a Native QR, the customer’s payment code', () => {
  const WECHAT_DIR = path.join(path.dirname(env.dataDir), 'shop-wechat');
  // WeChat payment codes: 18 digits starting 10–15 (the customer's 付款码).
  const CODES = {
    atOnce: '134567890123456781',
    confirms: '134567890123456782',
    cancelled: '134567890123456785',
    declined: '134567890123456783',
    again: '134567890123456784',
  };
  /** How long the till may take to learn of a payment the watcher polls for (1 s polls). */
  const POLLED_WITHIN_MS = 20_000;

  /** @type {WebdriverIO.Browser | null} */
  let browser = null;
  let gateway = null;
  const $ = (id) => browser.$(tid(id));
  const text = (id) => textOf(browser, tid(id));
  const step = journey('wechat', () => browser);

  after(async () => {
    if (browser) await browser.deleteSession().catch(() => {});
    gateway?.stop();
  });

  /** A fresh sale with the tea on it (from the receipt or the cart). */
  async function saleWithTea() {
    await $('nav-till').click();
    if (await $('till-new-sale').isExisting()) await $('till-new-sale').click();
    await $('till-search').waitForDisplayed({ timeoutMsg: 'till screen not shown' });
    // A cart kept from a cancelled sale starts over.
    while (await $('till-remove').isExisting()) await $('till-remove').click();
    await $('till-search').setValue('龙井');
    await eventually(async () => assert.deepEqual(await textsOf(browser, `${tid('till-result')} .name`), [TEA.name]));
    await $('till-result').click();
    await eventually(async () => assert.equal(await text('till-total'), '¥88.00'));
  }

  /** What a USB scanner does: the code's digits, then Enter, into the field that has focus. */
  async function scanCode(code) {
    await eventually(async () => {
      const focused = await browser.execute(() => document.activeElement?.getAttribute('data-testid') ?? null);
      assert.equal(focused, 'till-code', 'the payment-code field has the cursor');
    });
    await $('till-code').addValue(`${code}\uE007`);
  }

  /** The receipt of a sale paid with `method` (as the receipt names it). */
  async function expectReceipt(method, timeout) {
    await browser.$('#till-paid').waitForDisplayed({ timeout, timeoutMsg: `not shown as paid within ${timeout} ms` });
    assert.equal(await textOf(browser, '#till-paid'), lang['till.paid']);
    assert.equal(await text('receipt-total'), '¥88.00');
    assert.equal(await text('receipt-method'), method);
  }

  const pick = (object, ...keys) => Object.fromEntries(keys.map((k) => [k, object?.[k]]));
  const byCode = lang['receipt.byCode'].replace('{provider}', lang['provider.wechat']);

  step('a new shop with one product, and the local WeChat Pay gateway', async () => {
    gateway = await startWechatGateway(path.join(path.dirname(env.dataDir), 'wechat-gateway-keys'));
    assert.match(gateway.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(gateway.public_key_id, /^PUB_KEY_ID_/);
    mkdirSync(WECHAT_DIR, { recursive: true });
    browser = await startApp({ dataDir: WECHAT_DIR });
    await newShopWithProduct(browser, SHOP, TEA);
  });

  step('Settings → Payments: the WeChat Pay form explains mistakes under their fields, then connects', async () => {
    await $('nav-settings').click();
    await $('wechat-form').waitForDisplayed({ timeoutMsg: 'no WeChat Pay section in Settings → Payments' });
    // Nothing typed: each required field says so under itself.
    await $('wechat-connect').click();
    await eventually(async () => {
      for (const id of ['wechat-mchid', 'wechat-appid', 'wechat-serial', 'wechat-private-key', 'wechat-apiv3']) {
        assert.equal(await textOf(browser, `#${id}-error`), lang['paySettings.wechat.required'], id);
      }
    });

    await $('wechat-mchid').setValue(gateway.mchid);
    await $('wechat-appid').setValue(gateway.appid);
    await $('wechat-serial').setValue(gateway.merchant_serial);
    // WeChat Pay's public key chosen as the .pem file it came in (the private key is pasted).
    await setInputFile(browser, tid('wechat-public-key-file'), {
      name: 'pub_key.pem',
      type: 'application/x-pem-file',
      bytes: Buffer.from(gateway.wechatpayPublicKeyPem),
    });
    await eventually(async () => {
      assert.equal(await $('wechat-public-key').getValue(), gateway.wechatpayPublicKeyPem.trim());
      assert.equal(await textOf(browser, '#wechat-public-key-hint'), lang['keyInput.readFrom'].replace('{file}', 'pub_key.pem'));
    });
    await $('wechat-public-key-id').setValue(gateway.public_key_id);
    await $('wechat-form').$('summary').click(); // Advanced
    await $('wechat-api-base').setValue(gateway.url);
    // An APIv3 key one character short.
    await $('wechat-apiv3').setValue(gateway.apiv3_key.slice(1));
    // Another merchant's key: WeChat Pay refuses the signature.
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    await setFieldValue(browser, tid('wechat-private-key'), stranger);
    await $('wechat-connect').click();
    await eventually(async () => assert.equal(await textOf(browser, '#wechat-apiv3-error'), lang['paySettings.wechat.apiv3Length']));
    assert.equal(await browser.$('#wechat-mchid-error').isExisting(), false, 'a filled field still shows its error');

    await $('wechat-apiv3').setValue(gateway.apiv3_key);
    await $('wechat-connect').click();
    await eventually(async () => {
      const shown = await textsOf(browser, `${tid('wechat-form')} ${tid('error-banner')}, ${tid('wechat-form')} ${tid('field-error')}`);
      assert.ok(shown.some((s) => s.length > 0), `an error for the wrong key, got ${JSON.stringify(shown)}`);
    }, { timeout: 20_000 });
    assert.equal(await $('wechat-connected').isExisting(), false, 'WeChat Pay shown as connected with a wrong key');

    await setFieldValue(browser, tid('wechat-private-key'), gateway.merchantPrivateKeyPem);
    await $('wechat-connect').click();
    await eventually(async () => assert.equal(await text('wechat-connected-mchid'), gateway.mchid), { timeout: 20_000 });
    const facts = await text('wechat-connected');
    for (const fact of [gateway.appid, gateway.merchant_serial, gateway.public_key_id, gateway.url]) assert.ok(facts.includes(fact), `${fact} in ${facts}`);
    assert.ok(facts.includes(lang['paySettings.inKeychain']) || facts.includes(lang['paySettings.inFile']), `where the keys are kept, in ${facts}`);
    // The secrets left the page once stored.
    for (const id of ['wechat-private-key', 'wechat-apiv3', 'wechat-public-key']) assert.equal(await $(id).getValue(), '', `${id} emptied`);
    const html = await browser.execute(() => document.documentElement.outerHTML);
    const keyBody = gateway.merchantPrivateKeyPem.split('\n')[1];
    assert.ok(!html.includes(gateway.apiv3_key), 'the APIv3 key appears nowhere in the page');
    assert.ok(!html.includes(keyBody), 'the private key appears nowhere in the page');
    await browser.execute((sel) => {
      const section = document.querySelector(sel);
      const page = section.closest('.page');
      page.scrollTop += section.getBoundingClientRect().top - page.getBoundingClientRect().top - 16;
    }, tid('wechat-form'));
    await screenshot(browser, 'payment-settings-wechat.png');
  });

  step('the till shows WeChat Pay’s QR with its expiry; the customer pays it', async () => {
    await saleWithTea();
    await $('till-pay-wechat').waitForEnabled({ timeoutMsg: 'no WeChat Pay button at the till once connected' });
    await $('till-pay-wechat').click();
    await $('till-qr').waitForDisplayed({ timeoutMsg: 'no QR shown after choosing WeChat Pay' });
    assert.match(await text('till-countdown'), /^1[45]:\d\d$/, 'a 15-minute QR counts down');
    assert.equal(await $('till-test-badge').isExisting(), false, 'a WeChat Pay QR is not marked TEST');
    const tradeNo = await $('till-charge').getAttribute('data-charge-ref');
    assert.match(tradeNo, /^[0-9A-Za-z_\-*]{6,32}$/, 'out_trade_no as WeChat Pay allows it');
    await screenshot(browser, 'till-wechat-qr.png');
    await gateway.control(`pay/${tradeNo}`);
    await expectReceipt(lang['provider.wechat'], POLLED_WITHIN_MS);
    assert.deepEqual(pick(await gateway.trade(tradeNo), 'trade_type', 'state', 'amount_total', 'currency'), {
      trade_type: 'NATIVE',
      state: 'SUCCESS',
      amount_total: 8800,
      currency: 'CNY',
    });
  });

  step('a scanned WeChat payment code + Enter: paid on the spot, with the receipt', async () => {
    await saleWithTea();
    await scanCode(CODES.atOnce);
    await expectReceipt(byCode, 10_000);
    await screenshot(browser, 'till-wechat-code-paid.png');
  });

  step('a code the customer confirms on the phone: “waiting for the customer…”, then paid', async () => {
    await gateway.control(`code/${CODES.confirms}`, { kind: 'user_paying', confirm_after_queries: 2 });
    await saleWithTea();
    await scanCode(CODES.confirms);
    await $('till-code-waiting').waitForDisplayed({ timeoutMsg: 'no “waiting for the customer” while the customer confirms' });
    assert.equal(await text('till-code-status'), lang['till.code.waiting']);
    assert.equal(await $('till-cancel').isEnabled(), true, 'the sale can be cancelled while waiting');
    await screenshot(browser, 'till-wechat-code-waiting.png');
    await expectReceipt(byCode, POLLED_WITHIN_MS);
  });

  step('Cancel sale while the customer confirms: the code’s trade is reversed, the cart stays', async () => {
    await gateway.control(`code/${CODES.cancelled}`, { kind: 'never_confirms' });
    await saleWithTea();
    await scanCode(CODES.cancelled);
    await $('till-code-waiting').waitForDisplayed({ timeoutMsg: 'no “waiting for the customer” for a code never confirmed' });
    const tradeNo = await $('till-code-waiting').getAttribute('data-charge-ref');
    assert.match(tradeNo, /_C$/, 'a payment-code trade number');
    assert.equal((await gateway.trade(tradeNo))?.state, 'USERPAYING');
    await $('till-cancel').click();
    await $('till-code').waitForDisplayed({ timeoutMsg: 'cancelling did not return to the sale' });
    assert.equal(await text('till-total'), '¥88.00', 'the cart is kept to be paid another way');
    await eventually(async () => {
      const trade = await gateway.trade(tradeNo);
      assert.deepEqual(pick(trade, 'state', 'reversed'), { state: 'REVOKED', reversed: true }, JSON.stringify(trade));
    }, { timeout: 10_000 });
  });

  step('no provider’s code, then a declined one: the sentence under the field, cleared for a rescan, then paid', async () => {
    await saleWithTea();
    await scanCode('12345678');
    await $('till-code-error').waitForDisplayed({ timeoutMsg: 'no error under the field for a code of no provider' });
    assert.ok((await text('till-code-error')).length > 0);
    assert.equal(await $('till-code').getValue(), '', 'the field is cleared for a rescan');

    await gateway.control(`code/${CODES.declined}`, { kind: 'declined', code: 'NOTENOUGH', message: '用户余额不足' });
    await scanCode(CODES.declined);
    await eventually(async () => assert.match(await text('till-code-error'), /余额不足/, 'the provider’s sentence'), { timeout: 10_000 });
    assert.equal(await $('till-code').getValue(), '', 'the field is cleared for a rescan');
    await screenshot(browser, 'till-wechat-code-declined.png');

    await scanCode(CODES.again);
    await expectReceipt(byCode, 10_000);
  });
});
