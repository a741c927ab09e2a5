/**
 * Fuzzing: 10,000 mutated messages (truncations, bit flips, injected delimiters, header
 * explosions, deep MIME and message/rfc822 nesting, huge lines) go through the worker-thread
 * pool. Every one must come back as a valid record — an analysis, or an `ANALYSIS_ERROR` /
 * `ANALYSIS_TIMEOUT` record — and no stage may throw. Seeded PRNG: the same run every time.
 * Seeds are the repository fixtures, plus small corpus messages when ../shared/corpus is there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORPUS_DIR } from '../core/test-env.ts';
import { AnalysisSchema } from './analysis-schema.ts';
import { corpusMessages } from './test-support/corpus-messages.ts';
import { AnalysisPool } from './pool.ts';
import { defaultAnalysisSettings } from './settings.ts';
import { mulberry32 } from '../core/prng.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const FUZZ_CASES = 10_000;

function seeds(): Buffer[] {
  const out: Buffer[] = [];
  for (const dir of fs.readdirSync(FIXTURES)) {
    const d = path.join(FIXTURES, dir);
    if (!fs.statSync(d).isDirectory()) continue;
    for (const f of fs.readdirSync(d)) if (!/^(LICENSE|NOTICE)/.test(f)) out.push(fs.readFileSync(path.join(d, f)));
  }
  if (fs.existsSync(CORPUS_DIR)) {
    // Every 40th small corpus message: a spread over all folders, the same ones every run.
    corpusMessages(CORPUS_DIR)
      .filter((m, i) => i % 40 === 0 && m.raw.length < 32_768)
      .forEach((m) => {
        out.push(m.raw);
      });
  } else {
    process.stderr.write(
      `\n*** fuzz: ${CORPUS_DIR} absent, seeding from the ${out.length} repository fixtures only ***\n`,
    );
  }
  return out;
}

const INJECT = [
  '\r',
  '\n',
  '\r\n\r\n',
  '\0',
  '=?',
  '?=',
  '=?utf-8?B?',
  '--',
  'boundary="',
  '<',
  '"',
  '>',
  'Content-Type: multipart/mixed; boundary=x\r\n',
  '\r\n--x\r\n',
  '=\r\n',
  '&#x',
  '<a href="',
  'http://',
];

function mutate(src: Buffer, rnd: () => number): Buffer {
  const pick = (n: number) => Math.floor(rnd() * n);
  const kind = rnd();
  if (kind < 0.25) return src.subarray(0, pick(src.length + 1));
  if (kind < 0.5) {
    const b = Buffer.from(src);
    for (let i = 0, n = 1 + pick(20); i < n && b.length > 0; i++) b[pick(b.length)] ^= 1 << pick(8);
    return b;
  }
  if (kind < 0.75) {
    const at = pick(src.length + 1);
    const ins = Buffer.from(Array.from({ length: 1 + pick(5) }, () => INJECT[pick(INJECT.length)]).join(''), 'latin1');
    return Buffer.concat([src.subarray(0, at), ins, src.subarray(at)]);
  }
  if (kind < 0.93) {
    // Line shuffling: headers and body lines out of order.
    const lines = src.toString('latin1').split('\n');
    for (let i = lines.length - 1; i > 0; i--) {
      const j = pick(i + 1);
      [lines[i], lines[j]] = [lines[j], lines[i]];
    }
    return Buffer.from(lines.join('\n'), 'latin1');
  }
  if (kind < 0.95) {
    // Header explosion: thousands of headers, or one header folded over thousands of lines.
    const n = 1000 + pick(3000);
    const block =
      rnd() < 0.5
        ? 'X-Spam-Filler: aaaaaaaaaaaaaaaaaaaa\r\n'.repeat(n)
        : `Subject: start\r\n${' folded continuation line\r\n'.repeat(n)}`;
    return Buffer.concat([Buffer.from(block), src]);
  }
  if (kind < 0.98) {
    // Deep nesting: multipart beyond the parser's limit, or message/rfc822 beyond ours.
    const depth = 10 + pick(60);
    const rfc822 = rnd() < 0.5;
    let body = src;
    for (let d = 0; d < depth; d++) {
      const b = `b${d}`;
      const head = rfc822
        ? `From: x${d}@example.org\r\nContent-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\nContent-Type: \
message/rfc822\r\n\r\n`
        : `Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\n`;
      body = Buffer.concat([Buffer.from(head), body, Buffer.from(`\r\n--${b}--\r\n`)]);
    }
    return body;
  }
  // A huge line (no line break for megabytes), in the headers or the body.
  const size = 100_000 + pick(500_000);
  const filler = Buffer.alloc(size, rnd() < 0.5 ? 0x41 : 0x3c);
  const at = pick(src.length + 1);
  return Buffer.concat([src.subarray(0, at), filler, src.subarray(at)]);
}

test(`${FUZZ_CASES} mutated messages: no crash, no hang, a record (or an error finding) for each`, {
  timeout: 1_200_000,
}, async () => {
  const base = seeds();
  assert.ok(base.length >= 10);
  const rnd = mulberry32(0x5eed);
  // On every core, with a time bound above the default: on a shared CI machine a stopped thread
  // costs a thread restart, and this test is about crashes and hangs, which any bound catches.
  const pool = new AnalysisPool({
    size: os.availableParallelism(),
    settings: defaultAnalysisSettings({ dnsMode: 'offline', timeoutMs: 10_000 }),
    fixedNow: new Date('2026-01-01T00:00:00Z'),
  });
  const outcomes = { ok: 0, error: 0, timeout: 0 };
  const stageErrors: string[] = [];
  let invalid = 0;
  try {
    for (let done = 0; done < FUZZ_CASES; ) {
      const batch = Array.from({ length: Math.min(200, FUZZ_CASES - done) }, () =>
        mutate(base[Math.floor(rnd() * base.length)], rnd),
      );
      const results = await Promise.all(batch.map((raw) => pool.analyse(raw)));
      for (const r of results) {
        outcomes[r.outcome]++;
        if (!AnalysisSchema.safeParse(r.analysis).success) invalid++;
        if (r.outcome !== 'ok')
          assert.ok(
            r.analysis.findings.some(
              (f) => f.code === (r.outcome === 'timeout' ? 'ANALYSIS_TIMEOUT' : 'ANALYSIS_ERROR'),
            ),
          );
        for (const f of r.analysis.findings) if (f.code === 'STAGE_ERROR') stageErrors.push(f.message);
      }
      done += batch.length;
      if (done % 2000 === 0) process.stderr.write(`fuzz: ${done}/${FUZZ_CASES} ${JSON.stringify(outcomes)}\n`);
    }
  } finally {
    await pool.close();
  }
  process.stderr.write(`\nfuzz outcomes: ${JSON.stringify(outcomes)}, stage errors: ${stageErrors.length}\n`);
  assert.equal(outcomes.ok + outcomes.error + outcomes.timeout, FUZZ_CASES);
  assert.equal(invalid, 0, 'every record matches the Analysis schema');
  assert.deepEqual([...new Set(stageErrors)].slice(0, 10), [], 'no stage threw');
});
