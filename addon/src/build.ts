/**
 * `npm run addon:build [-- --brand my-brand.json] [--out DIR]`: builds every report button into
 * `addon/dist/` (git-ignored), TypeScript bundled by esbuild, archives zipped by yazl with fixed
 * dates (the same sources give the same files):
 * - `thunderbird/` and `spamdesk-report-spam.xpi`: the Thunderbird MailExtension;
 * - `outlook/`: the Outlook add-in's files to host at the brand's `outlook.baseUrl`, its unified
 *   manifest, and `spamdesk-outlook.zip` (manifest + icons: the app package the Microsoft 365 admin
 *   centre takes);
 * - `webmail-chromium/` + `.zip` (Chrome Web Store) and `webmail-firefox/` + `.zip` (AMO).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import yazl from 'yazl';
import { brandWarnings, loadBrand, type Brand } from './brand.ts';
import { renderIcon } from './icons.ts';
import { outlookManifest, OUTLOOK_ICON_SIZES } from '../outlook/src/manifest.ts';
import { webmailManifest, WEBMAIL_ICON_SIZES, type WebmailTarget } from '../webmail/src/manifest.ts';

export const ADDON_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST_DIR = path.join(ADDON_DIR, 'dist');
const STATIC_FILES = [
  'manifest.json',
  'options.html',
  'icons/report.svg',
  '_locales/en/messages.json',
  '_locales/fr/messages.json',
];
/** A fixed time for zip entries, so the same sources give the same archives. */
const ZIP_MTIME = new Date('2026-01-01T00:00:00Z');

export interface BuiltAddon {
  dir: string;
  xpi: string;
  files: string[];
}

/** The Thunderbird add-on: unpacked into `outDir`, packed into `xpi`. */
export async function buildAddon(
  outDir = path.join(DIST_DIR, 'thunderbird'),
  xpi = path.join(DIST_DIR, 'spamdesk-report-spam.xpi'),
): Promise<BuiltAddon> {
  fresh(outDir);
  await build({
    entryPoints: {
      background: path.join(ADDON_DIR, 'src', 'background.ts'),
      options: path.join(ADDON_DIR, 'src', 'options.ts'),
    },
    bundle: true,
    format: 'iife',
    target: 'firefox115',
    outdir: outDir,
    logLevel: 'warning',
    legalComments: 'none',
  });
  for (const f of STATIC_FILES) copy(path.join(ADDON_DIR, f), path.join(outDir, f));
  const files = listFiles(outDir).sort();
  fs.mkdirSync(path.dirname(xpi), { recursive: true });
  await zip(outDir, files, xpi);
  return { dir: outDir, xpi, files };
}

export interface BuiltOutlook {
  dir: string;
  manifest: string;
  appPackage: string;
  files: string[];
}

/** The Outlook add-in: the files to host, and the app package for the admin centre. */
export async function buildOutlook(
  brand: Brand,
  outDir = path.join(DIST_DIR, 'outlook'),
  appPackage = path.join(DIST_DIR, 'spamdesk-outlook.zip'),
): Promise<BuiltOutlook> {
  fresh(outDir);
  const src = path.join(ADDON_DIR, 'outlook');
  await build({
    entryPoints: {
      taskpane: path.join(src, 'src', 'taskpane.ts'),
      commands: path.join(src, 'src', 'commands.ts'),
    },
    bundle: true,
    format: 'iife',
    // Classic Outlook on Windows runs commands in Edge WebView2; Mac in Safari's WebKit.
    target: ['chrome100', 'safari15'],
    outdir: outDir,
    logLevel: 'warning',
    legalComments: 'none',
    define: { SPAMDESK_DEFAULT_INSTANCE_URL: JSON.stringify(brand.instanceUrl.replace(/\/+$/, '')) },
  });
  for (const f of ['taskpane.html', 'commands.html']) copy(path.join(src, f), path.join(outDir, f));
  for (const size of OUTLOOK_ICON_SIZES) writeIcon(brand, size, path.join(outDir, `icon-${size}.png`));
  writeIcon(brand, 192, path.join(outDir, 'color.png'));
  writeIcon(brand, 32, path.join(outDir, 'outline.png'), { outline: true });
  const manifest = path.join(outDir, 'manifest.json');
  fs.writeFileSync(manifest, `${JSON.stringify(outlookManifest(brand), null, 2)}\n`);
  const files = listFiles(outDir).sort();
  fs.mkdirSync(path.dirname(appPackage), { recursive: true });
  await zip(outDir, ['manifest.json', 'color.png', 'outline.png'], appPackage);
  return { dir: outDir, manifest, appPackage, files };
}

export interface BuiltWebmail {
  target: WebmailTarget;
  dir: string;
  zip: string;
  files: string[];
}

/** The webmail extension for one browser. */
export async function buildWebmail(
  brand: Brand,
  target: WebmailTarget,
  outDir = path.join(DIST_DIR, `webmail-${target}`),
  archive = path.join(DIST_DIR, `spamdesk-webmail-${target}.zip`),
): Promise<BuiltWebmail> {
  fresh(outDir);
  const src = path.join(ADDON_DIR, 'webmail');
  const config = {
    instanceUrl: brand.instanceUrl.replace(/\/+$/, ''),
    gmail: brand.webmail.gmail,
    graph: brand.webmail.graph,
  };
  await build({
    entryPoints: {
      background: path.join(src, 'src', 'background.ts'),
      options: path.join(src, 'src', 'options.ts'),
      'content-gmail': path.join(src, 'src', 'content-gmail.ts'),
      'content-outlook': path.join(src, 'src', 'content-outlook.ts'),
    },
    bundle: true,
    format: 'iife',
    target: target === 'chromium' ? 'chrome116' : 'firefox140',
    outdir: outDir,
    logLevel: 'warning',
    legalComments: 'none',
    define: { SPAMDESK_WEBMAIL_CONFIG: JSON.stringify(config) },
  });
  for (const f of ['options.html', 'options.css']) copy(path.join(src, f), path.join(outDir, f));
  for (const lang of ['en', 'fr']) {
    const messages = JSON.parse(fs.readFileSync(path.join(src, '_locales', lang, 'messages.json'), 'utf8')) as Record<
      string,
      { message: string }
    >;
    // The brand's name in the store and the toolbar; the rest of the wording stays ours.
    if (lang === 'en' || brand.name !== DEFAULT_NAME) messages.extName = { message: brand.name };
    const dest = path.join(outDir, '_locales', lang, 'messages.json');
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, `${JSON.stringify(messages, null, 2)}\n`);
  }
  for (const size of WEBMAIL_ICON_SIZES) writeIcon(brand, size, path.join(outDir, 'icons', `icon-${size}.png`));
  fs.writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify(webmailManifest(brand, target), null, 2)}\n`);
  const files = listFiles(outDir).sort();
  fs.mkdirSync(path.dirname(archive), { recursive: true });
  await zip(outDir, files, archive);
  return { target, dir: outDir, zip: archive, files };
}

const DEFAULT_NAME = 'Spamdesk — Report spam';

export interface BuiltAll {
  thunderbird: BuiltAddon;
  outlook: BuiltOutlook;
  webmail: BuiltWebmail[];
}

/** Everything, into `root` (default `addon/dist/`). */
export async function buildAll(brand: Brand, root = DIST_DIR): Promise<BuiltAll> {
  return {
    thunderbird: await buildAddon(path.join(root, 'thunderbird'), path.join(root, 'spamdesk-report-spam.xpi')),
    outlook: await buildOutlook(brand, path.join(root, 'outlook'), path.join(root, 'spamdesk-outlook.zip')),
    webmail: [
      await buildWebmail(
        brand,
        'chromium',
        path.join(root, 'webmail-chromium'),
        path.join(root, 'spamdesk-webmail-chromium.zip'),
      ),
      await buildWebmail(
        brand,
        'firefox',
        path.join(root, 'webmail-firefox'),
        path.join(root, 'spamdesk-webmail-firefox.zip'),
      ),
    ],
  };
}

function writeIcon(brand: Brand, size: number, dest: string, options: { outline?: boolean } = {}): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const own = brand.iconsDir ? path.join(brand.iconsDir, options.outline ? 'outline.png' : `icon-${size}.png`) : null;
  if (own && fs.existsSync(own)) fs.copyFileSync(own, dest);
  else fs.writeFileSync(dest, renderIcon(size, brand.accentColor, options));
}

function fresh(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
}

function copy(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

function zip(dir: string, files: string[], dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const z = new yazl.ZipFile();
    for (const f of files) z.addFile(path.join(dir, f), f, { mtime: ZIP_MTIME, mode: 0o644 });
    z.end();
    const out = fs.createWriteStream(dest);
    z.outputStream
      .pipe(out)
      .on('close', () => resolve())
      .on('error', reject);
  });
}

function argValue(name: string): string | null {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : null;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.resolve(argValue('--out') ?? DIST_DIR);
  Promise.resolve()
    .then(() => {
      const brand = loadBrand(argValue('--brand'));
      for (const w of brandWarnings(brand)) process.stderr.write(`warning: ${w}\n`);
      return buildAll(brand, out);
    })
    .then(
      (b) => {
        const rel = (p: string) => path.relative(process.cwd(), p);
        process.stdout.write(
          `${[
            `thunderbird: ${rel(b.thunderbird.xpi)} (${fs.statSync(b.thunderbird.xpi).size} bytes)`,
            `outlook:     host ${rel(b.outlook.dir)}/ at the brand's outlook.baseUrl; admin centre package ` +
              `${rel(b.outlook.appPackage)}`,
            ...b.webmail.map((w) => `webmail:     ${w.target}: ${rel(w.zip)} (${fs.statSync(w.zip).size} bytes)`),
          ].join('\n')}\n`,
        );
      },
      (e: unknown) => {
        process.stderr.write(`addon build failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
}
