/**
 * The reporter's own statement (seed 004 §1 rule 1, prior consent) belongs to a report, while an
 * analysis belongs to the evidence, shared by every report of the same bytes. So stored analyses
 * are message-level, and the statement of the report being looked at is laid over them here.
 */
import type { Report } from '../db/tables.ts';
import type { Analysis, Finding } from './analysis-schema.ts';
import { FINDINGS } from './findings.ts';
import { consentOf } from './stages/compliance.ts';
import type { ReporterStatement } from './stage.ts';

/** `reports.note` and the `consent` field of the report context (boolean, or yes/no words). */
export function reporterStatementOf(report: Pick<Report, 'note' | 'context'>): ReporterStatement {
  let consent: boolean | null = null;
  if (report.context) {
    try {
      const ctx: unknown = JSON.parse(report.context);
      const v = typeof ctx === 'object' && ctx !== null && 'consent' in ctx ? ctx.consent : undefined;
      if (v === true || v === 'true' || v === 'yes' || v === 'given') consent = true;
      else if (v === false || v === 'false' || v === 'no' || v === 'not-given' || v === 'none') consent = false;
    } catch {
      // an unreadable context says nothing about consent
    }
  }
  return { note: report.note, consent };
}

/** The analysis as seen for one report: its consent section and findings from that reporter. */
export function withReporterStatement(a: Analysis, reporter: ReporterStatement): Analysis {
  const consent = consentOf(reporter);
  const findings: Finding[] = a.findings.filter(
    (f) => f.code !== 'CONSENT_DENIED_BY_REPORTER' && f.code !== 'CONSENT_GIVEN_BY_REPORTER',
  );
  const add = (code: 'CONSENT_DENIED_BY_REPORTER' | 'CONSENT_GIVEN_BY_REPORTER', message: string, rule: string) =>
    findings.push({
      code,
      severity: FINDINGS[code].severity,
      stage: 'compliance',
      message,
      evidence: { rule, value: consent.statement ?? `consent: ${String(reporter.consent)}` },
    });
  if (consent.stated === 'not-given')
    add(
      'CONSENT_DENIED_BY_REPORTER',
      'The reporter states they never consented to receive this.',
      'Directive 2002/58/EC art. 13(1)',
    );
  if (consent.stated === 'given')
    add('CONSENT_GIVEN_BY_REPORTER', 'The reporter states they had consented.', 'Directive 2002/58/EC art. 13(2)');
  return { ...a, compliance: { ...a.compliance, consent }, findings };
}
