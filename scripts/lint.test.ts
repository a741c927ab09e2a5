/**
 * `npm run lint` as part of `npm test`: Biome finds nothing in the checkout and no line of
 * src/, scripts/, bench/, addon/src/ is over 120 characters (scripts/check-lines.mjs). Both checks
 * are also run on scratch trees that break them, so they can be seen to bite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { needs } from '../src/core/test-env.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIOME = path.join(ROOT, 'node_modules', '.bin', 'biome');
const CHECK_LINES = path.join(ROOT, 'scripts', 'check-lines.mjs');

function run(cmd: string, args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function scratch(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-lint-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

test('biome check . finds nothing to report in the checkout (npm run lint)', (t) => {
  if (!needs(t, 'the biome binary', fs.existsSync(BIOME), 'npm install (@biomejs/biome is a devDependency)')) return;
  const r = run(BIOME, ['check', '.'], ROOT);
  assert.equal(r.status, 0, r.out);
});

test("biome check fails on a file that breaks one of the project's lint rules", (t) => {
  if (!needs(t, 'the biome binary', fs.existsSync(BIOME), 'npm install (@biomejs/biome is a devDependency)')) return;
  // The project's own rules and formatting, without the VCS settings a scratch folder lacks.
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'biome.json'), 'utf8')) as Record<string, unknown>;
  delete config.$schema;
  delete config.vcs;
  const clean = 'export function f(a: number): number {\n  let b = 0;\n  b = a;\n  return b;\n}\n';
  const dir = scratch(t, { 'biome.json': JSON.stringify(config), 'src/f.ts': clean });
  assert.equal(run(BIOME, ['check', 'src'], dir).status, 0, 'the clean file passes');
  const broken = clean.replace('  b = a;\n  return b;', '  if ((b = a)) return b;\n  return 0;');
  fs.writeFileSync(path.join(dir, 'src/f.ts'), broken);
  const r = run(BIOME, ['check', 'src'], dir);
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /noAssignInExpressions/);
});

test('no line over 120 characters in src/, scripts/, bench/, addon/src/ (npm run check:lines)', () => {
  const r = run(process.execPath, [CHECK_LINES], ROOT);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /no line over 120 characters/);
});

test('check:lines lists file:line of each line over 120 characters, and lets 120 pass', (t) => {
  const ok = `// ${'x'.repeat(117)}\n`; // 120 characters
  const accented = `const s = '${'é'.repeat(107)}';\n`; // 120 characters, more bytes
  const dir = scratch(t, {
    'src/a.ts': `${ok}${accented}`,
    'scripts/b.mjs': `${ok}// ${'y'.repeat(118)}\n`,
    'bench/c.ts': ok,
    'addon/src/d.ts': `\n\nconst t = \`${'z'.repeat(120)}\`;\n`,
    'docs/e.ts': `// ${'w'.repeat(200)}\n`,
  });
  const r = run(process.execPath, [CHECK_LINES, dir], ROOT);
  assert.equal(r.status, 1, r.out);
  assert.deepEqual(
    r.out
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => l.split(' ')[0])
      .sort(),
    ['addon/src/d.ts:3', 'scripts/b.mjs:2'],
  );
  fs.rmSync(path.join(dir, 'scripts'), { recursive: true });
  fs.rmSync(path.join(dir, 'addon'), { recursive: true });
  assert.equal(run(process.execPath, [CHECK_LINES, dir], ROOT).status, 0);
});
