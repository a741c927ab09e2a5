/**
 * Rewrites `expected/*.json` from the current analyser. Run after a deliberate change, then review
 * every diff by reading the message's Received chain (git diff src/analysis/golden/expected):
 *
 *     npx tsx src/analysis/golden/bless.ts [id-substring]
 */
import fs from 'node:fs';
import { expectedPath, goldenCases, runCase, summarise } from './golden-cases.ts';

const filter = process.argv[2] ?? '';
let n = 0;
for (const c of goldenCases()) {
  if (!c.id.includes(filter)) continue;
  const s = summarise(await runCase(c));
  fs.writeFileSync(expectedPath(c), `${JSON.stringify(s, null, 2)}\n`);
  n++;
}
process.stdout.write(`wrote ${n} expected records\n`);
