import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Modules `file` loads when it starts: its static value imports and re-exports, followed through relative ones. */
function staticImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  for (const node of source.statements) {
    let spec: string | null = null;
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier))
      spec = node.moduleSpecifier.text;
    if (
      ts.isExportDeclaration(node) &&
      !node.isTypeOnly &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      spec = node.moduleSpecifier.text;
    if (spec === null) continue;
    if (spec.startsWith('.')) staticImports(path.resolve(path.dirname(file), spec), seen);
    else seen.add(spec);
  }
  return seen;
}

test('a mail thread starts without take-apart, mailauth or zod: a thread for HTTP bodies never loads them', () => {
  const thread = fileURLToPath(new URL('./mail-thread.ts', import.meta.url));
  const loaded = [...staticImports(thread)];
  // The check itself must see through relative imports: the message check is reached that way.
  assert.ok(
    loaded.some((m) => m.endsWith('/evidence/message-check.ts')),
    loaded.join('\n'),
  );
  const heavy = loaded.filter((m) => m.endsWith('/take-apart.ts') || m.startsWith('mailauth') || m === 'zod');
  assert.deepEqual(heavy, [], 'imported statically, loaded at every thread start');
});
