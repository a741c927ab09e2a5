/**
 * The administrator's main path end to end in real headless Chromium (Debian `chromium`, driven
 * by playwright-core) against the real platform: first sign-in with a generated password (every
 * page sends the admin to choose a new one first), then registering an authority and a network
 * operator (its AS shown with its name) and creating an account with a one-time password.
 * Screenshots go to test-artifacts/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { accountsDb, createAccount } from '../db/accounts.ts';
import { asNameOf } from '../analysis/ports/as-names.ts';
import { ARTIFACTS, startBrowserPlatform } from './test-browser.ts';

test('admin: first sign-in, an authority, a network operator and an account, in headless Chromium', async (t) => {
  const e2e = await startBrowserPlatform(t, 'admin-e2e', { workers: 0 });
  if (!e2e) return;
  const { base, db, browser } = e2e;
  const { generatedPassword } = await createAccount(db, { email: 'root@example.org', role: 'admin' });
  assert.ok(generatedPassword);
  const shot = (page: import('playwright-core').Page, name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `admin-${name}.png`), fullPage: true });

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  // First sign-in: the generated password leads to the password page, and nothing else opens.
  await page.goto(`${base}/login`);
  await page.getByLabel('E-mail address').fill('root@example.org');
  await page.getByLabel('Password').fill(generatedPassword);
  await Promise.all([
    page.waitForURL(`${base}/account/password`),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  await page.goto(`${base}/admin/authorities`);
  assert.equal(new URL(page.url()).pathname, '/account/password', 'held on the password page');
  await shot(page, '1-first-sign-in');
  await page.getByLabel('Current password').fill(generatedPassword);
  await page.getByLabel('New password', { exact: true }).fill('my own long passphrase');
  await page.getByLabel('New password again').fill('my own long passphrase');
  await Promise.all([
    page.waitForURL(`${base}/workbench`),
    page.getByRole('button', { name: 'Change the password' }).click(),
  ]);

  // An authority, with the monthly report by mail.
  await page.goto(`${base}/admin`);
  await page.getByRole('link', { name: 'Authorities' }).click();
  await page.locator('#name').fill('Commission nationale (CNIL)');
  await page.locator('#country').fill('FR');
  await page.locator('#competence').selectOption('data_protection');
  await page.locator('#contactKind').selectOption('email');
  await page.locator('#contact').fill('plaintes@cnil.example');
  await page.getByLabel('Send it the monthly report by e-mail on the first day of each month').check();
  await Promise.all([
    page.waitForLoadState('load'),
    page.getByRole('button', { name: 'Register an authority' }).click(),
  ]);
  await page.getByRole('heading', { name: 'Commission nationale (CNIL)' }).waitFor();
  assert.equal(await page.getByTestId('monthly').textContent(), 'yes');
  await shot(page, '2-authority');

  // A network operator: its AS is shown with the name the shipped data gives it.
  await page.goto(`${base}/admin/operators`);
  await page.locator('#name').fill('Orange');
  await page.locator('#abuse').fill('abuse@orange.example');
  await page.locator('#asns').fill('AS3215');
  await Promise.all([
    page.waitForLoadState('load'),
    page.getByRole('button', { name: 'Register a network operator' }).click(),
  ]);
  await page.getByRole('heading', { name: 'Orange' }).waitFor();
  const asName = asNameOf(3215);
  assert.ok(asName, 'the data names AS3215');
  assert.match((await page.getByTestId('asns').textContent()) ?? '', new RegExp(`AS3215 ${asName.slice(0, 10)}`));
  await shot(page, '3-operator');

  // An account, with a one-time password shown once.
  await page.goto(`${base}/admin/users`);
  await page.locator('#email').fill('analyst@example.org');
  await page.locator('#role').selectOption('analyst');
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Create an account' }).click()]);
  const secret = (await page.getByTestId('secret').textContent()) ?? '';
  assert.match(secret, /^[A-Za-z0-9_-]{20,}$/);
  await shot(page, '4-account');
  await context.close();

  const authority = await db.selectFrom('action_authorities').selectAll().executeTakeFirstOrThrow();
  assert.deepEqual([authority.name, authority.monthly_report], ['Commission nationale (CNIL)', 1]);
  const asns = await db.selectFrom('action_operator_asns').select('asn').execute();
  assert.deepEqual(
    asns.map((a) => Number(a.asn)),
    [3215],
  );
  const analyst = await accountsDb(db)
    .selectFrom('users')
    .select(['role', 'must_change_password'])
    .where('email', '=', 'analyst@example.org')
    .executeTakeFirstOrThrow();
  assert.deepEqual([analyst.role, analyst.must_change_password], ['analyst', 1]);
});
