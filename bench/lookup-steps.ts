/**
 * Where a look-up's CPU goes, step by step, on real corpus messages (not the campaign bench's
 * synthetic bodies): every 7th message of the corpora, at most 200 KB, run in this process
 * after two warm-up rounds: `nice -n 15 npx tsx bench/lookup-steps.ts` (the campaign bench's own
 * look-up bodies are synthetic personalised copies, shorter and plain text).
 *
 * Each step is timed on its own over the whole sample (one `performance.now()` pair around the
 * sample, not around each message, so the timer does not weigh on the figure), and its CPU
 * (`process.cpuUsage`) is printed beside the wall time.
 */
import v8 from 'node:v8';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { CORPUS_DIR } from './lib.ts';
import { corpusMessages } from '../src/analysis/test-support/corpus-messages.ts';
import { analyse } from '../src/analysis/analyse.ts';
import { decodeMessage } from '../src/analysis/decode.ts';
import { offlinePorts } from '../src/analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../src/analysis/settings.ts';
import { stagesFor } from '../src/analysis/registry.ts';
import { reduce } from '../src/campaigns/lookup-print.ts';
import { fingerprintOf } from '../src/campaigns/fingerprint.ts';
import { installConcatBlob } from '../src/analysis/concat-blob.ts';
import type { Analysis } from '../src/analysis/analysis-schema.ts';

const STRIDE = 7;
const MAX_BYTES = 200 * 1024;

export async function lookupSteps(): Promise<void> {
  // As in a look-up thread: postal-mime's part joining without Node's Blob round trip.
  installConcatBlob();
  const ports = offlinePorts(new Date('2026-03-01T00:00:00Z'));
  const settings = defaultAnalysisSettings();
  const sample = corpusMessages(CORPUS_DIR)
    .filter((_, i) => i % STRIDE === 0)
    .filter((m) => m.raw.length <= MAX_BYTES)
    .map((m) => m.raw);
  const bytes = sample.reduce((n, r) => n + r.length, 0);
  const lookup = stagesFor('lookup');
  const full: Analysis[] = [];
  const steps: [string, () => Promise<void> | void][] = [
    [
      'decode (postal-mime, nested)',
      async () => {
        for (const raw of sample) await decodeMessage(raw, '', settings);
      },
    ],
    [
      'analyse, lookup profile (decode + stages)',
      async () => {
        full.length = 0;
        for (const raw of sample) full.push(await analyse(raw, { ports, settings, stages: lookup }));
      },
    ],
    [
      'reduce (fingerprint: normalise, MinHash, links)',
      () => {
        for (const a of full) reduce(a);
      },
    ],
    [
      'reduce + structured clone of the answer (v8.serialize)',
      () => {
        for (const a of full) v8.serialize({ id: 1, analysis: { ...a, parse: null }, reduced: reduce(a) });
      },
    ],
    [
      'fingerprintOf only',
      () => {
        for (const a of full) fingerprintOf(a);
      },
    ],
  ];
  process.stdout.write(
    `look-up steps on ${sample.length} corpus messages (every ${STRIDE}th, ≤ ${MAX_BYTES / 1024} KB, \
${(bytes / sample.length / 1024).toFixed(1)} KB on average); load average ${os.loadavg()[0].toFixed(2)}\n`,
  );
  for (let round = 0; round < 3; round++) {
    for (const [name, run] of steps) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await run();
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (round === 2)
        process.stdout.write(
          `  ${name}: ${(wall / sample.length).toFixed(3)} ms wall, \
${((c.user + c.system) / 1000 / sample.length).toFixed(3)} ms CPU per message\n`,
        );
    }
  }
  process.stdout.write(`load average after: ${os.loadavg()[0].toFixed(2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await lookupSteps();
