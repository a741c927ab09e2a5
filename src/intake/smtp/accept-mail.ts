/**
 * From one mail received at the reporting mailbox to its reports: check it is a mail, find the
 * original(s) (forward as attachment, ARF, redirect, inline forward), identify the reporter, and
 * submit everything as one atomic submission. The caller answers `250` only when this resolves.
 */
import type { AppContext } from '../../evidence/context.ts';
import { publicBaseUrl } from '../../core/config.ts';
import { assertEmailMessage } from '../../evidence/message-check.ts';
import { extractForwarded, parseMailbox, type Extraction } from '../forward/extract.ts';
import type { ReportInput, StoredReport } from '../../evidence/report-writer.ts';
import type { DnsResolver } from '../../analysis/stage.ts';
import { authenticateForwarder, type ForwarderAuth } from './forwarder-auth.ts';

/** What the SMTP session knows about the mail. */
export interface Envelope {
  /** MAIL FROM address; empty for the null sender. */
  mailFrom: string;
  rcptTo: string[];
  clientIp: string | null;
  heloName: string | null;
  /** True when the mail came over TLS (STARTTLS). */
  tls: boolean;
}

export interface AcceptedMail {
  reports: StoredReport[];
  extraction: Extraction;
  reporterAddress: string | null;
  /** The reports each with its quality, in submission order. */
  qualities: ('full' | 'inline')[];
  /** Whether the reporter address was proved (only a proved address is attributed or written to). */
  reporterAuth: ForwarderAuth;
}

/**
 * Parses, attributes and durably stores the reports a mail carries. Throws `AppError`
 * (`NOT_AN_EMAIL`, `EMPTY_MESSAGE`, `NO_ATTACHED_MESSAGE`) for mails we refuse.
 */
export async function acceptMail(ctx: AppContext, raw: Buffer, env: Envelope, dns: DnsResolver): Promise<AcceptedMail> {
  assertEmailMessage(raw);
  const extraction = extractForwarded(raw);
  const reporterAddress = claimedReporter(extraction, env);
  const reporterAuth = await authenticateForwarder({
    raw,
    address: reporterAddress,
    mailFrom: env.mailFrom,
    clientIp: env.clientIp,
    helo: env.heloName,
    trustedForwarders: ctx.config.smtpTrustedForwarders,
    dns,
  });
  const inputs = await buildReportInputs(ctx, extraction, env, reporterAuth);
  const reports = await ctx.writer.submit(inputs);
  return {
    reports,
    extraction,
    reporterAddress: inputs[0]?.reporterAddress ?? null,
    qualities: inputs.map((i) => i.quality ?? 'full'),
    reporterAuth,
  };
}

/** Who claims to have forwarded the mail: the wrapper's From, else the envelope sender (ARF: the loop's address). */
export function claimedReporter(ex: Extraction, env: Envelope): string | null {
  const envelopeFrom = env.mailFrom ? (parseMailbox(env.mailFrom)?.address ?? null) : null;
  return ex.wrapper.fromAddress ?? envelopeFrom;
}

/**
 * The reporter is who forwarded the mail ({@link claimedReporter}). An existing account with that
 * address gets the report attributed to it only when the address was proved (see
 * forwarder-auth.ts); the claim and how it was checked are kept in the report's context.
 */
export async function buildReportInputs(
  ctx: AppContext,
  ex: Extraction,
  env: Envelope,
  auth: ForwarderAuth,
): Promise<ReportInput[]> {
  const reporterAddress = claimedReporter(ex, env);
  const userId = reporterAddress && auth.verified ? await findUserIdByEmail(ctx, reporterAddress) : null;
  const smtp = {
    mailFrom: env.mailFrom || null,
    rcptTo: env.rcptTo.slice(0, 20),
    clientIp: env.clientIp,
    helo: env.heloName,
    tls: env.tls,
  };
  const wrapper = {
    sha256: ex.wrapper.sha256,
    size: ex.wrapper.size,
    from: ex.wrapper.from,
    subject: ex.wrapper.subject,
    date: ex.wrapper.date,
    messageId: ex.wrapper.messageId,
    ...(ex.wrapper.resentFrom ? { resentFrom: ex.wrapper.resentFrom } : {}),
  };
  const arf = ex.arf
    ? {
        feedbackType: ex.arf.feedbackType,
        userAgent: ex.arf.userAgent,
        version: ex.arf.version,
        originalMailFrom: ex.arf.originalMailFrom,
        originalRcptTo: ex.arf.originalRcptTo,
        arrivalDate: ex.arf.arrivalDateIso ?? ex.arf.arrivalDate,
        reportingMta: ex.arf.reportingMta,
        sourceIp: ex.arf.sourceIp,
        incidents: ex.arf.incidents,
        reportedDomain: ex.arf.reportedDomain,
        reportedUri: ex.arf.reportedUri,
        originalKind: ex.arf.originalKind,
        warnings: ex.arf.warnings,
      }
    : null;
  return ex.originals.map((o, index) => ({
    raw: o.raw,
    channel: ex.arf ? 'arf' : 'smtp',
    quality: o.quality,
    reporterAddress,
    reporterUserId: userId,
    clientIp: env.clientIp,
    note: ex.note,
    // A client that retries after losing our 250 sends the same bytes: do not store twice.
    dedupKey: `smtp:${ex.wrapper.sha256}:${index}`,
    context: {
      how: o.how,
      part: { index, of: ex.originals.length, filename: o.filename, transferEncoding: o.transferEncoding },
      ...(o.recoveredHeaders ? { recoveredHeaders: o.recoveredHeaders.map((h) => h.split(':')[0]) } : {}),
      ...(arf ? { arf, feedbackType: arf.feedbackType } : {}),
      ...(o.wholeMail ? { wholeMail: true } : {}),
      wrapper,
      smtp,
      reporterAuth: auth,
    },
  }));
}

async function findUserIdByEmail(ctx: AppContext, address: string): Promise<string | null> {
  const row = await ctx.db
    .selectFrom('users')
    .select(['id', 'disabled_at'])
    .where((eb) => eb.or([eb('email', '=', address), eb('email', '=', address.toLowerCase())]))
    .executeTakeFirst();
  return row && row.disabled_at === null ? row.id : null;
}

/** The private tracking link of a report. */
export function trackingUrl(ctx: AppContext, trackingToken: string): string {
  return `${publicBaseUrl(ctx.config)}/track/${trackingToken}`;
}
