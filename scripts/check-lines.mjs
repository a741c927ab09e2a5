#!/usr/bin/env node
// Fails (exit 1) listing file:line of every line longer than 120 characters in the .ts and .mjs
// files of src/, scripts/, bench/ and addon/src/ (Biome's lineWidth, which a formatter cannot
// enforce on long strings and comments). `node scripts/check-lines.mjs [root]`; root defaults to
// the checkout.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX = 120;
const DIRS = ['src', 'scripts', 'bench', 'addon/src', 'addon/outlook/src', 'addon/webmail/src'];
const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));

function* files(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (/\.(ts|mjs)$/.test(e.name)) yield p;
  }
}

const long = [];
let checked = 0;
for (const d of DIRS) {
  for (const file of files(path.join(root, d))) {
    checked++;
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      // Characters, not UTF-16 units or bytes: an emoji or an accented letter counts once.
      const n = [...line.replace(/\r$/, '')].length;
      if (n > MAX) long.push(`${path.relative(root, file)}:${i + 1} (${n} characters)`);
    });
  }
}
if (long.length > 0) {
  process.stderr.write(`${long.join('\n')}\n${long.length} line(s) over ${MAX} characters\n`);
  process.exit(1);
}
process.stdout.write(`${checked} files, no line over ${MAX} characters\n`);
