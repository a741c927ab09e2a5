/**
 * The CPU-bound part of taking one mail to the reporting mailbox: check it is a mail, find its
 * original(s) (MIME walk, transfer decoding, ARF), hash the wrapper, check who forwarded it (SPF,
 * DKIM body hash) and, in a mail thread, hash and compress each original for storage. A 24 MB
 * forward costs hundreds of milliseconds of this; run on the SMTP thread it held up every other
 * request (issue 15), so mails past {@link INLINE_MAX_BYTES} are taken apart in a mail thread
 * (mail-threads.ts) and only the result comes back. Pure: no database, no context; DNS through
 * the port it is given.
 */
import { assertEmailMessage } from '../../evidence/message-check.ts';
import { prepareMessage, type PreparedMessage } from '../../evidence/store.ts';
import { headerValue, parseHeaderBlock } from '../../mail/mime-walk.ts';
import type { DnsResolver } from '../../analysis/stage.ts';
import { extractForwarded, parseMailbox, type ExtractedOriginal, type Extraction } from '../forward/extract.ts';
import { authenticateForwarder, type ForwarderAuth } from './forwarder-auth.ts';

export { INLINE_MAX_BYTES } from './inline-max.ts';

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

/** One original: its bytes as they arrived (taken apart inline), or already hashed and compressed (in a thread). */
export type TakenOriginal = Omit<ExtractedOriginal, 'raw'> &
  ({ raw: Buffer; prepared?: undefined } | { raw?: undefined; prepared: PreparedMessage });

/** A mail taken apart: everything the reports need but the database. */
export interface TakenApartMail {
  extraction: Omit<Extraction, 'originals'> & { originals: TakenOriginal[] };
  /** The claimed reporter (wrapper From, else MAIL FROM), proved or not. */
  reporterAddress: string | null;
  reporterAuth: ForwarderAuth;
  /** The wrapper's `Auto-Submitted` field (RFC 3834), which decides whether to acknowledge. */
  autoSubmitted: string | null;
}

/** Who claims to have forwarded the mail: the wrapper's From, else the envelope sender (ARF: the loop's address). */
export function claimedReporter(ex: Pick<Extraction, 'wrapper'>, env: Envelope): string | null {
  const envelopeFrom = env.mailFrom ? (parseMailbox(env.mailFrom)?.address ?? null) : null;
  // A redirect keeps the spam's own From: the reporter is who resent it (RFC 5322 §3.6.6), not the spam's sender.
  const resender = ex.wrapper.resentFrom ? (parseMailbox(ex.wrapper.resentFrom)?.address ?? null) : null;
  return resender ?? ex.wrapper.fromAddress ?? envelopeFrom;
}

/**
 * Takes one mail apart. Throws `AppError` (`NOT_AN_EMAIL`, `EMPTY_MESSAGE`, `NO_ATTACHED_MESSAGE`)
 * for mails we refuse. With `prepare`, each original comes back hashed and compressed instead of raw.
 */
export async function takeApart(
  raw: Buffer,
  env: Envelope,
  trustedForwarders: readonly string[],
  dns: DnsResolver,
  prepare: boolean,
): Promise<TakenApartMail> {
  assertEmailMessage(raw);
  const extraction = extractForwarded(raw);
  const reporterAddress = claimedReporter(extraction, env);
  const reporterAuth = await authenticateForwarder({
    raw,
    address: reporterAddress,
    mailFrom: env.mailFrom,
    clientIp: env.clientIp,
    helo: env.heloName,
    trustedForwarders,
    dns,
  });
  const autoSubmitted = headerValue(parseHeaderBlock(raw).fields, 'auto-submitted');
  const originals: TakenOriginal[] = extraction.originals.map(({ raw: bytes, ...o }) =>
    prepare ? { ...o, prepared: prepareMessage(bytes) } : { ...o, raw: bytes },
  );
  return { extraction: { ...extraction, originals }, reporterAddress, reporterAuth, autoSubmitted };
}
