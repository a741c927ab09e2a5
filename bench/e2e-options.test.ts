import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmOption } from './e2e.ts';

test('--warm takes a whole number of reports, 0 for none, and refuses anything else', () => {
  assert.equal(warmOption(undefined, undefined), 0);
  assert.equal(warmOption('3000', undefined), 3000);
  assert.equal(warmOption(undefined, '500'), 500);
  assert.equal(warmOption('0', '500'), 0);
  for (const bad of ['-1', '1.5', 'many'])
    assert.throws(() => warmOption(bad, undefined), /--warm wants a whole number of reports \(0 for none\), not/);
});
