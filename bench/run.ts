/**
 * `npm run bench`: runs every benchmark of bench/ in turn (or those named: `npm run bench -- import`).
 * Each prints throughput, latency percentiles and peak memory; peers run on the same data where
 * installed. Benchmarks are measurements, never pass/fail gates.
 */
import { BENCHES } from './registry.ts';
import { applyTiering } from '../src/core/tiering.ts';

// What runs Spamdesk in this process (the analysis bench's pool, the import bench) runs with the tier-up
// budget `spamdesk` itself sets (src/core/tiering.ts; SPAMDESK_V8_INTERRUPT_BUDGET=0 measures V8's own).
const tiering = applyTiering([]);
process.stdout.write(`V8: ${tiering ?? 'its own interrupt budget'}\n`);

// Names come first; options after them (`npm run bench -- e2e --reports 1000`) are the benches' own.
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('-'));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
for (const b of BENCHES) {
  if (wanted.length > 0 && !wanted.includes(b.name)) continue;
  process.stdout.write(`\n=== bench ${b.name}: ${b.description}\n`);
  const started = Date.now();
  try {
    await b.run();
  } catch (e) {
    process.stdout.write(`bench ${b.name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
  process.stdout.write(`=== ${b.name} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
