/**
 * Rule weights are configuration, as rspamd keeps them in `scores.d`: the defaults ship in
 * `scores.default.json` beside this file, and an operator overrides any subset with a file of the
 * same shape named by `SPAMDESK_CLASSIFY_SCORES_FILE`. Unknown rule or category names are an
 * error (listed all at once), so a typo never silently disables a rule.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  type FileProblem,
  readFileInForce,
  readJsonFile,
  readTextFile,
  zodProblems,
} from '../../core/file-problems.ts';
import { CATEGORIES, isCategory, type Category } from './categories.ts';
import { RULE_NAMES, isRuleName, type RuleName } from './rules.ts';

export const DEFAULT_SCORES_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scores.default.json');

export interface Scores {
  modelWeight: number;
  /**
   * Share of `modelWeight` given to the text model on an SMS written in a language it was not trained
   * on (language.ts): its vote there rests on a few shared tokens. Default 1 (unchanged) when absent.
   */
  otherLanguageModelWeight?: number;
  /**
   * Added to `legitimate` on such an SMS: with the model silent, the benefit of the doubt, so only
   * rules adding up to more than this make it abusive. Default 0 when absent.
   */
  otherLanguageLegitimatePrior?: number;
  priors: Record<Category, number>;
  rules: Record<RuleName, number>;
}

const ScoresFile = z
  .object({
    $comment: z.string().optional(),
    model_weight: z.number().min(0).max(100).optional(),
    other_language_model_weight: z.number().min(0).max(1).optional(),
    other_language_legitimate_prior: z.number().min(-100).max(100).optional(),
    priors: z.record(z.string(), z.number().min(-1000).max(1000)).optional(),
    rules: z.record(z.string(), z.number().min(-1000).max(1000)).optional(),
  })
  .strict();

type ScoresFileData = z.infer<typeof ScoresFile>;

function parseScoresFile(
  file: string,
  readText = readFileInForce,
): { data: ScoresFileData } | { problems: FileProblem[] } {
  const read = readJsonFile(file, readText);
  if ('problem' in read) return { problems: [read.problem] };
  const parsed = ScoresFile.safeParse(read.json);
  if (!parsed.success) return { problems: zodProblems(file, parsed.error.issues) };
  const problems: FileProblem[] = [];
  for (const k of Object.keys(parsed.data.rules ?? {}))
    if (!isRuleName(k)) problems.push({ file, where: `rules.${k}`, message: `unknown rule ${k}` });
  for (const k of Object.keys(parsed.data.priors ?? {}))
    if (!isCategory(k)) problems.push({ file, where: `priors.${k}`, message: `unknown category ${k}` });
  return problems.length > 0 ? { problems } : { data: parsed.data };
}

/** Every problem of a scores file, each at its path in the document (none: the file is valid). */
export function scoresFileProblems(file: string, readText = readTextFile): FileProblem[] {
  const r = parseScoresFile(file, readText);
  return 'problems' in r ? r.problems : [];
}

function readScoresFile(file: string): ScoresFileData {
  const r = parseScoresFile(file);
  if ('problems' in r)
    throw new Error(
      `classification scores ${file}: ${r.problems
        .map((p) => `${p.where === null ? '' : `${p.where}: `}${p.message}`)
        .join('; ')}`,
    );
  return r.data;
}

/** The shipped defaults, overridden by `overrideFile` when given. Every rule gets a weight. */
export function loadScores(overrideFile?: string | null): Scores {
  const layers = [readScoresFile(DEFAULT_SCORES_FILE), ...(overrideFile ? [readScoresFile(overrideFile)] : [])];
  const priors = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const rules = Object.fromEntries(RULE_NAMES.map((r) => [r, 0])) as Record<RuleName, number>;
  let modelWeight = 1;
  let otherLanguageModelWeight = 1;
  let otherLanguageLegitimatePrior = 0;
  for (const l of layers) {
    if (l.model_weight !== undefined) modelWeight = l.model_weight;
    if (l.other_language_model_weight !== undefined) otherLanguageModelWeight = l.other_language_model_weight;
    if (l.other_language_legitimate_prior !== undefined)
      otherLanguageLegitimatePrior = l.other_language_legitimate_prior;
    for (const [k, v] of Object.entries(l.priors ?? {})) if (isCategory(k)) priors[k] = v;
    for (const [k, v] of Object.entries(l.rules ?? {})) if (isRuleName(k)) rules[k] = v;
  }
  return { modelWeight, otherLanguageModelWeight, otherLanguageLegitimatePrior, priors, rules };
}
