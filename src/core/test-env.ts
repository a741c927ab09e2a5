/**
 * Loud skips for tests that need something outside npm (PostgreSQL, Chromium, swaks, rbldnsd,
 * ../shared/corpus). On a user's fresh clone they skip with a one-line reason; under `.ci/run`
 * (`SPAMDESK_REQUIRE_ALL=1`) a missing dependency fails the test instead, so CI never skips.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The shared public corpora (read-only), beside the checkout. */
export const CORPUS_DIR = process.env.SPAMDESK_CORPUS_DIR ?? path.resolve(REPO_ROOT, '../shared/corpus');

/**
 * Returns true when the dependency is there. Otherwise prints a loud one-line reason and skips `t`
 * (or throws under SPAMDESK_REQUIRE_ALL=1).
 */
export function needs(t: TestContext, what: string, available: boolean, hint: string): boolean {
  if (available) return true;
  const line = `SKIP ${t.name}: ${what} not available (${hint})`;
  if (process.env.SPAMDESK_REQUIRE_ALL === '1') throw new Error(`${line} — required under SPAMDESK_REQUIRE_ALL=1`);
  process.stderr.write(`\n*** ${line} ***\n`);
  t.skip(line);
  return false;
}

/** True when `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Skips `t` loudly unless ../shared/corpus (or the given sub-folder) exists. */
export function needsCorpus(t: TestContext, sub = ''): boolean {
  const p = path.join(CORPUS_DIR, sub);
  return needs(t, `corpus ${p}`, fs.existsSync(p), 'set SPAMDESK_CORPUS_DIR or check out ../shared/corpus');
}
