/**
 * Who really forwarded this mail? Anyone can write `From: alice@example.org` on a mail to the
 * reporting mailbox. Believing it would file reports under Alice's account (her "my reports" page,
 * her complaint history) and send the acknowledgement to her: backscatter, which the mailbox would
 * then be abused to send. So the forwarding wrapper is authenticated like any mail a receiver
 * trusts — SPF and DKIM through mailauth, with the injected DNS port — and the From address counts
 * as proved only when one of them passes *aligned* with the From domain (RFC 7489 §3.1, relaxed
 * alignment: same organisational domain), or when the mail came from a relay the operator trusts
 * (`smtpTrustedForwarders`: the organisation's own webmail or MX, which authenticated the user).
 *
 * An unproved address is still kept on the report (as claimed), so a human can judge it; it is
 * just never attached to an account and never written to.
 */
import ipaddr from 'ipaddr.js';
import { getDomain } from 'tldts';
import type { DnsResolver } from '../../analysis/stage.ts';
import { verifyMessage } from '../../analysis/stages/auth/verify.ts';
import { matchCidr, parseCidr, type Cidr } from '../../analysis/stages/traceback/ip-class.ts';

/** How an address was proved (or why not). */
export interface ForwarderAuth {
  verified: boolean;
  /** `trusted-relay`, `dkim` (aligned pass) or `spf` (aligned pass); null when not verified. */
  method: 'trusted-relay' | 'dkim' | 'spf' | null;
  /** The domain that was proved (the From domain), or null. */
  domain: string | null;
  /** One line an analyst can read. */
  reason: string;
  spf: { result: string; domain: string | null } | null;
  dkim: { result: string; domain: string | null; aligned: boolean }[];
  dmarc: { result: string; domain: string | null; policy: string | null } | null;
}

export interface ForwarderAuthInput {
  raw: Uint8Array;
  /** The claimed reporter address (wrapper From, else MAIL FROM). */
  address: string | null;
  /** MAIL FROM, '' for the null sender. */
  mailFrom: string;
  clientIp: string | null;
  helo: string | null;
  trustedForwarders: readonly string[];
  dns: DnsResolver;
  now?: Date;
  /** Upper bound of the whole check; past it the address stays unverified (default 5 s). */
  timeoutMs?: number;
}

/** The organisational domain (relaxed alignment), falling back to the name itself. */
function orgDomain(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  return getDomain(n, { allowPrivateDomains: false }) ?? n;
}

function aligned(a: string | null | undefined, b: string): boolean {
  return !!a && orgDomain(a) === orgDomain(b);
}

/** Parsed `smtpTrustedForwarders` lists, once per list (the configuration's array is long-lived). */
const parsedLists = new WeakMap<readonly string[], Cidr[]>();

function inList(ip: string | null, list: readonly string[]): boolean {
  if (!ip || list.length === 0) return false;
  let cidrs = parsedLists.get(list);
  if (!cidrs) {
    cidrs = list.map(parseCidr).filter((c): c is Cidr => c !== null);
    parsedLists.set(list, cidrs);
  }
  try {
    // process(): smtp-server reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d.
    return matchCidr(ipaddr.process(ip), cidrs) !== null;
  } catch {
    return false;
  }
}

function unverified(reason: string, rest: Partial<ForwarderAuth> = {}): ForwarderAuth {
  return { verified: false, method: null, domain: null, reason, spf: null, dkim: [], dmarc: null, ...rest };
}

/** Checks whether the mail proves its From address. Never rejects: failures are "unverified". */
export async function authenticateForwarder(input: ForwarderAuthInput): Promise<ForwarderAuth> {
  const address = input.address?.toLowerCase() ?? null;
  const at = address ? address.lastIndexOf('@') : -1;
  if (!address || at <= 0) return unverified('no reporter address');
  const domain = address.slice(at + 1);
  if (inList(input.clientIp, input.trustedForwarders)) {
    return {
      verified: true,
      method: 'trusted-relay',
      domain,
      reason: `received from ${input.clientIp}, a trusted forwarding relay`,
      spf: null,
      dkim: [],
      dmarc: null,
    };
  }
  const signed = /^(dkim-signature|arc-seal)\s*:/im.test(
    Buffer.from(input.raw.buffer, input.raw.byteOffset, Math.min(input.raw.byteLength, 256 * 1024)).toString('latin1'),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), input.timeoutMs ?? 5000);
  });
  try {
    const out = await Promise.race([
      verifyMessage({
        raw: input.raw,
        ip: input.clientIp,
        helo: input.helo,
        sender: input.mailFrom,
        signed,
        headerFrom: [address],
        dns: input.dns,
        now: input.now ?? new Date(),
      }),
      timeout,
    ]);
    if (!out) return unverified('authentication checks did not finish in time');
    const spf = { result: out.spf.result, domain: out.spf.domain };
    const dkim = out.dkim.map((d) => ({ result: d.result, domain: d.domain, aligned: aligned(d.domain, domain) }));
    const dmarc = { result: out.dmarc.result, domain: out.dmarc.domain, policy: out.dmarc.policy };
    const rest = { spf, dkim, dmarc };
    const goodDkim = dkim.find((d) => d.result === 'pass' && d.aligned);
    if (goodDkim)
      return {
        verified: true,
        method: 'dkim',
        domain,
        reason: `DKIM signature of ${goodDkim.domain} verified, aligned with ${domain}`,
        ...rest,
      };
    if (spf.result === 'pass' && aligned(spf.domain, domain)) {
      return {
        verified: true,
        method: 'spf',
        domain,
        reason: `SPF of ${spf.domain} passed for ${input.clientIp}, aligned with ${domain}`,
        ...rest,
      };
    }
    const why = [
      `SPF ${spf.result}${spf.domain ? ` (${spf.domain})` : ''}`,
      dkim.length
        ? `DKIM ${dkim
            .map((d) => `${d.result}${d.domain ? ` d=${d.domain}` : ''}${d.aligned ? '' : ' unaligned'}`)
            .join(', ')}`
        : 'no DKIM signature',
    ];
    return unverified(`${domain} not proved: ${why.join('; ')}`, rest);
  } catch (e) {
    return unverified(`authentication failed: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
