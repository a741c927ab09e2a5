import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { MetricsJson } from '../core/metrics.ts';
import { readFileInForce } from '../core/file-problems.ts';
import {
  CHILD_FLAG,
  childArgv,
  childEnv,
  childHeapArgs,
  deathHint,
  REPEATED_ABORTS,
  REPEATED_ABORTS_MSG,
  startBackgroundChild,
  type BackgroundChild,
} from './background-child.ts';

test('the background child gets bounded glibc arenas and a fixed mmap threshold unless the operator chose', () => {
  const env = childEnv({ PATH: '/usr/bin' });
  assert.equal(env.MALLOC_ARENA_MAX, '2');
  assert.equal(env.MALLOC_MMAP_THRESHOLD_, '131072');
  assert.equal(env.PATH, '/usr/bin');
  const chosen = childEnv({ MALLOC_ARENA_MAX: '8', MALLOC_MMAP_THRESHOLD_: '1048576' });
  assert.equal(chosen.MALLOC_ARENA_MAX, '8');
  assert.equal(chosen.MALLOC_MMAP_THRESHOLD_, '1048576');
});

test("the child's command line is the parent's with the background roles and the child flag", () => {
  const argv = childArgv(['node', '/x/spamdesk.js', 'serve', '--http-port', '0'], ['--expose-gc']);
  assert.deepEqual(argv.slice(0, 5), ['--expose-gc', '/x/spamdesk.js', 'serve', '--http-port', '0']);
  assert.equal(argv.at(-1), CHILD_FLAG);
  assert.equal(argv.at(-3), '--only');
  assert.ok(!argv.at(-2)?.split(',').includes('http'));
});

test('the background child gets a heap limit of SPAMDESK_BACKGROUND_HEAP_MB unless the operator set one or it would \
not lower V8’s default', () => {
  const heap = { mb: 1536, env: {}, defaultLimitMb: 4144 };
  assert.deepEqual(childHeapArgs([], heap), ['--max-old-space-size=1536']);
  const argv = childArgv(['node', '/x/spamdesk.js', 'serve'], ['--expose-gc'], heap);
  assert.deepEqual(argv.slice(0, 3), ['--expose-gc', '--max-old-space-size=1536', '/x/spamdesk.js']);
  assert.equal(argv.at(-1), CHILD_FLAG);
  // The operator's own limit, on node's command line (either spelling) or in NODE_OPTIONS, stands.
  assert.deepEqual(childHeapArgs(['--max-old-space-size=4096'], heap), []);
  assert.deepEqual(childHeapArgs(['--max_old_space_size=300'], heap), []);
  assert.deepEqual(
    childHeapArgs([], { ...heap, env: { NODE_OPTIONS: '--enable-source-maps --max-old-space-size=900' } }),
    [],
  );
  assert.deepEqual(childHeapArgs([], { ...heap, env: { NODE_OPTIONS: '"--max-old-space-size=900"' } }), []);
  // A flag that only starts alike is not a heap limit.
  assert.deepEqual(childHeapArgs(['--max-old-space-sizes'], heap), ['--max-old-space-size=1536']);
  // 0: V8's default; a machine whose default is lower already keeps it.
  assert.deepEqual(childHeapArgs([], { ...heap, mb: 0 }), []);
  assert.deepEqual(childHeapArgs([], { ...heap, defaultLimitMb: 1100 }), []);
  // The default read includes the young generation: 1,536 would raise a default old generation of 1,511.
  assert.deepEqual(childHeapArgs([], { ...heap, defaultLimitMb: 1559 }), []);
  // A value the operator set is passed even above the machine's default: only Spamdesk's own default is capped.
  assert.deepEqual(childHeapArgs([], { ...heap, defaultLimitMb: 1100, explicit: true }), ['--max-old-space-size=1536']);
  assert.deepEqual(childHeapArgs([], { ...heap, mb: 8192, explicit: true }), ['--max-old-space-size=8192']);
  // The operator's NODE_OPTIONS still takes its place.
  assert.deepEqual(
    childHeapArgs([], { ...heap, explicit: true, env: { NODE_OPTIONS: '--max-old-space-size=900' } }),
    [],
  );
});

test('the heap flag reaches V8: a node started with it has that limit, below its default', () => {
  const limitOf = (args: string[]): number =>
    Number(
      spawnSync(
        process.execPath,
        [...args, '-e', 'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit / 1048576))'],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '' },
        },
      ).stdout,
    );
  const plain = limitOf([]);
  const args = childHeapArgs([], { mb: 512, env: {}, defaultLimitMb: plain });
  assert.deepEqual(args, plain > 512 + 64 ? ['--max-old-space-size=512'] : []);
  if (args.length === 0) return;
  const bounded = limitOf(args);
  // V8 adds the young generation to the old generation's limit.
  assert.ok(bounded >= 512 && bounded < 512 + 128, `limit ${bounded} MiB with ${args[0]}, default ${plain} MiB`);
});

test('the death hint names the heap setting for an abort (signal or exit 134) and nothing else', () => {
  assert.match(String(deathHint(null, 'SIGABRT')), /SPAMDESK_BACKGROUND_HEAP_MB/);
  assert.match(String(deathHint(134, null)), /SPAMDESK_BACKGROUND_HEAP_MB/);
  assert.equal(deathHint(null, 'SIGKILL'), undefined);
  assert.equal(deathHint(1, null), undefined);
});

/** A supervisor of the stand-in child (`test-support/metrics-child.ts`), ready. */
async function standIn(...args: string[]): Promise<{ child: BackgroundChild; pid: number }> {
  const script = fileURLToPath(new URL('./test-support/metrics-child.ts', import.meta.url));
  const child = startBackgroundChild(pino({ level: 'silent' }), [...process.execArgv, script, ...args]);
  assert.equal(await child.ready, true);
  const pid = child.pid();
  assert.ok(pid !== null);
  return { child, pid };
}

const readsIn = (json: MetricsJson | null): unknown => json?.[0]?.values[0]?.value;

test('a scrape waiting for a child that dies gets no metrics at once, not after its whole wait', {
  timeout: 60_000,
}, async () => {
  const { child, pid } = await standIn();
  try {
    process.kill(pid, 'SIGSTOP');
    // Ten minutes' wait: only the child's end can settle it within the test's time.
    const waiting = child.metrics(600_000);
    process.kill(pid, 'SIGKILL');
    assert.equal(await waiting, null);
  } finally {
    await child.stop();
  }
});

test('requests the parent gave up on while the child was busy are answered by one registry read', {
  timeout: 60_000,
}, async () => {
  const { child, pid } = await standIn();
  try {
    assert.equal(readsIn(await child.metrics(30_000)), 1);
    process.kill(pid, 'SIGSTOP');
    // Four scrapes give up on the stopped child; the fifth is still waiting when it resumes.
    for (let i = 0; i < 4; i++) assert.equal(await child.metrics(50), null);
    const fifth = child.metrics(30_000);
    process.kill(pid, 'SIGCONT');
    assert.equal(readsIn(await fifth), 2, 'one read for the five queued requests');
    assert.equal(readsIn(await child.metrics(30_000)), 3);
  } finally {
    process.kill(pid, 'SIGCONT');
    await child.stop();
  }
});

test('a registry read that throws is answered with no metrics, and the child goes on answering', {
  timeout: 60_000,
}, async () => {
  const { child, pid } = await standIn('throw-first');
  try {
    assert.equal(await child.metrics(30_000), null);
    assert.equal(readsIn(await child.metrics(30_000)), 2);
    assert.equal(child.pid(), pid, 'the same child, not a restarted one');
  } finally {
    await child.stop();
  }
});

test('a child that dies of an abort (V8 out of heap) is logged with a hint to raise its heap limit; a kill is not', {
  timeout: 60_000,
}, async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const script = fileURLToPath(new URL('./test-support/metrics-child.ts', import.meta.url));
  const child = startBackgroundChild(logger, [...process.execArgv, script]);
  const died = async (n: number): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 400; i++) {
      const d = lines.filter((l) => l.msg === 'background process died; restarting it');
      if (d.length >= n) return d[n - 1];
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${n}th death logged`);
  };
  try {
    assert.equal(await child.ready, true);
    const first = child.pid();
    assert.ok(first !== null);
    // The stand-in exits with 134 as an aborted process does (a real SIGABRT could leave a core file: a piped
    // core_pattern ignores the core-size limit); the signal itself is checked on deathHint below.
    process.kill(first, 'SIGUSR2');
    const aborted = await died(1);
    assert.equal(aborted.code, 134);
    assert.match(String(aborted.hint), /SPAMDESK_BACKGROUND_HEAP_MB/);
    let second: number | null = null;
    for (let i = 0; i < 400 && (second === null || second === first); i++) {
      await new Promise((r) => setTimeout(r, 50));
      second = child.pid();
    }
    assert.ok(second !== null && second !== first, 'restarted');
    // Give the new child time to start before it is killed, so the kill is of a running child.
    for (let i = 0; i < 400 && !lines.some((l) => l.msg === 'background process started' && l.child === second); i++)
      await new Promise((r) => setTimeout(r, 50));
    process.kill(second, 'SIGKILL');
    const killed = await died(2);
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(killed.hint, undefined);
  } finally {
    await child.stop();
  }
});

test('a child that keeps aborting is told apart from one that died once: after three aborts within the hour the \
supervisor says its heap is too small for its work, once', { timeout: 60_000 }, async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const script = fileURLToPath(new URL('./test-support/metrics-child.ts', import.meta.url));
  const child = startBackgroundChild(logger, [...process.execArgv, script]);
  const deaths = () => lines.filter((l) => l.msg === 'background process died; restarting it').length;
  const waitUntil = async (ok: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    if (!ok()) throw new Error(`timed out waiting for ${what}`);
  };
  try {
    assert.equal(await child.ready, true);
    for (let n = 1; n <= REPEATED_ABORTS; n++) {
      const pid = child.pid();
      assert.ok(pid !== null);
      // Running its code (it answers metrics: its SIGUSR2 handler is set in the same turn as that).
      let answered = false;
      for (let i = 0; i < 100 && !answered; i++) answered = (await child.metrics(500)) !== null;
      assert.ok(answered, `child ${pid} never answered`);
      process.kill(pid, 'SIGUSR2');
      await waitUntil(() => deaths() >= n, `abort ${n}`);
      const told = lines.filter((l) => l.msg === REPEATED_ABORTS_MSG);
      assert.equal(told.length, n < REPEATED_ABORTS ? 0 : 1, `after ${n} aborts`);
      if (n < REPEATED_ABORTS) await waitUntil(() => child.pid() !== null && child.pid() !== pid, 'restart');
    }
    const told = lines.find((l) => l.msg === REPEATED_ABORTS_MSG);
    assert.equal(told?.aborts, REPEATED_ABORTS);
    assert.match(REPEATED_ABORTS_MSG, /SPAMDESK_BACKGROUND_HEAP_MB/);
  } finally {
    await child.stop();
  }
});

/** The `v` the stand-in child has in force for its operator file (its `operator_file_v` gauge). */
async function childV(child: BackgroundChild): Promise<unknown> {
  for (let i = 0; i < 100; i++) {
    const json = await child.metrics(2_000);
    const v = json?.find((m) => m.name === 'operator_file_v')?.values[0]?.value;
    if (v !== undefined) return v;
  }
  return undefined;
}

test('a background child, restarted too, runs with the operator files its parent has in force, not as edited since', {
  timeout: 90_000,
}, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-child-files-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'relays.json');
  fs.writeFileSync(file, '{"v": 1}');
  assert.deepEqual(readFileInForce(file), { text: '{"v": 1}' }, 'the parent checked it at its start');
  fs.writeFileSync(file, '{"v": 2}');
  const script = fileURLToPath(new URL('./test-support/metrics-child.ts', import.meta.url));
  const child = startBackgroundChild(pino({ level: 'silent' }), [...process.execArgv, script, `operator-file=${file}`]);
  try {
    assert.equal(await child.ready, true);
    assert.equal(await childV(child), 1);
    const first = child.pid();
    assert.ok(first !== null);
    process.kill(first, 'SIGKILL');
    for (let i = 0; i < 400 && (child.pid() === null || child.pid() === first); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(await childV(child), 1, 'the restarted child too');
  } finally {
    await child.stop();
  }
  // A child that does not ask reads the file as it is now: what the hand-over prevents.
  const own = startBackgroundChild(pino({ level: 'silent' }), [
    ...process.execArgv,
    script,
    `operator-file=${file}`,
    'no-ask',
  ]);
  try {
    assert.equal(await own.ready, true);
    assert.equal(await childV(own), 2);
  } finally {
    await own.stop();
  }
});
