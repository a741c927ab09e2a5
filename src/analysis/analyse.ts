/**
 * `analyse(raw, options) → Analysis`: runs the registered stages in order over one message.
 *
 * Deterministic for the same bytes, ports and settings (the clock is a port); no I/O but through
 * the ports; never throws: a stage that fails becomes a `STAGE_ERROR` finding and the next stage
 * still runs, and anything else becomes `error` plus an `ANALYSIS_ERROR` finding. The time bound
 * is enforced one level up, in `pool.ts`, by terminating the worker thread that runs this.
 */
import { createHash } from 'node:crypto';
import {
  ANALYSER_VERSION,
  MAX_FINDINGS,
  emptySections,
  type Analysis,
  type AnalysisSectionKey,
  type AnalysisSections,
  type Finding,
} from './analysis-schema.ts';
import { decodeMessage } from './decode.ts';
import { FINDINGS } from './findings.ts';
import { STAGES } from './registry.ts';
import type { AnalysisPorts, AnalysisSettings, DecodedMessage, ReporterStatement, Stage } from './stage.ts';

const SECTION_KEYS: readonly AnalysisSectionKey[] = [
  'parse',
  'traceback',
  'auth',
  'indicators',
  'enrichment',
  'compliance',
];

export interface AnalyseOptions {
  ports: AnalysisPorts;
  settings: AnalysisSettings;
  /** The reporter's statement when analysing for one report (compliance: consent). */
  reporter?: ReporterStatement | null;
  /** The reporter's learned mail hosts (trace-back), see {@link StageInput.mailhosts}. */
  mailhosts?: readonly string[];
  /** The reporter's own mail domains (trace-back, live MX rule), see {@link StageInput.recipientDomains}. */
  recipientDomains?: readonly string[];
  /** The reporter's own addresses when the report is their redirect, see {@link StageInput.resentBy}. */
  resentBy?: readonly string[];
  /** Defaults to the registry. */
  stages?: readonly Stage[];
}

/** SMS evidence is JSON starting with `{`; anything else is treated as an e-mail. */
export function evidenceKind(raw: Uint8Array): 'email' | 'sms' {
  return raw.length > 0 && raw[0] === 0x7b ? 'sms' : 'email';
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 1000);
}

/** The record of an analysis that could not run (crash or time-out): empty sections plus the reason. */
export function failedAnalysis(
  raw: Uint8Array,
  code: 'ANALYSIS_ERROR' | 'ANALYSIS_TIMEOUT',
  reason: string,
  analysedAt: string,
  sha256 = createHash('sha256').update(raw).digest('hex'),
): Analysis {
  return {
    sha256,
    analyserVersion: ANALYSER_VERSION,
    kind: evidenceKind(raw),
    analysedAt,
    ...emptySections(),
    findings: [
      {
        code,
        severity: FINDINGS[code].severity,
        stage: 'pipeline',
        message: reason,
        evidence: { rule: code === 'ANALYSIS_TIMEOUT' ? 'SPAMDESK_ANALYSIS_TIMEOUT_MS' : 'pipeline' },
      },
    ],
    stages: [],
    error: { code, message: reason },
  };
}

/**
 * Where the bounded first pass of a large message ends: after the headers and `maxText` bytes of
 * body, at a line end; null when the message is not longer than that (one pass is enough). SMS
 * evidence (JSON) is never cut.
 */
export function boundedPrefixEnd(raw: Uint8Array, maxText: number): number | null {
  if (evidenceKind(raw) === 'sms') return null;
  let headEnd = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).indexOf('\n\n');
  const crlf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).indexOf('\r\n\r\n');
  if (crlf >= 0 && (headEnd < 0 || crlf < headEnd)) headEnd = crlf;
  const want = Math.max(headEnd, 0) + maxText;
  if (raw.length <= want) return null;
  const cut = raw.lastIndexOf(0x0a, want);
  return cut > 0 ? cut + 1 : want;
}

/**
 * The analysis of a message's bounded first part, standing for the whole message: the whole
 * message's hash, and an ANALYSIS_TRUNCATED finding saying how much was read. What the pool returns
 * when the whole message runs past the time bound, instead of nothing.
 */
export function asTruncated(
  part: Analysis,
  whole: { sha256: string; size: number },
  analysedBytes: number,
  why: string,
): Analysis {
  const finding: Finding = {
    code: 'ANALYSIS_TRUNCATED',
    severity: FINDINGS.ANALYSIS_TRUNCATED.severity,
    stage: 'pipeline',
    message: `only the first ${analysedBytes} of ${whole.size} bytes (headers and the first part) were analysed: \
${why}`,
    evidence: { rule: 'SPAMDESK_ANALYSIS_MAX_TEXT_BYTES', value: String(analysedBytes) },
  };
  return Object.assign({}, part, {
    sha256: whole.sha256,
    findings: [...part.findings.slice(0, MAX_FINDINGS - 1), finding],
  });
}

/** Analyses one message. Never throws. */
export async function analyse(raw: Uint8Array, opts: AnalyseOptions): Promise<Analysis> {
  const sha256 = createHash('sha256').update(raw).digest('hex');
  let analysedAt: string;
  try {
    analysedAt = opts.ports.clock.now().toISOString();
  } catch {
    analysedAt = new Date(0).toISOString();
  }
  try {
    const decoded = await decodeMessage(raw, sha256, opts.settings);
    return await runStages(decoded, analysedAt, opts);
  } catch (e) {
    return failedAnalysis(raw, 'ANALYSIS_ERROR', `analysis failed: ${message(e)}`, analysedAt, sha256);
  }
}

async function runStages(decoded: DecodedMessage, analysedAt: string, opts: AnalyseOptions): Promise<Analysis> {
  let analysis: Analysis = Object.freeze({
    sha256: decoded.sha256,
    analyserVersion: ANALYSER_VERSION,
    kind: decoded.kind,
    analysedAt,
    ...emptySections(),
    findings: [],
    stages: [],
    error: null,
  });
  const findings: Finding[] = [];
  const ran: Analysis['stages'] = [];
  for (const stage of opts.stages ?? STAGES) {
    if (!stage.kinds.includes(decoded.kind)) continue;
    const params = stage.params.safeParse(opts.settings.stageParams[stage.id] ?? {});
    if (!params.success) {
      const why = `invalid params for stage ${stage.id}: ${params.error.issues.map((i) => i.message).join('; ')}`;
      findings.push({
        code: 'STAGE_ERROR',
        severity: 'info',
        stage: stage.id,
        message: why,
        evidence: { rule: 'stageParams' },
      });
      ran.push({ id: stage.id, ok: false, error: why });
      continue;
    }
    try {
      const out = await stage.run(
        {
          message: decoded,
          analysis,
          reporter: opts.reporter ?? null,
          mailhosts: opts.mailhosts ?? [],
          recipientDomains: opts.recipientDomains ?? [],
          resentBy: opts.resentBy ?? [],
        },
        { params: params.data, ports: opts.ports, settings: opts.settings },
      );
      const sections: Partial<AnalysisSections> = {};
      for (const k of SECTION_KEYS) {
        const v = out.result?.[k];
        if (v !== undefined) Object.assign(sections, { [k]: v });
      }
      for (const f of out.findings ?? []) {
        if (findings.length >= MAX_FINDINGS) break;
        // Object.assign, not a spread: `{ ...f, more }` takes a slow path in V8 (microseconds per object).
        findings.push(Object.assign({}, f, { severity: f.severity ?? FINDINGS[f.code].severity, stage: stage.id }));
      }
      // Later stages see earlier sections and findings (read-only).
      analysis = Object.freeze(Object.assign({}, analysis, sections, { findings: findings.slice() }));
      ran.push({ id: stage.id, ok: true });
    } catch (e) {
      const why = `stage ${stage.id} failed: ${message(e)}`;
      findings.push({
        code: 'STAGE_ERROR',
        severity: 'info',
        stage: stage.id,
        message: why,
        evidence: { rule: stage.id },
      });
      ran.push({ id: stage.id, ok: false, error: why });
    }
  }
  return Object.assign({}, analysis, { findings, stages: ran });
}
