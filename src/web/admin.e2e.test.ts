/**
 * The administrator's main path end to end in real headless Chromium (Debian `chromium`, driven
 * by playwright-core) against the real platform, in English and in French (one platform, a browser
 * context and an administrator per language; elements found by the catalogue's text of that
 * language; every page visited in French fails on English left in it): first sign-in with a
 * generated password (every page sends the admin to choose a new one first), then registering an
 * authority and a network operator (its AS shown with its name) and creating an account with a
 * one-time password. Screenshots go to test-artifacts/, named with their language.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountsDb, createAccount } from '../db/accounts.ts';
import { asNameOf } from '../analysis/ports/as-names.ts';
import type { Locale } from './i18n.ts';
import { L, LANGS, assertLanguage, localeContext, screenshot, startBrowserPlatform } from './test-browser.ts';

/** What each language's administrator registers. */
const REGISTERS: Record<Locale, { authority: string; contact: string; operator: string; asn: number }> = {
  en: { authority: 'Information Commissioner’s Office', contact: 'casework@ico.example', operator: 'BT', asn: 2856 },
  fr: { authority: 'Commission nationale (CNIL)', contact: 'plaintes@cnil.example', operator: 'Orange', asn: 3215 },
};

test('admin in Chromium, in English and French: first sign-in, an authority, an operator, an account', async (t) => {
  const e2e = await startBrowserPlatform(t, 'admin-e2e', { workers: 0 });
  if (!e2e) return;
  const { base, db } = e2e;

  for (const locale of LANGS) {
    const admin = `root-${locale}@example.org`;
    const { generatedPassword } = await createAccount(db, { email: admin, role: 'admin' });
    assert.ok(generatedPassword);
    const { authority, contact, operator, asn } = REGISTERS[locale];
    const context = await localeContext(e2e, locale, { viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const shot = (name: string) => screenshot(page, `admin-${name}`, locale);

    // First sign-in: the generated password leads to the password page, and nothing else opens.
    await page.goto(`${base}/login`);
    await assertLanguage(page, locale);
    await page.getByLabel(L(locale, 'login.email')).fill(admin);
    await page.getByLabel(L(locale, 'login.password'), { exact: true }).fill(generatedPassword);
    await Promise.all([
      page.waitForURL(`${base}/account/password`),
      page.getByRole('button', { name: L(locale, 'login.submit'), exact: true }).click(),
    ]);
    await page.goto(`${base}/admin/authorities`);
    assert.equal(new URL(page.url()).pathname, '/account/password', 'held on the password page');
    await assertLanguage(page, locale);
    await shot('1-first-sign-in');
    await page.getByLabel(L(locale, 'account.password.current')).fill(generatedPassword);
    await page.getByLabel(L(locale, 'account.password.new'), { exact: true }).fill('my own long passphrase');
    await page.getByLabel(L(locale, 'admin.password.confirm')).fill('my own long passphrase');
    await Promise.all([
      page.waitForURL(`${base}/workbench`),
      page.getByRole('button', { name: L(locale, 'account.password.submit') }).click(),
    ]);
    await assertLanguage(page, locale);

    // An authority, with the monthly report by mail.
    await page.goto(`${base}/admin`);
    await assertLanguage(page, locale);
    await page.getByRole('link', { name: L(locale, 'registry.authorities'), exact: true }).click();
    await assertLanguage(page, locale);
    await page.locator('#name').fill(authority);
    await page.locator('#country').fill(locale === 'fr' ? 'FR' : 'GB');
    await page.locator('#competence').selectOption('data_protection');
    await page.locator('#contactKind').selectOption('email');
    await page.locator('#contact').fill(contact);
    await page.getByLabel(L(locale, 'registry.monthly.ask')).check();
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: L(locale, 'registry.authorities.add') }).click(),
    ]);
    await page.getByRole('heading', { name: authority }).waitFor();
    await assertLanguage(page, locale);
    assert.equal(await page.getByTestId('monthly').textContent(), L(locale, 'registry.yes'));
    await shot('2-authority');

    // A network operator: its AS is shown with the name the shipped data gives it.
    await page.goto(`${base}/admin/operators`);
    await assertLanguage(page, locale);
    await page.locator('#name').fill(operator);
    await page.locator('#abuse').fill(`abuse@${operator.toLowerCase()}.example`);
    await page.locator('#asns').fill(`AS${asn}`);
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: L(locale, 'registry.operators.add') }).click(),
    ]);
    await page.getByRole('heading', { name: operator, exact: true }).waitFor();
    await assertLanguage(page, locale);
    const asName = asNameOf(asn);
    assert.ok(asName, `the data names AS${asn}`);
    assert.match((await page.getByTestId('asns').textContent()) ?? '', new RegExp(`AS${asn} ${asName.slice(0, 10)}`));
    await shot('3-operator');

    // An account, with a one-time password shown once.
    await page.goto(`${base}/admin/users`);
    await assertLanguage(page, locale);
    await page.locator('#email').fill(`analyst-${locale}@example.org`);
    await page.locator('#role').selectOption('analyst');
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: L(locale, 'admin.users.create') }).click(),
    ]);
    await assertLanguage(page, locale);
    const secret = (await page.getByTestId('secret').textContent()) ?? '';
    assert.match(secret, /^[A-Za-z0-9_-]{20,}$/);
    await shot('4-account');
    await context.close();
  }

  const authorities = await db.selectFrom('action_authorities').selectAll().orderBy('name').execute();
  assert.deepEqual(
    authorities.map((a) => [a.name, a.monthly_report]),
    [
      ['Commission nationale (CNIL)', 1],
      ['Information Commissioner’s Office', 1],
    ],
  );
  const asns = await db.selectFrom('action_operator_asns').select('asn').orderBy('asn').execute();
  assert.deepEqual(
    asns.map((a) => Number(a.asn)),
    [2856, 3215],
  );
  const analysts = await accountsDb(db)
    .selectFrom('users')
    .select(['email', 'role', 'must_change_password'])
    .where('email', 'like', 'analyst-%')
    .orderBy('email')
    .execute();
  assert.deepEqual(
    analysts.map((a) => [a.email, a.role, a.must_change_password]),
    [
      ['analyst-en@example.org', 'analyst', 1],
      ['analyst-fr@example.org', 'analyst', 1],
    ],
  );
});
