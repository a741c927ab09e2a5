/**
 * The one typed record that travels through the analysis pipeline (STYLE.md "One typed record
 * through the pipeline"): a zod schema, and the `Analysis` type inferred from it. Every stage
 * writes its own section; every later area (campaigns, actions, web, CLI) reads this type.
 *
 * Contract for the stages (see `stage.ts` for the stage shape and the ports):
 * - `parse` (stage 1), `indicators` (stage 4), `compliance` (stage 6): analysis core.
 * - `traceback` (stage 2), `auth` (stage 3), `enrichment` (stage 5): trace-back helper.
 * - `classification`: filled later by the campaigns area (optional here).
 * - Port interfaces (`DnsResolver`, `AsnLookup`, `AbuseContactLookup`, `Clock`) are DEFINED in
 *   `stage.ts`; adapters that implement them (live DNS, static test zone, ip-location-db,
 *   abuse-contact CSV) live in `src/analysis/ports/`.
 * - Finding codes come from `findings.ts` (`FINDINGS`).
 *
 * Every list is bounded (the `MAX_*` constants below) so a hostile message cannot make the record
 * grow without limit; a stage truncates and says so in `parse.parseWarnings` or a finding.
 */
import { z } from 'zod';
import { isFindingCode, type FindingCode } from './findings.ts';

/**
 * Bump when any stage changes what it produces; `spamdesk reanalyze` re-runs stored analyses of
 * older versions. History in docs/analysis.md ("Analyser versions").
 */
export const ANALYSER_VERSION = '1.2.3';

export const MAX_HEADERS_KEPT = 300;
export const MAX_HEADER_VALUE_CHARS = 4000;
export const MAX_TEXT_EXCERPT_CHARS = 2000;
export const MAX_VISIBLE_TEXT_CHARS = 20_000;
export const MAX_ATTACHMENTS_KEPT = 100;
export const MAX_INDICATORS_PER_KIND = 500;
export const MAX_FINDINGS = 500;
export const MAX_HOPS = 100;
export const MAX_ADDRESSES = 100;

const boundedString = (max: number) => z.string().max(max);

// ── shared pieces ─────────────────────────────────────────────────────────────────────────────

export const Mailbox = z.object({
  /** Decoded display name ('' when none). */
  name: z.string(),
  /** Address as written (may be invalid: hostile input). */
  address: z.string(),
});
export type Mailbox = z.infer<typeof Mailbox>;

export const FindingCodeSchema = z.custom<FindingCode>((v) => typeof v === 'string' && isFindingCode(v), {
  message: 'unknown finding code',
});

export const Finding = z.object({
  code: FindingCodeSchema,
  severity: z.enum(['info', 'low', 'medium', 'high']),
  /** Which stage recorded it (stage id). */
  stage: z.string(),
  /** One sentence an analyst reads. */
  message: z.string(),
  /** What it rests on: a header, a MIME part, a rule, the value seen. */
  evidence: z.object({
    header: z.string().optional(),
    part: z.string().optional(),
    rule: z.string().optional(),
    value: z.string().optional(),
  }),
});
export type Finding = z.infer<typeof Finding>;

// ── stage 1: parse ────────────────────────────────────────────────────────────────────────────

export const NestedMessage = z.object({
  subject: z.string().nullable(),
  from: z.array(Mailbox),
  date: z.string().nullable(),
  messageId: z.string().nullable(),
  /** Depth of this message (1 = directly attached to the top-level message). */
  depth: z.number().int(),
  attachmentCount: z.number().int(),
  textExcerpt: z.string(),
});
export type NestedMessage = z.infer<typeof NestedMessage>;

export const AttachmentInfo = z.object({
  filename: z.string().nullable(),
  /** Content-Type the message claims. */
  declaredType: z.string(),
  /** Type from the content's magic bytes, null when not recognised. */
  sniffedType: z.string().nullable(),
  size: z.number().int(),
  sha256: z.string(),
  disposition: z.string().nullable(),
  /** For message/rfc822 parts: a summary of the carried message. */
  nested: NestedMessage.optional(),
});
export type AttachmentInfo = z.infer<typeof AttachmentInfo>;

export const ParseResult = z.object({
  subject: z.string().nullable(),
  from: z.array(Mailbox),
  to: z.array(Mailbox),
  cc: z.array(Mailbox),
  replyTo: z.array(Mailbox),
  /** Envelope sender from Return-Path, angle brackets removed; '' for the null path `<>`. */
  returnPath: z.string().nullable(),
  sender: Mailbox.nullable(),
  /** Date header as written, and as ISO 8601 when it parses. */
  date: z.object({ raw: z.string(), iso: z.string().nullable() }).nullable(),
  messageId: z.string().nullable(),
  /** Headers of the top-level message in order (bounded: MAX_HEADERS_KEPT, values truncated). */
  headers: z.array(z.object({ name: z.string(), value: boundedString(MAX_HEADER_VALUE_CHARS) })),
  headerCount: z.number().int(),
  textExcerpt: boundedString(MAX_TEXT_EXCERPT_CHARS),
  /** What a reader sees: plain text, or the HTML rendered to text (bounded), for clustering. */
  visibleText: boundedString(MAX_VISIBLE_TEXT_CHARS),
  htmlPresent: z.boolean(),
  textPresent: z.boolean(),
  language: z.string().optional(),
  attachments: z.array(AttachmentInfo),
  /** Deepest message/rfc822 nesting seen (0 = none). */
  nestedDepth: z.number().int(),
  /** Charsets declared by the parts (lower case), e.g. `iso-2022-jp`. */
  charsets: z.array(z.string()),
  /** `crlf`, `lf`, `cr` or `mixed`: line endings of the evidence as stored (never altered). */
  lineEndings: z.enum(['crlf', 'lf', 'cr', 'mixed', 'none']),
  parseWarnings: z.array(z.string()),
});
export type ParseResult = z.infer<typeof ParseResult>;

// ── stage 2: trace-back ───────────────────────────────────────────────────────────────────────

export const Hop = z.object({
  /** 0 = topmost Received header (added last, by the final receiver). */
  index: z.number().int(),
  raw: z.string(),
  fromHelo: z.string().nullable(),
  fromRdns: z.string().nullable(),
  fromIp: z.string().nullable(),
  byHost: z.string().nullable(),
  protocol: z.string().nullable(),
  tls: z.boolean().nullable(),
  id: z.string().nullable(),
  /** The `for` clause: the recipient the hop was addressed to, when written. */
  for: z.string().nullable(),
  date: z.string().nullable(),
  parsed: z.boolean(),
  trusted: z.boolean(),
  notes: z.array(z.string()),
});
export type Hop = z.infer<typeof Hop>;

export const Origin = z.object({
  ip: z.string(),
  /** Index of the hop that names it, or -1 when it comes from a webmail header. */
  hopIndex: z.number().int(),
  ipVersion: z.union([z.literal(4), z.literal(6)]),
  reason: z.string(),
});
export type Origin = z.infer<typeof Origin>;

export const TracebackResult = z.object({
  hops: z.array(Hop),
  origin: Origin.nullable(),
  /** The walk explained step by step, in plain language (SpamCop style). */
  steps: z.array(z.string()),
  /** Short machine flags (e.g. `broken-chain@3`); the findings carry the detail. */
  flags: z.array(z.string()),
});
export type TracebackResult = z.infer<typeof TracebackResult>;

// ── stage 3: authentication ───────────────────────────────────────────────────────────────────

/** RFC 8601 §2.7 result values, plus `skipped` when the check was not run (e.g. SMS). */
export const AuthVerdict = z.enum([
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'temperror',
  'permerror',
  'policy',
  'skipped',
]);
export type AuthVerdict = z.infer<typeof AuthVerdict>;

export const AuthResult = z.object({
  spf: z.object({
    result: AuthVerdict,
    domain: z.string().nullable(),
    clientIp: z.string().nullable(),
    explanation: z.string().nullable(),
  }),
  dkim: z.array(
    z.object({
      result: AuthVerdict,
      domain: z.string().nullable(),
      selector: z.string().nullable(),
      aligned: z.boolean().nullable(),
      info: z.string().nullable(),
    }),
  ),
  dmarc: z.object({
    result: AuthVerdict,
    domain: z.string().nullable(),
    policy: z.string().nullable(),
    info: z.string().nullable(),
  }),
  arc: z.object({ result: AuthVerdict, instances: z.number().int(), info: z.string().nullable() }),
  /** The receiver's own Authentication-Results (RFC 8601) when its authserv-id is trusted. */
  receiver: z
    .object({
      authservId: z.string(),
      raw: z.string(),
      results: z.array(
        z.object({ method: z.string(), result: z.string(), properties: z.record(z.string(), z.string()) }),
      ),
    })
    .nullable(),
});
export type AuthResult = z.infer<typeof AuthResult>;

// ── stage 4: indicators ───────────────────────────────────────────────────────────────────────

/**
 * Where a URL was found: running text, an HTML `href`, an HTML `src`-like attribute (img, srcset,
 * script, frame, `<link>` stylesheet or icon, `background=`), CSS (`url()`, `@import` in a style
 * attribute or `<style>`), a form action, defanged text, a bare domain.
 */
export const UrlSource = z.enum([
  'text',
  'html-href',
  'html-src',
  'html-css',
  'form-action',
  'defanged',
  'bare-domain',
]);
export type UrlSource = z.infer<typeof UrlSource>;

export const UrlIndicator = z.object({
  /** As written in the message (bounded). */
  raw: z.string(),
  /** Normalised (WHATWG URL serialisation, refanged, scheme added for bare domains). */
  url: z.string(),
  host: z.string(),
  /** Registrable domain (public suffix + 1, via tldts); null for IP literals. */
  registrableDomain: z.string().nullable(),
  shortener: z.boolean(),
  source: UrlSource,
  /**
   * `link`: a place the message asks its reader to go (text, href, form action). `resource`: a
   * host the reader's client contacts by itself to render the message (image, CSS, script,
   * tracking pixel). Resources are shared infrastructure far more often than links, so clustering
   * and feeds weigh them apart. Older stored analyses lack the field: they read as `link`.
   */
  role: z.enum(['link', 'resource']).default('link'),
  /** Where: `text`, `html`, or `nested:N` for a carried message. */
  part: z.string(),
});
export type UrlIndicator = z.infer<typeof UrlIndicator>;

export const SenderIdentity = z.object({
  from: z.string().nullable(),
  displayName: z.string().nullable(),
  replyTo: z.string().nullable(),
  returnPath: z.string().nullable(),
  sender: z.string().nullable(),
  /** Mismatches found, e.g. `reply-to-domain`, `return-path-domain`, `display-name-address`. */
  mismatches: z.array(z.string()),
  impersonatedBrand: z.string().optional(),
});
export type SenderIdentity = z.infer<typeof SenderIdentity>;

export const IndicatorsResult = z.object({
  urls: z.array(UrlIndicator),
  emails: z.array(z.string()),
  phones: z.array(z.object({ raw: z.string(), e164: z.string(), region: z.string().nullable() })),
  wallets: z.array(z.object({ currency: z.string(), address: z.string() })),
  sender: SenderIdentity,
});
export type IndicatorsResult = z.infer<typeof IndicatorsResult>;

// ── stage 5: enrichment ───────────────────────────────────────────────────────────────────────

export const AbuseContact = z.object({
  address: z.string(),
  /** Where it comes from: `operator-table`, `rir-default`, … */
  source: z.string(),
});
export type AbuseContact = z.infer<typeof AbuseContact>;

export const EnrichmentResult = z.object({
  origin: z
    .object({
      ip: z.string(),
      asn: z.number().int().nullable(),
      asName: z.string().nullable(),
      country: z.string().nullable(),
      rdns: z.string().nullable(),
      abuseContacts: z.array(AbuseContact),
    })
    .nullable(),
});
export type EnrichmentResult = z.infer<typeof EnrichmentResult>;

// ── stage 6: compliance ───────────────────────────────────────────────────────────────────────

export const ComplianceResult = z.object({
  /** Sender identity concealed or disguised (seed 004 §1). */
  senderConcealed: z.boolean(),
  optOut: z.object({
    /** `present` usable, `broken` only unusable ones, `absent` none at all. */
    status: z.enum(['present', 'broken', 'absent', 'not-applicable']),
    listUnsubscribe: z.array(z.string()),
    /** RFC 8058 `List-Unsubscribe-Post: List-Unsubscribe=One-Click` with an https URI. */
    oneClick: z.boolean(),
    bodyLinks: z.array(z.string()),
  }),
  /** The reporter's own statement about consent, when given. */
  consent: z.object({ stated: z.enum(['given', 'not-given', 'unknown']), statement: z.string().nullable() }),
});
export type ComplianceResult = z.infer<typeof ComplianceResult>;

// ── classification (campaigns area) ───────────────────────────────────────────────────────────

export const Classification = z.object({
  category: z.string(),
  confidence: z.number().min(0).max(1),
  reasons: z.array(z.string()),
});
export type Classification = z.infer<typeof Classification>;

// ── the record ────────────────────────────────────────────────────────────────────────────────

export const AnalysisSchema = z.object({
  /** SHA-256 of the raw evidence bytes analysed. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  analyserVersion: z.string(),
  kind: z.enum(['email', 'sms']),
  /** From the injected clock. */
  analysedAt: z.string(),
  parse: ParseResult,
  traceback: TracebackResult,
  auth: AuthResult,
  indicators: IndicatorsResult,
  enrichment: EnrichmentResult,
  compliance: ComplianceResult,
  findings: z.array(Finding),
  classification: Classification.optional(),
  /** Stages that ran, in order, with their failure when they failed. */
  stages: z.array(z.object({ id: z.string(), ok: z.boolean(), error: z.string().optional() })),
  /** Set when the whole analysis failed or was stopped (timeout, limit); sections are then partial. */
  error: z.object({ code: z.enum(['ANALYSIS_ERROR', 'ANALYSIS_TIMEOUT']), message: z.string() }).nullable(),
});
export type Analysis = z.infer<typeof AnalysisSchema>;

/** The sections stages write, one each. */
export type AnalysisSectionKey = 'parse' | 'traceback' | 'auth' | 'indicators' | 'enrichment' | 'compliance';
export type AnalysisSections = Pick<Analysis, AnalysisSectionKey>;

/** The record without its sections (what an analysis thread sends back for a reduced message). */
export type AnalysisHead = Omit<Analysis, AnalysisSectionKey>;

/** The head of a record: a new object with every field but the sections (a field added later included). */
export function headOf(a: Analysis): AnalysisHead {
  const { parse, traceback, auth, indicators, enrichment, compliance, ...head } = a;
  return head;
}

/** A whole record from a head or a record: a head gets empty sections. */
export function withSections(a: Analysis | AnalysisHead): Analysis {
  return 'parse' in a ? a : { ...a, ...emptySections() };
}

/** Empty sections: what a stage that did not run (or failed) leaves behind. */
export function emptySections(): AnalysisSections {
  // Written out, not spread from a shared `{ result: 'skipped' }`: spreading into a literal with
  // more properties took V8's slow path and made this the costliest line of the runner.
  return {
    parse: {
      subject: null,
      from: [],
      to: [],
      cc: [],
      replyTo: [],
      returnPath: null,
      sender: null,
      date: null,
      messageId: null,
      headers: [],
      headerCount: 0,
      textExcerpt: '',
      visibleText: '',
      htmlPresent: false,
      textPresent: false,
      attachments: [],
      nestedDepth: 0,
      charsets: [],
      lineEndings: 'none',
      parseWarnings: [],
    },
    traceback: { hops: [], origin: null, steps: [], flags: [] },
    auth: {
      spf: { result: 'skipped', domain: null, clientIp: null, explanation: null },
      dkim: [],
      dmarc: { result: 'skipped', domain: null, policy: null, info: null },
      arc: { result: 'skipped', instances: 0, info: null },
      receiver: null,
    },
    indicators: {
      urls: [],
      emails: [],
      phones: [],
      wallets: [],
      sender: { from: null, displayName: null, replyTo: null, returnPath: null, sender: null, mismatches: [] },
    },
    enrichment: { origin: null },
    compliance: {
      senderConcealed: false,
      optOut: { status: 'not-applicable', listUnsubscribe: [], oneClick: false, bodyLinks: [] },
      consent: { stated: 'unknown', statement: null },
    },
  };
}
