/**
 * The intel build service's timing: a build when the sources moved or the full-rebuild period is
 * over, never without a rest of {@link REST_FACTOR} times the last build's duration after it (so a
 * build that grows with the campaigns cannot occupy the pipeline's thread), also after a failed build.
 * The clock and the build are passed in: these tests wait for nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_REBUILD_MS, REST_FACTOR, buildDecision, buildRunner, buildsInThread } from './build-service.ts';

describe('intel build timing', () => {
  test('builds run in their thread from the configured number of publishable campaigns, always when it is 0', () => {
    assert.equal(buildsInThread(0, 1000), false);
    assert.equal(buildsInThread(999, 1000), false);
    assert.equal(buildsInThread(1000, 1000), true);
    assert.equal(buildsInThread(50_000, 1000), true);
    assert.equal(buildsInThread(0, 0), true, 'an instance with no campaigns yet, set to always use the thread');
  });

  test('the first tick builds; an unmoved signature skips until the full-rebuild period is over', () => {
    const none = { signature: null, endedAt: 0, tookMs: 0 };
    assert.deepEqual(buildDecision(none, 's1', 1_000_000), { kind: 'build' });
    const last = { signature: 's1', endedAt: 1_000_000, tookMs: 200 };
    assert.deepEqual(buildDecision(last, 's1', 1_000_000 + 10_000), { kind: 'skip' });
    assert.deepEqual(buildDecision(last, 's1', 1_000_000 + FULL_REBUILD_MS), { kind: 'build' });
  });

  test('a short build does not hold the next back: the interval alone sets the pace', () => {
    const last = { signature: 's1', endedAt: 1_000_000, tookMs: 300 };
    // 300 ms of build rests 0.6 s; the next tick comes 10 s later.
    assert.deepEqual(buildDecision(last, 's2', 1_000_000 + 10_000), { kind: 'build' });
  });

  test('a long build rests twice its duration before the next, even when the signature moved', () => {
    const last = { signature: 's1', endedAt: 1_000_000, tookMs: 49_000 };
    const until = 1_000_000 + REST_FACTOR * 49_000;
    assert.deepEqual(buildDecision(last, 's2', 1_000_000 + 10_000), { kind: 'rest', until });
    assert.deepEqual(buildDecision(last, 's2', until - 1), { kind: 'rest', until });
    assert.deepEqual(buildDecision(last, 's2', until), { kind: 'build' });
    // Nothing moved: a skip, not a rest (nothing to wait for).
    assert.deepEqual(buildDecision(last, 's1', 1_000_000 + 10_000), { kind: 'skip' });
  });

  test('the full rebuild is held back by a rest that outlasts its period', () => {
    const last = { signature: 's1', endedAt: 1_000_000, tookMs: 400_000 };
    const now = 1_000_000 + FULL_REBUILD_MS;
    assert.deepEqual(buildDecision(last, 's1', now), { kind: 'rest', until: 1_000_000 + REST_FACTOR * 400_000 });
  });

  test('with ticks every 10 s and sources moving all the time, 50 s builds take at most a third', async () => {
    let now = 0;
    let sig = 0;
    const rests: number[] = [];
    let busy = 0;
    const runner = buildRunner({
      signature: async () => `s${sig++}`,
      build: async () => {
        now += 50_000;
        busy += 50_000;
        return 'built';
      },
      now: () => now,
      onRest: (tookMs) => rests.push(tookMs),
    });
    const span = 3_600_000;
    while (now < span) {
      await runner.run();
      now += 10_000;
    }
    const share = busy / now;
    assert.ok(share <= 1 / (REST_FACTOR + 1) + 0.01, `builds took ${(share * 100).toFixed(1)} % of the time`);
    assert.ok(share >= 0.25, `builds took ${(share * 100).toFixed(1)} % of the time: the rest is too long`);
    // Told once per build that held the next back, with that build's duration.
    assert.ok(rests.length > 0 && rests.every((t) => t === 50_000), JSON.stringify(rests));
    const builds = busy / 50_000;
    assert.ok(rests.length >= builds - 1 && rests.length <= builds, `${rests.length} rests for ${builds} builds`);
  });

  test('a failed build rests too, and the next tick after its rest tries again', async () => {
    let now = 0;
    let calls = 0;
    const runner = buildRunner({
      signature: async () => 's1',
      build: async () => {
        calls++;
        now += 40_000;
        throw new Error('out of memory');
      },
      now: () => now,
      onRest: () => {},
    });
    await assert.rejects(runner.run(), /out of memory/);
    assert.equal(runner.last.tookMs, 40_000);
    assert.equal(runner.last.signature, null, 'a failed build is not taken as having read the sources');
    now += 10_000;
    assert.equal(await runner.run(), null);
    assert.equal(calls, 1, 'retried before its rest was over');
    now = 40_000 + REST_FACTOR * 40_000;
    await assert.rejects(runner.run(), /out of memory/);
    assert.equal(calls, 2);
  });

  test('a build that did not complete its publication (interrupted) is built again after its rest, the signature \
unmoved', async () => {
    let now = 0;
    const results = ['interrupted', 'complete', 'complete'];
    let calls = 0;
    const runner = buildRunner({
      signature: async () => 's1',
      build: async () => {
        now += 1_000;
        return results[calls++];
      },
      now: () => now,
      onRest: () => {},
      complete: (r) => r === 'complete',
    });
    assert.equal(await runner.run(), 'interrupted');
    assert.equal(runner.last.signature, null, 'not taken as having published what it read');
    now += 10_000;
    assert.equal(await runner.run(), 'complete', 'built again with the same signature');
    assert.equal(runner.last.signature, 's1');
    now += 10_000;
    assert.equal(await runner.run(), null, 'then skipped: nothing moved');
    assert.equal(calls, 2);
  });
});
