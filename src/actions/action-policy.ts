/**
 * The actions policy: case rules, authority routing, ISP-alert thresholds, sender feedback. It is
 * configuration (STYLE.md "Scores and thresholds are configuration"): a JSON file named by
 * `SPAMDESK_ACTIONS_POLICY`, validated by zod with defaults for every field, so an operator tunes
 * without a release. Every problem is listed at once.
 */
import { z } from 'zod';
import { readFileInForce, readJsonFile, readTextFile, zodProblems, type FileProblem } from '../core/file-problems.ts';
import { DEFAULT_LISTING_POLICY, ListingPolicySchema, listingPolicyProblems } from './listing-policy.ts';

/** Competences of an authority (issue 7; seed 000 §3.2). */
export const COMPETENCES = ['data_protection', 'consumer_protection', 'cybercrime', 'telecom_regulator'] as const;
export type Competence = (typeof COMPETENCES)[number];

/** `partner_case`: a case a partner platform referred here (value `partnerId:remoteCaseId`). */
export const TARGET_KINDS = [
  'campaign',
  'sender_domain',
  'advertised_domain',
  'origin_network',
  'partner_case',
] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** The kinds of automatic case rule. */
const CaseRule = z.discriminatedUnion('kind', [
  z.object({
    name: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'rule names are UPPER_SNAKE'),
    kind: z.literal('campaign-volume'),
    /** A campaign with at least `minReports` reports in the last `windowDays` days. */
    minReports: z.number().int().positive(),
    windowDays: z.number().positive(),
    /** Campaigns of these categories never open a case by volume (legitimate mail reported by mistake). */
    excludeCategories: z.array(z.string()).default(['legitimate']),
  }),
  z.object({
    name: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'rule names are UPPER_SNAKE'),
    kind: z.literal('campaign-category'),
    /** Any campaign classified in one of these categories (e.g. phishing) opens a case at once. */
    categories: z.array(z.string()).min(1),
  }),
  z.object({
    name: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'rule names are UPPER_SNAKE'),
    kind: z.literal('sender-consent'),
    /** A sender domain with at least `minComplaints` "I never consented" reports in `windowDays`. */
    minComplaints: z.number().int().positive(),
    windowDays: z.number().positive(),
  }),
]);
export type CaseRule = z.infer<typeof CaseRule>;

const Route = z.object({
  /** Case categories (classification) this route matches; `*` matches any. */
  categories: z.array(z.string()).min(1),
  competence: z.enum(COMPETENCES),
});

export const ActionPolicySchema = z.object({
  cases: z.object({
    rules: z.array(CaseRule),
    /** Refer cases automatically once they open (otherwise an analyst refers them). */
    autoRefer: z.boolean(),
    /**
     * How long after a case opens its automatic referral is built: a campaign arrives in bursts,
     * and a package sent at the first threshold would miss most of the burst.
     */
    referDelayMinutes: z.number().nonnegative(),
    /**
     * With `autoRefer`: an authority that received a case gets an updated package when reports
     * join it afterwards, `referDelayMinutes` after the first of them (the burst rides along)
     * and at most once per `referUpdateIntervalHours` per authority.
     */
    referUpdates: z.boolean(),
    referUpdateIntervalHours: z.number().nonnegative(),
  }),
  routing: z.object({
    routes: z.array(Route),
    /** Only authorities of this country receive automatic referrals (null: any). */
    country: z.string().nullable(),
  }),
  isp: z.object({
    /** Reports from one IP in the period before it is alerted. */
    minReports: z.number().int().positive(),
    /** Botnet signals (see `bot-signals.ts`) an IP must show before it is alerted. */
    minSignals: z.number().int().positive(),
    /** Digest period per operator. */
    digestIntervalMinutes: z.number().positive(),
    /** The same IP is not alerted again within this period. */
    quietPeriodHours: z.number().nonnegative(),
    /** ASNs that opted out of alerts (besides operators marked opted-out). */
    optOutAsns: z.array(z.number().int()),
    /** Format for operators not registered but found through the abuse-contact table. */
    defaultFormat: z.enum(['xarf', 'arf']),
    /** Regular expressions over reverse DNS that mark consumer broadband / dynamic pools. */
    dynamicRdnsPatterns: z.array(z.string()),
    /**
     * An origin whose reports are more than this share classified legitimate or sent with
     * aligned SPF/DKIM is a real mail server, not an infected machine: never alerted.
     */
    maxLegitimateShare: z.number().min(0).max(1),
    /**
     * Spam its origin sent longer ago than this is not alerted: a dynamic address has changed
     * hands since, and the ISP could only find the wrong subscriber.
     */
    maxOriginAgeDays: z.number().positive(),
  }),
  gates: z.object({
    /**
     * A case or campaign in which more than this share of the messages is classified legitimate
     * is never acted on automatically (referral, ISP alert, feed): an analyst reviews it first.
     */
    maxLegitimateShare: z.number().min(0).max(1),
    /**
     * Nor one whose purity — the share of its majority category — is below this. 1: any mix of
     * categories (phishing with commercial, say) waits for an analyst.
     */
    minPurity: z.number().min(0).max(1),
  }),
  fbl: z.object({
    /** Send ARF feedback to verified senders for complaints about their mail. */
    enabled: z.boolean(),
  }),
  /** Blocklists and plain lists (issue 19; `listing-policy.ts`). */
  listing: ListingPolicySchema,
  instance: z.object({
    /** Organisation named in X-ARF `reporter`/`sender` and in package summaries. */
    org: z.string(),
    domain: z.string(),
    contact: z.string(),
  }),
});

export type ActionPolicy = z.infer<typeof ActionPolicySchema>;

/** Defaults: what an instance does without a policy file. */
export const DEFAULT_POLICY_INPUT = {
  cases: {
    rules: [
      { name: 'PHISHING_CAMPAIGN', kind: 'campaign-category', categories: ['phishing', 'malware'] },
      { name: 'CAMPAIGN_VOLUME', kind: 'campaign-volume', minReports: 50, windowDays: 7 },
      { name: 'SENDER_CONSENT_COMPLAINTS', kind: 'sender-consent', minComplaints: 10, windowDays: 30 },
    ],
    autoRefer: true,
    referDelayMinutes: 15,
    referUpdates: true,
    referUpdateIntervalHours: 24,
  },
  routing: {
    routes: [
      { categories: ['phishing', 'malware'], competence: 'cybercrime' },
      // Unsolicited commercial mail is a consent matter (Directive 2002/58/EC art. 13), for data protection.
      {
        categories: ['consent', 'identity', 'data_protection', 'no_consent', 'commercial'],
        competence: 'data_protection',
      },
      { categories: ['scam', 'fraud', 'deceptive_offer', 'advance_fee'], competence: 'consumer_protection' },
      { categories: ['sms'], competence: 'telecom_regulator' },
    ],
    country: null,
  },
  isp: {
    minReports: 3,
    minSignals: 2,
    digestIntervalMinutes: 24 * 60,
    quietPeriodHours: 7 * 24,
    optOutAsns: [],
    defaultFormat: 'xarf',
    dynamicRdnsPatterns: [
      '(^|[.-])(dyn|dynamic|dhcp|dial|dialup|ppp|pppoe|dsl|adsl|vdsl|cable|broadband|pool|client|customer|cust|res|re' +
        'sidential|home|user)[0-9.-]',
      '\\d{1,3}[.-]\\d{1,3}[.-]\\d{1,3}[.-]\\d{1,3}',
      '(^|\\.)(ftth|fttx|gpon|catv|wireless|mobile|lte|3g|4g|5g)[.-]',
    ],
    maxLegitimateShare: 0.5,
    maxOriginAgeDays: 7,
  },
  gates: { maxLegitimateShare: 0.05, minPurity: 1 },
  fbl: { enabled: true },
  listing: DEFAULT_LISTING_POLICY,
  instance: { org: 'Spamdesk', domain: 'spamdesk.invalid', contact: 'abuse-desk@spamdesk.invalid' },
} as const;

/** Validates a policy object (missing sections take defaults); throws with every problem. */
export function parseActionPolicy(input: unknown): ActionPolicy {
  const merged = mergeDefaults(DEFAULT_POLICY_INPUT, input);
  const parsed = ActionPolicySchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid actions policy:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  for (const p of parsed.data.isp.dynamicRdnsPatterns) {
    try {
      new RegExp(p, 'i');
    } catch (e) {
      throw new Error(`Invalid actions policy: isp.dynamicRdnsPatterns: ${p}: ${(e as Error).message}`);
    }
  }
  const listing = listingPolicyProblems(parsed.data.listing);
  if (listing.length > 0)
    throw new Error(`Invalid actions policy:\n${listing.map((p) => `  - ${p.where}: ${p.message}`).join('\n')}`);
  return parsed.data;
}

/** Reads the policy file named in the configuration, or the defaults. */
export function loadActionPolicy(file: string | undefined): ActionPolicy {
  if (!file) return parseActionPolicy({});
  const read = readFileInForce(file);
  if ('problem' in read)
    throw new Error(
      `cannot read actions policy ${file}: ${read.problem.message.replace(/^cannot read \((.*)\)$/s, '$1')}`,
    );
  const text = read.text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`actions policy ${file} is not JSON: ${(e as Error).message}`);
  }
  return parseActionPolicy(json);
}

/**
 * Every problem of the policy file, each at its path in the document (none: the file is valid).
 * `spamdesk serve` and `check-config` run it at start, so a bad file stops the start instead of
 * the first case rule that needs it.
 */
export function actionPolicyProblems(file: string, readText = readTextFile): FileProblem[] {
  const read = readJsonFile(file, readText);
  if ('problem' in read) return [read.problem];
  const parsed = ActionPolicySchema.safeParse(mergeDefaults(DEFAULT_POLICY_INPUT, read.json));
  if (!parsed.success) return zodProblems(file, parsed.error.issues);
  const problems: FileProblem[] = [];
  parsed.data.isp.dynamicRdnsPatterns.forEach((p, i) => {
    try {
      new RegExp(p, 'i');
    } catch (e) {
      problems.push({ file, where: `isp.dynamicRdnsPatterns.${i}`, message: (e as Error).message });
    }
  });
  for (const p of listingPolicyProblems(parsed.data.listing)) problems.push({ file, ...p });
  return problems;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of objects; arrays and scalars in `override` replace the defaults. */
function mergeDefaults(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = mergeDefaults(base[k], v);
  return out;
}

const cache = new Map<string, ActionPolicy>();

/**
 * The policy for a configuration, loaded once per file from the text in force in this process: a
 * worker thread reads the text its parent read (`core/file-problems.ts` `readFileInForce`), not the
 * file as it may be now.
 */
export function policyFor(config: { actionsPolicyFile?: string }): ActionPolicy {
  const key = config.actionsPolicyFile ?? '';
  let p = cache.get(key);
  if (!p) {
    p = loadActionPolicy(config.actionsPolicyFile);
    cache.set(key, p);
  }
  return p;
}
