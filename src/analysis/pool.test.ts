/**
 * The worker-thread pool: results come back from threads, and the time bound is real — a message
 * still being analysed when the bound expires gets an ANALYSIS_TIMEOUT record and its thread is
 * replaced, after which the pool keeps working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sampleEmail } from '../app/test-context.ts';
import { AnalysisSchema } from './analysis-schema.ts';
import { AnalysisPool } from './pool.ts';
import { defaultAnalysisSettings } from './settings.ts';

const NOW = new Date('2026-01-01T00:00:00Z');

/** Several megabytes of base64 attachments: far more than 1 ms of work on any machine. */
function bigMessage(): Buffer {
  const blob = Buffer.alloc(6 * 1024 * 1024, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(`From: a@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${blob}\r\n--b--\r\n`);
}

test('analyses in worker threads and returns schema-valid records', async () => {
  const pool = new AnalysisPool({ size: 2, settings: defaultAnalysisSettings({ dnsMode: 'offline' }), fixedNow: NOW, offline: true });
  try {
    const raws = [1, 2, 3, 4].map((n) => sampleEmail(n));
    const results = await Promise.all(raws.map((r) => pool.analyse(r)));
    results.forEach((r, i) => {
      assert.equal(r.outcome, 'ok');
      assert.ok(AnalysisSchema.safeParse(r.analysis).success);
      assert.equal(r.analysis.sha256, createHash('sha256').update(raws[i]).digest('hex'));
      assert.equal(r.analysis.parse.subject, `You have won #${i + 1}`);
    });
  } finally {
    await pool.close();
  }
});

test('a message over the time bound gets ANALYSIS_TIMEOUT, its thread is replaced, and the pool goes on', { timeout: 300_000 }, async () => {
  const pool = new AnalysisPool({ size: 1, settings: defaultAnalysisSettings({ timeoutMs: 1, dnsMode: 'offline' }), fixedNow: NOW, offline: true });
  try {
    const raw = bigMessage();
    const r = await pool.analyse(raw);
    assert.equal(r.outcome, 'timeout');
    assert.equal(r.analysis.error?.code, 'ANALYSIS_TIMEOUT');
    assert.ok(r.analysis.findings.some((f) => f.code === 'ANALYSIS_TIMEOUT' && f.evidence.rule === 'SPAMDESK_ANALYSIS_TIMEOUT_MS'));
    assert.equal(r.analysis.sha256, createHash('sha256').update(raw).digest('hex'));
    assert.ok(AnalysisSchema.safeParse(r.analysis).success);
    // The replacement thread takes the next message (which times out too under a 1 ms bound).
    const again = await pool.analyse(bigMessage());
    assert.equal(again.outcome, 'timeout');
  } finally {
    await pool.close();
  }
});
