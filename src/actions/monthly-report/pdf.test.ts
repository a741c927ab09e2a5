import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canPrintPdf, pdfPrintStats, printPdf } from './pdf.ts';
import { needs } from '../../core/test-env.ts';

const doc = (title: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body><h1>${title}</h1></body></html>`;

test('the same document is printed once; prints asked for together run one at a time', async (t) => {
  if (!needs(t, 'Chromium', canPrintPdf(), 'apt-get install chromium (scripts/ci-prepare.sh)')) return;
  const before = pdfPrintStats();
  const [a, b, c] = await Promise.all([printPdf(doc('one')), printPdf(doc('two')), printPdf(doc('one'))]);
  assert.ok(a && b && c);
  assert.equal(a.subarray(0, 5).toString(), '%PDF-');
  assert.equal(c, a, 'the second request for the same document gets the printed PDF');
  assert.notEqual(b, a);
  const again = await printPdf(doc('two'));
  assert.equal(again, b);
  const after = pdfPrintStats();
  assert.equal(after.launched - before.launched, 2, 'Chromium launched once per distinct document');
  assert.equal(after.fromCache - before.fromCache, 2);
  assert.equal(after.maxRunning, 1, 'never two Chromium prints at once');
});
