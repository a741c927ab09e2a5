/**
 * The enforcement path end to end in real headless Chromium (Debian `chromium`, driven by
 * playwright-core) against the real platform and its workers (issue 18):
 * - the analyst opens a case from a campaign, reads it (timeline drawn), previews and sends a
 *   referral; opens a second case from one report and closes it;
 * - the authority, on a phone-sized screen, finds the referral, downloads the package (its hash
 *   is the one shown) and closes it with a note;
 * - the reporter follows the tracking link to that outcome, in English and in French, on a phone.
 * Screenshots go to test-artifacts/ (ignored by git).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { createAccount } from '../../db/accounts.ts';
import { createAuthority } from '../../actions/cases/authorities.ts';
import { sampleSpam } from '../test-helpers.ts';
import { ARTIFACTS, signIn as signInWith, startBrowserPlatform, waitFor as waitUpTo } from '../test-browser.ts';

const PASSWORD = 'a long password for the e2e run';
const PHONE = { width: 375, height: 740 };

/** The workers analyse and cluster while the browser waits: allow two minutes. */
const waitFor = (what: string, check: () => Promise<boolean>) => waitUpTo(what, check, 120_000);
const signIn = (page: Page, base: string, email: string, next: string) => signInWith(page, base, email, PASSWORD, next);

/** How far the page scrolls sideways, and the deepest elements that stick out (for the failure message). */
async function sideways(page: Page): Promise<number> {
  const r = await page.evaluate(() => {
    const over = [...document.querySelectorAll('body *')]
      .filter(
        (e) =>
          e.getBoundingClientRect().right > window.innerWidth + 1 ||
          (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'),
      )
      .slice(-6)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}: ${(e.textContent ?? '').slice(0, 40)}`);
    return { by: document.documentElement.scrollWidth - window.innerWidth, over };
  });
  if (r.by > 0) process.stderr.write(`sideways by ${r.by}px: ${r.over.join(' | ')}\n`);
  return r.by;
}

test('cases and referrals in headless Chromium: analyst, authority, reporter', async (t) => {
  const started = await startBrowserPlatform(t, 'cases-e2e', { workers: 1, webIndexIntervalMs: 300 });
  if (!started) return;
  const { platform, browser, base, db } = started;
  await createAccount(db, { email: 'analyst@example.org', role: 'analyst', password: PASSWORD });
  const officer = await createAccount(db, { email: 'officer@police.example', role: 'authority', password: PASSWORD });
  await createAuthority(db, {
    name: 'Police Cyber Unit',
    country: 'FR',
    competence: 'cybercrime',
    contactKind: 'email',
    contact: 'cyber@police.example',
    userId: officer.id,
  });

  // The reporter reports through the public form, on a phone; two others report copies.
  const marker = `parcelhold${Date.now()}`;
  const reporter = await browser.newContext({ viewport: PHONE });
  const rpage = await reporter.newPage();
  await rpage.goto(`${base}/report`);
  const spam = (id: string) =>
    sampleSpam({ id, subject: `Your parcel ${marker} is on hold`, from: 'Parcel Service <track@parcel-hold.example>' });
  await rpage.getByLabel('Full source of the message').fill(spam('first').toString());
  await rpage.getByLabel('No, never').check();
  await Promise.all([rpage.waitForLoadState('load'), rpage.getByRole('button', { name: 'Send the report' }).click()]);
  const trackHref = (await rpage.getByTestId('tracking-link').first().getAttribute('href')) ?? '';
  assert.match(trackHref, /^\/track\//);
  for (const [i, who] of ['second@victims.example', 'third@victims.example'].entries())
    await platform.ctx.writer.submit([{ raw: spam(`copy${i}`), channel: 'api', reporterAddress: who }]);
  const tracked = await db
    .selectFrom('reports')
    .select('id')
    .where('tracking_token', '=', trackHref.split('/').pop() ?? '')
    .executeTakeFirstOrThrow();
  let campaignId = '';
  await waitFor('the report’s facts with its campaign', async () => {
    const f = await db
      .selectFrom('action_report_facts')
      .select('campaign_id')
      .where('report_id', '=', tracked.id)
      .executeTakeFirst();
    campaignId = f?.campaign_id ?? '';
    return campaignId !== '';
  });

  await t.test('the analyst opens a case from the campaign, reads it and refers it with a preview', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    await signIn(page, base, 'analyst@example.org', '/workbench');
    await waitFor('the campaign page', async () => {
      await page.goto(`${base}/workbench/campaigns/${campaignId}`);
      return (await page.getByTestId('campaign-open-case').count()) > 0;
    });
    await Promise.all([page.waitForURL(/\/cases\/new\?campaign=/), page.getByTestId('campaign-open-case').click()]);
    // The form names the campaign by its subject, not its ULID.
    assert.match((await page.getByLabel('Title').inputValue()) ?? '', new RegExp(marker));
    await page.getByLabel('Category').selectOption('phishing');
    await Promise.all([
      page.waitForURL(/\/cases\/[0-9A-Z]+\?done=opened/),
      page.getByRole('button', { name: 'Open the case' }).click(),
    ]);
    const caseUrl = page.url().split('?')[0];
    assert.match((await page.getByTestId('case-campaign').textContent()) ?? '', new RegExp(marker));
    assert.equal(await page.getByTestId('case-state').textContent(), 'Open');
    await page.waitForSelector('#case-timeline[data-rendered="true"]');
    assert.ok((await page.locator('[data-testid="case-reports"] tbody tr').count()) >= 1);

    await page.getByTestId('refer-link').click();
    await page.getByRole('radio', { name: /^Police Cyber Unit \(/ }).check();
    await page.getByRole('button', { name: 'Preview what will be sent' }).click();
    const preview = page.getByTestId('refer-preview');
    await preview.waitFor();
    const shown = (await preview.textContent()) ?? '';
    // The authority set no language: the covering mail is in the region's (fr, the default).
    assert.match(shown, /vous transmet ce dossier, Police Cyber Unit/);
    for (const who of ['second@victims.example', 'third@victims.example'])
      assert.ok(!shown.includes(who), `the preview shows ${who}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'case-refer-preview.png'), fullPage: true });
    await Promise.all([page.waitForURL(/done=referred/), page.getByRole('button', { name: /^Send to 1 / }).click()]);
    assert.equal(await page.getByTestId('case-state').textContent(), 'Referred');
    assert.equal(await page.locator('[data-testid="case-referrals"] tbody tr').count(), 1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'case-page.png'), fullPage: true });
    assert.ok(caseUrl.startsWith(`${base}/cases/`));
    await context.close();
  });

  await t.test('the authority downloads the package and closes the referral, on a phone', async () => {
    const context = await browser.newContext({ viewport: PHONE, acceptDownloads: true });
    const page = await context.newPage();
    await signIn(page, base, 'officer@police.example', '/referrals');
    assert.ok((await sideways(page)) <= 0, '/referrals scrolls sideways on a phone');
    await page.locator('[data-testid="referrals"] tbody a').first().click();
    await page.getByTestId('referral-title').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'referral-phone.png'), fullPage: true });
    assert.ok((await sideways(page)) <= 0, 'the referral page scrolls sideways on a phone');
    const sha = ((await page.getByTestId('package-sha').textContent()) ?? '').trim();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('package-link').click()]);
    const bytes = fs.readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 2).toString(), 'PK');
    assert.equal(
      crypto.createHash('sha256').update(bytes).digest('hex'),
      sha,
      'the package is the one whose hash is shown',
    );
    await page.getByLabel('Close: our handling is finished').check();
    await page.getByRole('textbox', { name: 'Note' }).fill('The sender’s hosting was taken down on our request.');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Send the answer' }).click()]);
    await page.getByText('This referral is closed.').waitFor();
    assert.equal(await page.getByTestId('referral-state').textContent(), 'Closed');
    await page.screenshot({ path: path.join(ARTIFACTS, 'referral-closed-phone.png'), fullPage: true });
    const downloads = await db
      .selectFrom('audit_log')
      .select('actor')
      .where('action', '=', 'referral.download')
      .execute();
    assert.ok(
      downloads.some((d) => d.actor.includes('officer@police.example')),
      'the download is audited',
    );
    await context.close();
  });

  await t.test('the reporter follows the report to its outcome, in English and French, on a phone', async () => {
    for (const [lang, pattern] of [
      ['en', /Police Cyber Unit closed the case on \d{1,2} \w+ \d{4}: The sender’s hosting was taken down/],
      ['fr', /Police Cyber Unit a clos le dossier le \d{1,2} \S+ \d{4}\u00a0: The sender’s hosting was taken down/],
    ] as const) {
      await rpage.goto(`${base}${trackHref}?lang=${lang}`);
      const text = (await rpage.getByTestId('track-outcomes').textContent()) ?? '';
      assert.match(text, pattern);
      for (const who of ['second@victims.example', 'third@victims.example'])
        assert.ok(!(await rpage.content()).includes(who));
      assert.ok((await sideways(rpage)) <= 0, `the tracking page (${lang}) scrolls sideways on a phone`);
      await rpage.screenshot({ path: path.join(ARTIFACTS, `track-outcome-${lang}-phone.png`), fullPage: true });
    }
    await reporter.close();
  });

  await t.test('the analyst opens a case from one report and closes it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    await signIn(page, base, 'analyst@example.org', '/workbench');
    await page.goto(`${base}/workbench/reports/${tracked.id}`);
    await Promise.all([page.waitForURL(/\/cases\/new\?reports=/), page.getByTestId('report-open-case').click()]);
    await page.getByLabel('Target kind').selectOption('sender_domain');
    await page.getByLabel(/^Target \(/).fill('parcel-hold.example');
    await page.getByLabel('Title').fill('Parcel sender domain');
    await Promise.all([page.waitForURL(/done=opened/), page.getByRole('button', { name: 'Open the case' }).click()]);
    assert.equal(await page.locator('[data-testid="case-reports"] tbody tr').count(), 1);
    await page.getByTestId('close-form').getByLabel('Why (kept in the history)').fill('Covered by the campaign case.');
    await Promise.all([page.waitForURL(/done=close/), page.getByRole('button', { name: 'Close the case' }).click()]);
    assert.equal(await page.getByTestId('case-state').textContent(), 'Closed');
    assert.match((await page.getByTestId('case-history').textContent()) ?? '', /Covered by the campaign case\./);
    await page.goto(`${base}/cases?state=closed`);
    assert.equal(await page.locator('[data-testid="cases"] tbody tr').count(), 2, 'both cases are closed');
    await context.close();
  });
});
