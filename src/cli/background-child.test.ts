import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHILD_FLAG, childArgv, childEnv } from './background-child.ts';

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
