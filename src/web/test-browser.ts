/**
 * Test support for the web app's end-to-end tests in real headless Chromium (Debian `chromium`,
 * driven by playwright-core): the platform started on a temporary data directory with its HTTP
 * role, a browser, sign-in and polling helpers, and what runs each path in English and in French:
 * a browser context per language, elements found by the catalogue's text of that language, and a
 * check that a French page shows no English. Skips loudly where Chromium is absent; CI installs it
 * (scripts/ci-prepare.sh).
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { testConfig } from '../core/config.ts';
import { startPlatform, type Platform } from '../app/platform.ts';
import { REPO_ROOT, hasCommand, needs } from '../core/test-env.ts';
import { LOCALE_COOKIE, translator, type Locale, type MessageKey } from './i18n.ts';
import { englishCatalogueIn, readableText } from './test-french.ts';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** Screenshots of the e2e runs (kept by CI as test artefacts, ignored by git). */
export const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

export interface BrowserPlatform {
  platform: Platform;
  browser: Browser;
  /** The platform's HTTP address, e.g. `http://127.0.0.1:40123`. */
  base: string;
  db: Platform['ctx']['db'];
}

/**
 * Starts the platform (no SMTP, offline DNS, the given settings on top) and Chromium, both stopped
 * and the data directory removed when the test ends; null (the test skipped, with the reason)
 * where Chromium is not installed.
 */
export async function startBrowserPlatform(
  t: TestContext,
  name: string,
  settings: Parameters<typeof testConfig>[0] = {},
): Promise<BrowserPlatform | null> {
  const installed = fs.existsSync(CHROMIUM) && hasCommand('chromium');
  if (!needs(t, 'Chromium', installed, 'apt-get install chromium (scripts/ci-prepare.sh)')) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `spamdesk-${name}-`));
  const platform = await startPlatform(
    testConfig({ dataDir: dir, httpPort: 0, smtpEnabled: false, dnsMode: 'offline', ...settings }),
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  t.after(async () => {
    await browser.close();
    await platform.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const base = platform.url ?? assert.fail('the platform runs the http role');
  return { platform, browser, base, db: platform.ctx.db };
}

/** Polls `check` every half second until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The languages each role's path runs in. */
export const LANGS = ['en', 'fr'] as const satisfies readonly Locale[];

/**
 * A catalogue entry in `locale`: the tests find elements by the text a reader of that language
 * sees, so the French run proves the French page works.
 */
export function L(locale: Locale, key: MessageKey, params?: Record<string, string | number>): string {
  return translator(locale)(key, params);
}

/** A browser context reading `locale`: its Accept-Language and the app's language cookie. */
export async function localeContext(
  e2e: Pick<BrowserPlatform, 'browser' | 'base'>,
  locale: Locale,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const context = await e2e.browser.newContext({ ...options, locale: locale === 'fr' ? 'fr-FR' : 'en-GB' });
  await context.addCookies([{ name: LOCALE_COOKIE, value: locale, url: e2e.base }]);
  return context;
}

/**
 * Checks the page is in `locale`; in French, fails on any string of the English catalogue the page
 * shows and on any sentence marked as English that no template translates (`test-french.ts`).
 */
export async function assertLanguage(page: Page, locale: Locale): Promise<void> {
  const where = new URL(page.url()).pathname;
  assert.equal(await page.locator('html').getAttribute('lang'), locale, `${where} is not in ${locale}`);
  if (locale !== 'fr') return;
  const { texts, untranslated } = readableText(await page.content());
  const english = [...englishCatalogueIn(texts), ...untranslated.map((el) => `<${el} data-untranslated>`)];
  assert.deepEqual(english, [], `${where} in French shows English`);
}

/** A full-page screenshot in test-artifacts/, named with its language. */
export async function screenshot(page: Page, name: string, locale: Locale): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${locale}.png`), fullPage: true });
}

/** Signs in through the login form (in the page's language) and waits for the page it leads to. */
export async function signIn(
  page: Page,
  base: string,
  email: string,
  password: string,
  next: string,
  locale: Locale = 'en',
): Promise<void> {
  await page.goto(next === '/workbench' ? `${base}/login` : `${base}/login?next=${encodeURIComponent(next)}`);
  await assertLanguage(page, locale);
  await page.getByLabel(L(locale, 'login.email')).fill(email);
  await page.getByLabel(L(locale, 'login.password'), { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL(`${base}${next}`),
    page.getByRole('button', { name: L(locale, 'login.submit'), exact: true }).click(),
  ]);
}
