/**
 * The layer check (`npm run check:layers`, `.dependency-cruiser.cjs`) as part of `npm test`: the
 * source tree has no upward import and no import circle, and the rules do bite on a scratch tree
 * that breaks them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEPCRUISE = path.join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

function depcruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('src/ keeps its layers: no upward import, no import circle (npm run check:layers)', () => {
  const r = depcruise(ROOT);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /no dependency violations found/);
});

test('the layer rules report an upward import and a circle in a tree that has them', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-layers-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  write(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        allowImportingTsExtensions: true,
        noEmit: true,
      },
    }),
  );
  write('src/core/low.ts', "import { top } from '../app/top.ts';\nexport const low = top;\n");
  write('src/app/top.ts', 'export const top = 1;\n');
  write('src/analysis/a.ts', "import { b } from './b.ts';\nexport const a = () => b;\n");
  write('src/analysis/b.ts', "import { a } from './a.ts';\nexport const b = () => a;\n");
  write('src/analysis/c.test.ts', "import { top } from '../app/top.ts';\nexport const c = top;\n");
  const r = depcruise(dir);
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /no-upward-from-core: src\/core\/low\.ts → src\/app\/top\.ts/);
  assert.match(r.out, /no-circular: src\/analysis\/a\.ts/);
  assert.doesNotMatch(r.out, /c\.test\.ts/, 'tests may reach up');
});
