// Posting a product to Bluesky, against the real reference PDS (@atproto/pds, started from
// tests/peers/pds): an account and an app password are made over XRPC the way a shop owner
// makes them in Bluesky, connected in Settings → Accounts, and the Post screen previews,
// posts and follows the post until it is "Posted ✓" with its link. The PDS is then asked
// for the account's posts: exactly one, with the product's name, its photo and the post's
// own tracked buy link (as a link facet). Steps run in order on a shop folder of their own;
// after a failing step the rest are skipped.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, describe } from 'node:test';
import {
  env,
  eventually,
  makePng,
  messages,
  screenshot,
  setFieldValue,
  setInputFile,
  startApp,
  textOf,
  textsOf,
  tid,
  typeInto,
  journey,
} from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PDS_DIR = path.join(HERE, '../peers/pds');
// Not the catalog journey's shop: this journey starts from a first start of its own.
const DATA_DIR = path.join(path.dirname(env.dataDir), 'shop-posting');
const PDS_DATA = path.join(path.dirname(env.dataDir), 'pds');
const SHOP = { name: 'Posting Tea Shop', currency: 'CNY', timezone: 'Asia/Shanghai', buyLink: 'https://shop.example.com/p/' };
const TEA = { name: '龙井绿茶 Longjing', price: '88', sku: 'TEA-LJ-POST', tags: 'tea, 绿茶' };
// Handles on the test PDS end in .test (see tests/peers/pds/start.js).
const OWNER = { handle: 'teashop.test', email: 'owner@teashop.test', password: 'main-password-never-given-to-shopcast' };
const lang = messages.en;
/** How long the outbox may take from "Post" to "Posted ✓" on a local PDS. */
const POSTED_WITHIN_MS = 30_000;

/** Calls an XRPC method of the PDS; returns the parsed reply, throwing on an HTTP error. */
async function xrpc(base, nsid, { body, token, query } = {}) {
  const url = new URL(`/xrpc/${nsid}`, base);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
  const reply = await fetch(url, {
    method: body ? 'POST' : 'GET',
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await reply.text();
  assert.ok(reply.ok, `${nsid}: HTTP ${reply.status} ${text}`);
  return JSON.parse(text);
}

/**
 * Starts the PDS on a fresh folder; resolves with its URL and the child process. Its stdin
 * stays open as a lifeline: if this test process dies, the PDS sees stdin close and stops.
 */
async function startPds() {
  assert.ok(
    existsSync(path.join(PDS_DIR, 'node_modules/@atproto/pds')),
    `the PDS peer is not installed: (cd ${path.relative(process.cwd(), PDS_DIR)} && npm ci)`,
  );
  mkdirSync(PDS_DATA, { recursive: true });
  const child = spawn(process.execPath, [path.join(PDS_DIR, 'start.js'), PDS_DATA], {
    cwd: PDS_DIR,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.pipe(createWriteStream(path.join(path.dirname(env.dataDir), 'pds.log')));
  const lines = readline.createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the PDS did not print its address within 60 s')), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the PDS exited with ${code} before it was ready (see pds.log beside the shop folder)`));
    });
    lines.on('line', (line) => {
      const m = /^PDS (http:\/\/127\.0\.0\.1:\d+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return { url, child };
}

async function stopPds(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

describe('posting journey (real Bluesky PDS)', () => {
  /** @type {WebdriverIO.Browser | null} */
  let browser = null;
  /** @type {{ url: string, child: import('node:child_process').ChildProcess } | null} */
  let pds = null;
  let did = null;
  let appPassword = null;
  let productId = null;
  let postId = null;
  let postUrl = null;

  const $ = (id) => browser.$(tid(id));
  const text = (id) => textOf(browser, tid(id));

  const step = journey('posting', () => browser, { timeout: 120_000 });

  /** The history rows in one read, as the owner sees them. */
  async function historyRows(scope = 'body') {
    return browser.execute(
      (scopeSel, rowSel) =>
        Array.from(document.querySelector(scopeSel)?.querySelectorAll(rowSel) ?? []).map((row) => ({
          id: row.dataset.postId,
          status: row.dataset.status,
          chip: row.querySelector('[data-testid="post-status"]')?.textContent.trim(),
          time: row.querySelector('[data-testid="post-time"]')?.textContent.replace(/\s+/g, ' ').trim(),
          url: row.querySelector('[data-testid="post-url"]')?.textContent.trim() ?? null,
          error: row.querySelector('[data-testid="post-error"]')?.textContent.trim() ?? null,
        })),
      scope,
      tid('post-row'),
    );
  }

  after(async () => {
    if (browser) await browser.deleteSession().catch(() => {});
    await stopPds(pds?.child);
  });

  step('a Bluesky PDS with an account and an app password', async () => {
    pds = await startPds();
    const account = await xrpc(pds.url, 'com.atproto.server.createAccount', {
      body: { handle: OWNER.handle, email: OWNER.email, password: OWNER.password },
    });
    did = account.did;
    assert.match(did, /^did:plc:/);
    const made = await xrpc(pds.url, 'com.atproto.server.createAppPassword', {
      body: { name: 'Shopcast' },
      token: account.accessJwt,
    });
    appPassword = made.password;
    assert.match(appPassword, /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
  });

  step('a new shop with a buy-link base and a product with a SKU, tags and a photo', async () => {
    mkdirSync(DATA_DIR, { recursive: true });
    browser = await startApp({ dataDir: DATA_DIR });
    await $('setup-form').waitForDisplayed({ timeoutMsg: 'setup-form not shown on first start' });
    await $('setup-name').setValue(SHOP.name);
    await $('setup-currency').setValue(SHOP.currency);
    await $('setup-timezone').selectByAttribute('value', SHOP.timezone);
    await $('setup-locale').selectByAttribute('value', 'en');
    await $('setup-buylink').setValue(SHOP.buyLink);
    await $('setup-save').click();
    await $('shop-name').waitForDisplayed({ timeoutMsg: 'header shop-name not shown after setup' });

    await $('catalog-new').click();
    await $('editor').waitForDisplayed();
    await typeInto(browser, tid('editor-name'), TEA.name);
    await $('editor-price').setValue(TEA.price);
    await $('editor-sku').setValue(TEA.sku);
    await $('editor-tags').setValue(TEA.tags);
    await $('editor-save').click();
    await eventually(async () => {
      productId = await $('editor').getAttribute('data-product-id');
      assert.match(productId ?? '', /^\d+$/);
    });
    await setInputFile(browser, tid('photo-input'), { name: 'tea.png', type: 'image/png', bytes: makePng(640, 480) });
    await $('photo-thumb').waitForDisplayed({ timeoutMsg: 'the photo was not added' });
    // A product that was never posted says so in its editor.
    await eventually(async () => assert.equal(await text('post-history-empty'), lang['editor.noPosts']));
    await $('editor-close').click();
    await $('editor').waitForExist({ reverse: true, timeoutMsg: 'editor did not close' });
  });

  step('Settings → Accounts: a wrong app password is refused in plain words, the right one connects', async () => {
    await $('nav-settings').click();
    await $('account-settings').waitForDisplayed({ timeoutMsg: 'no Accounts section in Settings' });
    await $('accounts-empty').waitForDisplayed();
    assert.equal(await $('bsky-service').getValue(), 'https://bsky.social', 'the usual server is filled in');
    assert.equal(await $('bsky-password').getAttribute('type'), 'password', 'the app password is masked');
    // Mastodon and Weibo sign in through the browser.
    await $('oauth-connect').waitForDisplayed();

    await $('bsky-service').setValue(pds.url);
    await $('bsky-handle').setValue(OWNER.handle);
    await $('bsky-password').setValue('aaaa-bbbb-cccc-dddd');
    await $('bsky-connect').click();
    await eventually(async () => {
      const shown = await textsOf(browser, `${tid('bluesky-form')} ${tid('field-error')}`);
      assert.deepEqual(shown, [lang['accounts.wrongPassword']]);
    });
    assert.equal(await $('bsky-password').getAttribute('aria-invalid'), 'true');
    assert.equal((await browser.$$(tid('account-row'))).length, 0, 'nothing connected with a wrong password');
    await screenshot(browser, 'posting-wrong-password.png');

    await $('bsky-password').setValue(appPassword);
    await $('bsky-connect').click();
    await $('account-row').waitForDisplayed({ timeoutMsg: 'the account did not appear after connecting' });
    assert.equal(await text('account-handle'), `@${OWNER.handle}`);
    assert.equal(await text('account-status'), lang['accountStatus.ok']);
    assert.equal(await text('account-service'), pds.url);
    assert.ok(
      [lang['accounts.inKeychain'], lang['accounts.inFile']].includes(await text('account-secret')),
      'says where the app password is kept',
    );
    assert.equal(await $('bsky-password').getValue(), '', 'the app password is not kept in the page');
    await $('account-settings').scrollIntoView();
    await screenshot(browser, 'posting-account.png');
  });

  step('Post: pick the product and the account, see the preview and its counter', async () => {
    await $('nav-post').click();
    await $('post-screen').waitForDisplayed({ timeoutMsg: 'Post screen not shown' });
    await $('compose-search').setValue(TEA.sku);
    await eventually(async () => assert.deepEqual(await textsOf(browser, `${tid('compose-result')} .name`), [TEA.name]));
    await $('compose-result').click();
    await eventually(async () => assert.equal(await $('compose-product').getAttribute('data-product-id'), productId));
    assert.equal(await $('compose-post').isEnabled(), false, 'no account chosen: nothing to post');

    await $('compose-account').click();
    await $('post-preview').waitForDisplayed({ timeoutMsg: 'no preview after choosing the account' });
    await eventually(async () => {
      const preview = await text('preview-text');
      assert.ok(preview.startsWith(TEA.name), `preview starts with the name: ${preview}`);
      assert.ok(preview.includes(`${SHOP.buyLink}${TEA.sku}?src=post&post=`), `preview has the tracked link: ${preview}`);
      assert.ok(preview.includes('#tea #绿茶'), `preview has the tags: ${preview}`);
      assert.match(await text('preview-counter'), /^\d+ \/ 300$/);
      assert.equal(await $('preview-counter').getAttribute('data-level'), 'ok');
      assert.equal(await text('preview-images'), 'Photos 1 / 4');
      assert.equal(await $('compose-post').isEnabled(), true);
    });

    // Too long for Bluesky: red counter, the problem in words, and no Post button.
    await setFieldValue(browser, tid('compose-template'), `{name}\n${'Fresh spring tea. '.repeat(20)}{link}`);
    await eventually(async () => {
      assert.equal(await $('preview-counter').getAttribute('data-level'), 'over');
      const [length, max] = (await text('preview-counter')).split(' / ').map(Number);
      assert.ok(length > max, `${length} > ${max}`);
      assert.notEqual(await text('preview-problem'), '');
      assert.equal(await $('compose-post').isEnabled(), false, 'Post is disabled while the preview has a problem');
    });
    await screenshot(browser, 'posting-too-long.png');

    // Back to the standard text.
    await setFieldValue(browser, tid('compose-template'), '{name} — {price}\n{link}\n{tags}');
    await eventually(async () => {
      assert.equal(await $('preview-counter').getAttribute('data-level'), 'ok');
      assert.equal(await browser.$(tid('preview-problem')).isExisting(), false);
      assert.equal(await $('compose-post').isEnabled(), true);
    });
    await screenshot(browser, 'posting-preview.png');
  });

  step('Post: the history follows the post until it is posted, with its link', async () => {
    await $('compose-post').click();
    await eventually(
      async () => {
        const rows = await historyRows();
        assert.equal(rows.length, 1, `history ${JSON.stringify(rows)}`);
        assert.equal(rows[0].error, null, `no error: ${rows[0].error}`);
        assert.equal(rows[0].status, 'posted', `history ${JSON.stringify(rows)}`);
        postId = rows[0].id;
        postUrl = rows[0].url;
      },
      { timeout: POSTED_WITHIN_MS, interval: 200 },
    );
    assert.equal((await historyRows())[0].chip, lang['postStatus.posted']);
    assert.match(postUrl, new RegExp(`^https://bsky\\.app/profile/${OWNER.handle.replace('.', '\\.')}/post/[a-z0-9]+$`));
    assert.match(await text('post-text'), new RegExp(`post=${postId}\\b`), 'the stored text has the post’s own link');
    await screenshot(browser, 'posting-posted.png');
  });

  step('the PDS has exactly that one post: name, photo and the tracked link', async () => {
    const { records } = await xrpc(pds.url, 'com.atproto.repo.listRecords', {
      query: { repo: did, collection: 'app.bsky.feed.post' },
    });
    assert.equal(records.length, 1, `records ${JSON.stringify(records)}`);
    const [{ uri, value }] = records;
    const link = `${SHOP.buyLink}${TEA.sku}?src=post&post=${postId}`;
    assert.ok(value.text.includes(TEA.name), `text has the name: ${value.text}`);
    assert.ok(value.text.includes(link), `text has ${link}: ${value.text}`);
    // The link is a real link in Bluesky: a facet over exactly its UTF-8 bytes.
    const facet = value.facets?.find((f) => f.features.some((x) => x.$type === 'app.bsky.richtext.facet#link'));
    assert.ok(facet, `a link facet: ${JSON.stringify(value.facets)}`);
    assert.equal(facet.features[0].uri, link);
    const bytes = Buffer.from(value.text, 'utf8');
    assert.equal(bytes.subarray(facet.index.byteStart, facet.index.byteEnd).toString('utf8'), link);
    assert.equal(value.embed?.$type, 'app.bsky.embed.images');
    assert.equal(value.embed.images.length, 1);
    assert.equal(value.embed.images[0].alt, TEA.name);
    // The app's link points at this very record.
    assert.equal(uri.split('/').pop(), postUrl.split('/').pop());
  });

  step('a scheduled post shows its time in the shop’s time zone and can be called off', async () => {
    await $('compose-later').click();
    // Two hours from now, on the shop's clock (Asia/Shanghai), whatever the machine's zone.
    const at = Math.ceil((Date.now() + 2 * 3_600_000) / 60_000) * 60_000;
    const wall = new Date(at + 8 * 3_600_000).toISOString().slice(0, 16);
    await setFieldValue(browser, tid('compose-at'), wall);
    await eventually(async () => assert.equal(await $('compose-post').isEnabled(), true));
    assert.equal(await text('compose-post'), lang['compose.schedule']);
    await $('compose-post').click();

    const shown = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short', timeZone: SHOP.timezone })
      .format(at)
      .replace(/\s+/g, ' ');
    let scheduled;
    await eventually(async () => {
      const rows = await historyRows();
      assert.equal(rows.length, 2, `history ${JSON.stringify(rows)}`);
      scheduled = rows[0]; // latest scheduled first
      assert.equal(scheduled.status, 'queued');
      assert.equal(scheduled.chip, lang['postStatus.scheduled']);
      assert.equal(scheduled.time, lang['posts.scheduledFor'].replace('{time}', shown));
    });
    await screenshot(browser, 'posting-scheduled.png');

    await browser.$(`${tid('post-row')}[data-post-id="${scheduled.id}"] ${tid('post-skip')}`).click();
    await eventually(async () => {
      const row = (await historyRows()).find((r) => r.id === scheduled.id);
      assert.equal(row?.status, 'skipped');
    });
    // Still exactly one post on Bluesky.
    const { records } = await xrpc(pds.url, 'com.atproto.repo.listRecords', {
      query: { repo: did, collection: 'app.bsky.feed.post' },
    });
    assert.equal(records.length, 1);
  });

  step('the post shows in the product’s editor and in the account’s history', async () => {
    await $('nav-catalog').click();
    await browser.$(`[data-testid="catalog-row"][data-product-id="${productId}"]`).click();
    await $('editor-posts').waitForDisplayed({ timeoutMsg: 'no Posts section in the product editor' });
    await eventually(async () => {
      const rows = await historyRows(tid('editor-posts'));
      assert.deepEqual(rows.map((r) => [r.id, r.status]).find(([id]) => id === postId), [postId, 'posted']);
      assert.equal(rows.find((r) => r.id === postId).url, postUrl);
    });
    await $('editor-posts').scrollIntoView();
    await screenshot(browser, 'posting-editor-history.png');
    await $('editor-close').click();

    await $('nav-settings').click();
    await $('account-posts').waitForDisplayed();
    await $('account-posts').click();
    await eventually(async () => {
      const rows = await historyRows(tid('account-settings'));
      assert.deepEqual(rows.map((r) => r.status).sort(), ['posted', 'skipped']);
    });
  });

  step('Settings → Accounts: a Mastodon account signs in through the browser (mastodon-mock)', async () => {
    const venv = process.env.SHOPCAST_VENV ?? path.join(process.env.HOME, '.cache/shopcast-venv');
    assert.ok(existsSync(path.join(venv, 'bin/mastodon_mock')), 'mastodon-mock is missing: run tests/peers/setup.sh');
    const port = await new Promise((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address();
        probe.close(() => resolve(port));
      });
    });
    const state = path.join(path.dirname(env.dataDir), 'mastodon-mock');
    mkdirSync(state, { recursive: true });
    const mock = spawn('bash', [path.join(HERE, '../peers/mastodon-mock.sh'), String(port), state], { stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => assert.ok((await fetch(`${base}/api/v2/instance`)).ok), { timeout: 30_000 });
      // The owner's account on the instance.
      const signup = await fetch(`${base}/api/v1/accounts`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'teashop', email: 'teashop@shop.test', password: 'correct horse battery', agreement: 'true', locale: 'en' }),
      });
      assert.ok(signup.ok, await signup.text());

      await $('nav-settings').click();
      await $('mastodon-instance').waitForDisplayed();
      await $('mastodon-instance').setValue(base);
      await $('mastodon-connect').click();
      await $('oauth-url').waitForDisplayed({ timeoutMsg: 'no sign-in address shown' });
      const authorizeUrl = await $('oauth-url').getText();
      assert.ok(authorizeUrl.startsWith(`${base}/oauth/authorize?`), authorizeUrl);
      assert.match(authorizeUrl, /code_challenge_method=S256/);
      await screenshot(browser, 'posting-mastodon-sign-in.png');
      // What the browser does: the instance's account picker, then the redirect back to Shopcast.
      const picker = await (await fetch(authorizeUrl)).text();
      const form = new URLSearchParams();
      for (const m of picker.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form.set(m[1], m[2]);
      form.set('username', 'teashop');
      const picked = await fetch(`${base}/oauth/authorize`, { method: 'POST', body: form, redirect: 'manual' });
      assert.equal(picked.status, 302);
      const back = picked.headers.get('location');
      assert.match(back, /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
      assert.equal((await fetch(back)).status, 200);
      await eventually(async () => {
        const handles = await textsOf(browser, `${tid('account-row')} ${tid('account-handle')}`);
        assert.ok(handles.includes('@teashop'), JSON.stringify(handles));
      }, { timeout: 20_000 });
      await screenshot(browser, 'posting-mastodon-connected.png');
    } finally {
      mock.kill('SIGTERM');
    }
  });
});
