/**
 * From one mail received at the reporting mailbox to its reports: take it apart (check it is a
 * mail, find the original(s): forward as attachment, ARF, redirect, inline forward; identify the
 * reporter) — in a mail thread when it is large — and submit everything as one atomic submission.
 * The caller answers `250` only when this resolves.
 */
import type { AppContext } from '../../evidence/context.ts';
import { publicBaseUrl } from '../../core/config.ts';
import type { ReportInput, StoredReport } from '../../evidence/report-writer.ts';
import type { DnsResolver } from '../../analysis/stage.ts';
import type { ForwarderAuth } from './forwarder-auth.ts';
import type { MailThreads } from './mail-threads.ts';
import { INLINE_MAX_BYTES, takeApart, type Envelope, type TakenApartMail } from './take-apart.ts';

export { claimedReporter, type Envelope } from './take-apart.ts';

export interface AcceptedMail {
  reports: StoredReport[];
  extraction: TakenApartMail['extraction'];
  reporterAddress: string | null;
  /** The reports each with its quality, in submission order. */
  qualities: ('full' | 'inline')[];
  /** Whether the reporter address was proved (only a proved address is attributed or written to). */
  reporterAuth: ForwarderAuth;
  /** The wrapper's `Auto-Submitted` field. */
  autoSubmitted: string | null;
}

/**
 * Parses, attributes and durably stores the reports a mail carries. Throws `AppError`
 * (`NOT_AN_EMAIL`, `EMPTY_MESSAGE`, `NO_ATTACHED_MESSAGE`) for mails we refuse. With `threads`, a
 * mail larger than {@link INLINE_MAX_BYTES} is taken apart there, and its bytes are moved to the
 * thread: the caller must not read `raw` afterwards.
 */
export async function acceptMail(
  ctx: AppContext,
  raw: Buffer,
  env: Envelope,
  dns: DnsResolver,
  threads?: MailThreads,
): Promise<AcceptedMail> {
  const trusted = ctx.config.smtpTrustedForwarders;
  const mail =
    threads && raw.length > INLINE_MAX_BYTES
      ? await threads.takeApart(raw, env, trusted, dns)
      : await takeApart(raw, env, trusted, dns, false);
  const inputs = await buildReportInputs(ctx, mail, env);
  const reports = await ctx.writer.submit(inputs);
  return {
    reports,
    extraction: mail.extraction,
    reporterAddress: inputs[0]?.reporterAddress ?? null,
    qualities: inputs.map((i) => i.quality ?? 'full'),
    reporterAuth: mail.reporterAuth,
    autoSubmitted: mail.autoSubmitted,
  };
}

/**
 * The reporter is who forwarded the mail ({@link claimedReporter}). An existing account with that
 * address gets the report attributed to it only when the address was proved (see
 * forwarder-auth.ts); the claim and how it was checked are kept in the report's context.
 */
export async function buildReportInputs(ctx: AppContext, mail: TakenApartMail, env: Envelope): Promise<ReportInput[]> {
  const ex = mail.extraction;
  const auth = mail.reporterAuth;
  const reporterAddress = mail.reporterAddress;
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
    ...(o.prepared ? { prepared: o.prepared } : { raw: o.raw }),
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
