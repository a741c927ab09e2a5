#!/usr/bin/env node
/**
 * `npm run build` (also run by `npm install` / `npm ci` through `prepare`): compiles `src/` to
 * JavaScript in `dist/` for the `spamdesk` command, so it starts without compiling TypeScript at
 * every run. Tests and development keep running the TypeScript through tsx.
 *
 * Plain JavaScript on purpose: it runs at install time, before anything else is compiled. It uses
 * esbuild, which is always installed (tsx depends on it, and tsx is a runtime dependency).
 *
 * One output file per source file, in the same place under `dist/` as under `src/`, so that
 * `import.meta.url` keeps pointing where the code expects its neighbours (migrations, schemas,
 * static files, `../../../models`). Every relative import stays an import of the compiled
 * neighbour (`./x.ts` becomes `./x.js`); packages stay imports of node_modules. Files other than
 * TypeScript (JSON schemas, CSS, the default scores) are copied. dist/ is never committed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
/**
 * `--out DIR` (relative to the repository) builds elsewhere, for the build's own test. It must sit
 * one level below the repository, as dist/ does, for paths such as `../../../models` to hold.
 */
const outArg = process.argv.indexOf('--out');
const OUT = path.join(ROOT, outArg > 0 ? process.argv[outArg + 1] : 'dist');
/** Written last: its presence means a complete build; the CLI compares its time with the sources'. */
const STAMP = 'BUILD.json';

/** Test files and the test-only helpers beside them are not part of the command. */
const isTest = (f) => /\.test\.ts$/.test(f);

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Keeps every relative import a separate file, renamed `.ts` → `.js`. */
const keepModules = {
  name: 'keep-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      return { path: args.path.replace(/\.ts$/, '.js'), external: true };
    });
  },
};

const started = Date.now();
const files = walk(SRC);
const entryPoints = files.filter((f) => f.endsWith('.ts') && !isTest(f));
fs.rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: OUT,
  outbase: SRC,
  bundle: true,
  packages: 'external',
  plugins: [keepModules],
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
let copied = 0;
for (const f of files) {
  if (f.endsWith('.ts')) continue;
  const dest = path.join(OUT, path.relative(SRC, f));
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(f, dest);
  copied++;
}
fs.writeFileSync(
  path.join(OUT, STAMP),
  `${JSON.stringify({ builtAt: new Date().toISOString(), modules: entryPoints.length, copied })}\n`,
);
process.stdout.write(
  `spamdesk: compiled ${entryPoints.length} modules to ${path.relative(ROOT, OUT)}/ (${copied} files copied) in \
${Date.now() - started} ms\n`,
);
