/**
 * `npm run eval -- traceback`: the trace-back against the hand-checked chains of
 * `traceback-chains.json` (corpus messages referenced in place). For each labelled reporter, the
 * mail-host learner first reads that reporter's other corpus messages, as it would read their
 * earlier reports; then every labelled message is traced with the production code (`traceRaw`,
 * shipped trusted-relay table, offline ASN data) and its origin compared with the label.
 * Prints accuracy overall, by split (development / held-out) and by receiving-organisation class,
 * then every miss with the label's reason and the walk's last step. A chain labelled under several
 * paths (copies of one message, `chain-key.ts`) counts once in the figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { splitMbox } from '../../src/analysis/test-support/corpus-messages.ts';
import { ipLocationDbAsnLookup } from '../../src/analysis/ports/ip-location-db.ts';
import { traceRaw } from '../../src/analysis/stages/traceback.ts';
import { headerFields } from '../../src/analysis/stages/traceback/header-block.ts';
import { normaliseIp } from '../../src/analysis/stages/traceback/ip-class.ts';
import { DECLARED_MARK } from '../../src/analysis/stages/traceback/declared.ts';
import { learnMailhosts } from '../../src/analysis/stages/traceback/mailhosts.ts';
import { mayBeListMail } from '../../src/analysis/list-mail.ts';
import { parseReceived } from '../../src/analysis/stages/traceback/received-parser.ts';
import { trustTableFor } from '../../src/analysis/stages/traceback/trust.ts';
import { GOLDEN_DIR } from '../../src/analysis/golden/golden-cases.ts';
import { batchOrder, chainKey } from './chain-key.ts';

export const CHAINS_FILE = path.join(GOLDEN_DIR, 'traceback-chains.json');

const ChainsFile = z.object({
  classes: z.record(z.string(), z.string()),
  reporters: z.record(
    z.string(),
    z.object({ folders: z.array(z.string()), match: z.string(), address: z.string().optional() }),
  ),
  chains: z.array(
    z.object({
      path: z.string(),
      origin: z.string(),
      class: z.string(),
      organisation: z.string(),
      reason: z.string(),
      split: z.enum(['development', 'held-out']),
      reporter: z.string().optional(),
      /** Which labelling round added the chain (e.g. `13b`), so a later round's accuracy is printed apart. */
      batch: z.string().optional(),
    }),
  ),
});
export type LabelledChains = z.infer<typeof ChainsFile>;
export type LabelledChain = LabelledChains['chains'][number];

/** Reads and validates the labels file. */
export function loadChains(file = CHAINS_FILE): LabelledChains {
  return ChainsFile.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

const mboxCache = new Map<string, Buffer[]>();
/** The raw bytes of a labelled message: a file, or `file.mbox#N` (N-th message, from 0). */
export function readLabelled(corpusDir: string, p: string): Buffer {
  const direct = path.join(corpusDir, p);
  const hash = p.lastIndexOf('#');
  if (fs.existsSync(direct) || hash < 0) return fs.readFileSync(direct);
  const file = path.join(corpusDir, p.slice(0, hash));
  let parts = mboxCache.get(file);
  if (parts === undefined) {
    parts = splitMbox(fs.readFileSync(file));
    mboxCache.set(file, parts);
  }
  const m = parts[Number(p.slice(hash + 1))];
  if (m === undefined) throw new Error(`${p}: no such message in the mbox`);
  return m;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile() && !/\.(?:csv|md|txt)$|^(?:LICENSE|NOTICE|cmds)$/i.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Learns each reporter's mail hosts from the reporter's corpus messages (the labelled ones included, as a live stream
 * would).
 */
export function learnReporters(corpusDir: string, labels: LabelledChains): Map<string, string[]> {
  const trust = trustTableFor([], null);
  const out = new Map<string, string[]>();
  for (const [id, r] of Object.entries(labels.reporters)) {
    const match = new RegExp(r.match, 'i');
    const chains = [];
    const listMail: boolean[] = [];
    for (const folder of r.folders) {
      for (const file of filesUnder(path.join(corpusDir, folder))) {
        const raw = fs.readFileSync(file);
        const fields = headerFields(raw);
        const received = fields.filter((f) => f.name === 'received');
        if (!received.slice(0, 4).some((f) => match.test(f.value))) continue;
        chains.push(received.map((f) => parseReceived(f.value)));
        listMail.push(mayBeListMail(fields));
      }
    }
    out.set(id, learnMailhosts(chains, trust, { deliveringHosts: true, listMail }));
  }
  return out;
}

/** The mail domain of a labelled reporter's own address, as the analyse-report job passes it. */
function reporterDomains(labels: LabelledChains, reporter: string | undefined): string[] {
  const address = reporter === undefined ? undefined : labels.reporters[reporter]?.address;
  const at = address?.lastIndexOf('@') ?? -1;
  return address === undefined || at < 0 ? [] : [address.slice(at + 1).toLowerCase()];
}

/** One traced, labelled chain. */
export interface ChainResult {
  chain: LabelledChain;
  got: string;
  ok: boolean;
  lastStep: string;
}

/** Traces every labelled chain; `mailhosts` from {@link learnReporters}. */
export async function traceLabelled(
  corpusDir: string,
  labels: LabelledChains,
  mailhosts: ReadonlyMap<string, string[]>,
): Promise<ChainResult[]> {
  const trust = trustTableFor([], null);
  const asn = ipLocationDbAsnLookup();
  const out: ChainResult[] = [];
  for (const chain of labels.chains) {
    const raw = readLabelled(corpusDir, chain.path);
    const w = await traceRaw(raw, {
      trust,
      asn,
      mailhosts: chain.reporter ? (mailhosts.get(chain.reporter) ?? []) : [],
      // The reporter's own address, as the intake knows it (the report's sender or the account's address).
      recipientDomains: reporterDomains(labels, chain.reporter),
      documentationIsPublic: false,
    });
    const got = w.origin?.ip ?? 'none';
    const want = chain.origin === 'none' ? 'none' : (normaliseIp(chain.origin) ?? chain.origin);
    out.push({
      chain,
      got,
      ok: got === want,
      lastStep: w.steps.filter((s) => !/below the origin|proves nothing/.test(s)).at(-1) ?? '',
    });
  }
  return out;
}

/** One distinct `Received:` chain of the labels, with every path it is labelled under. */
export interface DistinctChain {
  /** The result of the copy labelled first (earliest batch), its split `development` when any copy's is. */
  result: ChainResult;
  /** Every copy's result, the first one first. */
  copies: ChainResult[];
  /** The batch that labelled the chain first (`undefined`: before the rounds had names). */
  firstBatch: string | undefined;
  /** Why the copies disagree (their labels, or the walk's answers), or null. */
  disagreement: string | null;
}

/**
 * Groups the results by chain (`keyOf`, e.g. {@link chainKey} of the message), in the order the chains were
 * labelled. A copy read while the rules were tuned makes the chain development: its answer was in view.
 * The chain is traced right only when every copy is.
 */
export function distinctChains(results: readonly ChainResult[], keyOf: (c: LabelledChain) => string): DistinctChain[] {
  const ordered = results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => batchOrder(a.r.chain.batch, b.r.chain.batch) || a.i - b.i)
    .map((x) => x.r);
  const groups = new Map<string, ChainResult[]>();
  for (const r of ordered) {
    const k = keyOf(r.chain);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((copies) => {
    const [first] = copies as [ChainResult, ...ChainResult[]];
    const split = copies.some((c) => c.chain.split === 'development') ? 'development' : first.chain.split;
    const labelsDiffer = new Set(copies.map((c) => c.chain.origin)).size > 1;
    const answersDiffer = new Set(copies.map((c) => c.got)).size > 1;
    return {
      result: { ...first, chain: { ...first.chain, split }, ok: copies.every((c) => c.ok) },
      copies,
      firstBatch: first.chain.batch,
      disagreement: labelsDiffer
        ? `labels differ: ${copies.map((c) => `${c.chain.path} ${c.chain.origin}`).join(', ')}`
        : answersDiffer
          ? `the walk answers differently: ${copies.map((c) => `${c.chain.path} ${c.got}`).join(', ')}`
          : null,
    };
  });
}

function pct(ok: number, n: number): string {
  return n === 0 ? '—' : `${((100 * ok) / n).toFixed(1)} %`;
}

/** Runs the evaluation and prints its tables. */
export async function evaluateTraceback(corpusDir: string, write: (s: string) => void): Promise<ChainResult[]> {
  if (!fs.existsSync(corpusDir)) {
    write(`SKIP: corpus ${corpusDir} absent\n`);
    return [];
  }
  const labels = loadChains();
  const mailhosts = learnReporters(corpusDir, labels);
  for (const [id, hosts] of mailhosts)
    write(`learned mail hosts of ${id}: ${hosts.length === 0 ? 'none' : hosts.join(', ')}\n`);
  write(
    'live DNS (rule 6, fresh mail only): not asked — archived mail is judged offline, every live answer is ' +
      '"unknown"\n',
  );
  const results = await traceLabelled(corpusDir, labels, mailhosts);
  const keys = new Map(labels.chains.map((c) => [c.path, chainKey(readLabelled(corpusDir, c.path)) ?? c.path]));
  const chains = distinctChains(results, (c) => keys.get(c.path) ?? c.path);
  const rows = chains.map((d) => d.result);
  const splits = ['development', 'held-out', 'all'] as const;
  const classes = [...new Set(labels.chains.map((c) => c.class))].sort();
  const cell = (rs: readonly ChainResult[]) =>
    `${pct(rs.filter((r) => r.ok).length, rs.length)} (${rs.filter((r) => r.ok).length}/${rs.length})`;
  const of = (split: (typeof splits)[number]) => (split === 'all' ? rows : rows.filter((r) => r.chain.split === split));
  const copies = results.length - chains.length;
  const are = copies === 1 ? 'path is a copy' : 'paths are copies';
  write(
    `\n${results.length} labelled paths, ${chains.length} distinct Received chains: ${copies} ${are} \
of a chain labelled under another path (one message in two corpus folders, a test fixture copied); each chain counts \
once below, as development when any copy is\n`,
  );
  for (const d of chains) if (d.disagreement !== null) write(`copies disagree: ${d.disagreement}\n`);
  // Class and reporter are labelled per path (the reporter set mechanically by folder): a copy may differ.
  const otherClass = chains.flatMap((d) => d.copies.slice(1).filter((c) => c.chain.class !== d.result.chain.class));
  const otherReporter = chains.flatMap((d) =>
    d.copies.slice(1).filter((c) => c.chain.reporter !== d.result.chain.reporter),
  );
  const paths = (rs: readonly ChainResult[]) => rs.map((c) => c.chain.path).join(', ') || 'none';
  if (otherClass.length + otherReporter.length > 0)
    write(
      `copies labelled with another class than their chain's first: ${paths(otherClass)}; with another reporter: \
${paths(otherReporter)} (each chain counts in its first copy's class)\n`,
    );
  write(`\n${'class'.padEnd(18)}${splits.map((s) => s.padEnd(24)).join('')}\n`);
  for (const c of classes)
    write(`${c.padEnd(18)}${splits.map((s) => cell(of(s).filter((r) => r.chain.class === c)).padEnd(24)).join('')}\n`);
  write(`${'overall'.padEnd(18)}${splits.map((s) => cell(of(s)).padEnd(24)).join('')}\n`);
  write(`${'every path'.padEnd(18)}${cell(results)} (each copy counted again)\n`);
  const batches = [...new Set(labels.chains.map((c) => c.batch).filter((b) => b !== undefined))].sort(batchOrder);
  for (const batch of batches) {
    const inBatch = results.filter((r) => r.chain.batch === batch);
    const fresh = chains.filter((d) => d.firstBatch === batch).map((d) => d.result);
    const inSplits = [...new Set(inBatch.map((r) => r.chain.split))].join(' and ');
    write(
      `${`batch ${batch}`.padEnd(18)}${cell(inBatch)}; its ${fresh.length} new chains ${cell(fresh)} (round ${batch}, \
${inSplits})\n`,
    );
  }
  const orgs = new Set(rows.map((r) => r.chain.organisation));
  write(`\n${chains.length} chains, ${orgs.size} receiving-organisation labels, ${classes.length} classes\n`);
  const missed = chains.filter((d) => !d.result.ok);
  const misses = missed.map((d) => d.result);
  if (misses.length > 0) write('\nmisses:\n');
  for (const d of missed) {
    const m = d.result;
    const also = d.copies.slice(1).map((c) => c.chain.path);
    write(
      `- [${m.chain.split}] ${m.chain.path}${also.length > 0 ? ` (also ${also.join(', ')})` : ''}: expected \
${m.chain.origin}, got ${m.got}\n    label: ${m.chain.reason}\n    walk: ${m.lastStep}\n`,
    );
  }
  if (misses.length > 0) await declarationReach(corpusDir, labels, mailhosts, misses, write);
  return results;
}

/** Most machines declared, one after the other, for one miss in {@link declarationReach}. */
const MAX_DECLARED_STEPS = 4;

/**
 * What declared mail hosts (`declared.ts`) could do for the misses: the recipient declares the
 * machine the walk stopped at (its address), then the next one it stops at, up to
 * {@link MAX_DECLARED_STEPS}. Whether those machines are the recipient's own is the labels' word (each
 * reason names them), so this measures the walk below a declaration — that it goes on to the labelled
 * origin, not to a forged line — not how a reporter would guess. Then the collateral: every
 * declaration of one reporter applied to all of that reporter's labelled chains (the chains with no
 * reporter as one declarer), counting the origins traced right that move. Printed apart: the figures
 * above use no declaration.
 */
async function declarationReach(
  corpusDir: string,
  labels: LabelledChains,
  learned: ReadonlyMap<string, string[]>,
  misses: readonly ChainResult[],
  write: (s: string) => void,
): Promise<void> {
  const NONE = '(no reporter)';
  let settled = 0;
  const lines: string[] = [];
  const byReporter = new Map<string, string[]>();
  for (const m of misses) {
    const reporter = m.chain.reporter ?? NONE;
    const chain = { ...m.chain, reporter };
    const declared: string[] = [];
    let r = m;
    for (
      let i = 0;
      i < MAX_DECLARED_STEPS && !r.ok && r.got !== 'none' && !declared.includes(`${DECLARED_MARK}${r.got}`);
      i++
    ) {
      declared.push(`${DECLARED_MARK}${r.got}`);
      const hosts = new Map(learned).set(reporter, [...declared, ...(learned.get(reporter) ?? [])]);
      [r] = await traceLabelled(corpusDir, { ...labels, chains: [chain] }, hosts);
    }
    if (r.ok) settled++;
    byReporter.set(reporter, [...(byReporter.get(reporter) ?? []), ...declared]);
    lines.push(
      `- ${r.ok ? 'settled' : 'not settled'}: ${m.chain.path} declaring ${declared.map((d) => d.slice(1)).join(', ')} \
-> ${r.got} (label ${m.chain.origin})\n`,
    );
  }
  write(
    `\ndeclared mail hosts (not used above): declaring the machine the walk stopped at, as its recipient would, \
settles ${settled} of the ${misses.length} misses\n`,
  );
  for (const l of lines) write(l);
  for (const [reporter, declared] of byReporter) {
    const chains = labels.chains.filter((c) => (c.reporter ?? NONE) === reporter).map((c) => ({ ...c, reporter }));
    const set = { ...labels, chains };
    const before = await traceLabelled(corpusDir, set, learned);
    const hosts = new Map(learned).set(reporter, [...new Set(declared)].concat(learned.get(reporter) ?? []));
    const after = await traceLabelled(corpusDir, set, hosts);
    const moved = after.filter((a, i) => before[i]?.ok === true && a.got !== before[i]?.got);
    const which = moved.map((a) => ` (${a.chain.path} -> ${a.got})`).join('');
    const gained = after.filter((a) => a.ok).length - before.filter((b) => b.ok).length;
    write(
      `collateral, ${reporter}: ${declared.length} declaration${declared.length === 1 ? '' : 's'} over its \
${chains.length} labelled paths: ${moved.length} origins traced right move${which}; ${gained} missed paths settled\n`,
    );
  }
}
