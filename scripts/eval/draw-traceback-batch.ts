/**
 * `npx tsx scripts/eval/draw-traceback-batch.ts --seed=N --size=N [--per-org=2] [--big-providers]`: draws a
 * blind batch of corpus messages for hand-labelling (`golden/traceback-chains.json`), before any of them is
 * read. Prints paths only. The population is mechanical and fixed before the draw: messages of the reported-mail
 * corpora (not the bounce, DMARC or SMS sets) not already labelled, with at least 3 `Received:` fields,
 * whose first two `by` hosts are not Gmail's or Microsoft 365's (the hard receiving organisations:
 * universities, ISPs, companies, POP-fetched mailboxes). Each corpus is shuffled with the seed; the
 * batch takes one message from each corpus in turn, at most `per-org` per receiving domain (the
 * registered domain of the top `by` host), so no corpus or mailbox fills it. A message whose `Received:` chain is
 * already labelled under another path, or drawn under another path before, is left out (`chain-key.ts`: the
 * same chain, whatever else differs). The code under test is not used: the headers are read with a plain
 * regular expression.
 *
 * `--big-providers` draws the other stratum instead: messages whose first two `by` hosts include Gmail's or
 * Microsoft 365's (the receivers most of today's reports come from), at most `per-org` per sender domain (the
 * registered domain of the `From:` address), since the receiving organisation is one of two.
 */
import fs from 'node:fs';
import path from 'node:path';
import { getDomain } from 'tldts';
import { seededRng } from '../../src/campaigns/personalise.ts';
import { corpusMessages } from '../../src/analysis/test-support/corpus-messages.ts';
import { CORPUS_DIR, REPO_ROOT } from '../../src/core/test-env.ts';
import { chainKey, receivedFields } from './chain-key.ts';

const CORPORA = [
  'trec07p',
  'spamassassin',
  'phishing_pot',
  'spam_archive_2023_2025',
  'mime_edge_cases',
  'spamassassin_testdata',
  'nazario_phishing',
];
const BIG_PROVIDER = /google\.com|gmail|outlook\.com|hotmail|microsoft|office365/i;

function arg(name: string, fallback: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : Number(a.slice(name.length + 3));
}

/** The registered domain of a message's `From:` address (`?` when there is none to read). */
function senderDomain(raw: Buffer): string {
  const head =
    raw
      .subarray(0, 65536)
      .toString('latin1')
      .split(/\r?\n\r?\n/, 1)[0] ?? '';
  const from = /^from:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)/im.exec(head)?.[1] ?? '';
  const addr = /@([a-z0-9.-]+\.[a-z]{2,})/i.exec(from)?.[1];
  return addr === undefined ? '?' : (getDomain(addr.toLowerCase()) ?? addr.toLowerCase());
}

const seed = arg('seed', 0);
const size = arg('size', 30);
const perOrg = arg('per-org', 2);
const bigProviders = process.argv.includes('--big-providers');
const labels = JSON.parse(
  fs.readFileSync(path.join(REPO_ROOT, 'src/analysis/golden/traceback-chains.json'), 'utf8'),
) as { chains: { path: string }[] };
const known = new Set(labels.chains.map((c) => c.path));
const rng = seededRng(seed);
// A chain labelled under one path is labelled under every copy of it, and a copy is drawn once. Identical
// bytes were not enough: the SpamAssassin corpus holds the same message in two folders with different
// spam-filter headers, and test fixtures copy one another: the stratified draws took chains labelled before
// (tb23's `hard_ham/00009` is tb20's `hard_ham_20021010/0139`; `npm run eval -- traceback` counts them).
const messages = CORPORA.map((corpus) =>
  corpusMessages(path.join(CORPUS_DIR, corpus)).map((m) => ({
    rel: path.relative(CORPUS_DIR, m.origin),
    raw: m.raw,
    key: chainKey(m.raw) ?? path.relative(CORPUS_DIR, m.origin),
  })),
);
const seen = new Set(
  messages
    .flat()
    .filter((m) => known.has(m.rel))
    .map((m) => m.key),
);
const pools: { path: string; org: string }[][] = [];
for (const [k, corpus] of CORPORA.entries()) {
  const pool: { path: string; org: string }[] = [];
  for (const m of messages[k]) {
    const rel = m.rel;
    if (known.has(rel) || seen.has(m.key)) continue;
    seen.add(m.key);
    const rec = receivedFields(m.raw);
    if (rec.length < 3) continue;
    const bys = rec.slice(0, 2).map((r) => /\bby\s+([^\s;()]+)/i.exec(r)?.[1] ?? '');
    if (bys.some((b) => BIG_PROVIDER.test(b)) !== bigProviders) continue;
    const org = bigProviders ? senderDomain(m.raw) : (getDomain(bys[0]) ?? (bys[0] || '?'));
    pool.push({ path: rel, org });
  }
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  process.stderr.write(`${corpus}: ${pool.length} eligible\n`);
  pools.push(pool);
}
const taken = new Map<string, number>();
const batch: string[] = [];
while (batch.length < size && pools.some((p) => p.length > 0)) {
  for (const pool of pools) {
    if (batch.length >= size) break;
    while (pool.length > 0) {
      const m = pool.shift();
      if (m === undefined || (taken.get(m.org) ?? 0) >= perOrg) continue;
      taken.set(m.org, (taken.get(m.org) ?? 0) + 1);
      batch.push(m.path);
      break;
    }
  }
}
process.stdout.write(`${batch.join('\n')}\n`);
