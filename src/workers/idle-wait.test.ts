import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createIdleWait } from './idle-wait.ts';

test('wake() ends a long idle wait at once, and a wake with nobody waiting is forgotten', {
  timeout: 10_000,
}, async () => {
  const idle = createIdleWait();
  idle.wake(); // nobody waits: must not pre-empt the next wait
  let ended = false;
  const waiting = idle.wait(600_000).then(() => {
    ended = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(ended, false, 'an earlier wake must not end a later wait');
  idle.wake();
  await waiting;
  assert.equal(ended, true);
});

test('wait() resolves by itself when nobody wakes it', { timeout: 10_000 }, async () => {
  const idle = createIdleWait();
  await idle.wait(5);
  idle.wake(); // after the wait ended: harmless
});
