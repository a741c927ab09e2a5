import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_LABEL_CHARS, labelFromFacts } from './label.ts';

test('a campaign label is its brand, else its most frequent subject, else its sender domain', () => {
  const subject = (value: string, count: number) => ({ kind: 'subject', value, count });
  assert.equal(labelFromFacts([subject('Your parcel', 3), { kind: 'brand', value: 'PayPal', count: 1 }]), 'PayPal');
  assert.equal(labelFromFacts([subject('Rare', 1), subject('Your  parcel\n is waiting', 9)]), 'Your parcel is waiting');
  assert.equal(
    labelFromFacts([{ kind: 'sender', value: 'Bank <Alerts@Secure-Login.example>', count: 2 }]),
    'secure-login.example',
  );
  assert.equal(labelFromFacts([subject('   ', 5), { kind: 'ip', value: '203.0.113.7', count: 5 }]), null);
  const long = labelFromFacts([subject('x'.repeat(500), 1)]) ?? '';
  assert.equal(long.length, MAX_LABEL_CHARS);
  assert.ok(long.endsWith('…'));
});
