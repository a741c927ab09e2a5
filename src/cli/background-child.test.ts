import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { MetricsJson } from '../core/metrics.ts';
import { CHILD_FLAG, childArgv, childEnv, startBackgroundChild, type BackgroundChild } from './background-child.ts';

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
