/**
 * Referral of a case to an authority: build the signed evidence package, record its hash, queue
 * its delivery (mail with the ZIP attached, or a webhook / partner call carrying it), and move the
 * case to `referred` — all in one transaction, so a referral either exists with its outbox entry or
 * not at all. The authority's answers (acknowledge, ask for more, close) are recorded in the case
 * history.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { AppContext } from '../../core/context.ts';
import { publicBaseUrl } from '../../core/config.ts';
import { AppError } from '../../core/errors.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { policyFor } from '../action-policy.ts';
import { addCaseEvent, caseHistory, caseReports, getCase, setCaseState } from '../cases/cases.ts';
import { getAuthority } from '../cases/authorities.ts';
import { buildMessage, domainOf, newMessageId } from '../formats/mime.ts';
import { enqueueMail, enqueueWebhook } from '../outbox/outbox.ts';
import { notifyOutbox } from '../outbox/delivery.ts';
import { loadAnalyses } from '../sources.ts';
import { identitiesOfReports, redactMessage, redactText } from '../redaction.ts';
import { buildCaseSummary } from './case-summary.ts';
import { renderCaseReportHtml } from './case-report-html.ts';
import { buildEvidencePackage, type EvidenceMode, type PackageMessage } from './evidence-package.ts';
import { loadInstanceKey, signatureHeader } from './instance-key.ts';
import type { ReportFactsRow } from '../tables.ts';

/** Most messages put in one package (a larger case is referred in parts by an analyst). */
export const MAX_PACKAGE_MESSAGES = 2000;
/** Most raw bytes put in one package; further messages are listed as omitted in the history. */
export const MAX_PACKAGE_RAW_BYTES = 256 * 1024 * 1024;

export const REFERRAL_ANSWERS = ['acknowledge', 'request-more', 'close'] as const;
export type ReferralAnswer = (typeof REFERRAL_ANSWERS)[number];

export interface ReferralResult {
  referralId: string;
  packageSha256: string;
  packageSize: number;
  outboxId: string;
}

function isEvidenceMode(v: string): v is EvidenceMode {
  return v === 'original-and-redacted' || v === 'redacted-only';
}

/** Refers a case to one authority. */
export async function referCase(ctx: AppContext, caseId: string, authorityId: string, actor: string): Promise<ReferralResult> {
  const { db, config } = ctx;
  const policy = policyFor(config);
  const c = await getCase(db, caseId);
  if (c.state === 'merged') throw new AppError('CONFLICT', `Case ${caseId} was merged into ${c.merged_into}; refer that one.`);
  const authority = await getAuthority(db, authorityId);
  if (!authority.active) throw new AppError('CONFLICT', `Authority ${authority.name} is inactive.`);
  // Taken before the reports are read: a report that joins the case while the package is built
  // is then newer than the referral, and the next update carries it (see updateReferrals).
  const createdAt = nowIso();
  const reports = await caseReports(db, caseId);
  if (reports.length === 0) throw new AppError('CONFLICT', 'The case has no reports to refer.');

  const identities = await identitiesOfReports(db, reports.map((r) => r.report_id));
  const bySha = new Map<string, typeof reports>();
  for (const r of reports) bySha.set(r.message_sha256, [...(bySha.get(r.message_sha256) ?? []), r]);
  const shas = [...bySha.keys()].slice(0, MAX_PACKAGE_MESSAGES);
  const messages: PackageMessage[] = [];
  let rawBytes = 0;
  let omitted = [...bySha.keys()].length - shas.length;
  for (const sha of shas) {
    const raw = await getMessageRaw(db, sha);
    if (!raw) continue;
    if (rawBytes + raw.length > MAX_PACKAGE_RAW_BYTES) {
      omitted++;
      continue;
    }
    rawBytes += raw.length;
    const rs = bySha.get(sha) ?? [];
    const redacted = redactMessage(raw, identities);
    messages.push({
      sha256: sha,
      raw,
      redacted: redacted.equals(raw) ? null : redacted,
      reportCount: rs.length,
      firstReportedAt: rs[0]?.received_at ?? '',
      lastReportedAt: rs[rs.length - 1]?.received_at ?? '',
    });
  }
  const facts = new Map<string, ReportFactsRow>();
  const factRows = await db.selectFrom('action_report_facts').selectAll().where('report_id', 'in', reports.map((r) => r.report_id)).execute();
  for (const f of factRows) facts.set(f.report_id, f);
  const analyses = await loadAnalyses(db, shas);
  const history = await caseHistory(db, caseId);
  const instance = { org: policy.instance.org, url: publicBaseUrl(config) };
  const summary = buildCaseSummary({
    case: c,
    authority: { name: authority.name, country: authority.country, competence: authority.competence },
    reports: reports.map((r) => ({ reportId: r.report_id, sha256: r.message_sha256, receivedAt: r.received_at, channel: r.channel })),
    facts,
    analyses,
    history,
    generatedAt: createdAt,
    instance,
    redactText: (s) => redactText(s, identities),
  });
  const key = loadInstanceKey(config.dataDir);
  const packageId = newId();
  const pkg = await buildEvidencePackage({
    packageId,
    createdAt,
    caseId,
    authority: { id: authority.id, name: authority.name, country: authority.country, competence: authority.competence },
    instance,
    evidenceMode: isEvidenceMode(authority.evidence_mode) ? authority.evidence_mode : 'redacted-only',
    messages,
    summary,
    html: renderCaseReportHtml(summary, { packageId, keyFingerprint: key.fingerprint }),
    key,
  });
  const from = config.outboxFrom;
  const fileName = `case-${caseId}-${packageId}.zip`;
  const result = await db.transaction().execute(async (trx) => {
    let outboxId: string;
    if (authority.contact_kind === 'email') {
      const messageId = newMessageId(domainOf(from));
      const text = [
        `Case ${caseId}: ${c.title}`,
        '',
        `${instance.org} refers this case to ${authority.name} (${authority.competence}).`,
        `${summary.volumes.reports} reports of ${summary.volumes.distinctMessages} messages, ${summary.volumes.firstReportedAt ?? ''} to ${summary.volumes.lastReportedAt ?? ''} (UTC).`,
        '',
        `The attached evidence package (${fileName}) has SHA-256 ${pkg.sha256}.`,
        `Its manifest is signed with Ed25519 key ${key.fingerprint}; the public key is at ${instance.url}/api/v1/actions/public-key.`,
        'report.html inside the package is the readable report; VERIFY.txt explains the checks.',
        '',
        `Referral id: ${packageId}. Please acknowledge, ask for more or close it in the web app or through the API.`,
      ].join('\r\n');
      const raw = buildMessage(
        { from, to: [authority.contact], subject: `[Spamdesk referral] Case ${caseId}: ${c.title}`, messageId, headers: [['X-Spamdesk-Package-SHA256', pkg.sha256]] },
        {
          contentType: 'multipart/mixed',
          parts: [
            { contentType: 'text/plain; charset=utf-8', encoding: '8bit', body: text },
            { contentType: 'application/zip', encoding: 'base64', body: pkg.zip, filename: fileName },
          ],
        },
      );
      outboxId = await enqueueMail(trx, { messageId, envelopeFrom: from, to: authority.contact, raw, purpose: 'referral', subjectId: packageId, description: `case ${caseId} → ${authority.name}`, maxAttempts: config.outboxMaxAttempts });
    } else {
      const body = Buffer.from(
        JSON.stringify({
          type: 'spamdesk.referral',
          version: 1,
          referralId: packageId,
          caseId,
          title: c.title,
          category: c.category,
          authority: { id: authority.id, name: authority.name },
          instance,
          package: { fileName, sha256: pkg.sha256, size: pkg.zip.length, keyFingerprint: key.fingerprint, zipBase64: pkg.zip.toString('base64') },
        }),
      );
      outboxId = await enqueueWebhook(trx, {
        url: authority.contact,
        idempotencyKey: `referral-${packageId}`,
        contentType: 'application/json',
        body,
        headers: { 'x-spamdesk-signature': signatureHeader(key, body), 'x-spamdesk-key-fingerprint': key.fingerprint },
        purpose: 'referral',
        subjectId: packageId,
        description: `case ${caseId} → ${authority.name}`,
        maxAttempts: config.outboxMaxAttempts,
      });
    }
    await trx
      .insertInto('action_referrals')
      .values({ id: packageId, case_id: caseId, authority_id: authority.id, state: 'queued', outbox_id: outboxId, package_sha256: pkg.sha256, package_size: pkg.zip.length, package: pkg.zip, created_at: createdAt, updated_at: createdAt })
      .execute();
    await addCaseEvent(trx, caseId, actor, 'referred', { referralId: packageId, authority: authority.name, authorityId: authority.id, packageSha256: pkg.sha256, packageSize: pkg.zip.length, messages: messages.length, omittedMessages: omitted, outboxId });
    if (c.state === 'open' || c.state === 'needs_review') await setCaseState(trx, caseId, 'referred', actor);
    return { referralId: packageId, packageSha256: pkg.sha256, packageSize: pkg.zip.length, outboxId };
  });
  notifyOutbox();
  return result;
}

const ANSWER_STATE: Record<ReferralAnswer, string> = { acknowledge: 'acknowledged', 'request-more': 'more-requested', close: 'closed' };

/** Records an authority's answer to a referral; closing the last live referral closes the case. */
export async function answerReferral(db: Kysely<Database>, referralId: string, answer: ReferralAnswer, actor: string, note: string | null): Promise<void> {
  const ref = await db.selectFrom('action_referrals').select(['id', 'case_id', 'state', 'authority_id']).where('id', '=', referralId).executeTakeFirst();
  if (!ref) throw new AppError('NOT_FOUND', `No referral ${referralId}.`);
  if (ref.state === 'closed') throw new AppError('CONFLICT', 'This referral is closed.');
  const state = ANSWER_STATE[answer];
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('action_referrals').set({ state, updated_at: nowIso() }).where('id', '=', referralId).execute();
    await addCaseEvent(trx, ref.case_id, actor, state, { referralId, note: note?.slice(0, 10_000) ?? null });
    if (answer !== 'close') return;
    const live = await trx.selectFrom('action_referrals').select('id').where('case_id', '=', ref.case_id).where('state', '!=', 'closed').executeTakeFirst();
    if (!live) await setCaseState(trx, ref.case_id, 'closed', actor, { reason: 'all referrals closed' });
  });
}

/** A referral's answer state once the authority has answered (these imply it was delivered). */
const ANSWERED: ReadonlySet<string> = new Set(Object.values(ANSWER_STATE));

/**
 * What a referral's state is: the authority's answer once there is one; before that its
 * delivery's — `queued` (not yet tried), `failed` (tried, will be retried; the error is kept),
 * `sent` (the relay or the authority's endpoint accepted it) or `dead` (given up: an analyst must
 * act). A referral never shows `sent` while its mail still sits in the outbox.
 */
export function referralState(stored: string, delivery: { state: string | null; attempts: number | null; lastError: string | null }): string {
  if (ANSWERED.has(stored)) return stored;
  switch (delivery.state) {
    case 'sent':
      return 'sent';
    case 'dead':
      return 'dead';
    case 'queued':
    case 'sending':
      return (delivery.attempts ?? 0) > 0 && delivery.lastError ? 'failed' : 'queued';
    default:
      // Referrals made before their outbox entry was remembered said `sent` when queued.
      return stored === 'sent' ? 'sent' : 'queued';
  }
}

/** Referrals of a case (without the package bytes), each with its delivery-derived state. */
export async function listReferrals(db: Kysely<Database>, filter: { caseId?: string; authorityIds?: string[] }) {
  let q = db
    .selectFrom('action_referrals as r')
    .innerJoin('action_authorities as a', 'a.id', 'r.authority_id')
    .leftJoin('action_outbox as o', 'o.id', 'r.outbox_id')
    .select(['r.id', 'r.case_id', 'r.authority_id', 'a.name as authority_name', 'r.state', 'r.package_sha256', 'r.package_size', 'r.created_at', 'r.updated_at'])
    .select(['o.state as delivery_state', 'o.attempts as delivery_attempts', 'o.last_error as delivery_error', 'o.sent_at as delivered_at'])
    .orderBy('r.created_at', 'desc');
  if (filter.caseId) q = q.where('r.case_id', '=', filter.caseId);
  if (filter.authorityIds) q = q.where('r.authority_id', 'in', filter.authorityIds.length > 0 ? filter.authorityIds : ['-']);
  const rows = await q.limit(1000).execute();
  return rows.map(({ delivery_state, delivery_attempts, delivery_error, delivered_at, ...r }) => ({
    ...r,
    state: referralState(r.state, { state: delivery_state, attempts: delivery_attempts === null ? null : Number(delivery_attempts), lastError: delivery_error }),
    delivery: { state: delivery_state, attempts: delivery_attempts === null ? null : Number(delivery_attempts), lastError: delivery_error, sentAt: delivered_at },
  }));
}

export async function getReferralPackage(db: Kysely<Database>, referralId: string) {
  const r = await db.selectFrom('action_referrals').select(['id', 'case_id', 'authority_id', 'package', 'package_sha256']).where('id', '=', referralId).executeTakeFirst();
  if (!r) throw new AppError('NOT_FOUND', `No referral ${referralId}.`);
  return r;
}
