/**
 * What an ISP digest says about one origin IP, written three ways: X-ARF v4 JSON
 * (infrastructure/botnet, schema `xarf-v4-master.json`), ARF (RFC 5965, Feedback-Type: abuse)
 * and one CSV row. Times are UTC ISO 8601; the evidence an operator needs to find the subscriber
 * is the IP, the time of each incident and the source port when a Received header gave it
 * (behind CGNAT the port is what tells subscribers apart). The sample message is the redacted
 * copy: no reporter address leaves.
 */
import { randomUUID } from 'node:crypto';
import { sha256Hex } from '../../core/ids.ts';
import { toCsv } from './csv.ts';
import { mailText } from './mail-texts.ts';
import type { AppLanguage } from '../../core/languages.ts';
import { buildMessage, domainOf, isEmbeddable, newMessageId, rfc5322Date, toCrlf, type MimeNode } from './mime.ts';

export const XARF_VERSION = '4.2.0';
/** X-ARF caps one evidence item at 5 MB; we keep samples much smaller. */
export const MAX_SAMPLE_BYTES = 512 * 1024;
/** Incidents listed per IP. */
export const MAX_INCIDENTS_PER_ALERT = 200;

export interface Incident {
  /** UTC ISO 8601 arrival time. */
  at: string;
  port: number | null;
}

export interface AlertForDigest {
  ip: string;
  asn: number | null;
  asName: string | null;
  firstSeen: string;
  lastSeen: string;
  reportCount: number;
  campaignCount: number;
  /** Botnet signals, e.g. `dynamic-rdns`, `unauthenticated`, `many-campaigns`. */
  signals: string[];
  rdns: string | null;
  incidents: Incident[];
  /** Redacted sample message, or null. */
  sample: Buffer | null;
  sampleMailFrom: string | null;
}

export interface InstanceIdentity {
  org: string;
  domain: string;
  contact: string;
}

function utc(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function incidentsCsv(a: AlertForDigest): string {
  return toCsv(
    ['time_utc', 'ip', 'port'],
    a.incidents.slice(0, MAX_INCIDENTS_PER_ALERT).map((i) => [utc(i.at), a.ip, i.port]),
  );
}

function describe(a: AlertForDigest, lang: AppLanguage = 'en'): string {
  return mailText(lang, 'arf.describe', {
    reports: a.reportCount,
    ip: a.ip,
    from: utc(a.firstSeen),
    to: utc(a.lastSeen),
    campaigns: a.campaignCount,
    signals: a.signals.join(', ') || mailText(lang, 'arf.noSignals'),
  });
}

/** One X-ARF v4 report (category `infrastructure`, type `botnet`) for one IP. */
export function toXarf(a: AlertForDigest, me: InstanceIdentity): Record<string, unknown> {
  const contact = { org: me.org.slice(0, 200), contact: me.contact, domain: me.domain };
  const csv = Buffer.from(incidentsCsv(a));
  const evidence: Record<string, unknown>[] = [
    {
      content_type: 'text/csv',
      description: 'Incidents: UTC time, IP and source port of each reported message',
      payload: csv.toString('base64'),
      hash: `sha256:${sha256Hex(csv)}`,
      size: csv.length,
    },
  ];
  if (a.sample && a.sample.length <= MAX_SAMPLE_BYTES) {
    evidence.push({
      content_type: 'message/rfc822',
      description: 'One reported message, recipient identity redacted',
      payload: a.sample.toString('base64'),
      hash: `sha256:${sha256Hex(a.sample)}`,
      size: a.sample.length,
    });
  }
  const port = a.incidents.find((i) => i.port !== null)?.port ?? null;
  return {
    xarf_version: XARF_VERSION,
    report_id: randomUUID(),
    timestamp: utc(a.lastSeen),
    reporter: contact,
    sender: contact,
    source_identifier: a.ip,
    ...(port !== null && port >= 1 && port <= 65535 ? { source_port: port } : {}),
    category: 'infrastructure',
    type: 'botnet',
    evidence_source: 'user_complaint',
    bot_capabilities: ['spam'],
    compromise_evidence: describe(a).slice(0, 1000),
    first_seen: utc(a.firstSeen),
    last_seen: utc(a.lastSeen),
    evidence,
    tags: ['spam:botnet', ...a.signals.map((s) => `signal:${s.toLowerCase().replace(/[^a-z0-9_+-]/g, '-')}`)].slice(
      0,
      20,
    ),
    confidence: Math.min(0.95, 0.5 + 0.1 * a.signals.length),
    description: describe(a).slice(0, 1000),
  };
}

/** The CSV of a whole digest (one row per IP). */
export function digestCsv(alerts: AlertForDigest[]): string {
  return toCsv(
    ['ip', 'asn', 'first_seen_utc', 'last_seen_utc', 'reports', 'campaigns', 'source_ports', 'signals', 'rdns'],
    alerts.map((a) => [
      a.ip,
      a.asn,
      utc(a.firstSeen),
      utc(a.lastSeen),
      a.reportCount,
      a.campaignCount,
      [...new Set(a.incidents.map((i) => i.port).filter((p) => p !== null))].join(' '),
      a.signals.join(' '),
      a.rdns,
    ]),
  );
}

/**
 * One ARF report (RFC 5965) for one IP: `Feedback-Type: abuse`, `Source-IP`, `Arrival-Date` of
 * the latest incident, `Incidents` (§3.2), the redacted sample as `message/rfc822` (or its header
 * only as `text/rfc822-headers` when the sample cannot travel as 8bit text).
 */
export function toArf(
  a: AlertForDigest,
  me: InstanceIdentity,
  from: string,
  to: string,
  lang: AppLanguage,
): { messageId: string; raw: Buffer } {
  const messageId = newMessageId(domainOf(from));
  const fields = [
    'Feedback-Type: abuse',
    'User-Agent: Spamdesk/0.1',
    'Version: 1',
    ...(a.sampleMailFrom ? [`Original-Mail-From: <${a.sampleMailFrom.replace(/[<>\r\n]/g, '')}>`] : []),
    `Arrival-Date: ${rfc5322Date(new Date(a.lastSeen))}`,
    `Source-IP: ${a.ip}`,
    `Incidents: ${a.reportCount}`,
    `Reporting-MTA: dns; ${me.domain}`,
  ];
  const human = `${describe(a, lang)}\r\n\r\n${mailText(lang, 'arf.incidents')}\r\n${incidentsCsv(a)}`;
  const parts: MimeNode[] = [
    { contentType: 'text/plain; charset=utf-8', encoding: '8bit', body: human },
    { contentType: 'message/feedback-report', encoding: '7bit', body: `${fields.join('\r\n')}\r\n` },
  ];
  const sample = a.sample ? toCrlf(a.sample) : null;
  if (sample && isEmbeddable(sample)) {
    parts.push({ contentType: 'message/rfc822', encoding: '8bit', body: sample });
  } else if (sample) {
    const end = sample.indexOf('\r\n\r\n');
    parts.push({
      contentType: 'text/rfc822-headers',
      encoding: '8bit',
      body: end >= 0 ? sample.subarray(0, end + 2) : sample.subarray(0, 8192),
    });
  }
  const raw = buildMessage(
    { from, to: [to], subject: mailText(lang, 'arf.subject', { ip: a.ip }), messageId },
    { contentType: 'multipart/report; report-type=feedback-report', parts },
  );
  return { messageId, raw };
}
