/**
 * ISP alerts about infected machines (seed 001: "alert ISPs when zombie PCs are among their
 * subscribers"). Every digest period, origin IPs of recent reports are judged: an origin on an
 * access network (a subscriber line or dynamic pool, `originNetwork`) with at least
 * `isp.minReports` reports and `isp.minSignals` distinct botnet facts (`signalFacts`: dynamic rDNS
 * or an access provider's AS, no rDNS or no authentication, many campaigns from one IP). A hosting,
 * mail or named server is never alerted as an infected machine: it is skipped, and says why.
 * Judged IPs not alerted within the quiet period are grouped per network operator (by ASN, via the
 * abuse-contact table) into one digest: X-ARF v4 JSON reports or ARF (RFC 5965) reports, per the
 * operator's preference, always with a CSV.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { newId, nowIso } from '../../core/ids.ts';
import {
  ACCESS_NETWORK_SIGNAL,
  MANY_CAMPAIGNS,
  NETWORK_KINDS,
  originNetwork,
  relayReason,
  signalFacts,
  type OriginNetwork,
} from '../../analysis/origin-network.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { policyFor, type ActionPolicy } from '../action-policy.ts';
import { BOT_SIGNALS, jsonList } from '../report-facts.ts';
import { digestCsv, toArf, toXarf, MAX_INCIDENTS_PER_ALERT, type AlertForDigest } from '../formats/isp-formats.ts';
import { xarfProblems } from '../formats/xarf-validate.ts';
import { mailText } from '../formats/mail-texts.ts';
import { recipientLanguage, type AppLanguage } from '../../core/languages.ts';
import { buildMessage, domainOf, newMessageId, type MimeNode } from '../formats/mime.ts';
import { enqueueMail } from '../outbox/outbox.ts';
import { notifyOutbox } from '../outbox/delivery.ts';
import { identitiesOfReports, redactMessage } from '../redaction.ts';
import { operatorForAsn } from './operators.ts';
import { addressRefusal, isReporterAddress, loadAddressRefusals, type AddressRefusals } from '../address-refusals.ts';
import type { OperatorRow, ReportFactsRow } from '../../db/actions-tables.ts';
import { campaignGateReasons, campaignStandings } from '../gates.ts';

/** Distinct campaigns from one IP that count as the `many-campaigns` signal (shared with the listing). */
export { MANY_CAMPAIGNS };
/** Most IPs judged per run (the rest wait for the next period). */
export const MAX_IPS_PER_RUN = 5000;

export interface JudgedIp extends AlertForDigest {
  reportIds: string[];
  abuse: string[];
  /** Why its network is an access network (kept in the alert's evidence). */
  network: string;
}

/** The network of an origin, from the reverse name and AS name its facts recorded (as the listing judges it). */
function networkOf(ip: string, facts: ReportFactsRow[]): OriginNetwork {
  const rdns = facts.find((f) => f.origin_rdns)?.origin_rdns ?? null;
  const asName = facts.find((f) => f.origin_as_name)?.origin_as_name ?? null;
  const dynamic = facts.some((f) => jsonList(f.bot_signals).includes(BOT_SIGNALS.DYNAMIC_RDNS));
  return originNetwork(ip, rdns, asName, dynamic);
}

/** When the origin sent a report's spam (what an ISP needs), else when it arrived or was reported. */
function sentAt(r: ReportFactsRow): string {
  return r.origin_sent_at ?? r.arrived_at ?? r.received_at;
}

/**
 * Judges the origin IPs of live reports received in [from, to). Only evidence an ISP can act on
 * counts: reports of spam its origin sent within `isp.maxOriginAgeDays`, whose campaign passes the
 * gates. An address the lists never name (`../address-refusals.ts`) is never alerted either; an origin
 * whose reports over the infrastructure window are mostly legitimate mail or mail sent with aligned
 * SPF/DKIM is a real mail server (a newsletter reported by mistake, a provider's relay), never an
 * infected machine; nor is an origin outside an access network (a rented server, a mail server): each
 * is skipped, and says why.
 */
export async function judgeOrigins(
  db: Kysely<Database>,
  policy: ActionPolicy,
  /** The address rules the lists apply too ({@link loadAddressRefusals}). */
  refusals: AddressRefusals,
  from: string,
  to: string,
  skipped: { ip: string; reason: string }[] = [],
): Promise<JudgedIp[]> {
  const candidates = await db
    .selectFrom('action_report_facts')
    .select(['origin_ip', (eb) => eb.fn.countAll<number>().as('n')])
    .where('origin_ip', 'is not', null)
    .where('historical', '=', 0)
    .where('received_at', '>=', from)
    .where('received_at', '<', to)
    .groupBy('origin_ip')
    .having((eb) => eb.fn.countAll(), '>=', policy.isp.minReports)
    .orderBy('origin_ip')
    .limit(MAX_IPS_PER_RUN)
    .execute();
  const out: JudgedIp[] = [];
  for (const c of candidates) {
    if (!c.origin_ip) continue;
    const judged = await judgeOrigin(db, policy, refusals, c.origin_ip, from, to, skipped);
    if (judged) out.push(judged);
  }
  return out;
}

/**
 * The origin's reports over the infrastructure list's window before `to` (and at least the digest period
 * from `from`): a digest period is too short to see the legitimate mail a mail server or relay also passes
 * on, and the lists judge the same address over this window.
 */
async function historyOf(db: Kysely<Database>, policy: ActionPolicy, ip: string, from: string, to: string) {
  const window = new Date(Date.parse(to) - policy.listing.infrastructure.windowDays * 86_400_000).toISOString();
  return db
    .selectFrom('action_report_facts')
    .select(['report_id', 'message_category', 'authenticated', 'campaign_id', 'message_sha256'])
    .where('origin_ip', '=', ip)
    .where('historical', '=', 0)
    .where('received_at', '>=', window < from ? window : from)
    .where('received_at', '<', to)
    .execute();
}

/**
 * Judges one origin IP on its live reports in [from, to): its alert, or null (with the reason in `skipped` when it is
 * one of the gates).
 */
async function judgeOrigin(
  db: Kysely<Database>,
  policy: ActionPolicy,
  refusals: AddressRefusals,
  ip: string,
  from: string,
  to: string,
  skipped: { ip: string; reason: string }[],
): Promise<JudgedIp | null> {
  const oldest = new Date(Date.parse(to) - policy.isp.maxOriginAgeDays * 86_400_000).toISOString();
  const all = await db
    .selectFrom('action_report_facts')
    .selectAll()
    .where('origin_ip', '=', ip)
    .where('historical', '=', 0)
    .where('received_at', '>=', from)
    .where('received_at', '<', to)
    .orderBy('received_at')
    .execute();
  const refused = addressRefusal(ip, refusals, {
    rdns: all.find((r) => r.origin_rdns)?.origin_rdns ?? null,
    asn: all.find((r) => r.origin_asn !== null)?.origin_asn ?? null,
    asName: all.find((r) => r.origin_as_name)?.origin_as_name ?? null,
  });
  if (refused) {
    skipped.push({ ip, reason: refused });
    return null;
  }
  const history = await historyOf(db, policy, ip, from, to);
  if (
    await isReporterAddress(
      db,
      ip,
      history.map((r) => r.report_id),
    )
  ) {
    skipped.push({ ip, reason: 'the address a reporter reported from' });
    return null;
  }
  const isClean = (r: { message_category: string | null; authenticated: number | null }) =>
    r.message_category === 'legitimate' || Number(r.authenticated) === 1;
  const clean = history.filter(isClean).length;
  if (clean / history.length > policy.isp.maxLegitimateShare) {
    skipped.push({
      ip,
      reason: `${clean} of its ${history.length} reports in the last ${policy.listing.infrastructure.windowDays} \
days are legitimate mail or sent with aligned SPF/DKIM: a mail server, not an infected machine`,
    });
    return null;
  }
  const network = networkOf(ip, all);
  if (network.kind !== NETWORK_KINDS.ACCESS) {
    skipped.push({
      ip,
      reason: `not a subscriber line, so not an infected machine: ${network.reason} (the spam-infrastructure list \
names a server that keeps sending spam)`,
    });
    return null;
  }
  const spam = history.filter((r) => !isClean(r));
  const relay = relayReason(
    network,
    new Set(spam.map((r) => r.campaign_id ?? `msg:${r.message_sha256}`)).size,
    history.length - spam.length,
  );
  if (relay) {
    skipped.push({ ip, reason: relay });
    return null;
  }
  const standings = await campaignStandings(
    db,
    all.map((r) => r.campaign_id).filter((id): id is string => id !== null),
  );
  const rows = all
    .filter((r) => r.message_category !== 'legitimate' && Number(r.authenticated) !== 1)
    .filter((r) => sentAt(r) >= oldest)
    .filter((r) => {
      const s = r.campaign_id ? standings.get(r.campaign_id) : undefined;
      return !s || campaignGateReasons(s, policy).length === 0;
    })
    .sort((a, b) => (sentAt(a) < sentAt(b) ? -1 : sentAt(a) > sentAt(b) ? 1 : 0));
  if (rows.length < policy.isp.minReports) {
    skipped.push({
      ip,
      reason: `${rows.length} of its ${all.length} reports are recent spam of sound campaigns (at least \
${policy.isp.minReports} needed)`,
    });
    return null;
  }
  const signals = new Set<string>();
  for (const r of rows) for (const s of jsonList(r.bot_signals)) signals.add(s);
  const campaigns = new Set(rows.map((r) => r.campaign_id ?? `msg:${r.message_sha256}`));
  if (campaigns.size >= MANY_CAMPAIGNS) signals.add(BOT_SIGNALS.MANY_CAMPAIGNS);
  // An access provider's AS says "a subscriber line" as a dynamic-pool name does; signals that say one fact count once.
  if (!signals.has(BOT_SIGNALS.DYNAMIC_RDNS)) signals.add(ACCESS_NETWORK_SIGNAL);
  const facts = signalFacts([...signals]);
  if (facts.length < policy.isp.minSignals) {
    skipped.push({
      ip,
      reason: `botnet signals ${[...signals].sort().join(', ')} show ${facts.length} distinct fact(s) \
(${facts.join('; ')}); at least ${policy.isp.minSignals} needed`,
    });
    return null;
  }
  const last = rows[rows.length - 1];
  const withAsn = rows.find((r) => r.origin_asn !== null) ?? last;
  return {
    ip,
    asn: withAsn.origin_asn === null ? null : Number(withAsn.origin_asn),
    asName: withAsn.origin_as_name,
    firstSeen: sentAt(rows[0]),
    lastSeen: sentAt(last),
    reportCount: rows.length,
    campaignCount: campaigns.size,
    signals: [...signals].sort(),
    rdns: withAsn.origin_rdns,
    incidents: rows.slice(-MAX_INCIDENTS_PER_ALERT).map((r) => ({ at: sentAt(r), port: r.origin_port })),
    sample: null,
    sampleMailFrom: null,
    reportIds: rows.map((r) => r.report_id),
    abuse: [...new Set(rows.flatMap((r) => jsonList(r.origin_abuse)))],
    network: network.reason,
  };
}

async function withSample(db: Kysely<Database>, j: JudgedIp): Promise<JudgedIp> {
  const lastId = j.reportIds[j.reportIds.length - 1];
  const rep = await db.selectFrom('reports').select('message_sha256').where('id', '=', lastId).executeTakeFirst();
  const raw = rep ? await getMessageRaw(db, rep.message_sha256) : null;
  if (!raw) return j;
  const sample = redactMessage(raw, await identitiesOfReports(db, [lastId]));
  const m = /^Return-Path:\s*<([^>\r\n]*)>/im.exec(sample.subarray(0, 64 * 1024).toString('latin1'));
  return { ...j, sample, sampleMailFrom: m?.[1] || null };
}

export interface DigestRun {
  digests: { digestId: string; operatorId: string; format: string; alerts: number; outboxIds: string[] }[];
  skipped: { ip: string; reason: string }[];
}

/** The period a digest covers, and the quiet period before an IP may be alerted again. */
interface DigestWindow {
  from: string;
  to: string;
  quietSince: string;
}

/** A mail of a digest, built and ready for the outbox. */
interface DigestMail {
  messageId: string;
  raw: Buffer;
  description: string;
}

/** Why a judged IP gets no alert now, or the operator its alert goes to. */
async function alertDestination(
  db: Kysely<Database>,
  policy: ActionPolicy,
  j: JudgedIp,
  w: DigestWindow,
): Promise<{ op: OperatorRow } | { skip: string }> {
  if (j.asn !== null && policy.isp.optOutAsns.includes(j.asn)) return { skip: `AS${j.asn} opted out` };
  const recent = await db
    .selectFrom('action_isp_alerts')
    .select('id')
    .where('ip', '=', j.ip)
    .where('created_at', '>', w.quietSince)
    .executeTakeFirst();
  if (recent) return { skip: 'alerted within the quiet period' };
  const op = await operatorForAsn(db, j.asn, j.abuse, j.asName, policy);
  if (!op) return { skip: 'no network operator or abuse contact known' };
  if (op.opted_out) return { skip: `operator ${op.name} opted out` };
  const lastDigest = await db
    .selectFrom('action_isp_digests')
    .select('created_at')
    .where('operator_id', '=', op.id)
    .where('created_at', '>', w.from)
    .executeTakeFirst();
  if (lastDigest) return { skip: `operator ${op.name} had a digest this period` };
  return { op };
}

/** Gathers the alerts due in the window, grouped by the operator they go to; skipped IPs say why. */
async function alertsByOperator(
  db: Kysely<Database>,
  config: Config,
  policy: ActionPolicy,
  w: DigestWindow,
  skipped: DigestRun['skipped'],
): Promise<Map<string, { op: OperatorRow; alerts: JudgedIp[] }>> {
  const byOperator = new Map<string, { op: OperatorRow; alerts: JudgedIp[] }>();
  const refusals = await loadAddressRefusals(db, config, policy);
  for (const j of await judgeOrigins(db, policy, refusals, w.from, w.to, skipped)) {
    const dest = await alertDestination(db, policy, j, w);
    if ('skip' in dest) {
      skipped.push({ ip: j.ip, reason: dest.skip });
      continue;
    }
    const g = byOperator.get(dest.op.id) ?? { op: dest.op, alerts: [] };
    g.alerts.push(await withSample(db, j));
    byOperator.set(dest.op.id, g);
  }
  return byOperator;
}

/**
 * Builds the mails of one operator's digest: one X-ARF mail with a JSON report per IP, or an ARF
 * cover mail followed by one ARF report per IP; the CSV rides in the first mail either way.
 */
export function digestMails(
  op: OperatorRow,
  alerts: JudgedIp[],
  csv: string,
  me: ActionPolicy['instance'],
  sender: string,
  w: DigestWindow,
  lang: AppLanguage,
): DigestMail[] {
  const summary = `${mailText(lang, 'isp.summary', { n: alerts.length, org: me.org, from: w.from, to: w.to })}\r\n`;
  const text: MimeNode = { contentType: 'text/plain; charset=utf-8', encoding: '8bit', body: summary };
  const csvPart: MimeNode = {
    contentType: 'text/csv; charset=utf-8',
    encoding: 'base64',
    body: Buffer.from(csv),
    filename: 'digest.csv',
  };
  if (op.format === 'xarf') {
    const parts: MimeNode[] = [text, csvPart];
    for (const a of alerts) {
      const report = toXarf(a, me);
      const problems = xarfProblems(report);
      if (problems.length > 0) throw new Error(`X-ARF report for ${a.ip} does not validate: ${problems.join('; ')}`);
      parts.push({
        contentType: 'application/json',
        encoding: 'base64',
        body: Buffer.from(JSON.stringify(report, null, 2)),
        filename: `xarf-${a.ip.replace(/:/g, '_')}.json`,
      });
    }
    const messageId = newMessageId(domainOf(sender));
    const raw = buildMessage(
      {
        from: sender,
        to: [op.abuse_address],
        subject: mailText(lang, 'isp.subject.xarf', { n: alerts.length }),
        messageId,
      },
      { contentType: 'multipart/mixed', parts },
    );
    return [{ messageId, raw, description: `X-ARF digest (${alerts.length} IPs) → ${op.name}` }];
  }
  const cover = newMessageId(domainOf(sender));
  const raw = buildMessage(
    {
      from: sender,
      to: [op.abuse_address],
      subject: mailText(lang, 'isp.subject.arf', { n: alerts.length }),
      messageId: cover,
    },
    { contentType: 'multipart/mixed', parts: [text, csvPart] },
  );
  const mails: DigestMail[] = [
    { messageId: cover, raw, description: `ARF digest cover (${alerts.length} IPs) → ${op.name}` },
  ];
  for (const a of alerts) {
    const arf = toArf(a, me, sender, op.abuse_address, lang);
    mails.push({ messageId: arf.messageId, raw: arf.raw, description: `ARF ${a.ip} → ${op.name}` });
  }
  return mails;
}

/**
 * Writes one digest in one transaction: the digest row, an alert per IP, its mails in the outbox. Returns the outbox
 * ids.
 */
async function writeDigest(
  db: Kysely<Database>,
  config: Config,
  d: { digestId: string; op: OperatorRow; alerts: JudgedIp[]; csv: string; mails: DigestMail[]; w: DigestWindow },
): Promise<string[]> {
  const { digestId, op, alerts, csv, mails, w } = d;
  return db.transaction().execute(async (trx) => {
    const created = nowIso();
    await trx
      .insertInto('action_isp_digests')
      .values({
        id: digestId,
        operator_id: op.id,
        format: op.format,
        period_start: w.from,
        period_end: w.to,
        alert_count: alerts.length,
        csv,
        created_at: created,
      })
      .execute();
    for (const a of alerts) {
      await trx
        .insertInto('action_isp_alerts')
        .values({
          id: newId(),
          operator_id: op.id,
          asn: a.asn,
          ip: a.ip,
          first_seen: a.firstSeen,
          last_seen: a.lastSeen,
          report_count: a.reportCount,
          campaign_count: a.campaignCount,
          evidence: JSON.stringify({ signals: a.signals, network: a.network, rdns: a.rdns, incidents: a.incidents }),
          digest_id: digestId,
          state: 'open',
          handled_at: null,
          handled_by: null,
          created_at: created,
        })
        .execute();
    }
    const base = {
      envelopeFrom: config.outboxFrom,
      to: op.abuse_address,
      purpose: 'isp-digest',
      subjectId: digestId,
      maxAttempts: config.outboxMaxAttempts,
    };
    const outboxIds: string[] = [];
    for (const m of mails) outboxIds.push(await enqueueMail(trx, { ...base, ...m }));
    return outboxIds;
  });
}

/**
 * Builds and queues the digests due now. An operator that received a digest within the last
 * period is left for later; IPs alerted within the quiet period are skipped.
 */
export async function runIspDigests(
  db: Kysely<Database>,
  config: Config,
  logger: Logger,
  now = new Date(),
): Promise<DigestRun> {
  const policy = policyFor(config);
  const periodMs = policy.isp.digestIntervalMinutes * 60_000;
  const w: DigestWindow = {
    from: new Date(now.getTime() - periodMs).toISOString(),
    to: now.toISOString(),
    quietSince: new Date(now.getTime() - policy.isp.quietPeriodHours * 3_600_000).toISOString(),
  };
  const run: DigestRun = { digests: [], skipped: [] };
  for (const { op, alerts } of (await alertsByOperator(db, config, policy, w, run.skipped)).values()) {
    const digestId = newId();
    const csv = digestCsv(alerts);
    const lang = recipientLanguage(op.language, config.region);
    const mails = digestMails(op, alerts, csv, policy.instance, config.outboxFrom, w, lang);
    const outboxIds = await writeDigest(db, config, { digestId, op, alerts, csv, mails, w });
    run.digests.push({ digestId, operatorId: op.id, format: op.format, alerts: alerts.length, outboxIds });
    logger.info({ operator: op.name, format: op.format, alerts: alerts.length }, 'ISP digest queued');
  }
  if (run.digests.length > 0) notifyOutbox();
  return run;
}

/** Alerts visible to a caller: all (staff) or those of the operators tied to a user. */
export async function listAlerts(
  db: Kysely<Database>,
  filter: { operatorIds?: string[]; state?: string; limit?: number },
) {
  let q = db
    .selectFrom('action_isp_alerts')
    .selectAll()
    .orderBy('created_at', 'desc')
    .limit(Math.min(filter.limit ?? 200, 1000));
  if (filter.operatorIds) q = q.where('operator_id', 'in', filter.operatorIds.length > 0 ? filter.operatorIds : ['-']);
  if (filter.state) q = q.where('state', '=', filter.state);
  return (await q.execute()).map((a) => ({ ...a, evidence: JSON.parse(a.evidence) as unknown }));
}

export async function markAlertHandled(
  db: Kysely<Database>,
  id: string,
  actor: string,
  operatorIds: string[] | null,
): Promise<boolean> {
  let q = db
    .updateTable('action_isp_alerts')
    .set({ state: 'handled', handled_at: nowIso(), handled_by: actor })
    .where('id', '=', id)
    .where('state', '=', 'open');
  if (operatorIds) q = q.where('operator_id', 'in', operatorIds.length > 0 ? operatorIds : ['-']);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
