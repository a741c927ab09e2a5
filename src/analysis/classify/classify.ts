/**
 * One category per message, with a confidence and its reasons: a transparent sum, as rspamd adds
 * symbol scores. For each category c,
 *
 *   score(c) = model_weight × ln P_model(class of c) + prior(c) + Σ weight(rule) over its rules that fired
 *
 * where the model classes are legitimate / phishing / spam (commercial and scam share the spam
 * probability, malware reads P(not legitimate); they are told apart by their rules and priors; `other` has no model
 * term,
 * only its prior and NO_CONTENT). The best score wins; the confidence is its softmax share. Every term is listed in
 * the reasons.
 */
import fs from 'node:fs';
import type { Analysis } from '../analysis-schema.ts';
import { CATEGORIES, type Category, type ModelClass } from './categories.ts';
import { featuresOf } from './features.ts';
import { DEFAULT_SMS_MODEL_FILE, loadModel, predictProba, type TextModel } from './model.ts';
import { RULES, evaluateRules, type RuleName } from './rules.ts';
import { loadScores, type Scores } from './scores.ts';
import { loadSmsProfile } from './sms-signals.ts';
import { textLanguage } from './language.ts';

export interface Reason {
  /** A rule name, `MODEL_TEXT` or `PRIOR`. */
  name: RuleName | 'MODEL_TEXT' | 'PRIOR';
  category: Category;
  weight: number;
  detail: string;
}

export interface Verdict {
  category: Category;
  confidence: number;
  /** Terms that decided the winner, strongest first; then the other rules that fired. */
  reasons: Reason[];
  scores: Record<Category, number>;
  /** The model used (e-mail or SMS) and its class probabilities (only the classes it has). */
  model: { version: string; probabilities: Partial<Record<ModelClass, number>> };
}

/**
 * The model probability each category's term reads. Malware lures are written like phishing
 * ("your invoice", "shared document") as often as like spam, so malware reads P(not legitimate)
 * = 1 − P(legitimate): a dangerous attachment is not outvoted by which abusive text surrounds it.
 */
const CLASS_OF: Record<Category, ModelClass | 'abusive' | null> = {
  phishing: 'phishing',
  malware: 'abusive',
  scam: 'spam',
  commercial: 'spam',
  legitimate: 'legitimate',
  other: null,
};

export interface Classifier {
  classify(a: Analysis): Verdict;
  /** The e-mail model's version. */
  modelVersion: string;
  /** The model SMS are classified with (the SMS model when shipped, else the e-mail model). */
  smsModelVersion: string;
}

/**
 * A model without a phishing class (the SMS model: its corpus labels ham/spam only) gives the
 * phishing category this share of P(spam): phishing and the spam categories then start level
 * and the rules (CREDENTIAL_LURE, BRAND_IMPERSONATION, LINK_TEXT_MISMATCH…) decide.
 */
const NO_PHISHING_CLASS_SHARE = 0.5;

/** The language the shipped text models were trained in (the public corpora are English). */
export const MODEL_LANGUAGE = 'en';

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * A classifier bound to one e-mail model, one SMS model and one set of scores. The SMS model
 * defaults to `models/sms-model.json` when it exists (else SMS use the e-mail model).
 */
export function createClassifier(
  opts: {
    model?: TextModel;
    smsModel?: TextModel | null;
    scores?: Scores;
    scoresFile?: string | null;
    /** The instance's region (ISO 3166): which brands and services SMS impersonate. Default FR. */
    region?: string;
    /** An SMS profiles file replacing the shipped `analysis/data/sms-profiles.json`. */
    smsProfilesFile?: string;
  } = {},
): Classifier {
  const smsProfile = loadSmsProfile(opts.region ?? 'FR', opts.smsProfilesFile);
  const emailModel = opts.model ?? loadModel();
  const smsModel =
    opts.smsModel === undefined
      ? fs.existsSync(DEFAULT_SMS_MODEL_FILE)
        ? loadModel(DEFAULT_SMS_MODEL_FILE)
        : null
      : opts.smsModel;
  const scores = opts.scores ?? loadScores(opts.scoresFile ?? null);
  return {
    modelVersion: emailModel.version,
    smsModelVersion: (smsModel ?? emailModel).version,
    classify(a: Analysis): Verdict {
      const model = a.kind === 'sms' && smsModel ? smsModel : emailModel;
      const p = predictProba(model, featuresOf(a));
      const probs = Object.fromEntries(model.classes.map((c, i) => [c, p[i]])) as Partial<Record<ModelClass, number>>;
      const hits = evaluateRules(a, smsProfile);
      // An SMS in another language than the model's: the model's vote is weighed down (language.ts).
      const language = a.kind === 'sms' ? textLanguage(a.parse.visibleText) : null;
      const foreign = language !== null && language !== MODEL_LANGUAGE;
      const modelWeight = scores.modelWeight * (foreign ? (scores.otherLanguageModelWeight ?? 1) : 1);
      const languageNote = foreign
        ? `; text in ${language}, model weight × ${scores.otherLanguageModelWeight ?? 1}`
        : '';
      const score = {} as Record<Category, number>;
      const terms = new Map<Category, Reason[]>();
      for (const c of CATEGORIES) {
        const cls = CLASS_OF[c];
        const list: Reason[] = [];
        let s = scores.priors[c];
        if (scores.priors[c] !== 0)
          list.push({ name: 'PRIOR', category: c, weight: scores.priors[c], detail: `prior for ${c}` });
        const doubt = foreign && c === 'legitimate' ? (scores.otherLanguageLegitimatePrior ?? 0) : 0;
        if (doubt !== 0) {
          s += doubt;
          list.push({
            name: 'PRIOR',
            category: c,
            weight: doubt,
            detail: `benefit of the doubt: text in ${language}, the model (${MODEL_LANGUAGE}) cannot read it`,
          });
        }
        if (cls) {
          let p: number;
          let detail: string;
          if (cls === 'abusive') {
            p = 1 - (probs.legitimate ?? 0);
            detail = `P(not legitimate) = ${round(p)}`;
          } else if (probs[cls] === undefined) {
            p = (probs.spam ?? 0) * NO_PHISHING_CLASS_SHARE;
            detail = `P(spam) × ${NO_PHISHING_CLASS_SHARE} = ${round(p)} (${model.version} has no ${cls} class)`;
          } else {
            p = probs[cls];
            detail = `P(${cls}) = ${round(p)}`;
          }
          const m = modelWeight * Math.log(Math.max(p, 1e-9));
          s += m;
          if (modelWeight !== 0 || !foreign)
            list.push({ name: 'MODEL_TEXT', category: c, weight: round(m), detail: detail + languageNote });
        }
        for (const h of hits) {
          if (RULES[h.rule].category !== c) continue;
          const w = scores.rules[h.rule];
          if (w === 0) continue;
          s += w;
          list.push({ name: h.rule, category: c, weight: w, detail: h.detail.slice(0, 200) });
        }
        score[c] = s;
        terms.set(c, list);
      }
      const best = CATEGORIES.reduce((a, b) => (score[b] > score[a] ? b : a));
      const max = score[best];
      const sum = CATEGORIES.reduce((acc, c) => acc + Math.exp(score[c] - max), 0);
      const confidence = 1 / sum;
      const winning = (terms.get(best) ?? []).slice().sort((x, y) => Math.abs(y.weight) - Math.abs(x.weight));
      const others = CATEGORIES.filter((c) => c !== best).flatMap((c) =>
        (terms.get(c) ?? []).filter((r) => r.name !== 'MODEL_TEXT' && r.name !== 'PRIOR'),
      );
      return {
        category: best,
        confidence: round(confidence),
        reasons: [...winning, ...others],
        scores: Object.fromEntries(CATEGORIES.map((c) => [c, round(score[c])])) as Record<Category, number>,
        model: {
          version: model.version,
          probabilities: Object.fromEntries(Object.entries(probs).map(([k, v]) => [k, round(v)])) as Partial<
            Record<ModelClass, number>
          >,
        },
      };
    },
  };
}

/** One-line reasons for the Analysis record's `classification.reasons`. */
export function reasonLines(v: Verdict): string[] {
  return v.reasons.map(
    (r) => `${r.name} ${r.weight >= 0 ? '+' : ''}${r.weight} → ${r.category}${r.detail ? ` (${r.detail})` : ''}`,
  );
}
