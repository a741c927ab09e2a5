/**
 * The enforcement path end to end in real headless Chromium (Debian `chromium`, driven by
 * playwright-core) against the real platform and its workers (issue 18), each role in English and
 * in French (one platform, a browser context per language; elements found by the catalogue's text
 * of that language; every page visited in French fails on English left in it):
 * - two reporters, on phones, report copies of one spam through the public form;
 * - the analyst opens a case from the campaign, reads it (timeline drawn), previews and sends a
 *   referral; opens a case from one report and closes it;
 * - the authority, on a phone, finds the referral, downloads the package (its hash is the one
 *   shown) and closes it with a note;
 * - each reporter follows the tracking link to that outcome.
 * Screenshots go to test-artifacts/ (ignored by git), named with their language.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { createAccount } from '../../db/accounts.ts';
import { createAuthority } from '../../actions/cases/authorities.ts';
import type { Locale } from '../i18n.ts';
import { sampleSpam } from '../test-helpers.ts';
import {
  L,
  LANGS,
  assertLanguage,
  localeContext,
  screenshot,
  signIn as signInWith,
  startBrowserPlatform,
  waitFor as waitUpTo,
} from '../test-browser.ts';

const PASSWORD = 'a long password for the e2e run';
const PHONE = { width: 375, height: 740 };
const DESK = { width: 1280, height: 1000 };
/** What the authority writes when it closes each language's referral. */
const NOTE: Record<Locale, string> = {
  en: 'The sender’s hosting was taken down on our request.',
  fr: 'L’hébergeur de l’expéditeur a fermé le site à notre demande.',
};
/** Why the analyst closes each language's report case. */
const WHY: Record<Locale, string> = {
  en: 'Covered by the campaign case.',
  fr: 'Couvert par le dossier de la campagne.',
};

/** The workers analyse and cluster while the browser waits: allow two minutes. */
const waitFor = (what: string, check: () => Promise<boolean>) => waitUpTo(what, check, 120_000);
const signIn = (page: Page, base: string, email: string, next: string, locale: Locale) =>
  signInWith(page, base, email, PASSWORD, next, locale);
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A select's label: its text, then the options' (all inside the label). */
const selectLabel = (locale: Locale, key: Parameters<typeof L>[1]) => new RegExp(`^${escapeRe(L(locale, key))}`);

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

interface Reporter {
  context: BrowserContext;
  page: Page;
  trackHref: string;
  reportId: string;
}

test('cases and referrals in headless Chromium, in English and French: analyst, authority, reporter', async (t) => {
  const started = await startBrowserPlatform(t, 'cases-e2e', { workers: 1, webIndexIntervalMs: 300 });
  if (!started) return;
  const { platform, base, db } = started;
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

  // A reporter in each language reports through the public form, on a phone; two others send copies.
  const marker = `parcelhold${Date.now()}`;
  const spam = (id: string) =>
    sampleSpam({ id, subject: `Your parcel ${marker} is on hold`, from: 'Parcel Service <track@parcel-hold.example>' });
  const reporters = new Map<Locale, Reporter>();
  for (const locale of LANGS) {
    const context = await localeContext(started, locale, { viewport: PHONE });
    const page = await context.newPage();
    await page.goto(`${base}/report`);
    await assertLanguage(page, locale);
    assert.ok((await sideways(page)) <= 0, `/report (${locale}) scrolls sideways on a phone`);
    await page.getByLabel(L(locale, 'report.paste')).fill(spam(`first-${locale}`).toString());
    await page.getByLabel(L(locale, 'report.consent.no')).check();
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: L(locale, 'report.submit') }).click(),
    ]);
    await page.getByRole('heading', { name: L(locale, 'thanks.title') }).waitFor();
    await assertLanguage(page, locale);
    await screenshot(page, 'report-thanks-phone', locale);
    const trackHref = (await page.getByTestId('tracking-link').first().getAttribute('href')) ?? '';
    assert.match(trackHref, /^\/track\//);
    const { id } = await db
      .selectFrom('reports')
      .select('id')
      .where('tracking_token', '=', trackHref.split('/').pop() ?? '')
      .executeTakeFirstOrThrow();
    reporters.set(locale, { context, page, trackHref, reportId: id });
  }
  const reporter = (locale: Locale) => reporters.get(locale) ?? assert.fail(`no ${locale} reporter`);
  for (const [i, who] of ['second@victims.example', 'third@victims.example'].entries())
    await platform.ctx.writer.submit([{ raw: spam(`copy${i}`), channel: 'api', reporterAddress: who }]);
  const campaigns = new Map<Locale, string>();
  await waitFor('both reporters’ reports with their campaign', async () => {
    for (const locale of LANGS) {
      const f = await db
        .selectFrom('action_report_facts')
        .select('campaign_id')
        .where('report_id', '=', reporter(locale).reportId)
        .executeTakeFirst();
      if (f?.campaign_id) campaigns.set(locale, f.campaign_id);
    }
    return campaigns.size === LANGS.length;
  });
  const caseTitle = (locale: Locale) => `Parcel ${marker} (${locale})`;

  // One live case per campaign: the French analyst opens its case once the authority has closed
  // the English one.
  for (const locale of LANGS) {
    await t.test(
      `the analyst opens a case from the campaign, reads it and refers it with a preview (${locale})`,
      async () => {
        const context = await localeContext(started, locale, { viewport: DESK });
        const page = await context.newPage();
        await signIn(page, base, 'analyst@example.org', '/workbench', locale);
        await assertLanguage(page, locale);
        await waitFor('the campaign page', async () => {
          await page.goto(`${base}/workbench/campaigns/${campaigns.get(locale)}`);
          return (await page.getByTestId('campaign-open-case').count()) > 0;
        });
        await assertLanguage(page, locale);
        await Promise.all([page.waitForURL(/\/cases\/new\?campaign=/), page.getByTestId('campaign-open-case').click()]);
        await assertLanguage(page, locale);
        // The form names the campaign by its subject, not its ULID.
        const title = page.getByLabel(L(locale, 'col.title'), { exact: true });
        assert.match(await title.inputValue(), new RegExp(marker));
        await title.fill(caseTitle(locale));
        await page.getByLabel(selectLabel(locale, 'col.category')).selectOption('phishing');
        await Promise.all([
          page.waitForURL(/\/cases\/[0-9A-Z]+\?done=opened/),
          page.getByRole('button', { name: L(locale, 'case.open') }).click(),
        ]);
        await assertLanguage(page, locale);
        assert.match((await page.getByTestId('case-campaign').textContent()) ?? '', new RegExp(marker));
        assert.equal(await page.getByTestId('case-state').textContent(), L(locale, 'case.state.open'));
        await page.waitForSelector('#case-timeline[data-rendered="true"]');
        assert.ok((await page.locator('[data-testid="case-reports"] tbody tr').count()) >= 2);

        await page.getByTestId('refer-link').click();
        await page.getByRole('radio', { name: /^Police Cyber Unit \(/ }).check();
        await assertLanguage(page, locale);
        await page.getByRole('button', { name: L(locale, 'referral.preview') }).click();
        const preview = page.getByTestId('refer-preview');
        await preview.waitFor();
        await assertLanguage(page, locale);
        const shown = (await preview.textContent()) ?? '';
        // The authority set no language: the covering mail is in the region's (fr, the default).
        assert.match(shown, /vous transmet ce dossier, Police Cyber Unit/);
        for (const who of ['second@victims.example', 'third@victims.example'])
          assert.ok(!shown.includes(who), `the preview shows ${who}`);
        await screenshot(page, 'case-refer-preview', locale);
        await Promise.all([
          page.waitForURL(/done=referred/),
          page.getByRole('button', { name: L(locale, 'referral.send', { n: 1 }) }).click(),
        ]);
        await assertLanguage(page, locale);
        assert.equal(await page.getByTestId('case-state').textContent(), L(locale, 'case.state.referred'));
        assert.equal(await page.locator('[data-testid="case-referrals"] tbody tr').count(), 1);
        await screenshot(page, 'case-page', locale);
        await context.close();
      },
    );
    await t.test(`the authority downloads the package and closes the referral, on a phone (${locale})`, async () => {
      const context = await localeContext(started, locale, { viewport: PHONE, acceptDownloads: true });
      const page = await context.newPage();
      await signIn(page, base, 'officer@police.example', '/referrals', locale);
      assert.ok((await sideways(page)) <= 0, `/referrals (${locale}) scrolls sideways on a phone`);
      await page.getByRole('link', { name: caseTitle(locale), exact: true }).click();
      await page.getByTestId('referral-title').waitFor();
      await assertLanguage(page, locale);
      await screenshot(page, 'referral-phone', locale);
      assert.ok((await sideways(page)) <= 0, `the referral page (${locale}) scrolls sideways on a phone`);
      const sha = ((await page.getByTestId('package-sha').textContent()) ?? '').trim();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('package-link').click()]);
      const bytes = fs.readFileSync(await download.path());
      assert.equal(bytes.subarray(0, 2).toString(), 'PK');
      assert.equal(
        crypto.createHash('sha256').update(bytes).digest('hex'),
        sha,
        'the package is the one whose hash is shown',
      );
      await page.getByLabel(L(locale, 'referral.answer.close')).check();
      await page.getByRole('textbox', { name: L(locale, 'referral.answer.note'), exact: true }).fill(NOTE[locale]);
      await Promise.all([
        page.waitForLoadState('load'),
        page.getByRole('button', { name: L(locale, 'referral.answer.send') }).click(),
      ]);
      await page.getByText(L(locale, 'referral.closed')).waitFor();
      await assertLanguage(page, locale);
      assert.equal(await page.getByTestId('referral-state').textContent(), L(locale, 'referral.state.closed'));
      assert.ok((await sideways(page)) <= 0, `the closed referral (${locale}) scrolls sideways on a phone`);
      await screenshot(page, 'referral-closed-phone', locale);
      await context.close();
    });
  }
  const downloads = await db
    .selectFrom('audit_log')
    .select('actor')
    .where('action', '=', 'referral.download')
    .execute();
  assert.equal(
    downloads.filter((d) => d.actor.includes('officer@police.example')).length,
    LANGS.length,
    'each download is audited',
  );

  for (const locale of LANGS)
    await t.test(`the reporter follows the report to its outcome, on a phone (${locale})`, async () => {
      const { page, context, trackHref } = reporter(locale);
      await page.goto(`${base}${trackHref}`);
      await assertLanguage(page, locale);
      const text = (await page.getByTestId('track-outcomes').textContent()) ?? '';
      const said = L(locale, 'referral.outcome.closedNote', {
        authority: 'Police Cyber Unit',
        date: '{date}',
        note: NOTE[locale],
      });
      assert.match(text, new RegExp(escapeRe(said).replace(escapeRe('{date}'), '\\d{1,2} \\S+ \\d{4}')));
      for (const who of ['second@victims.example', 'third@victims.example'])
        assert.ok(!(await page.content()).includes(who));
      assert.ok((await sideways(page)) <= 0, `the tracking page (${locale}) scrolls sideways on a phone`);
      await screenshot(page, 'track-outcome-phone', locale);
      await context.close();
    });

  for (const locale of LANGS)
    await t.test(`the analyst opens a case from one report and closes it (${locale})`, async () => {
      const context = await localeContext(started, locale, { viewport: DESK });
      const page = await context.newPage();
      await signIn(page, base, 'analyst@example.org', '/workbench', locale);
      await page.goto(`${base}/workbench/reports/${reporter(locale).reportId}`);
      await assertLanguage(page, locale);
      await Promise.all([page.waitForURL(/\/cases\/new\?reports=/), page.getByTestId('report-open-case').click()]);
      await page.getByLabel(selectLabel(locale, 'case.field.targetKind')).selectOption('sender_domain');
      await page.getByLabel(L(locale, 'case.field.target'), { exact: true }).fill('parcel-hold.example');
      await page.getByLabel(L(locale, 'col.title'), { exact: true }).fill(`Parcel sender domain (${locale})`);
      await Promise.all([
        page.waitForURL(/done=opened/),
        page.getByRole('button', { name: L(locale, 'case.open') }).click(),
      ]);
      await assertLanguage(page, locale);
      assert.equal(await page.locator('[data-testid="case-reports"] tbody tr').count(), 1);
      await page.getByTestId('close-form').getByLabel(L(locale, 'case.close.note')).fill(WHY[locale]);
      await Promise.all([
        page.waitForURL(/done=close/),
        page.getByRole('button', { name: L(locale, 'case.close') }).click(),
      ]);
      await assertLanguage(page, locale);
      assert.equal(await page.getByTestId('case-state').textContent(), L(locale, 'case.state.closed'));
      assert.match((await page.getByTestId('case-history').textContent()) ?? '', new RegExp(escapeRe(WHY[locale])));
      await screenshot(page, 'case-closed', locale);
      await page.goto(`${base}/cases?state=closed`);
      await assertLanguage(page, locale);
      const closed = locale === 'en' ? 3 : 4;
      assert.equal(await page.locator('[data-testid="cases"] tbody tr').count(), closed, 'the closed cases');
      await context.close();
    });
});
