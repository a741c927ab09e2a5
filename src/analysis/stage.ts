/**
 * The shape of an analysis stage, and the ports stages reach the world through.
 *
 * A stage is `{ id, description, kinds, params, run(input, ctx) }` (STYLE.md "Stages are small,
 * pure and listed", after rspamd's plugins): `params` is a zod schema whose defaults make an
 * empty object valid; `run` reads the decoded message and the sections earlier stages wrote, and
 * returns its own section(s) plus findings. It never mutates its input, never throws on purpose
 * (a failure is a finding, STYLE.md "Failures are results"), and reaches the network only through
 * {@link AnalysisPorts}. Stages are listed, in order, in `registry.ts`.
 *
 * Ports are DEFINED here. Their adapters (live DNS, a static zone for tests, the ip-location-db
 * ASN data, the operator's abuse-contact table) live in `src/analysis/ports/`, whose `index.ts`
 * exports `createPorts(settings: AnalysisSettings): AnalysisPorts` (called once per worker thread,
 * so everything a port needs must come from the structured-cloneable settings).
 */
import type { z } from 'zod';
import type { Email } from 'postal-mime';
import type { SmsEvidence } from '../evidence/sms-format.ts';
import type { Analysis, AnalysisSections, Finding } from './analysis-schema.ts';
import { FINDINGS, type FindingCode } from './findings.ts';

// ── ports ─────────────────────────────────────────────────────────────────────────────────────

/**
 * DNS, shaped like a subset of `node:dns/promises`' `Resolver`, so a real resolver fits as is.
 * A lookup that finds nothing rejects with an Error whose `code` is `ENOTFOUND` or `ENODATA`
 * (as Node does); any other rejection is a temporary failure (`DNS_TEMPFAIL`).
 */
export interface DnsResolver {
  resolveTxt(name: string): Promise<string[][]>;
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  resolvePtr(name: string): Promise<string[]>;
  resolveCname(name: string): Promise<string[]>;
  resolveNs(name: string): Promise<string[]>;
}

/** One IP's network, from offline data (no network access). */
export interface AsnRecord {
  asn: number | null;
  asName: string | null;
  /** ISO 3166 alpha-2. */
  country: string | null;
  /** The covering prefix (CIDR), when the data gives it. */
  network: string | null;
}

/** IP → ASN, AS name, country. Resolves null when the address is not covered. */
export interface AsnLookup {
  lookup(ip: string): Promise<AsnRecord | null>;
}

/** Network or ASN → abuse mailbox(es), from the operator's table and the shipped defaults. */
export interface AbuseContactLookup {
  lookup(ip: string, asn: number | null): Promise<{ address: string; source: string }[]>;
}

export interface Clock {
  now(): Date;
}

export interface AnalysisPorts {
  dns: DnsResolver;
  asn: AsnLookup;
  abuse: AbuseContactLookup;
  clock: Clock;
}

// ── settings (structured-cloneable: they cross into worker threads) ───────────────────────────

/** Decoded text read per message when the settings do not say (the shipped default). */
export const DEFAULT_MAX_TEXT = 256 * 1024;

export interface AnalysisSettings {
  /** ISO 3166 region for phone numbers (SPAMDESK_REGION). */
  region: string;
  /** Wall-clock bound per message (SPAMDESK_ANALYSIS_TIMEOUT_MS). */
  timeoutMs: number;
  /** Bound on decoded content per message (SPAMDESK_ANALYSIS_MAX_DECODED_BYTES). */
  maxDecodedBytes: number;
  /** Deepest message/rfc822 nesting analysed. */
  maxNestingDepth: number;
  /**
   * Decoded text (plain and HTML) read per message, in characters (SPAMDESK_ANALYSIS_MAX_TEXT_BYTES); unset: {@link
   * DEFAULT_MAX_TEXT}.
   */
  maxTextBytes?: number;
  /** Host names / IPs / CIDRs of this instance's own intake (trusted for trace-back). */
  intakeHosts: readonly string[];
  /** Path of the operator's abuse-contact CSV (network or ASN → address), if any. */
  abuseContactsFile: string | null;
  /** Per-stage parameter overrides, keyed by stage id, validated by each stage's `params`. */
  stageParams: Readonly<Record<string, unknown>>;
  /** Operator's extra trusted-relay table (JSON), SPAMDESK_TRUSTED_RELAYS_FILE. */
  trustedRelaysFile?: string | null;
  /** Extra Authentication-Results authserv-ids to believe, SPAMDESK_TRUSTED_AUTHSERV_IDS. */
  trustedAuthservIds?: readonly string[];
  /** `live` queries DNS (production); `offline` answers NXDOMAIN at once (SPAMDESK_DNS_MODE). */
  dnsMode?: 'live' | 'offline';
  /** Per-query DNS timeout in ms (SPAMDESK_DNS_TIMEOUT_MS). */
  dnsTimeoutMs?: number;
  /** DNS lookups allowed per message across all stages (SPAMDESK_DNS_MAX_LOOKUPS). */
  dnsMaxLookups?: number;
}

// ── the decoded input every stage reads ───────────────────────────────────────────────────────

/** A message carried inside another (message/rfc822), decoded recursively up to the depth limit. */
export interface NestedDecoded {
  /** Attachment index in the parent, e.g. `1` or `1.0` for deeper levels. */
  part: string;
  depth: number;
  email: Email;
}

export interface DecodedMessage {
  kind: 'email' | 'sms';
  /** The exact evidence bytes. Never altered: parsing works on a normalised copy. */
  raw: Uint8Array;
  sha256: string;
  /** postal-mime's parse of the top-level message (null for SMS or when parsing failed). */
  email: Email | null;
  /** Canonical SMS evidence (null for e-mail). */
  sms: SmsEvidence | null;
  /** Carried messages, depth-first, bounded by `maxNestingDepth`. */
  nested: readonly NestedDecoded[];
  /** Why parsing failed or what limit it hit (also recorded as findings by the parse stage). */
  decodeProblems: readonly { code: FindingCode; message: string }[];
}

/** What a stage reads: the decoded message and every section written so far. */
export interface StageInput {
  message: DecodedMessage;
  analysis: Readonly<Analysis>;
  /** The reporter's own words, when the analysis runs for one report (compliance, consent). */
  reporter: ReporterStatement | null;
  /**
   * The reporter's (or intake's) own mail hosts — addresses, CIDRs or host names — learned from
   * earlier reports (`traceback/mailhosts.ts`) or, marked `+`, declared by the reporter or the
   * operator (`traceback/declared.ts`): the trace-back believes them like its own relays.
   */
  mailhosts?: readonly string[];
  /**
   * Domains the reporter receives mail at (their own address's domain): the trace-back's live MX
   * rule asks whether a hop is one of their inbound relays (`traceback/live-dns.ts`).
   */
  recipientDomains?: readonly string[];
  /**
   * The reporter's own addresses when the report is their redirect of the message (`Resent-*`, intake's `how:
   * 'resent'`): the trace-back leaves the redirect's own hops out (`traceback/redirect.ts`).
   */
  resentBy?: readonly string[];
}

/** The reporter's statement: `reports.note` and the `consent` field of the report context. */
export interface ReporterStatement {
  note: string | null;
  /** true: they consented; false: they did not; null: not said. */
  consent: boolean | null;
}

export interface StageContext<P> {
  params: P;
  ports: AnalysisPorts;
  settings: AnalysisSettings;
}

/** A finding as a stage emits it; the runner adds the stage id (and the default severity). */
export type StageFinding = Omit<Finding, 'stage' | 'severity'> & { severity?: Finding['severity'] };

export interface StageOutput {
  /** The section(s) this stage owns, complete (the runner replaces, never deep-merges). */
  result?: Partial<AnalysisSections>;
  findings?: StageFinding[];
}

export interface Stage<P extends z.ZodType = z.ZodType> {
  /** kebab-case, stable: it appears in findings and in `stageParams`. */
  id: string;
  description: string;
  /** Which evidence kinds it applies to. */
  kinds: readonly ('email' | 'sms')[];
  params: P;
  run(input: StageInput, ctx: StageContext<z.output<P>>): StageOutput | Promise<StageOutput>;
}

/** Identity helper that keeps `P` inferred for a stage literal. */
export function defineStage<P extends z.ZodType>(stage: Stage<P>): Stage<P> {
  return stage;
}

/** Shorthand for a stage's finding with the evidence it rests on. */
export function finding(code: FindingCode, message: string, evidence: StageFinding['evidence'] = {}): StageFinding {
  return { code, message, evidence, severity: FINDINGS[code].severity };
}
