/**
 * `npm run addon:build`: bundles the add-on's TypeScript with esbuild and zips it with yazl into
 * `addon/spamdesk-report-spam.xpi` (git-ignored). The unpacked add-on is left in `addon/dist/`
 * for `web-ext lint` and for loading as a temporary add-on in Thunderbird.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import yazl from 'yazl';

export const ADDON_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STATIC_FILES = [
  'manifest.json',
  'options.html',
  'icons/report.svg',
  '_locales/en/messages.json',
  '_locales/fr/messages.json',
];
/** A fixed time for zip entries, so the same sources give the same .xpi. */
const ZIP_MTIME = new Date('2026-01-01T00:00:00Z');

export interface BuiltAddon {
  dir: string;
  xpi: string;
  files: string[];
}

export async function buildAddon(
  outDir = path.join(ADDON_DIR, 'dist'),
  xpi = path.join(ADDON_DIR, 'spamdesk-report-spam.xpi'),
): Promise<BuiltAddon> {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
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
  for (const f of STATIC_FILES) {
    fs.mkdirSync(path.dirname(path.join(outDir, f)), { recursive: true });
    fs.copyFileSync(path.join(ADDON_DIR, f), path.join(outDir, f));
  }
  const files = listFiles(outDir).sort();
  await zip(outDir, files, xpi);
  return { dir: outDir, xpi, files };
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildAddon().then(
    (b) =>
      process.stdout.write(
        `built ${path.relative(process.cwd(), b.xpi)} (${fs.statSync(b.xpi).size} bytes: ${b.files.join(', ')})\n`,
      ),
    (e: unknown) => {
      process.stderr.write(`addon build failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
