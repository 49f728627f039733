// A buyer's steps in the browser, shared by the page tests and the follower's journey:
// Buy on a product page → test checkout → Pay (test) → the receipt with its share links.
import assert from 'node:assert/strict';
import { TIMEOUT, consoleErrors, screenshot } from './helpers.js';

/** The Buy form's submit button on the product page shown. */
async function buyButton(b) {
  const button = await b.$('form[action$="/buy"] button, form[action$="/buy"] input[type="submit"]');
  assert.ok(await button.isExisting(), `the product page has a Buy form posting to /p/<sku>/buy (${await b.getUrl()})`);
  return button;
}

/**
 * On a product page: set the quantity, press Buy, pay on the test checkout, follow it to the
 * receipt and wait until it says paid. Returns the receipt's address, text and share links.
 */
export async function buyAndPay(b, { quantity = 1, screenshotAs } = {}) {
  const productUrl = await b.getUrl();
  if (quantity !== 1) {
    const field = await b.$('input[name="quantity"]');
    await field.setValue(String(quantity));
  }
  await (await buyButton(b)).click();
  await b.waitUntil(async () => (await b.getUrl()).includes('/pay/'), {
    timeout: TIMEOUT,
    timeoutMsg: `Buy did not lead to the test checkout (at ${await b.getUrl()}, from ${productUrl})`,
  });
  await visitLoaded(b);
  if (screenshotAs) await screenshot(b, screenshotAs);
  await (await b.$('#pay')).click();
  // Paid: the checkout sends the buyer back to the receipt, or links to it.
  await b.waitUntil(
    async () => {
      if ((await b.getUrl()).includes('/r/')) return true;
      const back = await b.$('a[href*="/r/"]');
      if (await back.isExisting()) {
        await back.click();
        return (await b.getUrl()).includes('/r/');
      }
      return false;
    },
    { timeout: TIMEOUT, timeoutMsg: `Pay (test) did not lead back to a receipt (at ${await b.getUrl()})` },
  );
  // Unpaid receipts refresh themselves; wait for the share links that come with "paid".
  await b.waitUntil(async () => (await b.$('a[href^="https://bsky.app/intent/compose"]')).isExisting(), {
    timeout: TIMEOUT,
    timeoutMsg: 'the receipt never showed as paid with share links',
  });
  await visitLoaded(b);
  const receipt = await b.execute(() => ({
    url: location.href,
    text: document.body.textContent.replace(/\s+/g, ' ').trim(),
    links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.href),
  }));
  const find = (prefix) => receipt.links.find((h) => h.startsWith(prefix));
  const bluesky = find('https://bsky.app/intent/compose');
  const weibo = find('https://service.weibo.com/share/share.php');
  const mastodon = receipt.links.find((h) => new URL(h).pathname === '/share/mastodon');
  assert.ok(weibo, `a Weibo share link: ${receipt.links.join(' ')}`);
  assert.ok(mastodon, `a Mastodon share link: ${receipt.links.join(' ')}`);
  // The buy link being shared, read back from each intent.
  const weiboUrl = new URL(weibo).searchParams.get('url');
  const blueskyText = new URL(bluesky).searchParams.get('text');
  assert.ok(blueskyText.includes(weiboUrl), `the Bluesky text carries the same link: ${blueskyText} / ${weiboUrl}`);
  assert.ok(new URL(mastodon).searchParams.get('text')?.includes(weiboUrl), `the Mastodon text carries it too: ${mastodon}`);
  return { ...receipt, share: { url: weiboUrl, bluesky, weibo, mastodon } };
}

/** Waits for the current document to finish loading, console clean. */
async function visitLoaded(b) {
  await b.waitUntil(() => b.execute(() => document.readyState === 'complete'), { timeout: TIMEOUT });
  assert.deepEqual(await consoleErrors(b), [], `console errors on ${await b.getUrl()}`);
}
