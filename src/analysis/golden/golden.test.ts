/**
 * The golden set, end to end: every message under messages/ through the full `analyse()` (all
 * registered stages, static DNS zone, real offline ASN data, fixed clock), compared with its
 * expected record: origin IP, SPF/DKIM/DMARC/ARC, the receiver's Authentication-Results, URLs and
 * findings. See README.md beside this file for the sources and their licences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { expectedPath, goldenCases, runCase, summarise, type GoldenExpected } from './golden-cases.ts';

const cases = goldenCases();

test('the golden set has at least 60 real messages plus the synthetic trace-back cases', () => {
  assert.ok(cases.filter((c) => c.source !== 'synthetic').length >= 60);
  assert.ok(cases.some((c) => c.source === 'synthetic'));
});

for (const c of cases) {
  test(`golden: ${c.id}`, async () => {
    const text = fs.readFileSync(expectedPath(c), 'utf8');
    const want: GoldenExpected = JSON.parse(text);
    const a = await runCase(c);
    assert.equal(a.error, null, `analysis error: ${JSON.stringify(a.error)}`);
    const got = summarise(a);
    assert.equal(got.origin, want.origin, `origin; steps:\n${a.traceback.steps.join('\n')}`);
    assert.deepEqual(got.auth, want.auth, 'authentication');
    assert.deepEqual(got.urls, want.urls, 'URLs');
    assert.deepEqual(got.findings, want.findings, 'trace-back / auth / enrichment findings');
    for (const code of want.otherFindings) assert.ok(got.otherFindings.includes(code), `missing finding ${code}`);
  });
}
