/**
 * Stage 6, compliance with the EU rules seed 004 §1 quotes (Directive 2002/58/EC art. 13):
 * rule 1 prior consent (the reporter's own statement, when given), rule 2 no disguised or concealed
 * sender, rule 3 a valid opt-out address — List-Unsubscribe (RFC 2369) with RFC 8058 one-click, or
 * an unsubscribe link in the body. Each finding names the header, link or statement it rests on.
 */
import { z } from 'zod';
import type { ComplianceResult } from '../analysis-schema.ts';
import { clip, headerValues, renderHtml } from '../parsed-email.ts';
import { defineStage, finding, type ReporterStatement, type StageFinding, type StageInput } from '../stage.ts';

const OPT_OUT_WORDS = new RegExp(
  [
    String.raw`unsubscri|opt[\s-]?out|d[ée]sinscri|d[ée]sabonn|abmeld|abbestell|darse de baja|cancelar suscri|`,
    'disiscriv|uitschrijv|remove me|removal|stop receiving|manage (your )?(email )?preferences|',
    'se d[ée]sinscrire',
  ].join(''),
  'i',
);
const DENIAL = new RegExp(
  [
    'never (subscribed|signed|consented|agreed|gave|asked|registered)|not? (subscribed|consent)|',
    'without (my )?consent|jamais (inscrit|abonn|donn|consenti)|sans (mon )?(accord|consentement)|',
    'pas (inscrit|abonn)|unsolicited|non sollicit',
  ].join(''),
  'i',
);

/** RFC 2369 §2: a comma-separated list of angle-bracketed URIs. */
export function listUnsubscribeUris(value: string): string[] {
  const out: string[] = [];
  const re = /<([^<>]{1,2000})>/g;
  for (let m = re.exec(value); m !== null && out.length < 20; m = re.exec(value)) out.push(m[1].trim());
  return out;
}

/** True when a List-Unsubscribe URI could work: a mailto with an address, or an http(s) URL. */
export function usableUnsubscribeUri(uri: string): boolean {
  if (/^mailto:/i.test(uri)) return /^mailto:[^@\s?]+@[^@\s?]+\.[^@\s?]+/i.test(uri);
  try {
    const u = new URL(uri);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname.includes('.');
  } catch {
    return false;
  }
}

/** The reporter's statement on consent, from an explicit flag or the words of their note. */
export function consentOf(reporter: ReporterStatement | null): ComplianceResult['consent'] {
  if (!reporter) return { stated: 'unknown', statement: null };
  const statement = reporter.note ? clip(reporter.note.trim(), 1000) : null;
  if (reporter.consent === true) return { stated: 'given', statement };
  if (reporter.consent === false) return { stated: 'not-given', statement };
  if (statement && DENIAL.test(statement)) return { stated: 'not-given', statement };
  return { stated: 'unknown', statement };
}

function optOut(input: StageInput, findings: StageFinding[]): ComplianceResult['optOut'] {
  const { message } = input;
  if (message.sms) {
    // SMS marketing opt-out is a STOP keyword to a short number (e.g. "STOP au 36111").
    const stop = /\bSTOP\b/.test(message.sms.text);
    if (!stop)
      findings.push(
        finding('NO_OPT_OUT', 'The SMS offers no STOP opt-out.', {
          part: 'sms',
          rule: 'Directive 2002/58/EC art. 13(4)',
        }),
      );
    return { status: stop ? 'present' : 'absent', listUnsubscribe: [], oneClick: false, bodyLinks: [] };
  }
  const email = message.email;
  if (!email) return { status: 'not-applicable', listUnsubscribe: [], oneClick: false, bodyLinks: [] };
  const headers = headerValues(email, 'list-unsubscribe');
  const uris = headers.flatMap(listUnsubscribeUris);
  const usable = uris.filter(usableUnsubscribeUri);
  const post = headerValues(email, 'list-unsubscribe-post').join(' ');
  // RFC 8058 §3.1: one-click needs the POST header AND an https URI in List-Unsubscribe.
  const oneClickClaimed = /List-Unsubscribe\s*=\s*One-Click/i.test(post);
  const oneClick = oneClickClaimed && usable.some((u) => /^https:/i.test(u));
  const bodyLinks: string[] = [];
  for (const l of renderHtml(email).links) {
    if (l.kind === 'href' && (OPT_OUT_WORDS.test(l.text) || OPT_OUT_WORDS.test(l.url)) && bodyLinks.length < 10)
      bodyLinks.push(clip(l.url, 500));
  }
  const text = email.text ?? '';
  const textLink = /(https?:\/\/|mailto:)\S*(unsub|opt-?out|remove|desinscri|listinfo)/i.exec(clip(text, 200_000));
  if (textLink && bodyLinks.length < 10) bodyLinks.push(clip(textLink[0], 500));
  const listUnsubscribe = uris.map((u) => clip(u, 500)).slice(0, 10);

  if (headers.length > 0 && usable.length === 0) {
    findings.push(
      finding('BROKEN_OPT_OUT', 'List-Unsubscribe is present but none of its URIs is usable.', {
        header: 'List-Unsubscribe',
        rule: 'RFC 2369 §3.2',
        value: clip(headers.join(', '), 500),
      }),
    );
  }
  if (oneClickClaimed && !oneClick) {
    findings.push(
      finding('BROKEN_OPT_OUT', 'One-click unsubscribe is announced but no https URI is given.', {
        header: 'List-Unsubscribe-Post',
        rule: 'RFC 8058 §3.1',
        value: clip(post, 300),
      }),
    );
  }
  if (usable.length > 0 || bodyLinks.length > 0) return { status: 'present', listUnsubscribe, oneClick, bodyLinks };
  if (headers.length > 0) return { status: 'broken', listUnsubscribe, oneClick, bodyLinks };
  findings.push(
    finding('NO_OPT_OUT', 'No List-Unsubscribe header and no unsubscribe link in the body.', {
      header: 'List-Unsubscribe',
      rule: 'RFC 2369; Directive 2002/58/EC art. 13(4)',
    }),
  );
  return { status: 'absent', listUnsubscribe, oneClick, bodyLinks };
}

/** Reasons the sender's identity is concealed or disguised, from the earlier stages' results. */
function concealment(input: StageInput): string[] {
  const a = input.analysis;
  const reasons: string[] = [];
  if (input.message.sms) return reasons;
  const from = a.parse.from[0]?.address ?? '';
  if (!from) reasons.push('no From address');
  else if (!/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(from))
    reasons.push(`From address "${clip(from, 100)}" is not a deliverable address`);
  if (a.indicators.sender.impersonatedBrand)
    reasons.push(`display name impersonates ${a.indicators.sender.impersonatedBrand}`);
  if (a.indicators.sender.mismatches.includes('display-name-address'))
    reasons.push('display name shows another address');
  if (a.auth.dmarc.result === 'fail') reasons.push(`DMARC fails for ${a.auth.dmarc.domain ?? 'the From domain'}`);
  const rx = a.auth.receiver?.results.find((r) => r.method === 'dmarc');
  if (rx && rx.result === 'fail' && a.auth.dmarc.result !== 'fail')
    reasons.push(`the receiver ${a.auth.receiver?.authservId ?? ''} recorded dmarc=fail`);
  return reasons;
}

export const complianceStage = defineStage({
  id: 'compliance',
  description: 'EU rules of seed 004 §1: consent (reporter statement), no disguised sender, a valid opt-out.',
  kinds: ['email', 'sms'],
  params: z.object({}),
  run(input) {
    const findings: StageFinding[] = [];
    const reasons = concealment(input);
    if (reasons.length > 0) {
      findings.push(
        finding('SENDER_CONCEALED', `Sender identity concealed or disguised: ${reasons.join('; ')}.`, {
          header: 'From',
          rule: 'Directive 2002/58/EC art. 13(4)',
          value: reasons.join('; '),
        }),
      );
    }
    const opt = optOut(input, findings);
    const consent = consentOf(input.reporter);
    if (consent.stated === 'not-given')
      findings.push(
        finding('CONSENT_DENIED_BY_REPORTER', 'The reporter states they never consented to receive this.', {
          rule: 'Directive 2002/58/EC art. 13(1)',
          value: consent.statement ?? 'consent: false',
        }),
      );
    if (consent.stated === 'given')
      findings.push(
        finding('CONSENT_GIVEN_BY_REPORTER', 'The reporter states they had consented.', {
          rule: 'Directive 2002/58/EC art. 13(2)',
          value: consent.statement ?? 'consent: true',
        }),
      );
    const compliance: ComplianceResult = { senderConcealed: reasons.length > 0, optOut: opt, consent };
    return { result: { compliance }, findings };
  },
});
