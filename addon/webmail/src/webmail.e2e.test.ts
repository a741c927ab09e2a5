/**
 * The webmail extension, built as shipped (Chromium package), loaded in real headless Chromium
 * (Debian `chromium`, driven by playwright-core). Gmail and Outlook.com pages are served by
 * Playwright's router at their real addresses so the content scripts inject as in production;
 * the provider APIs and OAuth endpoints are a local server answering the documented endpoints
 * with corpus messages (test-providers.ts); reports go to a real Spamdesk, where the stored bytes
 * are compared by SHA-256 with the corpus files. Screenshots go to test-artifacts/addons/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright-core';
import { REPO_ROOT, hasCommand, needs, needsCorpus } from '../../../src/core/test-env.ts';
import { createToken, revokeToken } from '../../../src/db/tokens.ts';
import { DEFAULT_BRAND, mergeBrand, type Brand } from '../../src/brand.ts';
import { buildWebmail } from '../../src/build.ts';
import { corpusMessages, sha256, storedReports, storedReportsAtLeast, startServer } from '../../src/test-server.ts';
import type { QueueItem } from './queue.ts';
import { startFakeProviders, startSwitchableProxy } from './test-providers.ts';

const CHROMIUM = '/usr/bin/chromium';
const FRENCH_PAK = '/usr/lib/chromium/locales/fr.pak';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'addons');
const GMAIL_ID = '18c2f0a1b2c3d4e5';
const GMAIL_MISSING_ID = '18c2f0ffffffffff';
const GMAIL_BIG_ID = '18c2f0b16b16b16b';
const GMAIL_QUEUED_ID = '18c2f0c0c0c0c0c0';
const GRAPH_ID = 'AAMkAGI2TG93AAA=';
const GRAPH_REFUSED_ID = 'AAMkAGI2TG94BBB=';

function gmailPage(legacyId: string, subject: string): string {
  return (
    `<!DOCTYPE html><html><head><title>${subject} - Gmail</title></head><body>` +
    `<div role="main"><h2 class="hP">${subject}</h2>` +
    `<div class="adn ads" data-message-id="#msg-f:1789" data-legacy-message-id="${legacyId}">` +
    '<div class="a3s">Dear customer, your parcel is waiting…</div></div></div></body></html>'
  );
}

function outlookPage(subject: string): string {
  return (
    `<!DOCTYPE html><html><head><title>Mail - Outlook</title></head><body>` +
    `<div role="main"><div role="heading">${subject}</div><div>Your account will be closed…</div></div></body></html>`
  );
}

async function launch(extDir: string, profile: string, lang: string): Promise<{ context: BrowserContext; sw: Worker }> {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    locale: lang,
    // Chromium on Linux takes its interface language (the extension's i18n) from the environment.
    env: { ...process.env, LANGUAGE: lang.replace('-', '_'), LANG: `${lang.replace('-', '_')}.UTF-8` },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--lang=${lang}`,
      `--disable-extensions-except=${extDir}`,
      `--load-extension=${extDir}`,
    ],
  });
  const sw = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
  await context.route('https://mail.google.com/**', (route) => {
    // The fragment never reaches the network, so the test pages name the message in `th=`.
    const id = new URL(route.request().url()).searchParams.get('th') ?? GMAIL_ID;
    return route.fulfill({ contentType: 'text/html; charset=utf-8', body: gmailPage(id, 'Your parcel') });
  });
  await context.route(/^https:\/\/outlook\.live\.com\//, (route) =>
    route.fulfill({ contentType: 'text/html; charset=utf-8', body: outlookPage('Account closure') }),
  );
  return { context, sw };
}

/** Clicks the extension's button and waits for its verdict. */
async function clickReport(page: Page, buttonName: RegExp): Promise<{ state: string; text: string }> {
  await page.getByRole('button', { name: buttonName }).click();
  const panel = page.locator(
    '[data-testid="spamdesk-result"]:is([data-state="ok"],[data-state="queued"],[data-state="error"])',
  );
  await panel.waitFor({ timeout: 60_000 });
  // "Sending…" is shown with state ok; wait until the background's answer replaced it.
  await page.waitForFunction(
    () => !document.querySelector('[data-testid="spamdesk-result"]')?.textContent?.match(/^(Sending|Envoi)…$/),
  );
  return { state: (await panel.getAttribute('data-state')) ?? '', text: (await panel.textContent()) ?? '' };
}

async function queue(sw: Worker): Promise<QueueItem[]> {
  return sw.evaluate(async () => {
    const v = (await chrome.storage.local.get('queue')).queue;
    return Array.isArray(v) ? v : [];
  });
}

async function saveOptions(context: BrowserContext, extId: string, instanceUrl: string, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extId}/options.html`);
  // The page has read the stored settings and the queue (under load this takes a while).
  await page.locator('body[data-ready=true]').waitFor({ timeout: 60_000 });
  await page.locator('#instanceUrl').fill(instanceUrl);
  await page.locator('#token').fill(token);
  await page.locator('#settings button[type=submit]').click();
  const st = page.locator('#status:is(.ok, .error)');
  await st.waitFor({ timeout: 60_000 });
  assert.equal(await st.getAttribute('class'), 'ok', `options not saved: ${await st.textContent()}`);
  return page;
}

test('webmail extension in headless Chromium: Gmail and Outlook.com report the exact source', async (t) => {
  if (!needs(t, 'Chromium', fs.existsSync(CHROMIUM) && hasCommand('chromium'), 'apt-get install chromium')) return;
  if (!needsCorpus(t, 'phishing_pot/email')) return;
  // 1 MB: the large corpus message (2.1 MB) is over it.
  const s = await startServer(t, { maxMessageBytes: 1_000_000 });
  if (!s) return;
  const providers = await startFakeProviders();
  t.after(() => providers.close());
  const proxy = await startSwitchableProxy(s.url);
  t.after(() => proxy.close());
  const [gmailMsg, graphMsg, queuedMsg, refusedMsg] = corpusMessages('phishing_pot/email', 4);
  const big = corpusMessages('phishing_pot/email', 2000).reduce((a, b) => (b.bytes.length > a.bytes.length ? b : a));
  assert.ok(big.bytes.length > 1_000_000, `${big.name} is ${big.bytes.length} bytes`);
  providers.gmail.set(GMAIL_ID, gmailMsg.bytes);
  providers.gmail.set(GMAIL_BIG_ID, big.bytes);
  providers.gmail.set(GMAIL_QUEUED_ID, queuedMsg.bytes);
  providers.graph.set(GRAPH_ID, graphMsg.bytes);
  providers.graph.set(GRAPH_REFUSED_ID, refusedMsg.bytes);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-webmail-e2e-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const brand: Brand = mergeBrand(DEFAULT_BRAND, {
    instanceUrl: 'http://127.0.0.1',
    webmail: {
      gmail: {
        clientId: 'national-body-gmail-client',
        authUrl: `${providers.url}/o/oauth2/v2/auth`,
        apiBase: providers.url,
      },
      graph: {
        clientId: 'national-body-graph-client',
        authUrl: `${providers.url}/ms/authorize`,
        tokenUrl: `${providers.url}/ms/token`,
        apiBase: `${providers.url}/graph/v1.0`,
      },
      extraHostPermissions: ['http://127.0.0.1/*'],
    },
  });
  const built = await buildWebmail(brand, 'chromium', path.join(dir, 'ext'), path.join(dir, 'ext.zip'));
  fs.mkdirSync(ARTIFACTS, { recursive: true });

  const { context, sw } = await launch(built.dir, path.join(dir, 'profile'), 'en-GB');
  t.after(() => context.close());
  const extId = new URL(sw.url()).host;
  const token = await createToken(s.ctx.db, { role: 'reporter', name: 'webmail' });
  const options = await saveOptions(context, extId, s.url, token.secret);
  const page = await context.newPage();

  await t.test('Gmail: the raw source from users.messages.get (format=raw) reaches Spamdesk unchanged', async () => {
    await page.goto(`https://mail.google.com/mail/u/0/?th=${GMAIL_ID}`);
    const r = await clickReport(page, /^Report spam$/);
    assert.equal(r.state, 'ok', r.text);
    assert.match(r.text, /^Spam reported/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'webmail-gmail-reported.png') });
    const stored = await storedReports(s);
    assert.equal(stored.length, 1);
    assert.equal(stored[0].sha256, sha256(gmailMsg.bytes), `${gmailMsg.name} stored byte for byte`);
    assert.equal(stored[0].channel, 'addon');
    assert.equal(stored[0].tokenId, token.id);
    assert.ok(providers.clients.includes('national-body-gmail-client'), 'signed in with the national body client');
    assert.ok(providers.requests.some((q) => q.path === `/gmail/v1/users/me/messages/${GMAIL_ID}?format=raw`));
  });

  await t.test('Outlook.com: the MIME from Graph /me/messages/{id}/$value, signed in with code + PKCE', async () => {
    await page.goto(`https://outlook.live.com/mail/0/inbox/id/${encodeURIComponent(GRAPH_ID)}`);
    const r = await clickReport(page, /^Report spam$/);
    assert.equal(r.state, 'ok', r.text);
    await page.screenshot({ path: path.join(ARTIFACTS, 'webmail-outlook-reported.png') });
    const stored = await storedReports(s);
    assert.equal(stored.length, 2);
    assert.equal(stored[1].sha256, sha256(graphMsg.bytes), `${graphMsg.name} stored byte for byte`);
    assert.ok(providers.clients.includes('national-body-graph-client'));
    assert.ok(
      providers.requests.some((q) => q.method === 'POST' && q.path === '/ms/token'),
      'code redeemed',
    );
  });

  await t.test('a message whose source cannot be had: said so, and the web form is offered', async () => {
    await page.goto(`https://mail.google.com/mail/u/0/?th=${GMAIL_MISSING_ID}`);
    const r = await clickReport(page, /^Report spam$/);
    assert.equal(r.state, 'error');
    assert.match(r.text, /source could not be fetched.*Requested entity was not found/);
    const link = page.getByRole('link', { name: 'Report it with the web form instead' });
    assert.equal(await link.getAttribute('href'), `${s.url}/report`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'webmail-no-source.png') });
    assert.equal((await storedReports(s)).length, 2);
  });

  await t.test('too large for the instance: said so with the limit, nothing queued', async () => {
    await page.goto(`https://mail.google.com/mail/u/0/?th=${GMAIL_BIG_ID}`);
    const r = await clickReport(page, /^Report spam$/);
    assert.equal(r.state, 'error');
    assert.match(r.text, /^Message too large.*\(1 MB\).*stays in your mailbox/);
    assert.deepEqual(await queue(sw), []);
  });

  await t.test(
    'instance down: kept in the queue with a retry alarm, delivered byte for byte once it is back',
    async () => {
      await saveOptions(context, extId, proxy.url, token.secret);
      await proxy.down();
      await page.goto(`https://mail.google.com/mail/u/0/?th=${GMAIL_QUEUED_ID}`);
      const r = await clickReport(page, /^Report spam$/);
      assert.equal(r.state, 'queued', r.text);
      assert.match(r.text, /^Cannot reach the service.*Nothing is lost.*kept in this browser/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'webmail-queued.png') });
      const [item] = await queue(sw);
      assert.equal(item.state, 'waiting');
      assert.equal(item.lastOutcome, 'network');
      assert.equal(item.size, queuedMsg.bytes.length);
      const alarm = await sw.evaluate(() => chrome.alarms.get('spamdesk-retry'));
      assert.equal(alarm?.scheduledTime, item.nextAttemptAt, 'the retry alarm is set for the next attempt');
      assert.ok(item.nextAttemptAt - item.createdAt >= 60_000, 'first retry after a minute');

      await options.reload();
      await options.locator('#queue li[data-state="waiting"]').waitFor();
      await options.screenshot({ path: path.join(ARTIFACTS, 'webmail-options-queue.png') });
      await proxy.up();
      await options.getByRole('button', { name: 'Retry now' }).click();
      await options.locator('#queueEmpty:not([hidden])').waitFor();
      assert.deepEqual(await queue(sw), []);
      const stored = await storedReportsAtLeast(s, 3);
      assert.equal(stored.length, 3);
      assert.equal(
        stored[2].sha256,
        sha256(queuedMsg.bytes),
        `${queuedMsg.name} delivered byte for byte after the outage`,
      );
    },
  );

  await t.test('instance behind its proxy answering 503: queued, next attempt after Retry-After', async () => {
    await proxy.maintenance(600);
    await page.goto(`https://mail.google.com/mail/u/0/?th=${GMAIL_ID}`);
    const r = await clickReport(page, /^Report spam$/);
    assert.equal(r.state, 'queued', r.text);
    assert.match(r.text, /^Service unavailable.*cannot take reports right now/);
    const [item] = await queue(sw);
    assert.equal(item.lastOutcome, 'unavailable');
    assert.ok(
      item.nextAttemptAt - item.createdAt >= 600_000,
      'the 10 minutes of Retry-After, not the 1 minute backoff',
    );
    await proxy.up();
    await options.getByRole('button', { name: 'Retry now' }).click();
    await options.locator('#queueEmpty:not([hidden])').waitFor();
    const stored = await storedReportsAtLeast(s, 4);
    assert.equal(stored.length, 4);
    assert.equal(stored[3].sha256, sha256(gmailMsg.bytes));
  });

  await t.test('token refused: held until a new token is saved, then delivered', async () => {
    await revokeToken(s.ctx.db, token.id);
    await page.goto(`https://outlook.live.com/mail/0/inbox/id/${encodeURIComponent(GRAPH_REFUSED_ID)}`);
    const r = await clickReport(page, /^Report spam$/);
    assert.equal(r.state, 'queued', r.text);
    assert.match(r.text, /^Token refused.*once you set a valid token/);
    assert.deepEqual(
      (await queue(sw)).map((i) => i.state),
      ['needs-token'],
    );
    const fresh = await createToken(s.ctx.db, { role: 'reporter', name: 'webmail' });
    await saveOptions(context, extId, s.url, fresh.secret);
    await sw.evaluate(async () => {
      for (let i = 0; i < 100 && ((await chrome.storage.local.get('queue')).queue as unknown[]).length > 0; i++)
        await new Promise((r) => setTimeout(r, 100));
    });
    assert.deepEqual(await queue(sw), []);
    const stored = await storedReports(s);
    assert.equal(stored.length, 5);
    assert.equal(stored[4].sha256, sha256(refusedMsg.bytes));
    assert.equal(stored[4].tokenId, fresh.id);
  });
  // Before the after-hooks stop the servers, which would otherwise wait for the browser's
  // keep-alive connections to time out.
  await context.close();
});

test('webmail extension speaks French in a French browser', async (t) => {
  if (!needs(t, 'Chromium', fs.existsSync(CHROMIUM) && hasCommand('chromium'), 'apt-get install chromium')) return;
  // Without its locale files Chromium runs in English whatever the environment says.
  if (!needs(t, 'Chromium in French', fs.existsSync(FRENCH_PAK), 'apt-get install chromium-l10n')) return;
  const providers = await startFakeProviders();
  t.after(() => providers.close());
  providers.gmail.set(
    GMAIL_ID,
    Buffer.from('From: a@example.org\r\nSubject: colis\r\nMessage-ID: <fr@x>\r\n\r\nx\r\n'),
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-webmail-fr-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const brand = mergeBrand(DEFAULT_BRAND, {
    instanceUrl: 'http://127.0.0.1',
    webmail: {
      gmail: { clientId: 'c', authUrl: `${providers.url}/o/oauth2/v2/auth`, apiBase: providers.url },
      extraHostPermissions: ['http://127.0.0.1/*'],
    },
  });
  const built = await buildWebmail(brand, 'chromium', path.join(dir, 'ext'), path.join(dir, 'ext.zip'));
  const { context, sw } = await launch(built.dir, path.join(dir, 'profile'), 'fr-FR');
  t.after(() => context.close());
  // Nothing listens on port 9: the instance is down.
  await saveOptions(context, new URL(sw.url()).host, 'http://127.0.0.1:9', `sdk_${'f'.repeat(43)}`);
  const page = await context.newPage();
  await page.goto(`https://mail.google.com/mail/u/0/?th=${GMAIL_ID}`);
  const r = await clickReport(page, /^Signaler un spam$/);
  assert.equal(r.state, 'queued');
  assert.match(r.text, /^Service injoignable.*Rien n’est perdu.*gardé dans ce navigateur/);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'webmail-queued-fr.png') });
  await context.close();
});
