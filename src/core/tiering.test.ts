import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, earlySetting } from './config.ts';
import { interruptBudgetFlag } from './tiering.ts';

test('Spamdesk raises V8 interrupt budget to four times its default unless told otherwise', () => {
  assert.equal(earlySetting('v8InterruptBudget', [], {}), 270_336);
  assert.equal(interruptBudgetFlag(270_336, [], {}), '--interrupt-budget=270336');
  assert.equal(earlySetting('v8InterruptBudget', [], { SPAMDESK_V8_INTERRUPT_BUDGET: '540672' }), 540_672);
  assert.equal(earlySetting('v8InterruptBudget', [], { SPAMDESK_V8_INTERRUPT_BUDGET: '' }), 270_336);
});

test('the flag on the spamdesk command line wins over the environment, in either form', () => {
  const env = { SPAMDESK_V8_INTERRUPT_BUDGET: '540672' };
  assert.equal(earlySetting('v8InterruptBudget', ['serve', '--v8-interrupt-budget=1000'], env), 1000);
  assert.equal(earlySetting('v8InterruptBudget', ['serve', '--v8-interrupt-budget', '2000'], env), 2000);
  // After `--` it is an argument, not this flag.
  assert.equal(earlySetting('v8InterruptBudget', ['x', '--', '--v8-interrupt-budget=1'], env), 540_672);
});

test('a zero budget keeps V8 own tier-up', () => {
  assert.equal(interruptBudgetFlag(0, [], {}), null);
});

test('an interrupt budget the operator gave node wins, on its command line or in NODE_OPTIONS', () => {
  assert.equal(interruptBudgetFlag(270_336, ['--interrupt-budget=1000'], {}), null);
  assert.equal(interruptBudgetFlag(270_336, ['--interrupt_budget=1000'], {}), null);
  assert.equal(
    interruptBudgetFlag(270_336, [], { NODE_OPTIONS: '--max-old-space-size=900 "--interrupt-budget=5"' }),
    null,
  );
  // Another V8 flag that merely starts alike is not the operator's budget.
  assert.equal(
    interruptBudgetFlag(270_336, ['--interrupt-budget-for-feedback-allocation=900'], {}),
    '--interrupt-budget=270336',
  );
});

test('a budget that is not a whole number of bytes is refused with the variable and the flag named', () => {
  for (const bad of ['64k', '-1', '1.5', '9999999999']) {
    assert.throws(
      () => earlySetting('v8InterruptBudget', [], { SPAMDESK_V8_INTERRUPT_BUDGET: bad }),
      (e: unknown) =>
        e instanceof ConfigError && /SPAMDESK_V8_INTERRUPT_BUDGET \/ --v8-interrupt-budget/.test(e.message),
    );
  }
});
