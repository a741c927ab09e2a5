/**
 * Every finding an analysis can record, in one typed constant map (STYLE.md: rule names are
 * UPPER_SNAKE and come from one map, so a rename fails to compile). A stage records a finding by
 * its code; the severity and the one-line meaning live here, once.
 *
 * Ownership: the analysis-core block is kept by the analysis core; the trace-back / authentication
 * / enrichment block by the stages 2, 3 and 5 (add one line per new code there).
 */

/** How much a finding weighs for an analyst. `info` is context, `high` is a strong abuse signal. */
export type Severity = 'info' | 'low' | 'medium' | 'high';

export interface FindingDef {
  severity: Severity;
  /** What the finding means, for the README and the CLI legend. */
  meaning: string;
}

export const FINDINGS = {
  // ── analysis core: pipeline ─────────────────────────────────────────────────────────────────
  ANALYSIS_ERROR: {
    severity: 'info',
    meaning: 'The analysis failed on this input; the rest of the record is partial.',
  },
  ANALYSIS_TRUNCATED: {
    severity: 'info',
    meaning:
      'The decoded text was longer than the analysis reads (SPAMDESK_ANALYSIS_MAX_TEXT_BYTES): headers and the text ' +
      'up to the bound were analysed, the rest was not.',
  },
  ANALYSIS_TIMEOUT: { severity: 'info', meaning: 'The analysis exceeded its time bound and was stopped.' },
  STAGE_ERROR: { severity: 'info', meaning: 'One stage failed; the other stages still ran.' },
  // ── analysis core: parse (stage 1) ──────────────────────────────────────────────────────────
  PARSE_ERROR: { severity: 'info', meaning: 'The MIME structure could not be parsed; evidence is kept unaltered.' },
  PARSE_LIMIT_REACHED: {
    severity: 'low',
    meaning: 'A parser limit (nesting depth, header size, decoded size) was reached.',
  },
  BARE_LINE_ENDINGS: {
    severity: 'info',
    meaning: 'The message uses CR-only or LF-only line endings (normalised in a copy for parsing).',
  },
  UNKNOWN_CHARSET: { severity: 'low', meaning: 'A part declares a charset no decoder knows.' },
  NO_FROM_HEADER: { severity: 'medium', meaning: 'The message has no From header (RFC 5322 §3.6 requires one).' },
  NO_DATE_HEADER: { severity: 'low', meaning: 'The message has no Date header (RFC 5322 §3.6 requires one).' },
  NO_MESSAGE_ID: { severity: 'low', meaning: 'The message has no Message-ID header.' },
  ATTACHMENT_TYPE_MISMATCH: {
    severity: 'high',
    meaning: 'An attachment’s content does not match its declared type or file name.',
  },
  EXECUTABLE_ATTACHMENT: {
    severity: 'high',
    meaning: 'An attachment is an executable, script or macro-capable document.',
  },
  ARCHIVE_ATTACHMENT: { severity: 'low', meaning: 'An attachment is an archive (may hide its content).' },
  MACRO_DOCUMENT: {
    severity: 'high',
    meaning: 'An attachment is a document carrying VBA macros, whatever its name says.',
  },
  ARCHIVE_CARRIES_EXECUTABLE: {
    severity: 'high',
    meaning:
      'An archive attachment contains a file that runs code when opened (executable, script, macro document, disk ' +
      'image).',
  },
  HTML_SMUGGLING: {
    severity: 'high',
    meaning:
      'HTML (a body or an attachment) whose script builds a file in the browser from an embedded blob (MITRE ' +
      'T1027.006).',
  },
  NESTED_MESSAGE: {
    severity: 'info',
    meaning: 'The message carries another message (message/rfc822), analysed recursively.',
  },
  HTML_ONLY: { severity: 'low', meaning: 'The message has HTML but no plain-text alternative.' },
  // ── analysis core: indicators (stage 4) ─────────────────────────────────────────────────────
  URL_SHORTENER: {
    severity: 'medium',
    meaning: 'A URL goes through a shortener or open redirector that hides its destination.',
  },
  URL_DEFANGED: { severity: 'low', meaning: 'A URL was written defanged (hxxp, [.]) to slip past filters.' },
  URL_IP_LITERAL: { severity: 'medium', meaning: 'A URL points at a bare IP address.' },
  URL_TEXT_HREF_MISMATCH: { severity: 'high', meaning: 'A link shows one domain but points to another.' },
  FORM_IN_MESSAGE: {
    severity: 'high',
    meaning: 'The HTML contains a form that posts data somewhere (credential phishing).',
  },
  CRYPTO_WALLET: { severity: 'medium', meaning: 'The message contains a cryptocurrency wallet address.' },
  PHONE_NUMBER: { severity: 'info', meaning: 'The message contains a phone number.' },
  FROM_REPLY_TO_MISMATCH: { severity: 'medium', meaning: 'Replies go to a different domain than the From address.' },
  FROM_RETURN_PATH_MISMATCH: {
    severity: 'low',
    meaning: 'The envelope sender (Return-Path) domain differs from the From domain.',
  },
  DISPLAY_NAME_ADDRESS_MISMATCH: {
    severity: 'medium',
    meaning: 'The display name contains an e-mail address other than the real one.',
  },
  BRAND_IMPERSONATION: {
    severity: 'high',
    meaning: 'The display name names a brand the sending domain does not belong to.',
  },
  SMS_ALPHANUMERIC_SENDER: { severity: 'info', meaning: 'The SMS was sent under an alphanumeric sender id.' },
  // ── analysis core: compliance (stage 6, seed 004 §1) ────────────────────────────────────────
  SENDER_CONCEALED: {
    severity: 'high',
    meaning: 'Sender identity concealed or disguised (Directive 2002/58/EC art. 13(4)).',
  },
  NO_OPT_OUT: {
    severity: 'medium',
    meaning: 'No opt-out: no List-Unsubscribe (RFC 2369) and no unsubscribe link in the body.',
  },
  BROKEN_OPT_OUT: {
    severity: 'medium',
    meaning: 'The only opt-out is unusable (malformed List-Unsubscribe, RFC 8058 one-click incomplete).',
  },
  CONSENT_DENIED_BY_REPORTER: {
    severity: 'high',
    meaning: 'The reporter states they never gave consent to receive this.',
  },
  CONSENT_GIVEN_BY_REPORTER: {
    severity: 'info',
    meaning: 'The reporter states they had consented (a relationship exists).',
  },
  // ── trace-back / authentication / enrichment (stages 2, 3, 5) ───────────────────────────────
  NO_RECEIVED_HEADERS: { severity: 'low', meaning: 'The message has no Received header; no trace-back is possible.' },
  RECEIVED_UNPARSED: { severity: 'info', meaning: 'A Received header could not be parsed.' },
  BROKEN_CHAIN: { severity: 'medium', meaning: 'A hop’s `by` host does not match the previous hop’s `from` host.' },
  FORGED_HOP: {
    severity: 'high',
    meaning: 'A Received header looks forged (inserted below the trusted boundary by the sender).',
  },
  PRIVATE_ADDRESS_SKIPPED: { severity: 'info', meaning: 'A private or reserved address was skipped and never blamed.' },
  ORIGIN_IPV6: { severity: 'info', meaning: 'The origin is an IPv6 address.' },
  WEBMAIL_ORIGINATING_IP: {
    severity: 'info',
    meaning: 'A webmail header (X-Originating-IP and similar) names the client address.',
  },
  SEALED_HANDOFF: {
    severity: 'info',
    meaning:
      'The origin is the machine a relaying mailbox at a trusted provider received the message from, recorded only in \
the provider’s sealed ARC set (its Received fields were stripped).',
  },
  NO_ORIGIN: { severity: 'low', meaning: 'No untrusted hop could be named as origin.' },
  SPF_FAIL: { severity: 'medium', meaning: 'SPF (RFC 7208) failed for the envelope sender.' },
  SPF_SOFTFAIL: { severity: 'low', meaning: 'SPF (RFC 7208) soft-failed for the envelope sender.' },
  DKIM_FAIL: { severity: 'medium', meaning: 'A DKIM signature (RFC 6376) did not verify.' },
  DKIM_NONE: { severity: 'low', meaning: 'The message carries no DKIM signature.' },
  DMARC_FAIL: { severity: 'high', meaning: 'DMARC (RFC 7489) failed for the From domain.' },
  ARC_FAIL: { severity: 'low', meaning: 'The ARC chain (RFC 8617) is broken.' },
  RECEIVER_AUTH_FAIL: {
    severity: 'medium',
    meaning: 'The trusted receiver’s own Authentication-Results (RFC 8601) record a failure.',
  },
  DNS_TEMPFAIL: {
    severity: 'info',
    meaning: 'A DNS lookup failed temporarily; the result is a temperror, not a verdict.',
  },
  ORIGIN_NO_RDNS: { severity: 'low', meaning: 'The origin IP has no reverse DNS.' },
  ORIGIN_NO_ABUSE_CONTACT: { severity: 'info', meaning: 'No abuse contact is known for the origin network.' },
} as const satisfies Record<string, FindingDef>;

export type FindingCode = keyof typeof FINDINGS;

/** True when `code` names a known finding. */
export function isFindingCode(code: string): code is FindingCode {
  return Object.hasOwn(FINDINGS, code);
}

/** The default severity of a finding. */
export function severityOf(code: FindingCode): Severity {
  return FINDINGS[code].severity;
}
