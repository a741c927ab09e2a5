/**
 * Stage 4, indicators: what the message points at and who it claims to be — URLs (text, HTML
 * href/src/form actions, defanged, bare domains; normalised, registrable domain via tldts,
 * shorteners marked), e-mail addresses, phone numbers in E.164 (libphonenumber-js, region from
 * SPAMDESK_REGION), cryptocurrency wallets, and the sender identity with its mismatches.
 */
import { z } from 'zod';
import { parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js';
import type { Email } from 'postal-mime';
import {
  MAX_INDICATORS_PER_KIND,
  emptySections,
  type IndicatorsResult,
  type UrlIndicator,
} from '../analysis-schema.ts';
import { clip, renderHtml } from '../parsed-email.ts';
import { normaliseUrl, scanText, shownDomain, type UrlCandidate } from '../indicators/urls.ts';
import { findWallets } from '../indicators/wallets.ts';
import { senderIdentity } from '../indicators/sender.ts';
import { defineStage, finding, type AnalysisSettings, type StageFinding, type StageInput } from '../stage.ts';

/** Text scanned per part for URLs and addresses. */
const MAX_SCAN_CHARS = 200_000;

interface Source {
  part: string;
  text: string;
  email: Email | null;
}

function sourcesOf(input: StageInput): Source[] {
  const m = input.message;
  if (m.sms) return [{ part: 'sms', text: m.sms.text, email: null }];
  const out: Source[] = [];
  if (m.email) out.push({ part: 'body', text: `${m.email.subject ?? ''}\n${m.email.text ?? ''}`, email: m.email });
  for (const n of m.nested)
    out.push({ part: `nested:${n.part}`, text: `${n.email.subject ?? ''}\n${n.email.text ?? ''}`, email: n.email });
  return out;
}

const params = z.object({
  /** Characters of text scanned for phone numbers per part (libphonenumber is the slow step). */
  maxPhoneScanChars: z.number().int().positive().default(20_000),
});

/**
 * URLs, addresses, phones and wallets of every part. `findings` null (the look-up profile): the
 * same indicators, without the findings about them.
 */
function indicatorsOf(
  input: StageInput,
  ctx: { params: z.infer<typeof params>; settings: AnalysisSettings },
  findings: StageFinding[] | null,
): Omit<IndicatorsResult, 'sender'> {
  const urls: UrlIndicator[] = [];
  const seenUrl = new Set<string>();
  const emails = new Set<string>();
  const phones = new Map<string, { raw: string; e164: string; region: string | null }>();
  const region = ctx.settings.region as CountryCode;
  const wallets: IndicatorsResult['wallets'] = [];
  const seenRaw = new Map<string, UrlIndicator | null>();
  const add = (c: UrlCandidate, part: string, base: string | null = null): UrlIndicator | null => {
    // The same link is often written many times (text and HTML, tracking pixels): normalise once.
    const key = `${c.source}\u0000${part}\u0000${base ?? ''}\u0000${c.raw}`;
    if (seenRaw.has(key)) return seenRaw.get(key) ?? null;
    const u = normaliseUrl(c, part, base);
    seenRaw.set(key, u);
    if (!u || seenUrl.has(u.url) || urls.length >= MAX_INDICATORS_PER_KIND) return u;
    seenUrl.add(u.url);
    urls.push(u);
    return u;
  };
  const addPhone = (raw: string, e164: string, country: string | null) => {
    if (!phones.has(e164) && phones.size < MAX_INDICATORS_PER_KIND)
      phones.set(e164, { raw: clip(raw, 100), e164, region: country });
  };

  for (const src of sourcesOf(input)) {
    const html = src.email ? renderHtml(src.email) : null;
    const text = clip(src.text, MAX_SCAN_CHARS) + (html ? `\n${html.text}` : '');
    const candidates: UrlCandidate[] = [];
    scanText(text, candidates, emails, MAX_INDICATORS_PER_KIND);
    for (const c of candidates) add(c, src.part);
    for (const l of html?.links ?? []) {
      const lower = l.url.trim().toLowerCase();
      if (lower.startsWith('mailto:')) {
        const addr = l.url.trim().slice(7).split('?')[0];
        if (addr.includes('@') && emails.size < MAX_INDICATORS_PER_KIND)
          emails.add(decodeURIComponentSafe(addr).toLowerCase());
        continue;
      }
      if (lower.startsWith('tel:') || lower.startsWith('sms:')) {
        const p = parsePhoneNumberFromString(l.url.trim().slice(4), region);
        if (p?.isValid()) addPhone(l.url, p.number, p.country ?? null);
        continue;
      }
      if (l.kind === 'form-action' && findings)
        findings.push(
          finding('FORM_IN_MESSAGE', `The HTML has a form posting to ${l.url || 'this page'}.`, {
            part: src.part,
            value: clip(l.url, 300),
          }),
        );
      if (
        lower.startsWith('cid:') ||
        lower.startsWith('data:') ||
        lower.startsWith('#') ||
        lower.startsWith('javascript:')
      )
        continue;
      const source =
        l.kind === 'href' ? 'html-href' : l.kind === 'src' ? 'html-src' : l.kind === 'css' ? 'html-css' : 'form-action';
      const u = add({ raw: l.url, source }, src.part, html?.base ?? null);
      const shown = l.kind === 'href' && findings ? shownDomain(l.text) : null;
      if (u && shown && findings && u.registrableDomain !== shown && u.host !== shown) {
        findings.push(
          finding('URL_TEXT_HREF_MISMATCH', `A link shows ${shown} but goes to ${u.registrableDomain ?? u.host}.`, {
            part: src.part,
            value: `${clip(l.text, 200)} → ${clip(u.url, 300)}`,
          }),
        );
      }
    }
    for (const cand of phoneCandidates(clip(text, ctx.params.maxPhoneScanChars))) {
      const p = parsePhoneNumberFromString(cand, region);
      if (p?.isValid() && writtenAsDialled(cand, p)) addPhone(cand, p.number, p.country ?? null);
    }
    for (const w of findWallets(text, MAX_INDICATORS_PER_KIND - wallets.length)) {
      if (!wallets.some((x) => x.address === w.address)) wallets.push(w);
    }
  }

  return {
    urls,
    emails: [...emails].slice(0, MAX_INDICATORS_PER_KIND),
    phones: [...phones.values()],
    wallets,
  };
}

export const indicatorsStage = defineStage({
  id: 'indicators',
  description:
    'URLs, e-mail addresses, phone numbers (E.164), crypto wallets, sender identity and brand impersonation.',
  kinds: ['email', 'sms'],
  params,
  run(input, ctx) {
    const findings: StageFinding[] = [];
    const { urls, emails, phones, wallets } = indicatorsOf(input, ctx, findings);
    for (const u of urls) {
      if (u.shortener)
        findings.push(
          finding('URL_SHORTENER', `${u.host} hides the destination of a link.`, {
            part: u.part,
            rule: 'data/shorteners.ts',
            value: u.url,
          }),
        );
      if (u.source === 'defanged')
        findings.push(
          finding('URL_DEFANGED', `The URL is written defanged: ${u.raw}.`, { part: u.part, value: u.raw }),
        );
      if (u.registrableDomain === null)
        findings.push(
          finding('URL_IP_LITERAL', `A link points at the bare address ${u.host}.`, { part: u.part, value: u.url }),
        );
    }
    for (const w of wallets)
      findings.push(
        finding('CRYPTO_WALLET', `A ${w.currency} wallet address appears in the message.`, { value: w.address }),
      );
    if (phones.length > 0)
      findings.push(
        finding('PHONE_NUMBER', `${phones.length} phone number(s) in the message.`, {
          value: phones
            .slice(0, 5)
            .map((p) => p.e164)
            .join(', '),
        }),
      );

    const id = senderIdentity(input.analysis.parse);
    findings.push(...id.findings);
    const result: IndicatorsResult = { urls, emails, phones, wallets, sender: id.sender };
    return { result: { indicators: result }, findings: dedupeFindings(findings) };
  },
});

/**
 * The indicators stage of the `lookup` profile: the same URLs, phones and wallets (what a
 * fingerprint links on), without findings or the sender identity.
 */
export const lookupIndicatorsStage = defineStage({
  ...indicatorsStage,
  description: 'URLs, phone numbers and wallets: what a look-up links on.',
  run(input, ctx) {
    return { result: { indicators: { ...indicatorsOf(input, ctx, null), sender: emptySections().indicators.sender } } };
  },
});

/**
 * Digit runs that could be phone numbers (7–15 digits with the usual separators, ITU-T E.164
 * allows 15). libphonenumber's own text search costs far more per message; this pre-filter hands
 * it only plausible candidates, and `parsePhoneNumberFromString` + `isValid()` decides.
 */
/**
 * Whether a run of digits that parses as a valid number in the region is written the way a number of
 * it is dialled: in international form (`+…`, `00…`), or nationally WITH the region's trunk prefix
 * where it has one (French numbers are written `08 91 01 67 16`, never `891016716`). Without this, in
 * English mail parsed in the FR region a US ZIP+4 code (`Las Vegas, NV 89101-6716`) was the French
 * premium number +33 8 91 01 67 16, an IP address in a body (`61.129.81.99`) a mobile number, a
 * copyright's `9 1999-2002` another — 111 of 165 phone indicators in 1,800 SpamAssassin and TREC
 * messages, each a strong campaign link and a published "scam number" of somebody real.
 */
export function writtenAsDialled(candidate: string, p: PhoneNumber): boolean {
  const s = candidate.trim();
  // A dotted quad is an IPv4 address; a run of spaces is a table's columns, not one number.
  if (DOTTED_QUAD.test(s) || /\s{2,}/.test(s)) return false;
  if (s.startsWith('+') || s.startsWith('00')) return true;
  const digits = s.replace(/\D/g, '');
  const national = String(p.nationalNumber);
  // The region writes its numbers with a trunk prefix (national format has digits the national number lacks).
  const trunk = p.formatNational().replace(/\D/g, '') !== national;
  return !(trunk && digits === national);
}

/** An IPv4 address as a body writes it (four dot-separated groups of one to three digits). */
const DOTTED_QUAD = /^\d{1,3}(?:\.\d{1,3}){3}$/;

export function phoneCandidates(text: string): string[] {
  const out: string[] = [];
  const re = /(?:\+|00)?\d[\d .()/-]{5,22}\d/g;
  for (let m = re.exec(text); m !== null && out.length < 200; m = re.exec(text)) {
    const digits = m[0].replace(/\D/g, '').length;
    if (digits >= 7 && digits <= 15) out.push(m[0].trim());
  }
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** One finding per code and value (a shortener linked ten times is one finding). */
function dedupeFindings(list: StageFinding[]): StageFinding[] {
  const seen = new Set<string>();
  return list.filter((f) => {
    const k = `${f.code}|${f.evidence.value ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
