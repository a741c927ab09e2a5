/**
 * The Outlook add-in's task pane, built as shipped, in real headless Chromium, served from the
 * Spamdesk instance's own origin as docs/addons.md recommends, reporting to the real server.
 * Outlook itself cannot run here: the page gets a small stand-in for the `Office` object Outlook
 * injects (roaming settings, display language, requirement sets, `getAsFileAsync`), and office.js
 * from Microsoft's CDN is answered with an empty script. Screenshots: test-artifacts/addons/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, hasCommand, needs, needsCorpus } from '../../../src/core/test-env.ts';
import { createToken } from '../../../src/db/tokens.ts';
import { DEFAULT_BRAND, mergeBrand } from '../../src/brand.ts';
import { buildOutlook } from '../../src/build.ts';
import { corpusMessages, sha256, startServer, storedReports } from '../../src/test-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'addons');

interface FakeOutlook {
  lang: string;
  mailbox: string;
  emlBase64: string;
}

/** Installs the stand-in `Office` before the pane's script runs. */
async function fakeOffice(page: Page, o: FakeOutlook): Promise<void> {
  // tsx names functions with an `__name` helper; the serialised function below needs it too.
  await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  await page.addInitScript((opts: FakeOutlook) => {
    const store: Record<string, unknown> = {};
    const [major, minor] = opts.mailbox.split('.').map(Number);
    const supports = (name: string, v = '1.1'): boolean => {
      const [a, b] = v.split('.').map(Number);
      return name === 'Mailbox' && (a < major || (a === major && b <= minor));
    };
    const item: Record<string, unknown> = { subject: 'Your parcel' };
    if (supports('Mailbox', '1.14'))
      item.getAsFileAsync = (cb: (r: unknown) => void) => cb({ status: 'succeeded', value: opts.emlBase64 });
    (window as unknown as { Office: unknown }).Office = {
      AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
      MailboxEnums: { MoveSpamItemTo: { JunkFolder: 'junkFolder', NoMove: 'noMove' } },
      context: {
        displayLanguage: opts.lang,
        requirements: { isSetSupported: supports },
        roamingSettings: {
          get: (k: string) => store[k],
          set: (k: string, v: unknown) => {
            store[k] = v;
          },
          remove: (k: string) => {
            delete store[k];
          },
          saveAsync: (cb?: (r: unknown) => void) => cb?.({ status: 'succeeded' }),
        },
        mailbox: { item },
      },
      onReady: (cb?: (info: unknown) => void) => {
        setTimeout(() => cb?.({ host: 'Outlook', platform: 'OfficeOnline' }), 0);
        return Promise.resolve();
      },
      actions: { associate: () => undefined },
    };
  }, o);
}

test('Outlook task pane in headless Chromium, served from the instance', async (t) => {
  if (!needs(t, 'Chromium', fs.existsSync(CHROMIUM) && hasCommand('chromium'), 'apt-get install chromium')) return;
  if (!needsCorpus(t, 'phishing_pot/email')) return;
  // Launched first so it closes first (after-hooks run in order): the server then has no
  // browser connection left to wait for.
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  t.after(() => browser.close());
  const s = await startServer(t);
  if (!s) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-outlook-e2e-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const brand = mergeBrand(DEFAULT_BRAND, { instanceUrl: s.url, outlook: { baseUrl: `${s.url}/addins/outlook/` } });
  const built = await buildOutlook(brand, path.join(dir, 'outlook'), path.join(dir, 'outlook.zip'));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const [message] = corpusMessages('phishing_pot/email', 1);
  const token = await createToken(s.ctx.db, { role: 'reporter', name: 'outlook' });

  const errors: string[] = [];
  t.after(() => assert.deepEqual(errors, [], 'no script error in the pane'));
  const open = async (o: FakeOutlook): Promise<Page> => {
    // Closed with the browser.
    const context = await browser.newContext({ viewport: { width: 360, height: 720 } });
    // The add-in's files, as the reverse proxy would serve them beside the API.
    await context.route(`${s.url}/addins/outlook/**`, (route) => {
      const file = path.join(built.dir, path.basename(new URL(route.request().url()).pathname));
      const type = file.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8';
      return route.fulfill({ contentType: type, body: fs.readFileSync(file) });
    });
    await context.route('https://appsforoffice.microsoft.com/**', (route) =>
      route.fulfill({ contentType: 'text/javascript', body: '' }),
    );
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await fakeOffice(page, o);
    await page.goto(`${s.url}/addins/outlook/taskpane.html`);
    await page.locator('body[data-ready="1"]').waitFor();
    return page;
  };

  await t.test('the token is saved once, and "Report this message" stores the exact source', async () => {
    const page = await open({ lang: 'en-US', mailbox: '1.14', emlBase64: message.bytes.toString('base64') });
    assert.equal(await page.locator('#instanceUrl').inputValue(), s.url, 'the brand instance is the default');
    await page.getByLabel('Your personal token').fill(token.secret);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#status.ok').waitFor();
    await page.getByRole('button', { name: 'Report this message' }).click();
    await page.locator('#result.ok').waitFor();
    assert.match((await page.locator('#result').textContent()) ?? '', /^Spam reported/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'outlook-taskpane-reported.png'), fullPage: true });
    const [stored] = await storedReports(s);
    assert.equal(stored.sha256, sha256(message.bytes), 'stored byte for byte');
    assert.equal(stored.channel, 'addon');
  });

  await t.test('an Outlook without Mailbox 1.14, in French: says why, offers the web form, cannot send', async () => {
    const page = await open({ lang: 'fr-FR', mailbox: '1.13', emlBase64: '' });
    await page.locator('#capability.error').waitFor();
    assert.match(
      (await page.locator('#capability').textContent()) ?? '',
      /^Cet Outlook ne peut pas signaler.*Mailbox 1\.14 manquant.*formulaire en ligne/,
    );
    assert.ok(((await page.locator('#capability').textContent()) ?? '').includes(`${s.url}/report`));
    assert.equal(await page.getByRole('button', { name: 'Signaler ce message' }).isDisabled(), true);
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    await page.screenshot({ path: path.join(ARTIFACTS, 'outlook-taskpane-fr-mailbox-1.13.png'), fullPage: true });
    assert.equal((await storedReports(s)).length, 1);
  });
});
