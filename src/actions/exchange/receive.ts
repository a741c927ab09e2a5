/**
 * Receiving a partner's referral (`POST /api/v1/exchange/referrals`): the same signed JSON body a
 * Spamdesk instance sends to an authority whose contact kind is `partner` (referrals.ts), so two
 * instances exchange cases with nothing but each other's public key.
 *
 * Trust is checked before anything is stored, in this order: the key named in the request is a
 * registered, enabled partner's; the Ed25519 signature over the exact body verifies with it; the
 * ZIP hashes to the SHA-256 the body names; the package verifies as an authority would verify it
 * (manifest and summary signatures with the partner's key, every file's hash, every original named
 * after its own hash, nothing unlisted). Then every message becomes a report (channel `partner`,
 * one atomic submission; the original where the partner sent it, else its redacted copy, marked as
 * such) and the reports are filed under one local case per remote case (`partner_case`). A package
 * received again (the partner's outbox retrying after a lost answer) changes nothing and gets the
 * same answer. The reports then run through this instance's own analysis, campaigns and rules.
 */
import { z } from 'zod';
import type { AppContext } from '../../evidence/context.ts';
import { AppError } from '../../core/errors.ts';
import { newId, nowIso, sha256Hex } from '../../core/ids.ts';
import { readZipEntries, verifyEvidencePackage, type Manifest } from '../referrals/evidence-package.ts';
import { loadInstanceKey, parseSignatureHeader, verifyBytes } from '../referrals/instance-key.ts';
import { addCaseEvent, addReportsToCase, findLiveCase, openCase } from '../cases/cases.ts';
import type { ReportInput, StoredReport } from '../../evidence/report-writer.ts';
import type { PartnerRow } from '../../db/actions-tables.ts';
import { partnerByFingerprint } from './partners.ts';
import { sendPartnerStatus } from './status.ts';
import { exchangeSchemaProblems } from './schemas.ts';

/** Messages one received package may carry (the sending side's own bound). */
export const MAX_RECEIVED_MESSAGES = 2000;

const ReferralBody = z.object({
  type: z.literal('spamdesk.referral'),
  version: z.literal(1),
  referralId: z.string().min(1).max(64),
  caseId: z.string().min(1).max(64),
  title: z.string().max(500).default(''),
  category: z.string().max(64).nullable().default(null),
  instance: z
    .object({ org: z.string().max(300).optional(), url: z.string().max(2000).optional() })
    .passthrough()
    .optional(),
  inReplyTo: z.string().max(64).optional(),
  request: z
    .object({ kind: z.string().max(32).optional(), legalBasis: z.string().max(2000).nullable().optional() })
    .optional(),
  package: z.object({
    fileName: z.string().max(300).optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().nonnegative(),
    keyFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    zipBase64: z.string().min(1),
  }),
});

export interface ReceivedReferral {
  caseId: string;
  partner: { id: string; name: string; country: string };
  packageId: string;
  messages: number;
  reportIds: string[];
  /** True when this package had been received before: nothing new was stored. */
  duplicate: boolean;
}

/** Checks only the key the request names (cheap: done before the body is read). */
export async function assertKnownPartner(ctx: AppContext, fingerprintHeader: string | undefined): Promise<void> {
  if (!(await partnerByFingerprint(ctx.db, (fingerprintHeader ?? '').trim().toLowerCase()))) {
    throw new AppError(
      'UNAUTHENTICATED',
      'X-Spamdesk-Key-Fingerprint does not name a registered partner of this instance.',
    );
  }
}

type ReferralJson = z.infer<typeof ReferralBody>;
type PartnerView = ReceivedReferral['partner'];

/**
 * Authenticates a referral: a registered partner's key, its signature over the exact body, a body of the right shape.
 */
async function authenticatedReferral(
  db: AppContext['db'],
  body: Buffer,
  headers: { signature?: string; fingerprint?: string },
): Promise<{ partner: PartnerRow; ref: ReferralJson }> {
  const partner = await partnerByFingerprint(db, (headers.fingerprint ?? '').trim().toLowerCase());
  if (!partner)
    throw new AppError(
      'UNAUTHENTICATED',
      'X-Spamdesk-Key-Fingerprint does not name a registered partner of this instance.',
    );
  const sig = parseSignatureHeader(headers.signature);
  if (!sig || !verifyBytes(partner.public_key_pem, body, sig)) {
    throw new AppError(
      'UNAUTHENTICATED',
      `X-Spamdesk-Signature does not verify over the body with ${partner.name}'s key.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError('BAD_REQUEST', 'The body is not JSON.');
  }
  const problems = exchangeSchemaProblems('referral-v1', json);
  if (problems.length > 0)
    throw new AppError('BAD_REQUEST', `The referral does not follow referral-v1: ${problems.join('; ')}`, { problems });
  const parsed = ReferralBody.safeParse(json);
  if (!parsed.success)
    throw new AppError(
      'BAD_REQUEST',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  const ref = parsed.data;
  if (ref.package.keyFingerprint !== partner.key_fingerprint)
    throw new AppError('BAD_REQUEST', 'package.keyFingerprint is not the key that signed the request.');
  return { partner, ref };
}

/** Verifies the package as an authority would, and that it is the one the body names, within bounds. */
async function verifiedPackage(partner: PartnerRow, ref: ReferralJson): Promise<{ zip: Buffer; manifest: Manifest }> {
  const zip = Buffer.from(ref.package.zipBase64, 'base64');
  if (zip.length !== ref.package.size || sha256Hex(zip) !== ref.package.sha256)
    throw new AppError('BAD_REQUEST', 'The package does not hash to package.sha256 (or its size differs).');
  const check = await verifyEvidencePackage(zip, partner.public_key_pem);
  if (!check.ok || !check.manifest) {
    throw new AppError(
      'BAD_REQUEST',
      `The evidence package does not verify: ${check.problems.slice(0, 10).join('; ')}`,
      { problems: check.problems.slice(0, 100) },
    );
  }
  const manifest = check.manifest;
  if (manifest.packageId !== ref.referralId || manifest.caseId !== ref.caseId)
    throw new AppError('BAD_REQUEST', 'The manifest names another package or case than the body.');
  if (manifest.messages.length === 0) throw new AppError('BAD_REQUEST', 'The package carries no message.');
  if (manifest.messages.length > MAX_RECEIVED_MESSAGES)
    throw new AppError(
      'BAD_REQUEST',
      `The package carries ${manifest.messages.length} messages; at most ${MAX_RECEIVED_MESSAGES} are accepted at \
once.`,
    );
  return { zip, manifest };
}

/** Builds one report per message: the original where the partner sent it, else its redacted copy, marked as such. */
async function reportInputs(
  zip: Buffer,
  manifest: Manifest,
  p: PartnerView,
  ref: ReferralJson,
): Promise<ReportInput[]> {
  const entries = await readZipEntries(zip);
  return manifest.messages.map((m) => {
    const path = m.original ?? m.redacted;
    const raw = path ? entries.get(path) : undefined;
    if (!raw)
      throw new AppError(
        'BAD_REQUEST',
        `Message ${m.sha256} has neither an original nor a redacted copy in the package.`,
      );
    return {
      raw,
      channel: 'partner',
      note: `Referred by ${p.name} (${p.country})${ref.title ? `: ${ref.title}` : ''}`.slice(0, 1000),
      dedupKey: `partner:${p.id}:${manifest.packageId}:${m.sha256}`,
      context: {
        partner: p,
        packageId: manifest.packageId,
        packageSha256: ref.package.sha256,
        remoteCaseId: manifest.caseId,
        remoteInstance: manifest.instance,
        // The evidence hash the partner recorded; a redacted copy has its own hash.
        originalSha256: m.sha256,
        redactedCopy: !m.original,
        remoteReportCount: m.reportCount,
        firstReportedAt: m.firstReportedAt,
        lastReportedAt: m.lastReportedAt,
      },
    };
  });
}

/**
 * Files the stored reports under the local case of the remote case (opened if none is live) and
 * records the package as received, in one transaction; a package filed meanwhile by a parallel
 * request keeps its case. Returns the case id.
 */
async function fileUnderCase(
  { db, config }: Pick<AppContext, 'db' | 'config'>,
  partner: PartnerRow,
  ref: ReferralJson,
  manifest: Manifest,
  stored: StoredReport[],
): Promise<string> {
  const p = { id: partner.id, name: partner.name, country: partner.country };
  return db.transaction().execute(async (trx) => {
    const again = await trx
      .selectFrom('action_received_packages')
      .select('case_id')
      .where('partner_id', '=', partner.id)
      .where('package_id', '=', manifest.packageId)
      .executeTakeFirst();
    if (again) return again.case_id;
    const target = `${partner.id}:${manifest.caseId}`;
    const actor = `partner:${partner.name}`;
    const c =
      (await findLiveCase(trx, 'partner_case', target)) ??
      (await openCase(trx, {
        targetKind: 'partner_case',
        targetValue: target,
        title: `From ${partner.name} (${partner.country})${ref.title ? `: ${ref.title}` : ''}`,
        category: ref.category,
        openedBy: actor,
        detail: { partner: p, remoteCaseId: manifest.caseId },
      }));
    await addReportsToCase(
      trx,
      c.id,
      stored.map((r) => ({ reportId: r.id, sha256: r.sha256 })),
      actor,
    );
    await addCaseEvent(trx, c.id, actor, 'received-from-partner', {
      packageId: manifest.packageId,
      packageSha256: ref.package.sha256,
      keyFingerprint: partner.key_fingerprint,
      messages: manifest.messages.length,
      originals: manifest.messages.filter((m) => m.original).length,
      verified: true,
      inReplyTo: ref.inReplyTo ?? null,
    });
    await trx
      .insertInto('action_received_packages')
      .values({
        id: newId(),
        partner_id: partner.id,
        package_id: manifest.packageId,
        package_sha256: ref.package.sha256,
        remote_case_id: manifest.caseId,
        case_id: c.id,
        messages: manifest.messages.length,
        report_ids: JSON.stringify(stored.map((r) => r.id)),
        received_at: nowIso(),
      })
      .execute();
    // Tell the sender, signed, through the outbox (a partner registered without a URL is not told).
    if (partner.url)
      await sendPartnerStatus(trx, config, c.id, { status: 'received', referralId: manifest.packageId }, 'system');
    return c.id;
  });
}

/**
 * Receives a partner's referral: authenticate, answer a repeat as before, verify, store the reports, file them under a
 * case.
 */
export async function receivePartnerReferral(
  ctx: AppContext,
  body: Buffer,
  headers: { signature?: string; fingerprint?: string },
): Promise<ReceivedReferral> {
  const { db } = ctx;
  const { partner, ref } = await authenticatedReferral(db, body, headers);
  const p = { id: partner.id, name: partner.name, country: partner.country };
  const previous = await db
    .selectFrom('action_received_packages')
    .selectAll()
    .where('partner_id', '=', partner.id)
    .where('package_id', '=', ref.referralId)
    .executeTakeFirst();
  if (previous) {
    return {
      caseId: previous.case_id,
      partner: p,
      packageId: previous.package_id,
      messages: previous.messages,
      reportIds: JSON.parse(previous.report_ids) as string[],
      duplicate: true,
    };
  }
  const { zip, manifest } = await verifiedPackage(partner, ref);
  const stored = await ctx.writer.submit(await reportInputs(zip, manifest, p, ref));
  // The key that signs the `received` status exists before the transaction (created on first use).
  if (partner.url) await loadInstanceKey(db, ctx.config);
  const caseId = await fileUnderCase(ctx, partner, ref, manifest, stored);
  return {
    caseId,
    partner: p,
    packageId: manifest.packageId,
    messages: manifest.messages.length,
    reportIds: stored.map((r) => r.id),
    duplicate: false,
  };
}
