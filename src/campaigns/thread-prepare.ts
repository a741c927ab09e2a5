/**
 * What the campaign stage works out for a message before it takes any lock — the message's
 * classification and its fingerprint — made in the analysis thread that has just analysed it,
 * beside the record (this module is that pool's reducer: analysis/job-handler.ts `AlongsideWork`).
 * The background process runs every stage's transactions on one thread, and that thread, not the
 * cores, limited the pipeline while the analysis threads sat half idle (issue 17).
 *
 * Same results as before: the thread runs the same pure functions (`classify`, `fingerprintOf`) on
 * the record the stage is later handed, with a classifier built from the same settings. A result is
 * kept for that record — its message, analyser version and analysis time — so the stage also takes
 * it when it reads the record back from the database (a stored record parses back to an equal one:
 * recent-analyses.test.ts); any other record of the message (an older or newer analysis) has none
 * and is worked out on the stage's thread as before. Each result is taken once: a second report of
 * the same message works its own out. Bounded ({@link MAX_THREAD_PREPARED}, oldest forgotten first):
 * the campaign stage can be thousands of reports behind the analysis stage.
 */
import type { Analysis } from '../analysis/analysis-schema.ts';
import { createClassifier, type Classifier, type Verdict } from '../analysis/classify/classify.ts';
import { DEFAULT_MODEL_FILE, loadModel } from '../analysis/classify/model.ts';
import { loadScores } from '../analysis/classify/scores.ts';
import type { AlongsideWork } from '../analysis/job-handler.ts';
import type { Config } from '../core/config.ts';
import { fingerprintOf, type Fingerprint } from './fingerprint.ts';

/** What builds the classifier: plain data, so an analysis thread builds the same one. */
export interface ClassifierSettings {
  textModelFile: string;
  scoresFile: string | null;
  region: string;
  smsProfilesFile: string | null;
}

export function classifierSettings(config: Config): ClassifierSettings {
  return {
    textModelFile: config.textModelFile ?? DEFAULT_MODEL_FILE,
    scoresFile: config.classifyScoresFile ?? null,
    region: config.region,
    smsProfilesFile: config.smsProfilesFile ?? null,
  };
}

export function classifierFrom(s: ClassifierSettings): Classifier {
  return createClassifier({
    model: loadModel(s.textModelFile),
    scores: loadScores(s.scoresFile),
    region: s.region,
    ...(s.smsProfilesFile === null ? {} : { smsProfilesFile: s.smsProfilesFile }),
  });
}

/** A message's classification and fingerprint (the fingerprint before the reporter is taken out). */
export interface ThreadPrepared {
  verdict: Verdict;
  fp: Fingerprint;
}

let built: { key: string; classifier: Classifier } | null = null;

/** Runs in an analysis thread, on each record it makes (the pool's reducer). */
export function reduce(a: Analysis, settings: ClassifierSettings): ThreadPrepared {
  const key = JSON.stringify(settings);
  if (built?.key !== key) built = { key, classifier: classifierFrom(settings) };
  return { verdict: built.classifier.classify(a), fp: fingerprintOf(a) };
}

/** Results kept at most (~2–4 kB each). */
export const MAX_THREAD_PREPARED = 8192;

const prepared = new Map<string, ThreadPrepared>();

/** Which record a result belongs to. */
function recordKey(a: Analysis): string {
  return `${a.sha256} ${a.analyserVersion} ${a.analysedAt}`;
}

function isThreadPrepared(x: unknown, sha256: string): x is ThreadPrepared {
  if (typeof x !== 'object' || x === null || !('verdict' in x) || !('fp' in x)) return false;
  const { verdict, fp } = x as { verdict: unknown; fp: unknown };
  return (
    typeof verdict === 'object' &&
    verdict !== null &&
    typeof (verdict as { category?: unknown }).category === 'string' &&
    typeof fp === 'object' &&
    fp !== null &&
    (fp as { sha256?: unknown }).sha256 === sha256 &&
    Array.isArray((fp as { bands?: unknown }).bands)
  );
}

/** The thread's result for this record, once (then forgotten); undefined when there is none. */
export function takePrepared(a: Analysis): ThreadPrepared | undefined {
  const key = recordKey(a);
  const p = prepared.get(key);
  if (p) prepared.delete(key);
  return p;
}

/** The analysis stage's side of it (app/pipeline.ts wires it in). */
export const prepareAlongside: AlongsideWork = {
  module: new URL(import.meta.url),
  data: classifierSettings,
  files: (config) => [config.classifyScoresFile, config.smsProfilesFile],
  take(a, result) {
    if (!isThreadPrepared(result, a.sha256)) return;
    prepared.set(recordKey(a), result);
    while (prepared.size > MAX_THREAD_PREPARED) {
      const oldest = prepared.keys().next();
      if (oldest.done) break;
      prepared.delete(oldest.value);
    }
  },
};
