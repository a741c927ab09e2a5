/**
 * `npm run eval -- traceback-corpus [--base=REF] [--rounds=N] [--list=N]`: what a trace-back change does
 * to every message of the shared corpora, not only to the labelled chains. The trace-back of `REF`
 * (default `HEAD`; its `src/` is extracted with `git archive` under `test-artifacts/`) and the one of
 * the working tree are loaded in one process and run on every corpus message with the same offline
 * inputs (shipped trusted-relay table, offline ASN data, no learned mail hosts, no live DNS).
 * Prints how many origins differ, the changes grouped by (before → after) receiving host, a sample of
 * them with the new walk's deciding step to read by hand, and the CPU time of each version over
 * alternating rounds (the rounds interleave the two so machine load falls on both alike).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { corpusMessages } from '../../src/analysis/test-support/corpus-messages.ts';
import { ipLocationDbAsnLookup } from '../../src/analysis/ports/ip-location-db.ts';
import { traceRaw as currentTrace, type TraceOptions } from '../../src/analysis/stages/traceback.ts';
import { trustTableFor as currentTrust } from '../../src/analysis/stages/traceback/trust.ts';
import { REPO_ROOT } from '../../src/core/test-env.ts';

type Trace = (
  raw: Uint8Array,
  opts: TraceOptions,
) => Promise<{ origin: { ip: string; hopIndex: number } | null; steps: string[] }>;
interface Version {
  label: string;
  trace: Trace;
  opts: TraceOptions;
}

function arg(name: string, fallback: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : a.slice(name.length + 3);
}

/** Extracts `src/` of `ref` once (cached by commit) and loads its trace-back. */
async function baseVersion(ref: string, asn: TraceOptions['asn']): Promise<Version> {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: REPO_ROOT })
    .toString()
    .trim();
  const dir = path.join(REPO_ROOT, 'test-artifacts', `traceback-base-${sha.slice(0, 12)}`);
  if (!fs.existsSync(path.join(dir, 'src'))) {
    fs.mkdirSync(dir, { recursive: true });
    const tar = execFileSync('git', ['archive', sha, 'src'], { cwd: REPO_ROOT, maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
  }
  const stage = (await import(pathToFileURL(path.join(dir, 'src/analysis/stages/traceback.ts')).href)) as {
    traceRaw: Trace;
  };
  const trust = (await import(pathToFileURL(path.join(dir, 'src/analysis/stages/traceback/trust.ts')).href)) as {
    trustTableFor: typeof currentTrust;
  };
  return {
    label: `${ref} (${sha.slice(0, 7)})`,
    trace: stage.traceRaw,
    opts: { trust: trust.trustTableFor([], null), asn, mailhosts: [], documentationIsPublic: false },
  };
}

/** The receiving host of the hop an origin was found at (the `by` of that header), for grouping. */
function byOf(steps: readonly string[], hop: number | undefined): string {
  if (hop === undefined) return '—';
  const s = steps.find((x) => x.startsWith(`Hop ${hop}: `));
  return s?.slice(`Hop ${hop}: `.length).split(' ')[0] ?? '?';
}

/** Runs the comparison and prints it. */
export async function evaluateTracebackCorpus(corpusDir: string, write: (s: string) => void): Promise<void> {
  if (!fs.existsSync(corpusDir)) {
    write(`SKIP: corpus ${corpusDir} absent\n`);
    return;
  }
  const asn = ipLocationDbAsnLookup();
  const before = await baseVersion(arg('base', 'HEAD'), asn);
  const after: Version = {
    label: 'working tree',
    trace: currentTrace as Trace,
    opts: { trust: currentTrust([], null), asn, mailhosts: [], documentationIsPublic: false },
  };
  const messages = corpusMessages(corpusDir).filter((m) => !m.origin.includes('SMSSpamCollection'));
  write(`${messages.length} corpus messages; before: ${before.label}, after: ${after.label}\n`);
  const rounds = Math.max(1, Number(arg('rounds', '1')));
  const cpu = new Map<string, number[]>([
    [before.label, []],
    [after.label, []],
  ]);
  const results = new Map<string, { origin: string; hop: number | undefined; steps: string[] }[]>();
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 === 0 ? [before, after] : [after, before]) {
      const out: { origin: string; hop: number | undefined; steps: string[] }[] = [];
      const t0 = process.cpuUsage();
      for (const m of messages) {
        const w = await v.trace(m.raw, v.opts);
        out.push({ origin: w.origin?.ip ?? 'none', hop: w.origin?.hopIndex, steps: w.steps });
      }
      const used = process.cpuUsage(t0);
      cpu.get(v.label)?.push((used.user + used.system) / 1e6);
      results.set(v.label, out);
    }
  }
  const b = results.get(before.label) ?? [];
  const a = results.get(after.label) ?? [];
  const changed: number[] = [];
  for (let i = 0; i < messages.length; i++) if (b[i]?.origin !== a[i]?.origin) changed.push(i);
  write(`origins that differ: ${changed.length} of ${messages.length}\n`);
  const groups = new Map<string, number>();
  for (const i of changed) {
    const key = `${byOf(b[i]?.steps ?? [], b[i]?.hop)} → ${byOf(a[i]?.steps ?? [], a[i]?.hop)}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  if (groups.size > 0) write('\nby receiving host (before → after):\n');
  for (const [k, n] of [...groups].sort((x, y) => y[1] - x[1])) write(`  ${String(n).padStart(5)}  ${k}\n`);
  const list = Number(arg('list', '40'));
  if (changed.length > 0) write(`\nchanged (first ${Math.min(list, changed.length)}):\n`);
  for (const i of changed.slice(0, list)) {
    const m = messages[i];
    const after = a[i];
    if (m === undefined || after === undefined) continue;
    const decided = after.steps.filter((s) => /believed|trusted|origin/.test(s) && !/below the origin/.test(s));
    const why = decided.slice(-2).join('\n    ');
    write(`- ${path.relative(corpusDir, m.origin)}: ${b[i]?.origin} → ${after.origin}\n    ${why}\n`);
  }
  const rate = (s: number) => Math.round(messages.length / s).toLocaleString('en');
  // The first round of each warms the JIT and the ASN tables: the median is of the others when there are any.
  const fmt = (xs: number[]) => {
    const counted = xs.length > 1 ? xs.slice(1) : xs;
    const median = [...counted].sort((x, y) => x - y)[Math.floor(counted.length / 2)] ?? 0;
    return `median ${rate(median)} msg/CPU-s (${xs.map(rate).join(', ')})`;
  };
  write(`\nCPU per round (alternating, ${rounds} each): before ${fmt(cpu.get(before.label) ?? [])}\n`);
  write(`                                   after  ${fmt(cpu.get(after.label) ?? [])}\n`);
}
