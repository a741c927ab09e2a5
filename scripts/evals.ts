/**
 * Every quality evaluation `npm run eval` runs, in order (or those named: `npm run eval -- sms`).
 * An area adds one row. An evaluation prints its own tables (confusion matrix, precision/recall,
 * reference rows from peer tools) on stdout; it measures and reports, it never gates.
 */

import { CORPUS_DIR } from '../src/core/test-env.ts';
import { evaluateClassification } from './eval/evaluate-classifier.ts';
import { evaluateCampaigns } from './eval/evaluate-campaigns.ts';
import { evaluateCampaignStream } from './eval/campaign-stream.ts';
import { evaluateSms } from './eval/evaluate-sms.ts';
import { evaluateTraceback } from './eval/evaluate-traceback.ts';
import { evaluateTracebackCorpus } from './eval/traceback-corpus.ts';
import { evaluateListings } from './eval/evaluate-listings.ts';

/** One evaluation. */
export interface Eval {
  /** Short name used to select it on the command line. */
  name: string;
  /** One line: what is measured, on which data. */
  description: string;
  /** Runs the evaluation and prints its results. */
  run(): Promise<void>;
}

/** The registry. Rows are added by each area (one import and one line). */
export const EVALS: Eval[] = [
  {
    name: 'classification',
    description:
      'categories on the held-out corpus split: confusion matrix, per-class P/R/F1; bogofilter and SpamAssassin on ' +
      'the same messages',
    run: () => evaluateClassification(CORPUS_DIR, (s) => process.stdout.write(s)),
  },
  {
    name: 'campaigns',
    description:
      'clustering of personalised copies of real corpus spams (seeded generator): pairwise precision and recall; ' +
      'then the shared corpora as one mixed stream: impure share, legitimate mail in abusive campaigns, largest ' +
      'campaigns (--seed=N: the stream in another seeded order, to see what the order moves)',
    run: async () => {
      const seedArg = process.argv.find((a) => a.startsWith('--seed='))?.slice(7);
      const seed = seedArg === undefined ? undefined : Number(seedArg);
      if (seed !== undefined && !Number.isSafeInteger(seed))
        throw new Error(`--seed wants a whole number, not ${seedArg}`);
      await evaluateCampaigns(CORPUS_DIR, (s) => process.stdout.write(s));
      process.stdout.write('\n--- the shared corpora as one mixed stream\n');
      await evaluateCampaignStream(CORPUS_DIR, (s) => process.stdout.write(s), { seed });
      if (process.argv.includes('--ablation')) {
        process.stdout.write(
          "\n--- the same stream clustered without the classifier's categories (the clustering alone)\n",
        );
        await evaluateCampaignStream(CORPUS_DIR, (s) => process.stdout.write(s), { withoutCategories: true });
      }
    },
  },
  {
    name: 'sms',
    description:
      'UCI SMS Spam Collection stored as SMS evidence, analysed and classified: category accuracy against ham/spam ' +
      'labels; then the French SMS set (scripts/eval/data/sms-fr.tsv), dev and held-out',
    run: () => evaluateSms(CORPUS_DIR, (s) => process.stdout.write(s)),
  },
  {
    name: 'traceback',
    description:
      'trace-back origin against hand-checked Received chains (src/analysis/golden/traceback-chains.json): accuracy ' +
      'overall, by split and by receiving-organisation class',
    run: async () => {
      await evaluateTraceback(CORPUS_DIR, (s) => process.stdout.write(s));
    },
  },
  {
    name: 'traceback-corpus',
    description:
      'trace-back of --base=REF (default HEAD) against the working tree on every shared-corpus message: origins ' +
      'that differ, grouped and sampled for reading by hand, and CPU per version (--rounds=N alternating)',
    run: () => evaluateTracebackCorpus(CORPUS_DIR, (s) => process.stdout.write(s)),
  },
  {
    name: 'listings',
    description:
      'the shared corpora as one mixed stream of live reports through the real pipeline, then the listing pass under ' +
      'the default, documented and one-report policies: values per list, how many are innocent by independent ' +
      "checks (provider AS, brands' networks, ham origins and domains, shorteners, brands, CDNs, ESPs, the " +
      "reporting mailboxes' own hosts), a sample of each list; then what the intel feeds would publish and the " +
      'ISP alerts would name as infected from the same stream, put to the same checks, and what the account page ' +
      'suggests each corpus mailbox declare as its mail hosts (--limit=N: the first N ' +
      'of the stream; --keep=DIR: keep the imported stream there and reuse it)',
    run: async () => {
      const limit = Number(process.argv.find((a) => a.startsWith('--limit='))?.slice(8) ?? 0);
      const keepDir = process.argv.find((a) => a.startsWith('--keep='))?.slice(7);
      await evaluateListings(CORPUS_DIR, (s) => process.stdout.write(s), {
        limit: limit > 0 ? limit : undefined,
        keepDir,
      });
    },
  },
];
