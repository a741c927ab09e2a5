import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MAX_NICE, threadNiceValues } from './lower-priority.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const linux = fs.existsSync('/proc/self/task');

/** Runs `body` in a fresh Node process that loads lower-priority.ts; resolves with its first stdout line and pid. */
function probe(t: { after: (fn: () => void) => void }, body: string): Promise<{ pid: number; line: unknown }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-nice-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'probe.mts');
  fs.writeFileSync(
    script,
    `import { Worker } from 'node:worker_threads';\n` +
      `import { lowerOwnPriority } from ${JSON.stringify(path.join(here, 'lower-priority.ts'))};\n${body}\n` +
      // Stays alive until the test has read its threads.
      'setInterval(() => {}, 1000);\n',
  );
  const proc = spawn(process.execPath, [...process.execArgv, script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => proc.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`the probe exited (${code}) before it answered`)));
    readline
      .createInterface({ input: proc.stdout })
      .once('line', (l) => resolve({ pid: proc.pid ?? 0, line: JSON.parse(l) }));
  });
}

test('every thread of the process runs at the lowered priority, threads started afterwards included, and the ' +
  'caller is not touched', {
  skip: linux ? false : 'SKIPPED: needs Linux /proc/self/task to read each thread’s nice value',
}, async (t) => {
  const base = os.getPriority(0);
  const { pid, line } = await probe(
    t,
    `const r = lowerOwnPriority(4);\n` +
      // A thread started after the change: the analysis pool's threads start so.
      `const w = new Worker('setInterval(() => {}, 1000)', { eval: true });\n` +
      `w.once('online', () => process.stdout.write(JSON.stringify(r) + '\\n'));\n`,
  );
  const expected = Math.min(MAX_NICE, base + 4);
  const r = line as { nice: number; threads: number; failed: number };
  assert.equal(r.nice, expected);
  assert.equal(r.failed, 0);
  assert.ok(r.threads >= 2, `set ${r.threads} threads (V8's own threads exist before any JavaScript runs)`);
  const values = threadNiceValues(pid);
  assert.ok(values.length > r.threads, `the worker's threads came after: ${values.length} now`);
  assert.deepEqual(
    values.filter((v) => v !== expected),
    [],
    `every thread at ${expected}: ${values.join(' ')}`,
  );
  assert.deepEqual(new Set(threadNiceValues(process.pid)), new Set([base]), 'this process keeps its priority');
});

test('the priority is only ever lowered: by 0 nothing changes, and the nice value stops at 19', {
  skip: linux ? false : 'SKIPPED: needs Linux /proc/self/task to read each thread’s nice value',
}, async (t) => {
  const base = os.getPriority(0);
  const zero = await probe(t, `process.stdout.write(JSON.stringify(lowerOwnPriority(0)) + '\\n');`);
  assert.deepEqual(zero.line, { nice: base, threads: 0, failed: 0 });
  assert.deepEqual(new Set(threadNiceValues(zero.pid)), new Set([base]));
  const capped = await probe(t, `process.stdout.write(JSON.stringify(lowerOwnPriority(100)) + '\\n');`);
  assert.equal((capped.line as { nice: number }).nice, MAX_NICE);
  assert.deepEqual(new Set(threadNiceValues(capped.pid)), new Set([MAX_NICE]));
});
