/**
 * Rule weights are configuration, as rspamd keeps them in `scores.d`: the defaults ship in
 * `scores.default.json` beside this file, and an operator overrides any subset with a file of the
 * same shape named by `SPAMDESK_CLASSIFY_SCORES_FILE`. Unknown rule or category names are an
 * error (listed all at once), so a typo never silently disables a rule.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CATEGORIES, isCategory, type Category } from './categories.ts';
import { RULE_NAMES, isRuleName, type RuleName } from './rules.ts';

export const DEFAULT_SCORES_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scores.default.json');

export interface Scores {
  modelWeight: number;
  priors: Record<Category, number>;
  rules: Record<RuleName, number>;
}

const ScoresFile = z
  .object({
    $comment: z.string().optional(),
    model_weight: z.number().min(0).max(100).optional(),
    priors: z.record(z.string(), z.number().min(-1000).max(1000)).optional(),
    rules: z.record(z.string(), z.number().min(-1000).max(1000)).optional(),
  })
  .strict();

function readScoresFile(file: string): z.infer<typeof ScoresFile> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`classification scores ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = ScoresFile.safeParse(json);
  if (!parsed.success) throw new Error(`classification scores ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const problems: string[] = [];
  for (const k of Object.keys(parsed.data.rules ?? {})) if (!isRuleName(k)) problems.push(`unknown rule ${k}`);
  for (const k of Object.keys(parsed.data.priors ?? {})) if (!isCategory(k)) problems.push(`unknown category ${k}`);
  if (problems.length > 0) throw new Error(`classification scores ${file}: ${problems.join('; ')}`);
  return parsed.data;
}

/** The shipped defaults, overridden by `overrideFile` when given. Every rule gets a weight. */
export function loadScores(overrideFile?: string | null): Scores {
  const layers = [readScoresFile(DEFAULT_SCORES_FILE), ...(overrideFile ? [readScoresFile(overrideFile)] : [])];
  const priors = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const rules = Object.fromEntries(RULE_NAMES.map((r) => [r, 0])) as Record<RuleName, number>;
  let modelWeight = 1;
  for (const l of layers) {
    if (l.model_weight !== undefined) modelWeight = l.model_weight;
    for (const [k, v] of Object.entries(l.priors ?? {})) if (isCategory(k)) priors[k] = v;
    for (const [k, v] of Object.entries(l.rules ?? {})) if (isRuleName(k)) rules[k] = v;
  }
  return { modelWeight, priors, rules };
}
