/**
 * Who the message claims to be from: From, display name, Reply-To, Return-Path (envelope sender,
 * RFC 5321 §4.4), Sender (RFC 5322 §3.6.2), with the mismatches an analyst looks for and brand
 * impersonation in the display name.
 */
import { getDomain } from 'tldts';
import type { ParseResult, SenderIdentity } from '../analysis-schema.ts';
import { BRANDS, type Brand } from '../data/brands.ts';
import { domainOf } from '../parsed-email.ts';
import { finding, type StageFinding } from '../stage.ts';

/** Registrable domain of an address (`mail.paypal.com` → `paypal.com`), '' when none. */
export function orgDomain(address: string | null | undefined): string {
  const d = domainOf(address);
  if (!d) return '';
  return getDomain(d) ?? d;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

function containsWord(haystack: string, word: string): boolean {
  let from = 0;
  for (;;) {
    const i = haystack.indexOf(word, from);
    if (i < 0) return false;
    const before = i === 0 ? '' : haystack[i - 1];
    const after = haystack[i + word.length] ?? '';
    if (!WORD_CHAR.test(before) && !WORD_CHAR.test(after)) return true;
    from = i + 1;
  }
}

/** The brand a display name names, when the sending domain is not one of the brand's. */
export function impersonatedBrand(displayName: string, fromAddress: string): Brand | null {
  const name = displayName.toLowerCase().normalize('NFKC');
  if (!name) return null;
  const org = orgDomain(fromAddress);
  for (const b of BRANDS) {
    if (!b.keywords.some((k) => containsWord(name, k))) continue;
    const legit = b.domains.some(
      (d) => org === d || org === (getDomain(d) ?? d) || domainOf(fromAddress).endsWith(`.${d}`),
    );
    if (!legit) return b;
  }
  return null;
}

const ADDRESS_IN_NAME = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/;

export function senderIdentity(p: ParseResult): { sender: SenderIdentity; findings: StageFinding[] } {
  const findings: StageFinding[] = [];
  const from = p.from[0] ?? null;
  const fromAddress = from?.address ?? null;
  const displayName = from?.name ? from.name : null;
  const replyTo = p.replyTo[0]?.address ?? null;
  const mismatches: string[] = [];
  const fromOrg = orgDomain(fromAddress);

  const replyOrg = orgDomain(replyTo);
  if (fromOrg && replyOrg && replyOrg !== fromOrg) {
    mismatches.push('reply-to-domain');
    findings.push(
      finding('FROM_REPLY_TO_MISMATCH', `Replies go to ${replyOrg}, not to the From domain ${fromOrg}.`, {
        header: 'Reply-To',
        value: replyTo ?? '',
      }),
    );
  }
  const rpOrg = orgDomain(p.returnPath);
  if (fromOrg && rpOrg && rpOrg !== fromOrg) {
    mismatches.push('return-path-domain');
    findings.push(
      finding('FROM_RETURN_PATH_MISMATCH', `The envelope sender is at ${rpOrg}, the From at ${fromOrg}.`, {
        header: 'Return-Path',
        value: p.returnPath ?? '',
      }),
    );
  }
  const senderOrg = orgDomain(p.sender?.address);
  if (fromOrg && senderOrg && senderOrg !== fromOrg) mismatches.push('sender-domain');

  let impersonated: string | undefined;
  if (displayName && fromAddress) {
    const inName = ADDRESS_IN_NAME.exec(displayName)?.[0].toLowerCase();
    if (inName && inName !== fromAddress.toLowerCase()) {
      mismatches.push('display-name-address');
      findings.push(
        finding(
          'DISPLAY_NAME_ADDRESS_MISMATCH',
          `The display name shows ${inName} but the address is ${fromAddress}.`,
          { header: 'From', value: `${displayName} <${fromAddress}>` },
        ),
      );
    }
    const brand = impersonatedBrand(displayName, fromAddress);
    if (brand) {
      impersonated = brand.name;
      mismatches.push('brand-display-name');
      findings.push(
        finding(
          'BRAND_IMPERSONATION',
          `The display name names ${brand.name} but the address is at ${fromOrg || 'an unknown domain'}.`,
          { header: 'From', rule: 'data/brands.ts', value: `${displayName} <${fromAddress}>` },
        ),
      );
    }
  }
  return {
    sender: {
      from: fromAddress,
      displayName,
      replyTo,
      returnPath: p.returnPath,
      sender: p.sender?.address ?? null,
      mismatches,
      ...(impersonated ? { impersonatedBrand: impersonated } : {}),
    },
    findings,
  };
}
