#!/usr/bin/env node
// The `spamdesk` command. Runs the JavaScript that `npm install` / `npm ci` compiled into dist/
// (`npm run build`, scripts/build.mjs), so it starts without compiling TypeScript. When dist/ is
// missing or older than a file of src/ (a checkout edited or pulled since the last build), it
// says so and runs the TypeScript through tsx instead, so it never runs stale code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', 'BUILD.json');

/** Newest modification time of the files under `dir` that go into the build (tests excepted). */
function newestSource(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (!e.name.endsWith('.test.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function builtAt() {
  try {
    return fs.statSync(stamp).mtimeMs;
  } catch {
    return null;
  }
}

const built = builtAt();
if (built !== null && newestSource(path.join(root, 'src')) <= built) {
  await import(pathToFileURL(path.join(root, 'dist', 'cli', 'main.js')).href);
} else {
  process.stderr.write(
    `spamdesk: ${built === null ? 'dist/ is not built' : 'dist/ is older than src/'}; running the TypeScript through tsx (slower start). Run \`npm run build\`.\n`,
  );
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(root, 'src', 'cli', 'main.ts')).href);
}
