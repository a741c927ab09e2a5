/**
 * SPF (RFC 7208), DKIM (RFC 6376), ARC (RFC 8617) and DMARC (RFC 7489) through mailauth, with the
 * injected DNS port. The same steps as mailauth's `authenticate()`, called one by one so that the
 * DKIM clock comes from the clock port (re-analysis gives the same answer) and so that a message
 * without any signature skips the body hashing altogether.
 */
import { arc, dkimVerify, dmarc, spf, type DNSResolver } from 'mailauth';
import { type AuthResult, AuthVerdict } from '../../analysis-schema.ts';
import type { DnsResolver } from '../../stage.ts';
import { mailauthResolver } from '../../ports/dns-budget.ts';

/** RFC 7208 §4.6.4: at most 10 DNS-querying mechanisms per SPF evaluation. */
export const MAX_SPF_DNS_LOOKUPS = 10;
/** RFC 7208 §4.6.4: at most 2 lookups that return nothing. */
export const MAX_SPF_VOID_LOOKUPS = 2;
/** RFC 8301 §3.2: verifiers must refuse RSA keys shorter than 1024 bits. */
export const MIN_KEY_BITS = 1024;
/** Name written in mailauth's comments; fixed so the output does not depend on the host. */
const MTA_NAME = 'spamdesk';

const VERDICTS: ReadonlySet<string> = new Set(AuthVerdict.options);

/** Maps mailauth's result words (it also writes `temperr`) to RFC 8601 verdicts. */
export function verdict(v: string | undefined | null): AuthVerdict {
  const s = (v ?? 'none').toLowerCase();
  if (s === 'temperr') return 'temperror';
  if (s === 'permerr') return 'permerror';
  return VERDICTS.has(s) ? (s as AuthVerdict) : 'neutral';
}

export interface VerifyInput {
  raw: Uint8Array;
  /** Client of the hop where the message entered the trusted relays (the origin hop). */
  ip: string | null;
  helo: string | null;
  /** Envelope sender (Return-Path), '' for the null path. */
  sender: string | null;
  /** Whether the message carries DKIM-Signature or ARC-Seal fields at all. */
  signed: boolean;
  /** From address(es), for DMARC when DKIM verification did not run. */
  headerFrom: readonly string[];
  dns: DnsResolver;
  now: Date;
}

export type VerifyOutput = Omit<AuthResult, 'receiver'>;

/** Runs the four checks. Rejects only on a bug: DNS failures are temperror results. */
export async function verifyMessage(input: VerifyInput): Promise<VerifyOutput> {
  // mailauth types its resolver as returning strings, but MX answers are {exchange, priority}
  // objects at run time (it reads `.exchange`): the port returns exactly what node:dns returns.
  const resolver = mailauthResolver(input.dns) as unknown as DNSResolver;
  const buf = Buffer.from(input.raw.buffer, input.raw.byteOffset, input.raw.byteLength);

  const dkimRes = input.signed
    ? await dkimVerify(buf, {
        resolver,
        curTime: input.now,
        minBitLength: MIN_KEY_BITS,
        sender: input.sender ?? undefined,
      })
    : null;
  const headerFrom = dkimRes?.headerFrom?.length ? dkimRes.headerFrom : [...input.headerFrom];

  let spfOut: VerifyOutput['spf'] = {
    result: 'none',
    domain: null,
    clientIp: input.ip,
    explanation: 'no origin address to check',
  };
  let spfPassDomain: string | null = null;
  if (input.ip !== null) {
    const sender = input.sender !== null && input.sender.length > 0 ? input.sender : undefined;
    const s = await spf({
      ip: input.ip,
      helo: input.helo ?? undefined,
      sender: sender ?? (input.helo ? `postmaster@${input.helo}` : undefined),
      mta: MTA_NAME,
      resolver,
      maxResolveCount: MAX_SPF_DNS_LOOKUPS,
      maxVoidCount: MAX_SPF_VOID_LOOKUPS,
    });
    const result = verdict(s.status?.result);
    spfOut = {
      result,
      domain: s.domain ?? null,
      clientIp: input.ip,
      explanation: s.status?.comment ? String(s.status.comment) : null,
    };
    if (result === 'pass') spfPassDomain = s.domain;
  }

  const dkimOut: VerifyOutput['dkim'] = (dkimRes?.results ?? []).slice(0, 20).map((r) => ({
    result: verdict(r.status?.result),
    domain: r.signingDomain ?? null,
    selector: r.selector ?? null,
    aligned: typeof r.status?.aligned === 'boolean' ? r.status.aligned : r.status?.aligned ? true : null,
    info: r.info ? String(r.info).slice(0, 500) : null,
  }));

  let arcOut: VerifyOutput['arc'] = { result: 'none', instances: 0, info: null };
  let arcResult: Awaited<ReturnType<typeof arc>> | undefined;
  const arcData = dkimRes?.arc;
  if (arcData && (arcData.chain !== false || arcData.error)) {
    arcResult = await arc(
      { chain: arcData.chain || [], lastEntry: arcData.lastEntry, error: arcData.error },
      { resolver, minBitLength: MIN_KEY_BITS },
    );
    arcOut = {
      result: verdict(arcResult.status?.result),
      instances: typeof arcResult.i === 'number' ? arcResult.i : 0,
      info: arcResult.status?.comment ? String(arcResult.status.comment) : null,
    };
  }

  let dmarcOut: VerifyOutput['dmarc'] = { result: 'none', domain: null, policy: null, info: 'no From address' };
  if (headerFrom.length > 0) {
    const d = await dmarc({
      headerFrom,
      spfDomains: spfPassDomain ? [spfPassDomain] : [],
      dkimDomains: (dkimRes?.results ?? [])
        .filter((r) => r.status?.result === 'pass')
        .map((r) => ({
          id: r.id,
          domain: r.signingDomain,
          aligned: r.status.aligned,
          underSized: r.status.underSized,
        })),
      arcResult,
      resolver,
    });
    if (d) {
      dmarcOut = {
        result: verdict(d.status?.result),
        domain: d.domain ?? null,
        policy: d.policy ?? null,
        info: d.info ? String(d.info).slice(0, 500) : null,
      };
    } else {
      dmarcOut = { result: 'permerror', domain: null, policy: null, info: 'several From addresses (RFC 7489 §6.6.1)' };
    }
  }
  return { spf: spfOut, dkim: dkimOut, dmarc: dmarcOut, arc: arcOut };
}
