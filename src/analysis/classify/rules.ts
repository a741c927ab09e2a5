/**
 * The named classification rules (STYLE.md: UPPER_SNAKE names from one typed constant map, so a
 * rename fails to compile). Each rule votes for one category; its weight is configuration
 * (`scores.default.json`, overridable by the operator, as rspamd's `scores.d`). A rule is a pure
 * test over the Analysis record and says why it fired.
 */
import type { Analysis } from '../analysis-schema.ts';
import type { Category } from './categories.ts';
import { isExecutable } from '../sniff.ts';
import { type SmsProfile, smsSignals } from './sms-signals.ts';

export interface RuleDef {
  category: Category;
  description: string;
}

export const RULES = {
  // malware: a dangerous attachment
  EXECUTABLE_ATTACHMENT: {
    category: 'malware',
    description: 'An attachment is an executable, script or macro-capable document.',
  },
  ATTACHMENT_TYPE_MISMATCH: {
    category: 'malware',
    description: 'An attachment’s content does not match its declared type or name.',
  },
  DANGEROUS_ATTACHMENT_NAME: {
    category: 'malware',
    description: 'An attachment is named like an executable, script, disk image or double extension (invoice.pdf.exe).',
  },
  ARCHIVE_ATTACHMENT: {
    category: 'malware',
    description: 'An attachment is an archive, which may hide an executable.',
  },
  MACRO_DOCUMENT: {
    category: 'malware',
    description:
      'A document attachment carries VBA macros (vbaProject.bin, an OLE _VBA_PROJECT storage), whatever its name.',
  },
  ARCHIVE_CARRIES_EXECUTABLE: {
    category: 'malware',
    description:
      'An archive attachment contains an executable, script, macro document or disk image (names read even when ' +
      'password-protected).',
  },
  HTML_SMUGGLING: {
    category: 'malware',
    description:
      'HTML whose script decodes an embedded blob and saves it as a file (atob/Uint8Array + ' +
      'Blob/createObjectURL/msSaveOrOpenBlob/download), or a data: URI of an executable or archive type.',
  },
  // phishing: credential or payment theft, brand impersonation
  FORM_IN_MESSAGE: { category: 'phishing', description: 'The HTML contains a form that posts data somewhere.' },
  BRAND_IMPERSONATION: {
    category: 'phishing',
    description: 'The display name names a brand the sending domain does not belong to.',
  },
  LINK_TEXT_MISMATCH: { category: 'phishing', description: 'A link shows one domain but points to another.' },
  CREDENTIAL_LURE: {
    category: 'phishing',
    description: 'The text asks to verify, unlock or sign in to an account or mailbox.',
  },
  URL_IP_LITERAL: { category: 'phishing', description: 'A link points at a bare IP address.' },
  HTML_ATTACHMENT: { category: 'phishing', description: 'An HTML file is attached (a local credential form).' },
  // scam: advance fee, lottery, romance, crypto/investment, extortion
  ADVANCE_FEE: {
    category: 'scam',
    description: 'Advance-fee vocabulary: inheritance, beneficiary, fund transfer, next of kin.',
  },
  LOTTERY_PRIZE: { category: 'scam', description: 'Lottery or prize vocabulary: you have won, claim your prize.' },
  SEXTORTION: {
    category: 'scam',
    description: 'Extortion: a payment in bitcoin demanded under threat of a compromising video.',
  },
  INVESTMENT_FRAUD: { category: 'scam', description: 'Crypto or investment returns promised.' },
  ROMANCE_LURE: {
    category: 'scam',
    description: 'Romance-scam vocabulary: lonely, looking for a serious relationship.',
  },
  CRYPTO_WALLET_PRESENT: { category: 'scam', description: 'The text carries a cryptocurrency wallet address.' },
  REPLY_TO_DIVERTED: { category: 'scam', description: 'Replies go to another domain than the From address.' },
  // commercial: unsolicited advertising
  MARKETING_LANGUAGE: {
    category: 'commercial',
    description: 'Advertising vocabulary: offer, discount, order now, free shipping.',
  },
  UNSUBSCRIBE_OFFERED: {
    category: 'commercial',
    description: 'An opt-out (List-Unsubscribe or an unsubscribe link) is offered: bulk mail.',
  },
  // legitimate: a newsletter or transactional mail the reporter probably signed up for
  DKIM_ALIGNED_PASS: {
    category: 'legitimate',
    description: 'A DKIM signature aligned with the From domain verifies (RFC 6376, RFC 7489 §3.1).',
  },
  DMARC_PASS: { category: 'legitimate', description: 'DMARC passes for the From domain (RFC 7489).' },
  RECEIVER_AUTH_PASS: {
    category: 'legitimate',
    description: 'The trusted receiver recorded DKIM/DMARC pass at arrival (RFC 8601).',
  },
  LIST_UNSUBSCRIBE_ONE_CLICK: {
    category: 'legitimate',
    description: 'A working one-click List-Unsubscribe (RFC 8058).',
  },
  KNOWN_SENDING_PLATFORM: {
    category: 'legitimate',
    description: 'Sent through a known e-mail service provider that enforces opt-in.',
  },
  CONSISTENT_IDENTITY: {
    category: 'legitimate',
    description: 'From, Return-Path and DKIM domains agree; no mismatch, no concealment.',
  },
  REPORTER_CONSENTED: { category: 'legitimate', description: 'The reporter says they had consented.' },
  // evidence against legitimacy
  SENDER_CONCEALED: {
    category: 'scam',
    description: 'The sender identity is concealed or disguised (2002/58/EC art. 13(4)).',
  },
  DMARC_FAILED: { category: 'phishing', description: 'DMARC fails for the From domain: the From address is spoofed.' },
  // SMS (sms-signals.ts, with the instance region's profile from data/sms-profiles.json)
  SMS_BRAND_LINK: {
    category: 'phishing',
    description: 'An SMS names a brand or public service of the region and links to a domain that is not its own.',
  },
  SMS_LOOKALIKE_DOMAIN: {
    category: 'phishing',
    description: 'An SMS links to a domain built on a brand’s name or domain (colissimo-suivi.info, ameli.fr-x.com).',
  },
  SMS_SHORTENED_LINK: { category: 'phishing', description: 'An SMS link goes through a URL shortener.' },
  SMS_ODD_TLD: {
    category: 'phishing',
    description: 'An SMS links to a domain under a cheap top-level domain favoured by throw-away sites.',
  },
  SMS_LINK_UNKNOWN_SENDER: {
    category: 'phishing',
    description: 'An SMS with a link comes from an unknown sender or an ordinary long number, not a short code or id.',
  },
  SMS_URGENCY: {
    category: 'phishing',
    description: 'An SMS with a link or a dubious number presses for haste (within 24 h, last reminder, suspended).',
  },
  SMS_PAYMENT_LURE: {
    category: 'phishing',
    description:
      'An SMS with a link or a dubious number asks for a fee, a fine or a small payment, or promises a refund.',
  },
  SMS_ACCOUNT_LURE: {
    category: 'phishing',
    description:
      'An SMS with a link or a dubious number asks to renew, update, confirm or unblock a card, account or right.',
  },
  SMS_PRIZE_LURE: {
    category: 'phishing',
    description: 'An SMS with a link or a dubious number announces a prize, gift card or selection.',
  },
  SMS_MONEY_PROMISE: {
    category: 'scam',
    description: 'An SMS promises easy money: so much a day, guaranteed returns, trading, paid likes.',
  },
  SMS_NEW_NUMBER: {
    category: 'scam',
    description: 'An SMS tells a parent of a “new number” or a broken phone (the “Hi mum” scam).',
  },
  SMS_APP_DOWNLOAD: {
    category: 'malware',
    description: 'An SMS links to an app package or executable to install (.apk, .ipa, .exe).',
  },
  SMS_PREMIUM_CALLBACK: { category: 'scam', description: 'An SMS gives a premium-rate number to call back.' },
  SMS_FOREIGN_CALLBACK: {
    category: 'scam',
    description: 'An SMS gives a number of another country than the instance’s to call back.',
  },
  SMS_MARKETING: {
    category: 'commercial',
    description: 'An SMS uses the region’s advertising wording (promo code, sales, STOP to a short number).',
  },
  SMS_BRAND_OWN_LINK: {
    category: 'legitimate',
    description: 'An SMS names a brand or public service and links only to that brand’s own domains.',
  },
  // other
  NO_CONTENT: {
    category: 'other',
    description: 'Nothing to judge: no text, no links, no attachments (or the analysis failed).',
  },
} as const satisfies Record<string, RuleDef>;

export type RuleName = keyof typeof RULES;
export const RULE_NAMES = Object.keys(RULES) as RuleName[];

export function isRuleName(v: string): v is RuleName {
  return Object.hasOwn(RULES, v);
}

export interface RuleHit {
  rule: RuleName;
  /** What it fired on (an attachment name, a phrase, a header). */
  detail: string;
}

const MAX_SCAN_CHARS = 20_000;

const EXEC_EXT = new RegExp(
  [
    String.raw`\.(exe|scr|com|pif|bat|cmd|vbs|vbe|js|jse|wsf|wsh|hta|msi|msp|lnk|ps1|jar|cpl|reg|dll|iso|img|vhd|`,
    'vhdx|docm|xlsm|pptm|xlam|dotm|one|chm|appx)$',
  ].join(''),
  'i',
);
const DOUBLE_EXT = /\.(pdf|doc|docx|xls|xlsx|jpg|png|txt|zip)\.[a-z0-9]{2,4}$/i;
const ARCHIVE = /(zip|rar|7z|x-tar|gzip|x-ace|x-arj|cab|iso9660)|\.(zip|rar|7z|tar|gz|ace|arj|cab|r\d\d)$/i;
const HTML_NAME = /\.(html?|shtml|xhtml|svg)$/i;

const PHRASES: Record<
  'CREDENTIAL_LURE' | 'ADVANCE_FEE' | 'LOTTERY_PRIZE' | 'INVESTMENT_FRAUD' | 'ROMANCE_LURE' | 'MARKETING_LANGUAGE',
  RegExp
> = {
  CREDENTIAL_LURE: new RegExp(
    [
      String.raw`\b(verify your (account|identity|information|email)|confirm your (account|identity|details|`,
      'password|email)|account (has been|will be) (suspended|locked|limited|closed|disabled|',
      'deactivated)|unusual (sign[- ]?in|activity)|update your (billing|payment|account) (details|',
      'information)|(mailbox|storage) (is )?(full|quota)|password (will )?expire|',
      're-?activate your account|validate your (account|mailbox)|v[ée]rifie[rz]? votre (compte|',
      'identit[ée])|votre compte (a [ée]t[ée]|sera) (suspendu|bloqu[ée]))',
    ].join(''),
    'i',
  ),
  ADVANCE_FEE: new RegExp(
    [
      String.raw`\b(next of kin|beneficiary|inheritance|(unclaimed|dormant) (fund|account)|fund transfer|`,
      'transfer of (the )?(sum|fund)|barrister|diplomat(ic)? (bag|courier)|compensation (fund|payment)|',
      'atm (master|visa )?card|million (united states )?(dollars|usd|euros?|pounds)|',
      String.raw`\$\s?\d+(\.\d+)?\s?million|(us|usd)\s?\d+(,\d{3}){2})`,
    ].join(''),
    'i',
  ),
  LOTTERY_PRIZE: new RegExp(
    [
      String.raw`\b(you (have )?won|winning (number|notification)|lottery|sweepstake|claim your (prize|reward|`,
      'winnings)|prize (money|award)|lucky (winner|draw))',
    ].join(''),
    'i',
  ),
  INVESTMENT_FRAUD: new RegExp(
    [
      String.raw`\b(guaranteed (return|profit)|double your (money|investment|bitcoin)|investment (opportunity|`,
      'plan)|trading (platform|bot)|passive income|crypto ?currency (investment|trading)|forex)',
    ].join(''),
    'i',
  ),
  ROMANCE_LURE: new RegExp(
    [
      String.raw`\b(lonely|serious relationship|looking for (love|a man|a woman|my soulmate)|my (sweetheart|`,
      String.raw`darling|dear friend)|widow(er)?\b.*\b(meet|relationship))`,
    ].join(''),
    'i',
  ),
  MARKETING_LANGUAGE: new RegExp(
    [
      String.raw`\b(special offer|limited time|order now|buy now|free shipping|best price|\d+\s?% off|discount|`,
      String.raw`lowest price|act now|save (up to )?\$?\d+|click here to (order|buy|shop)|promo(tion)? code|`,
      String.raw`newsletter|viagra|cialis|pharmacy|replica|mortgage rates?|weight loss|casino|meds?\b)`,
    ].join(''),
    'i',
  ),
};

const SEXTORTION_PAY = /\b(bitcoin|btc)\b/i;
const SEXTORTION_THREAT =
  /\b(webcam|video|recorded|record(ing)?|adult (site|website)|porn|masturbat|intimate|compromising|your contacts)\b/i;

/** Domains of e-mail service providers (DKIM d= or Return-Path) that enforce opt-in lists. */
export const KNOWN_ESP_DOMAINS: readonly string[] = [
  'sendgrid.net',
  'mcsv.net',
  'mcdlv.net',
  'rsgsv.net',
  'mailchimpapp.net',
  'amazonses.com',
  'sparkpostmail.com',
  'mailgun.org',
  'exacttarget.com',
  'exct.net',
  'hubspotemail.net',
  'constantcontact.com',
  'ccsend.com',
  'sendinblue.com',
  'brevo.com',
  'mailjet.com',
  'klaviyomail.com',
  'createsend.com',
  'cmail19.com',
  'cmail20.com',
  'mandrillapp.com',
  'postmarkapp.com',
  'mktomail.com',
  'emarsys.net',
  'salesforce.com',
  'msgfocus.com',
  'sailthru.com',
  'responsys.net',
  'bounces.google.com',
];

function domainOf(address: string | null | undefined): string | null {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  return at >= 0
    ? address
        .slice(at + 1)
        .toLowerCase()
        .replace(/[>\s]/g, '')
    : null;
}

function sameOrg(a: string | null, b: string | null): boolean {
  if (!a || !b) return false;
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

function onEsp(domain: string | null): string | null {
  if (!domain) return null;
  return KNOWN_ESP_DOMAINS.find((d) => domain === d || domain.endsWith(`.${d}`)) ?? null;
}

/**
 * Evaluates every rule on an analysis; returns the ones that fired, in map order. The SMS rules need
 * the instance region's SMS profile (`loadSmsProfile`); without one they do not run.
 */
export function evaluateRules(a: Analysis, smsProfile: SmsProfile | null = null): RuleHit[] {
  const hits: RuleHit[] = [];
  const hit = (rule: RuleName, detail: string) => hits.push({ rule, detail });
  const codes = new Set(a.findings.map((f) => f.code));
  const text = `${a.parse.subject ?? ''}\n${a.parse.visibleText}`.slice(0, MAX_SCAN_CHARS);

  for (const att of a.parse.attachments) {
    const name = att.filename ?? '';
    const type = `${att.sniffedType ?? ''} ${att.declaredType}`.toLowerCase();
    if (EXEC_EXT.test(name) || DOUBLE_EXT.test(name)) hit('DANGEROUS_ATTACHMENT_NAME', name);
    else if (ARCHIVE.test(type) || ARCHIVE.test(name)) hit('ARCHIVE_ATTACHMENT', name || type.trim());
    if (HTML_NAME.test(name) || type.includes('text/html')) {
      if (att.disposition === 'attachment' || HTML_NAME.test(name)) hit('HTML_ATTACHMENT', name || 'text/html');
    }
  }
  // An HTML or SVG file is "executable" for the analysis (it runs script), but on its own it is a
  // local credential form (HTML_ATTACHMENT, phishing); it is malware when it smuggles a file.
  const runnable = a.parse.attachments.find(
    (att) =>
      isExecutable(att.filename, att.sniffedType) &&
      !HTML_NAME.test(att.filename ?? '') &&
      !/html|svg/i.test(att.sniffedType ?? ''),
  );
  if (runnable)
    hit(
      'EXECUTABLE_ATTACHMENT',
      `${runnable.filename ?? '(no name)'} declared ${runnable.declaredType}, content \
${runnable.sniffedType ?? 'unrecognised'}`,
    );
  for (const code of ['MACRO_DOCUMENT', 'ARCHIVE_CARRIES_EXECUTABLE', 'HTML_SMUGGLING'] as const) {
    if (codes.has(code)) hit(code, a.findings.find((f) => f.code === code)?.evidence.value ?? '');
  }
  if (codes.has('ATTACHMENT_TYPE_MISMATCH'))
    hit(
      'ATTACHMENT_TYPE_MISMATCH',
      a.findings.find((f) => f.code === 'ATTACHMENT_TYPE_MISMATCH')?.evidence.value ?? '',
    );

  if (codes.has('FORM_IN_MESSAGE'))
    hit('FORM_IN_MESSAGE', a.findings.find((f) => f.code === 'FORM_IN_MESSAGE')?.evidence.value ?? '');
  if (codes.has('BRAND_IMPERSONATION') || a.indicators.sender.impersonatedBrand)
    hit('BRAND_IMPERSONATION', a.indicators.sender.impersonatedBrand ?? '');
  if (codes.has('URL_TEXT_HREF_MISMATCH'))
    hit('LINK_TEXT_MISMATCH', a.findings.find((f) => f.code === 'URL_TEXT_HREF_MISMATCH')?.evidence.value ?? '');
  if (
    codes.has('URL_IP_LITERAL') ||
    a.indicators.urls.some((u) => u.registrableDomain === null && /^[\d.]+$|:/.test(u.host))
  ) {
    hit('URL_IP_LITERAL', a.indicators.urls.find((u) => u.registrableDomain === null)?.host ?? '');
  }
  for (const name of [
    'CREDENTIAL_LURE',
    'ADVANCE_FEE',
    'LOTTERY_PRIZE',
    'INVESTMENT_FRAUD',
    'ROMANCE_LURE',
    'MARKETING_LANGUAGE',
  ] as const) {
    const m = PHRASES[name].exec(text);
    if (m) hit(name, m[0]);
  }
  if (SEXTORTION_PAY.test(text) && SEXTORTION_THREAT.test(text))
    hit('SEXTORTION', `${SEXTORTION_PAY.exec(text)?.[0]} + ${SEXTORTION_THREAT.exec(text)?.[0]}`);
  if (a.indicators.wallets.length > 0 || codes.has('CRYPTO_WALLET'))
    hit('CRYPTO_WALLET_PRESENT', a.indicators.wallets[0]?.address ?? '');

  const fromDomain = domainOf(a.indicators.sender.from ?? a.parse.from[0]?.address);
  const replyDomain = domainOf(a.indicators.sender.replyTo ?? a.parse.replyTo[0]?.address);
  if (replyDomain && fromDomain && !sameOrg(replyDomain, fromDomain))
    hit('REPLY_TO_DIVERTED', `${fromDomain} → ${replyDomain}`);

  const optOut = a.compliance.optOut;
  if (optOut.status === 'present' || optOut.listUnsubscribe.length > 0)
    hit('UNSUBSCRIBE_OFFERED', optOut.listUnsubscribe[0] ?? optOut.bodyLinks[0] ?? '');
  if (optOut.oneClick) hit('LIST_UNSUBSCRIBE_ONE_CLICK', optOut.listUnsubscribe[0] ?? '');

  const alignedDkim = a.auth.dkim.find(
    (d) => d.result === 'pass' && (d.aligned === true || sameOrg(d.domain?.toLowerCase() ?? null, fromDomain)),
  );
  if (alignedDkim) hit('DKIM_ALIGNED_PASS', alignedDkim.domain ?? '');
  if (a.auth.dmarc.result === 'pass') hit('DMARC_PASS', a.auth.dmarc.domain ?? '');
  if (a.auth.dmarc.result === 'fail') hit('DMARC_FAILED', a.auth.dmarc.domain ?? '');
  const receiver = a.auth.receiver?.results ?? [];
  const rxPass =
    receiver.some((r) => r.method === 'dmarc' && r.result === 'pass') ||
    receiver.some(
      (r) =>
        r.method === 'dkim' &&
        r.result === 'pass' &&
        sameOrg(r.properties['header.d']?.toLowerCase() ?? null, fromDomain),
    );
  if (rxPass) hit('RECEIVER_AUTH_PASS', a.auth.receiver?.authservId ?? '');
  if (!a.auth.dmarc.result.startsWith('fail') && receiver.some((r) => r.method === 'dmarc' && r.result === 'fail'))
    hit('DMARC_FAILED', a.auth.receiver?.authservId ?? '');

  const esp =
    onEsp(a.auth.dkim.find((d) => d.result === 'pass')?.domain?.toLowerCase() ?? null) ??
    onEsp(domainOf(a.indicators.sender.returnPath ?? a.parse.returnPath));
  if (esp) hit('KNOWN_SENDING_PLATFORM', esp);
  const rpDomain = domainOf(a.indicators.sender.returnPath ?? a.parse.returnPath);
  if (
    alignedDkim &&
    a.indicators.sender.mismatches.length === 0 &&
    !a.compliance.senderConcealed &&
    (rpDomain === null || sameOrg(rpDomain, fromDomain) || esp)
  ) {
    hit('CONSISTENT_IDENTITY', fromDomain ?? '');
  }
  if (a.compliance.consent.stated === 'given') hit('REPORTER_CONSENTED', a.compliance.consent.statement ?? '');
  if (a.compliance.senderConcealed || codes.has('SENDER_CONCEALED'))
    hit('SENDER_CONCEALED', a.indicators.sender.from ?? '');

  const empty =
    a.parse.visibleText.trim().length === 0 &&
    (a.parse.subject ?? '').trim().length === 0 &&
    a.indicators.urls.length === 0 &&
    a.parse.attachments.length === 0;
  if (smsProfile) for (const h of smsSignals(a, smsProfile)) hit(h.rule, h.detail);

  if (empty || a.error) hit('NO_CONTENT', a.error?.message ?? 'empty');
  return hits;
}
