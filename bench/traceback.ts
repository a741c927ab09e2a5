/**
 * Trace-back throughput: every e-mail of ../shared/corpus through `traceRaw` alone (Received parse,
 * offline ASN look-ups, the walk), in this process, with the shipped trusted-relay table and no live
 * DNS, in rounds. Reports messages per CPU-second (the figure that survives a loaded machine) and per
 * wall-clock second, with the load average. Before/after a change: `npm run eval -- traceback-corpus
 * --base=REF --rounds=N` runs two versions alternately in one process.
 */
import os from 'node:os';
import { ipLocationDbAsnLookup } from '../src/analysis/ports/ip-location-db.ts';
import { traceRaw } from '../src/analysis/stages/traceback.ts';
import { trustTableFor } from '../src/analysis/stages/traceback/trust.ts';
import { corpusMessages } from '../src/analysis/test-support/corpus-messages.ts';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable } from './lib.ts';

const ROUNDS = Number(process.env.SPAMDESK_BENCH_TRACEBACK_ROUNDS ?? 5);

export const tracebackBench: Bench = {
  name: 'traceback',
  description:
    'trace-back alone (parse, offline ASN, walk) over every corpus e-mail, in-process, messages per CPU-second',
  async run() {
    if (!corpusAvailable()) {
      process.stdout.write(`SKIP: corpus ${CORPUS_DIR} absent\n`);
      return;
    }
    const messages = corpusMessages(CORPUS_DIR).filter((m) => !m.origin.includes('SMSSpamCollection'));
    const opts = {
      trust: trustTableFor([], null),
      asn: ipLocationDbAsnLookup(),
      mailhosts: [],
      documentationIsPublic: false,
    };
    const perCpu: number[] = [];
    const perWall: number[] = [];
    const load0 = os.loadavg()[0] ?? 0;
    // Round 0 warms the JIT and the ASN tables; it is not counted.
    for (let r = 0; r <= ROUNDS; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (const m of messages) await traceRaw(m.raw, opts);
      const cpu = process.cpuUsage(c0);
      if (r === 0) continue;
      perCpu.push(messages.length / ((cpu.user + cpu.system) / 1e6));
      perWall.push(messages.length / ((performance.now() - t0) / 1000));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const load1 = os.loadavg()[0] ?? 0;
    const n = (x: number) => Math.round(x).toLocaleString('en');
    process.stdout.write(
      `${messages.length} messages × ${ROUNDS} rounds: median ${n(median(perCpu))} msg/CPU-s ` +
        `(best ${n(Math.max(...perCpu))}), ${n(median(perWall))} msg/s wall; ` +
        `load ${load0.toFixed(1)} → ${load1.toFixed(1)}\n`,
    );
  },
};
