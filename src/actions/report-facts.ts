/**
 * The facts the actions area keeps about each report, distilled once from the report's analysis
 * and campaign when the `actions-report` job arrives: enough to evaluate case rules, group origin
 * IPs per network operator and find complaints about a registered sender, without re-reading the
 * analyses. Botnet signals (seed 001 "zombie PCs") are judged here per report; the digest adds the
 * per-IP signals (many campaigns from one IP).
 */
import { advertisedDomains, advertisedUrls, namedDomains, userDirectoryDomains } from '../analysis/advertised.ts';
import type { Kysely } from 'kysely';
import { getDomain } from 'tldts';
import type { Database } from '../db/schema.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { nowIso } from '../core/ids.ts';
import { arrivalOrReceived, messageTimes } from '../analysis/message-times.ts';
import { actionableOrigin } from '../analysis/actionable-origin.ts';
import type { ActionPolicy } from './action-policy.ts';
import type { ReportFactsRow } from '../db/actions-tables.ts';
import { retallyFacts } from './cases/case-tally.ts';

/** Botnet signals, one constant map (STYLE.md: names from one typed map). */
export const BOT_SIGNALS = {
  DYNAMIC_RDNS: 'dynamic-rdns',
  NO_RDNS: 'no-rdns',
  UNAUTHENTICATED: 'unauthenticated',
  MANY_CAMPAIGNS: 'many-campaigns',
  DIRECT_TO_MX: 'direct-to-mx',
} as const;

/** Largest number of advertised domains kept per report. */
export const MAX_ADVERTISED_DOMAINS = 50;

const dynamicCache = new Map<string, RegExp[]>();
function dynamicPatterns(policy: ActionPolicy): RegExp[] {
  const key = policy.isp.dynamicRdnsPatterns.join('\u0000');
  let r = dynamicCache.get(key);
  if (!r) {
    r = policy.isp.dynamicRdnsPatterns.map((p) => new RegExp(p, 'i'));
    dynamicCache.set(key, r);
  }
  return r;
}

/** True when a reverse-DNS name looks like a consumer broadband / dynamic pool. */
export function isDynamicRdns(rdns: string, policy: ActionPolicy): boolean {
  return dynamicPatterns(policy).some((re) => re.test(rdns));
}

/** SPF, DKIM and DMARC: nothing passed (RFC 7208, 6376, 7489). */
export function isUnauthenticated(a: Analysis): boolean {
  const spfPass = a.auth.spf.result === 'pass';
  const dkimPass = a.auth.dkim.some((d) => d.result === 'pass');
  const dmarcPass = a.auth.dmarc.result === 'pass';
  const receiverPass = (a.auth.receiver?.results ?? []).some(
    (r) => ['spf', 'dkim', 'dmarc'].includes(r.method) && r.result === 'pass',
  );
  return !spfPass && !dkimPass && !dmarcPass && !receiverPass;
}

/**
 * SPF or DKIM passed for the From domain's organisation (DMARC alignment, RFC 7489 §3.1, relaxed):
 * the sender is who it says. An ISP is not told its customer is infected for such mail.
 */
export function isAuthenticatedAligned(a: Analysis): boolean {
  if (a.auth.dmarc.result === 'pass') return true;
  if ((a.auth.receiver?.results ?? []).some((r) => r.method === 'dmarc' && r.result === 'pass')) return true;
  if (a.auth.dkim.some((d) => d.result === 'pass' && d.aligned === true)) return true;
  const from = domainOfAddress(a.indicators.sender.from ?? a.parse.from[0]?.address);
  const spfDomain = a.auth.spf.domain ? (getDomain(a.auth.spf.domain.toLowerCase()) ?? null) : null;
  return a.auth.spf.result === 'pass' && from !== null && spfDomain === from;
}

/** The source port of the origin hop, when its Received header shows one (`[1.2.3.4]:5678`). */
export function originPort(a: Analysis): number | null {
  const origin = actionableOrigin(a.traceback);
  if (!origin || origin.hopIndex < 0) return null;
  const hop = a.traceback.hops.find((h) => h.index === origin.hopIndex);
  if (!hop) return null;
  const esc = origin.ip.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m =
    new RegExp(`\\[(?:IPv6:)?${esc}\\]:(\\d{1,5})\\b|${esc}\\]?[:.](\\d{1,5})\\)`, 'i').exec(hop.raw) ??
    /\bport\s+(\d{1,5})\b/i.exec(hop.raw);
  const n = m ? Number(m[1] ?? m[2]) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : null;
}

/** Botnet signals one report shows about its origin. */
export function botSignals(a: Analysis, policy: ActionPolicy): string[] {
  const origin = a.enrichment.origin;
  if (!actionableOrigin(a.traceback)) return [];
  const out: string[] = [];
  const rdns = origin?.rdns ?? null;
  if (rdns && isDynamicRdns(rdns, policy)) out.push(BOT_SIGNALS.DYNAMIC_RDNS);
  if (!rdns) out.push(BOT_SIGNALS.NO_RDNS);
  if (isUnauthenticated(a)) out.push(BOT_SIGNALS.UNAUTHENTICATED);
  return out;
}

function domainOfAddress(addr: string | null | undefined): string | null {
  if (!addr) return null;
  const at = addr.lastIndexOf('@');
  if (at < 0) return null;
  return (
    getDomain(
      addr
        .slice(at + 1)
        .toLowerCase()
        .replace(/>$/, ''),
    ) ?? null
  );
}

export interface FactsInput {
  reportId: string;
  sha256: string;
  receivedAt: string;
  campaignId: string | null;
  /** The campaign's category. */
  category: string | null;
  /** The message's own category (relabel, else classification). */
  messageCategory?: string | null;
  historical?: boolean;
  analysis: Analysis | null;
}

/** The facts row for one report. */
export function factsFrom(input: FactsInput, policy: ActionPolicy): ReportFactsRow {
  const a = input.analysis;
  // A machine of the receiving side is no origin to act on (`actionable-origin.ts`): no listing, alert or tally.
  const origin = a ? actionableOrigin(a.traceback) : null;
  const enr = origin === null ? null : (a?.enrichment.origin ?? null);
  const times = a ? messageTimes(a) : null;
  // Advertised: what the message sends its reader to (`advertised.ts`). Hosts it only makes the client
  // fetch (images, style sheets, pixels) are often shared infrastructure, and addresses an HTML part
  // only names in its text (a phish's list of real banks) are not what it sells: neither is listed
  // nor makes a case target.
  // Nor is a shared web server whose users' directories (`/~name`) are all the message links there: its
  // domain is its operator's (an ISP's home pages); the pages stay in the message's indicators.
  const urls = a ? advertisedUrls(a) : [];
  const all = a ? advertisedDomains(a, urls) : [];
  const shared = a ? userDirectoryDomains(a, urls) : new Set<string>();
  const advertised = all.filter((d) => !shared.has(d)).slice(0, MAX_ADVERTISED_DOMAINS);
  // The domains it only names: still evidence of legitimacy when a legitimate message names them.
  const named = a ? namedDomains(a, all).slice(0, MAX_ADVERTISED_DOMAINS) : [];
  return {
    report_id: input.reportId,
    message_sha256: input.sha256,
    campaign_id: input.campaignId,
    category: input.category ?? a?.classification?.category ?? null,
    received_at: input.receivedAt,
    origin_ip: origin?.ip ?? null,
    origin_asn: enr?.asn ?? null,
    origin_as_name: enr?.asName ?? null,
    origin_country: enr?.country ?? null,
    origin_rdns: enr?.rdns ?? null,
    origin_abuse: enr ? JSON.stringify(enr.abuseContacts.map((c) => c.address)) : null,
    origin_port: a ? originPort(a) : null,
    sender_domain: a ? domainOfAddress(a.indicators.sender.from ?? a.parse.from[0]?.address) : null,
    advertised_domains: JSON.stringify(advertised),
    named_domains: JSON.stringify(named),
    consent_denied: a?.compliance.consent.stated === 'not-given' ? 1 : 0,
    unauthenticated: a && isUnauthenticated(a) ? 1 : 0,
    bot_signals: a ? JSON.stringify(botSignals(a, policy)) : '[]',
    created_at: nowIso(),
    message_category: input.messageCategory ?? a?.classification?.category ?? null,
    authenticated: a && isAuthenticatedAligned(a) ? 1 : 0,
    historical: input.historical ? 1 : 0,
    arrived_at: arrivalOrReceived(times?.arrivedAt ?? null, input.receivedAt),
    origin_sent_at: times?.originSentAt ? arrivalOrReceived(times.originSentAt, input.receivedAt) : null,
  };
}

/**
 * Stores (or replaces, on re-analysis) the facts of one report; the cases holding the report count
 * its new facts instead of its old ones.
 */
export async function saveFacts(db: Kysely<Database>, row: ReportFactsRow): Promise<void> {
  const before = await db
    .selectFrom('action_report_facts')
    .select(['origin_ip', 'origin_asn', 'origin_as_name', 'origin_country', 'sender_domain', 'advertised_domains'])
    .where('report_id', '=', row.report_id)
    .executeTakeFirst();
  await db.deleteFrom('action_report_facts').where('report_id', '=', row.report_id).execute();
  await db.insertInto('action_report_facts').values(row).execute();
  await retallyFacts(db, row.report_id, before ?? null, row);
}

/** A JSON array column as strings (tolerates null and garbage). */
export function jsonList(text: string | null): string[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
