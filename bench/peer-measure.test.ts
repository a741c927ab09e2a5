import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { processTree, roundOrder, seededSample, spread, treeCpuSeconds, treeMemoryBytes } from './peer-measure.ts';

describe('peer comparison measuring helpers', () => {
  it('draws the same seeded sample every time, without repeats, and a different one for another seed', () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const a = seededSample(items, 300, 17);
    assert.deepEqual(seededSample(items, 300, 17), a);
    assert.equal(new Set(a).size, 300);
    assert.notDeepEqual(seededSample(items, 300, 18), a);
    // Not the first 300: a random sample reaches across the whole list.
    assert.ok(a.some((x) => x >= 700));
    assert.equal(seededSample(items, 5000, 1).length, 1000);
    assert.deepEqual(items.slice(0, 3), [0, 1, 2], 'the input is left as it is');
  });

  it('rotates the order of the tools each round so every tool runs in every position', () => {
    const tools = ['A', 'B', 'C'];
    assert.deepEqual(roundOrder(tools, 0), ['A', 'B', 'C']);
    assert.deepEqual(roundOrder(tools, 1), ['B', 'C', 'A']);
    assert.deepEqual(roundOrder(tools, 2), ['C', 'A', 'B']);
    assert.deepEqual(roundOrder(tools, 3), ['A', 'B', 'C']);
  });

  it('gives the median and the min–max of the finite values', () => {
    assert.deepEqual(spread([3, 1, 2]), { min: 1, max: 3, median: 2 });
    assert.deepEqual(spread([4, 1, Number.NaN, 2, 3]), { min: 1, max: 4, median: 2.5 });
    assert.ok(Number.isNaN(spread([]).median));
  });

  it('counts the CPU of a forked child that has exited and been reaped, and finds live descendants', async () => {
    // A shell that starts a CPU-bound child, waits for it (reaping it: its CPU moves to the
    // shell's cutime), then sleeps so the tree can be read while the shell is alive.
    const sh = spawn(
      'sh',
      [
        '-c',
        'node -e "let x=0; const e=process.cpuUsage().user+300000; while(process.cpuUsage().user<e) x++"; sleep 30',
      ],
      { stdio: 'ignore' },
    );
    try {
      const pid = sh.pid as number;
      assert.ok(pid > 0);
      // Poll until the sleep child appears (the node child has then exited and been reaped).
      let tree: number[] = [];
      for (let i = 0; i < 600; i++) {
        tree = processTree(pid);
        if (tree.length === 2 && treeCpuSeconds(pid) >= 0.3) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(tree[0], pid);
      assert.equal(tree.length, 2, 'the shell and its sleep');
      assert.ok(treeCpuSeconds(pid) >= 0.3, `reaped child's CPU counted: ${treeCpuSeconds(pid)}`);
      assert.ok(treeMemoryBytes(pid) > 0);
    } finally {
      sh.kill('SIGKILL');
      await once(sh, 'exit');
    }
  });
});
