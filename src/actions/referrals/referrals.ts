/**
 * Referral of a case to an authority: build the signed evidence package, record its hash, queue
 * its delivery (mail with the ZIP attached, or a webhook / partner call carrying it), and move the
 * case to `referred` — all in one transaction, so a referral either exists with its outbox entry or
 * not at all. The authority's answers (acknowledge, ask for more, close) are recorded in the case
 * history.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { AppContext } from '../../evidence/context.ts';
import { publicBaseUrl } from '../../core/config.ts';
import { AppError } from '../../core/errors.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { mergeIdentities, recipientIdentityOf, Redactor, type RecipientIdentity } from '../../evidence/redact.ts';
import { policyFor } from '../action-policy.ts';
import { addCaseEvent, caseHistory, caseReports, getCase, setCaseState } from '../cases/cases.ts';
import { evidenceModeOf, getAuthority } from '../cases/authorities.ts';
import { buildMessage, domainOf, newMessageId } from '../formats/mime.ts';
import { enqueueMail, enqueueWebhook } from '../outbox/outbox.ts';
import { competenceName, mailText } from '../formats/mail-texts.ts';
import { recipientLanguage, type AppLanguage } from '../../core/languages.ts';
import { notifyOutbox } from '../outbox/delivery.ts';
import { loadAnalyses } from '../sources.ts';
import { identitiesByReport, redactMessage } from '../redaction.ts';
import { buildCaseSummary, type CaseSummary } from './case-summary.ts';
export { getReferral, listReferralPage, listReferrals, referralState, type ReferralView } from './referral-list.ts';
import { renderCaseReportHtml } from './case-report-html.ts';
import { buildEvidencePackage, type EvidenceMode, type Manifest, type PackageMessage } from './evidence-package.ts';
import { loadInstanceKey, signatureHeader, type InstanceKey } from './instance-key.ts';
import type { AuthorityRow, CaseRow, ReportFactsRow } from '../../db/actions-tables.ts';

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

/**
 * A follow-up package answering a partner's request for more (exchange/requests.ts): the
 * request's message id, what was asked, and — for originals — the legal basis the approving
 * analyst recorded (the package then carries originals whatever the authority's default).
 */
export interface FollowUp {
  inReplyTo: string;
  kind: 'originals' | 'further-reports';
  legalBasis: string | null;
}

/** A built package and what went into it. */
interface BuiltPackage {
  packageId: string;
  zip: Buffer;
  sha256: string;
  manifest: Manifest;
  summary: CaseSummary;
  messages: number;
  omitted: number;
  evidenceMode: EvidenceMode;
  key: InstanceKey;
  /** Redacts anything else said about the case (its title in the mail and the webhook body). */
  redactor: Redactor;
}

/**
 * The messages of a case as they go into a package: each original with a copy redacted of its
 * own reporters and recipients, within the package bounds.
 */
async function packageMessages(db: Kysely<Database>, reports: Awaited<ReturnType<typeof caseReports>>) {
  const bySha = new Map<string, typeof reports>();
  for (const r of reports) bySha.set(r.message_sha256, [...(bySha.get(r.message_sha256) ?? []), r]);
  const shas = [...bySha.keys()].slice(0, MAX_PACKAGE_MESSAGES);
  const identities = await identitiesByReport(
    db,
    reports.map((r) => r.report_id),
  );
  const messages: PackageMessage[] = [];
  const recipients: RecipientIdentity[] = [];
  let rawBytes = 0;
  let omitted = bySha.size - shas.length;
  for (const sha of shas) {
    const raw = await getMessageRaw(db, sha);
    if (!raw) continue;
    if (rawBytes + raw.length > MAX_PACKAGE_RAW_BYTES) {
      omitted++;
      continue;
    }
    rawBytes += raw.length;
    const rs = bySha.get(sha) ?? [];
    const own = mergeIdentities(
      rs.map((r) => identities.get(r.report_id) ?? { addresses: [], names: [], numbers: [] }),
    );
    const redacted = redactMessage(raw, own);
    recipients.push(recipientIdentityOf(raw));
    messages.push({
      sha256: sha,
      raw,
      redacted: redacted.equals(raw) ? null : redacted,
      reportCount: rs.length,
      firstReportedAt: rs[0]?.received_at ?? '',
      lastReportedAt: rs[rs.length - 1]?.received_at ?? '',
    });
  }
  // Everything the summary says comes from these messages: redact it of every reporter and every
  // recipient of the case (first few recipients per message, as for each message's copy).
  const allRecipients: RecipientIdentity = {
    addresses: [...new Set(recipients.flatMap((r) => r.addresses.slice(0, 5)))],
    names: [...new Set(recipients.flatMap((r) => r.names.slice(0, 5)))],
  };
  const redactor = new Redactor(mergeIdentities([...identities.values()]), allRecipients);
  return { shas, messages, omitted, redactor };
}

/** Builds the signed package of a case for one authority. */
async function buildPackage(
  ctx: AppContext,
  c: CaseRow,
  authority: AuthorityRow,
  createdAt: string,
  followUp?: FollowUp,
): Promise<BuiltPackage> {
  const { db, config } = ctx;
  const reports = await caseReports(db, c.id);
  if (reports.length === 0) throw new AppError('CONFLICT', 'The case has no reports to refer.');
  const { shas, messages, omitted, redactor } = await packageMessages(db, reports);
  const facts = new Map<string, ReportFactsRow>();
  const factRows = await db
    .selectFrom('action_report_facts')
    .selectAll()
    .where(
      'report_id',
      'in',
      reports.map((r) => r.report_id),
    )
    .execute();
  for (const f of factRows) facts.set(f.report_id, f);
  const instance = { org: policyFor(config).instance.org, url: publicBaseUrl(config) };
  const built = buildCaseSummary({
    case: c,
    authority: { name: authority.name, country: authority.country, competence: authority.competence },
    reports: reports.map((r) => ({
      reportId: r.report_id,
      sha256: r.message_sha256,
      receivedAt: r.received_at,
      channel: r.channel,
    })),
    facts,
    analyses: await loadAnalyses(db, shas),
    history: await caseHistory(db, c.id),
    generatedAt: createdAt,
    instance,
  });
  // Every field taken from the messages or typed by staff is redacted; the frame is ours.
  const { format, generatedAt, instance: inst, authority: auth, ...fromEvidence } = built;
  const summary: CaseSummary = { format, generatedAt, instance: inst, authority: auth, ...redactor.json(fromEvidence) };
  const key = await loadInstanceKey(db, config);
  const packageId = newId();
  const evidenceMode: EvidenceMode =
    followUp?.kind === 'originals' && followUp.legalBasis ? 'original-and-redacted' : evidenceModeOf(authority);
  const pkg = await buildEvidencePackage({
    packageId,
    createdAt,
    caseId: c.id,
    authority: { id: authority.id, name: authority.name, country: authority.country, competence: authority.competence },
    instance,
    evidenceMode,
    messages,
    summary,
    // Readable in the authority's language (its registry entry's, else the region's), like its mail.
    html: renderCaseReportHtml(
      summary,
      { packageId, keyFingerprint: key.fingerprint },
      recipientLanguage(authority.language, config.region),
    ),
    key,
  });
  return {
    packageId,
    zip: pkg.zip,
    sha256: pkg.sha256,
    manifest: pkg.manifest,
    summary,
    messages: messages.length,
    omitted,
    evidenceMode,
    key,
    redactor,
  };
}

/**
 * The referral mail's subject and text (what the authority reads above the attached package), in
 * the authority's language (`lang`: its registry entry's, else the instance region's).
 */
export function referralMailText(
  authority: Pick<AuthorityRow, 'name' | 'competence'>,
  c: Pick<CaseRow, 'id'>,
  built: {
    packageId: string;
    sha256: string;
    key: Pick<InstanceKey, 'fingerprint'>;
    summary: {
      volumes: Pick<CaseSummary['volumes'], 'reports' | 'distinctMessages' | 'firstReportedAt' | 'lastReportedAt'>;
    };
  },
  title: string,
  instance: { org: string; url: string },
  lang: AppLanguage,
): { subject: string; text: string; fileName: string } {
  const fileName = `case-${c.id}-${built.packageId}.zip`;
  const v = built.summary.volumes;
  const text = [
    mailText(lang, 'referral.heading', { caseId: c.id, title }),
    '',
    mailText(lang, 'referral.refers', {
      org: instance.org,
      authority: authority.name,
      competence: competenceName(lang, authority.competence),
    }),
    mailText(lang, 'referral.volumes', {
      reports: v.reports,
      messages: v.distinctMessages,
      from: v.firstReportedAt ?? '',
      to: v.lastReportedAt ?? '',
    }),
    '',
    mailText(lang, 'referral.package', { file: fileName, sha256: built.sha256 }),
    mailText(lang, 'referral.signed', {
      fingerprint: built.key.fingerprint,
      url: `${instance.url}/api/v1/actions/public-key`,
    }),
    mailText(lang, 'referral.readme'),
    '',
    mailText(lang, 'referral.answer', { id: built.packageId }),
  ].join('\r\n');
  return { subject: mailText(lang, 'referral.subject', { caseId: c.id, title }), text, fileName };
}

/** The referral mail: a short text and the package attached. */
function referralMail(
  from: string,
  authority: AuthorityRow,
  c: CaseRow,
  built: BuiltPackage,
  title: string,
  instance: { org: string; url: string },
  lang: AppLanguage,
) {
  const { subject, text, fileName } = referralMailText(authority, c, built, title, instance, lang);
  const messageId = newMessageId(domainOf(from));
  const raw = buildMessage(
    {
      from,
      to: [authority.contact],
      subject,
      messageId,
      headers: [['X-Spamdesk-Package-SHA256', built.sha256]],
    },
    {
      contentType: 'multipart/mixed',
      parts: [
        { contentType: 'text/plain; charset=utf-8', encoding: '8bit', body: text },
        { contentType: 'application/zip', encoding: 'base64', body: built.zip, filename: fileName },
      ],
    },
  );
  return { messageId, raw };
}

/** The webhook (or partner) body: the referral's facts and the package in base64, signed. */
function referralWebhookBody(
  authority: AuthorityRow,
  c: CaseRow,
  built: BuiltPackage,
  title: string,
  instance: { org: string; url: string },
  contactEmail: string,
  followUp?: FollowUp,
): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'spamdesk.referral',
      version: 1,
      referralId: built.packageId,
      caseId: c.id,
      title,
      category: c.category,
      authority: {
        id: authority.id,
        name: authority.name,
        country: authority.country,
        competence: authority.competence,
      },
      instance,
      // The CNSA procedure's fields for the referring side: contact point and the basis of the transfer.
      sender: {
        contactPoint: { name: instance.org, email: contactEmail },
        legalBasis:
          built.evidenceMode === 'original-and-redacted' ? (followUp?.legalBasis ?? authority.legal_basis) : null,
      },
      ...(followUp
        ? { inReplyTo: followUp.inReplyTo, request: { kind: followUp.kind, legalBasis: followUp.legalBasis } }
        : {}),
      package: {
        fileName: `case-${c.id}-${built.packageId}.zip`,
        sha256: built.sha256,
        size: built.zip.length,
        keyFingerprint: built.key.fingerprint,
        zipBase64: built.zip.toString('base64'),
      },
    }),
  );
}

/** Gathers the case and the authority of a referral, refusing a merged case and an inactive authority. */
async function referralParties(
  db: Kysely<Database>,
  caseId: string,
  authorityId: string,
): Promise<{ c: CaseRow; authority: AuthorityRow }> {
  const c = await getCase(db, caseId);
  if (c.state === 'merged')
    throw new AppError('CONFLICT', `Case ${caseId} was merged into ${c.merged_into}; refer that one.`);
  const authority = await getAuthority(db, authorityId);
  if (!authority.active) throw new AppError('CONFLICT', `Authority ${authority.name} is inactive.`);
  return { c, authority };
}

/** Writes the package's delivery to the outbox: a mail with the ZIP attached, or a signed webhook / partner call. */
async function queueReferralDelivery(
  trx: Kysely<Database>,
  config: AppContext['config'],
  authority: AuthorityRow,
  c: CaseRow,
  built: BuiltPackage,
  followUp?: FollowUp,
): Promise<string> {
  const instance = built.summary.instance;
  const title = built.summary.case.title;
  const base = {
    purpose: 'referral',
    subjectId: built.packageId,
    description: `case ${c.id} → ${authority.name}`,
    maxAttempts: config.outboxMaxAttempts,
  };
  if (authority.contact_kind === 'email') {
    const lang = recipientLanguage(authority.language, config.region);
    const mail = referralMail(config.outboxFrom, authority, c, built, title, instance, lang);
    return enqueueMail(trx, {
      ...base,
      messageId: mail.messageId,
      envelopeFrom: config.outboxFrom,
      to: authority.contact,
      raw: mail.raw,
    });
  }
  const contactEmail = policyFor(config).instance.contact;
  const body = referralWebhookBody(authority, c, built, title, instance, contactEmail, followUp);
  return enqueueWebhook(trx, {
    ...base,
    url: authority.contact,
    idempotencyKey: `referral-${built.packageId}`,
    contentType: 'application/json',
    body,
    headers: {
      'x-spamdesk-signature': signatureHeader(built.key, body),
      'x-spamdesk-key-fingerprint': built.key.fingerprint,
    },
  });
}

/** Writes the referral: its row with the package, the case event, the audit record, the case's new state. */
async function recordReferral(
  trx: Kysely<Database>,
  r: {
    c: CaseRow;
    authority: AuthorityRow;
    built: BuiltPackage;
    createdAt: string;
    outboxId: string;
    actor: string;
    followUp?: FollowUp;
  },
): Promise<void> {
  const { c, authority, built, createdAt, outboxId, actor, followUp } = r;
  await trx
    .insertInto('action_referrals')
    .values({
      id: built.packageId,
      case_id: c.id,
      authority_id: authority.id,
      state: 'queued',
      outbox_id: outboxId,
      package_sha256: built.sha256,
      package_size: built.zip.length,
      package: built.zip,
      created_at: createdAt,
      updated_at: createdAt,
    })
    .execute();
  const detail = {
    referralId: built.packageId,
    authority: authority.name,
    authorityId: authority.id,
    packageSha256: built.sha256,
    packageSize: built.zip.length,
    messages: built.messages,
    omittedMessages: built.omitted,
    evidenceMode: built.evidenceMode,
    outboxId,
    ...(followUp ? { inReplyTo: followUp.inReplyTo, requestKind: followUp.kind } : {}),
  };
  await addCaseEvent(trx, c.id, actor, 'referred', detail);
  // Chain of custody: which package (by hash), to whom, by which channel, with or without originals.
  await writeAudit(trx, {
    actor,
    action: 'evidence.package',
    subject: `referral:${built.packageId}`,
    detail: {
      ...detail,
      caseId: c.id,
      contactKind: authority.contact_kind,
      destination: authority.contact,
      keyFingerprint: built.key.fingerprint,
      legalBasis:
        built.evidenceMode === 'original-and-redacted' ? (followUp?.legalBasis ?? authority.legal_basis) : null,
      originals: built.manifest.messages.filter((m) => m.original).map((m) => m.sha256),
    },
  });
  if (c.state === 'open' || c.state === 'needs_review') await setCaseState(trx, c.id, 'referred', actor);
}

/**
 * Refers a case to one authority: gathers the case and the authority, builds the signed package
 * (outside the transaction: it reads every message), then writes its delivery and the referral in
 * one transaction, so a referral either exists with its outbox entry or not at all.
 */
export async function referCase(
  ctx: AppContext,
  caseId: string,
  authorityId: string,
  actor: string,
  followUp?: FollowUp,
): Promise<ReferralResult> {
  const { db, config } = ctx;
  const { c, authority } = await referralParties(db, caseId, authorityId);
  // Taken before the reports are read: a report that joins the case while the package is built
  // is then newer than the referral, and the next update carries it (see updateReferrals).
  const createdAt = nowIso();
  const built = await buildPackage(ctx, c, authority, createdAt, followUp);
  const outboxId = await db.transaction().execute(async (trx) => {
    const id = await queueReferralDelivery(trx, config, authority, c, built, followUp);
    await recordReferral(trx, { c, authority, built, createdAt, outboxId: id, actor, followUp });
    return id;
  });
  notifyOutbox();
  return { referralId: built.packageId, packageSha256: built.sha256, packageSize: built.zip.length, outboxId };
}

/** What a referral would send, built exactly as {@link referCase} builds it, without sending anything. */
export interface ReferralPreview {
  authority: Pick<AuthorityRow, 'id' | 'name' | 'country' | 'competence' | 'contact_kind' | 'contact'>;
  evidenceMode: EvidenceMode;
  messages: number;
  omitted: number;
  packageSize: number;
  files: Manifest['files'];
  /** The redacted summary (summary.json of the package). */
  summary: CaseSummary;
  /** The mail's subject and text for an e-mail contact; null for a webhook or partner. */
  mail: { subject: string; text: string } | null;
}

/**
 * Builds the package a referral of the case to this authority would carry (same code, same
 * redaction) and returns what it holds. Only the package id and time will differ when sent.
 */
export async function previewReferral(ctx: AppContext, caseId: string, authorityId: string): Promise<ReferralPreview> {
  const { c, authority } = await referralParties(ctx.db, caseId, authorityId);
  const built = await buildPackage(ctx, c, authority, nowIso());
  const mail =
    authority.contact_kind === 'email'
      ? referralMailText(
          authority,
          c,
          built,
          built.summary.case.title,
          built.summary.instance,
          recipientLanguage(authority.language, ctx.config.region),
        )
      : null;
  return {
    authority: {
      id: authority.id,
      name: authority.name,
      country: authority.country,
      competence: authority.competence,
      contact_kind: authority.contact_kind,
      contact: authority.contact,
    },
    evidenceMode: built.evidenceMode,
    messages: built.messages,
    omitted: built.omitted,
    packageSize: built.zip.length,
    files: built.manifest.files,
    summary: built.summary,
    mail: mail ? { subject: mail.subject, text: mail.text } : null,
  };
}

export const ANSWER_STATE: Record<ReferralAnswer | 'received', string> = {
  received: 'received',
  acknowledge: 'acknowledged',
  'request-more': 'more-requested',
  close: 'closed',
};

/** Records an authority's answer to a referral; closing the last live referral closes the case. */
export async function answerReferral(
  db: Kysely<Database>,
  referralId: string,
  answer: ReferralAnswer,
  actor: string,
  note: string | null,
): Promise<void> {
  const ref = await db
    .selectFrom('action_referrals')
    .select(['id', 'case_id', 'state', 'authority_id'])
    .where('id', '=', referralId)
    .executeTakeFirst();
  if (!ref) throw new AppError('NOT_FOUND', `No referral ${referralId}.`);
  if (ref.state === 'closed') throw new AppError('CONFLICT', 'This referral is closed.');
  const state = ANSWER_STATE[answer];
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('action_referrals')
      .set({ state, updated_at: nowIso() })
      .where('id', '=', referralId)
      .execute();
    await addCaseEvent(trx, ref.case_id, actor, state, { referralId, note: note?.slice(0, 10_000) ?? null });
    if (answer !== 'close') return;
    const live = await trx
      .selectFrom('action_referrals')
      .select('id')
      .where('case_id', '=', ref.case_id)
      .where('state', '!=', 'closed')
      .executeTakeFirst();
    if (!live) await setCaseState(trx, ref.case_id, 'closed', actor, { reason: 'all referrals closed' });
  });
}

export async function getReferralPackage(db: Kysely<Database>, referralId: string) {
  const r = await db
    .selectFrom('action_referrals')
    .select(['id', 'case_id', 'authority_id', 'package', 'package_sha256'])
    .where('id', '=', referralId)
    .executeTakeFirst();
  if (!r) throw new AppError('NOT_FOUND', `No referral ${referralId}.`);
  return r;
}
