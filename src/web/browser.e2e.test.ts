/**
 * End to end in real headless Chromium (Debian `chromium`, driven by playwright-core) against the
 * real platform with its workers: a spam reported through the public form appears, analysed, in
 * the workbench; the dashboard draws its charts (screenshot in test-artifacts/); the queue of held campaigns
 * is one click away; opening a spam
 * that loads a remote image, a script and CSS url()s sends no request off the page (every request
 * recorded and intercepted, and a local "remote" server proves it received nothing); the public pages
 * render in English and in French (no English left in the French ones) and fit a phone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { createAccount } from '../db/accounts.ts';
import { indexAll } from './indexer.ts';
import {
  ARTIFACTS,
  L,
  LANGS,
  assertLanguage,
  localeContext,
  screenshot,
  startBrowserPlatform,
  signIn as signInAs,
  waitFor,
} from './test-browser.ts';
import { sampleSpam } from './test-helpers.ts';

const ANALYST_PASSWORD = 'analyst password for e2e';

function signIn(page: Page, base: string, email: string): Promise<void> {
  return signInAs(page, base, email, ANALYST_PASSWORD, '/workbench');
}

test('web app in headless Chromium', async (t) => {
  const e2e = await startBrowserPlatform(t, 'e2e', { workers: 1, webIndexIntervalMs: 300 });
  if (!e2e) return;
  const { platform, browser, base, db } = e2e;
  const { id: analystId } = await createAccount(db, {
    email: 'analyst@example.org',
    role: 'analyst',
    password: ANALYST_PASSWORD,
  });
  assert.ok(analystId);

  await t.test('a spam reported through the public form appears, analysed, in the workbench', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/report`);
    const marker = `zebracrossing${Date.now()}`;
    await page
      .getByLabel('Full source of the message')
      .fill(sampleSpam({ subject: `Claim your ${marker} prize` }).toString());
    await page.getByLabel('No, never').check();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Send the report' }).click()]);
    await page.getByRole('heading', { name: 'Thank you, your report is stored' }).waitFor();
    const trackHref = await page.getByTestId('tracking-link').first().getAttribute('href');
    assert.match(trackHref ?? '', /^\/track\/[A-Za-z0-9_-]{20,}$/);

    await signIn(page, base, 'analyst@example.org');
    let detailUrl = '';
    await waitFor('the report in the list', async () => {
      await page.goto(`${base}/workbench/reports?q=${marker}`);
      const link = page.getByRole('link', { name: `Claim your ${marker} prize` });
      if ((await link.count()) === 0) return false;
      detailUrl = base + ((await link.getAttribute('href')) ?? '');
      return true;
    });
    await waitFor('the analysis', async () => {
      await page.goto(detailUrl);
      return /^Yes/.test((await page.getByTestId('analysed').textContent()) ?? '');
    });
    // The analysis is shown: the trace-back names the origin hop of the sample's Received header.
    assert.match((await page.locator('#h-trace').locator('..').textContent()) ?? '', /203\.0\.113\.7/);
    await page.goto(base + (trackHref ?? ''));
    assert.equal(await page.getByTestId('track-analysed').textContent(), 'Yes');
    await context.close();
  });

  await t.test('the dashboard draws its charts', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    await signIn(page, base, 'analyst@example.org');
    await page.waitForSelector('canvas[data-rendered="true"]');
    const charts = await page.locator('canvas[data-rendered="true"]').count();
    assert.ok(charts >= 2, `charts drawn: ${charts}`);
    // Chart.js drew pixels: the canvas is not blank.
    const inked = await page.locator('#dash-category').evaluate((c) => {
      if (!(c instanceof HTMLCanvasElement)) return 0;
      const g = c.getContext('2d');
      if (!g) return 0;
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    assert.ok(inked > 100, `painted pixels: ${inked}`);
    const shot = path.join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(fs.statSync(shot).size > 10_000);
    await context.close();
  });

  await t.test('opening a hostile HTML spam in the safe view sends no request off the page', async () => {
    const hits: string[] = [];
    const remote = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('x');
    });
    await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => remote.close(() => r())));
    const r = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
    const hostile = `<html><head><link rel="stylesheet" href="${r}/style.css">\
<style>body{background:url(${r}/style-bg.png)}</style>
<meta http-equiv="refresh" content="0;url=${r}/refresh"><script src="${r}/script.js"></script>\
<script>fetch('${r}/inline-fetch');new Image().src='${r}/inline-img';</script></head>
<body><h1>Your account is suspended</h1><img src="${r}/pixel.gif" width="1" height="1" alt="pixel">
<div style="background-image:url(${r}/div-bg.png)">Verify now</div><table background="${r}/table-bg.png"><tr><td>x</td>\
</tr></table>
<iframe src="${r}/frame"></iframe><object data="${r}/object"></object>
<form action="${r}/submit" method="post"><input name="password" value="secret"><button>Log in</button></form>
<a href="${r}/phish">Click here</a><svg><image href="${r}/svg.png"/></svg></body></html>`;
    const [stored] = await platform.ctx.writer.submit([
      { raw: sampleSpam({ subject: 'Hostile HTML', html: hostile }), channel: 'web' },
    ]);
    await indexAll(db);

    const context = await browser.newContext();
    const offPage: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(base)) return route.continue();
      offPage.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    await signIn(page, base, 'analyst@example.org');
    requests.length = 0;
    await page.goto(`${base}/workbench/reports/${stored.id}`);
    const frame = page.frameLocator('iframe[data-testid="safe-view"]');
    await frame.locator('h1', { hasText: 'Your account is suspended' }).waitFor();
    // Give anything that would load (refresh, lazy images) time to try.
    await page.waitForTimeout(1500);
    await frame
      .getByText('Click here')
      .click({ timeout: 5000 })
      .catch(() => undefined);
    await page.waitForTimeout(500);
    const offOrigin = requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:'));
    assert.deepEqual(offOrigin, [], 'requests recorded by page.on(request) that left the platform');
    assert.deepEqual(offPage, [], 'requests intercepted on their way off the page');
    assert.deepEqual(hits, [], 'the "remote" server received requests');
    assert.equal(
      await frame.locator('script, form, input, iframe, object, link, meta[http-equiv=refresh], svg').count(),
      0,
      'sanitised away',
    );
    assert.equal(await frame.getByText('Verify now').count(), 1, 'the content itself is readable');
    // The iframe grants nothing: no scripts, forms, same-origin, popups or navigation.
    assert.equal(await page.locator('iframe[data-testid="safe-view"]').getAttribute('sandbox'), '');
    await context.close();
  });

  await t.test('the queue of campaigns the gates hold is one click from the workbench', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, base, 'analyst@example.org');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: 'Held campaigns' }).click()]);
    await page.getByRole('heading', { name: 'Campaigns the gates hold' }).waitFor();
    assert.match((await page.getByTestId('held-total').textContent()) ?? '', /^\d+ held/);
    assert.equal(new URL(page.url()).pathname, '/workbench/held');
    await context.close();
  });

  for (const locale of LANGS)
    await t.test(`the public pages render in ${locale}, labelled, and fit a phone screen`, async () => {
      const context = await localeContext(e2e, locale, { viewport: { width: 375, height: 740 } });
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await assertLanguage(page, locale);
      await page.getByRole('heading', { name: L(locale, 'home.title') }).waitFor();
      for (const p of ['/report', '/report/sms', '/stats', '/rules']) {
        await page.goto(base + p);
        await assertLanguage(page, locale);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${p} (${locale}) scrolls sideways by ${overflow}px on a phone`);
        // Every visible form control has a label.
        const unlabelled = await page.evaluate(
          () =>
            [...document.querySelectorAll('input:not([type=hidden]), textarea, select')].filter((el) =>
              el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement
                ? (el.labels?.length ?? 0) === 0
                : false,
            ).length,
        );
        assert.equal(unlabelled, 0, `${p} (${locale}) has unlabelled controls`);
        await screenshot(page, `public${p.replaceAll('/', '-')}-phone`, locale);
      }
      await context.close();
    });
});
