/**
 * Stage 3, authentication: SPF, DKIM, DMARC and ARC through mailauth with the injected DNS port
 * (`auth/verify.ts`), plus the trusted receiver's own Authentication-Results (`auth/receiver.ts`).
 * SPF is evaluated for the client of the origin hop named by the trace-back.
 */
import { z } from 'zod';
import type { Analysis } from '../analysis-schema.ts';
import { BudgetedResolver, DEFAULT_DNS_MAX_LOOKUPS } from '../ports/dns-budget.ts';
import { defineStage, finding, type StageFinding } from '../stage.ts';
import { receiverVerdict } from './auth/receiver.ts';
import { verifyMessage } from './auth/verify.ts';
import { headerFields } from './traceback/header-block.ts';
import { classifyIp } from './traceback/ip-class.ts';
import { trustTableFor, type TrustTable } from './traceback/trust.ts';

/** The hop whose client SPF is checked against: the origin's, or for webmail the lowest trusted public hop. */
function spfHop(tb: Analysis['traceback']): { ip: string | null; helo: string | null; hopIndex: number | null } {
  const o = tb.origin;
  if (o !== null && o.hopIndex >= 0) {
    const h = tb.hops[o.hopIndex];
    return { ip: o.ip, helo: h?.fromHelo ?? null, hopIndex: o.hopIndex };
  }
  const trusted = tb.hops.filter((h) => h.trusted && h.fromIp !== null && classifyIp(h.fromIp) === 'public');
  const last = trusted[trusted.length - 1];
  return last
    ? { ip: last.fromIp, helo: last.fromHelo, hopIndex: last.index }
    : { ip: null, helo: null, hopIndex: null };
}

/** Most DKIM-Signature fields verified per message; beyond, none is (each costs a key lookup). */
export const MAX_DKIM_SIGNATURES = 10;
/** RFC 8617 §4.2.1: an ARC chain has at most 50 instances. */
export const MAX_ARC_INSTANCES = 50;

export const authStage = defineStage({
  id: 'auth',
  description:
    'SPF, DKIM, DMARC and ARC through mailauth with the injected DNS port; keeps the trusted receiver’s ' +
    'Authentication-Results.',
  kinds: ['email'],
  params: z.object({}),
  async run(input, ctx) {
    const fields = headerFields(input.message.raw);
    const sigCount = fields.filter((f) => f.name === 'dkim-signature').length;
    const sealCount = fields.filter((f) => f.name === 'arc-seal').length;
    // RFC 6376 §6.1 lets a verifier limit the signatures it checks; RFC 8617 §4.2.1 caps ARC at i=50.
    const tooMany = sigCount > MAX_DKIM_SIGNATURES || sealCount > MAX_ARC_INSTANCES;
    const signed = !tooMany && sigCount + sealCount > 0;
    const tb = input.analysis.traceback;
    const hop = spfHop(tb);
    const dns = new BudgetedResolver(ctx.ports.dns, ctx.settings.dnsMaxLookups ?? DEFAULT_DNS_MAX_LOOKUPS);
    const parse = input.analysis.parse;
    const checks: Awaited<ReturnType<typeof verifyMessage>> = await verifyMessage({
      raw: input.message.raw,
      ip: hop.ip,
      helo: hop.helo,
      sender: parse.returnPath,
      signed,
      headerFrom: parse.from.map((m) => m.address).filter((a) => a.includes('@')),
      dns,
      now: ctx.ports.clock.now(),
    });

    let trust: TrustTable;
    try {
      trust = trustTableFor(ctx.settings.intakeHosts, ctx.settings.trustedRelaysFile ?? null);
    } catch {
      trust = trustTableFor(ctx.settings.intakeHosts, null);
    }
    const boundary = tb.hops.length === 0 ? null : (hop.hopIndex ?? tb.hops.length - 1);
    const receiver = receiverVerdict(fields, boundary, trust, ctx.settings.trustedAuthservIds ?? []);

    const findings: StageFinding[] = [];
    if (checks.spf.result === 'fail')
      findings.push(
        finding('SPF_FAIL', `SPF fails for ${checks.spf.domain ?? '?'} from ${checks.spf.clientIp ?? '?'}.`, {
          rule: 'RFC 7208',
          value: checks.spf.explanation ?? '',
        }),
      );
    if (checks.spf.result === 'softfail')
      findings.push(
        finding('SPF_SOFTFAIL', `SPF soft-fails for ${checks.spf.domain ?? '?'} from ${checks.spf.clientIp ?? '?'}.`, {
          rule: 'RFC 7208',
          value: checks.spf.explanation ?? '',
        }),
      );
    if (tooMany) {
      checks.dkim = [
        {
          result: 'permerror',
          domain: null,
          selector: null,
          aligned: null,
          info: `${sigCount} DKIM signatures / ${sealCount} ARC seals: over the limit (${MAX_DKIM_SIGNATURES} / \
${MAX_ARC_INSTANCES}), not verified`,
        },
      ];
      findings.push(
        finding(
          'DKIM_FAIL',
          `The message carries ${sigCount} DKIM signatures and ${sealCount} ARC seals, more than any sender needs; \
none was verified.`,
          { header: 'DKIM-Signature', rule: 'MAX_DKIM_SIGNATURES' },
        ),
      );
    } else if (sigCount === 0)
      findings.push(finding('DKIM_NONE', 'The message carries no DKIM signature.', { header: 'DKIM-Signature' }));
    for (const d of checks.dkim) {
      // A missing key (offline DNS, rotated selector) is not evidence of tampering; a bad signature or body hash is.
      if (d.result === 'fail' || (d.result === 'neutral' && /body hash/i.test(d.info ?? ''))) {
        findings.push(
          finding(
            'DKIM_FAIL',
            `DKIM signature of ${d.domain ?? '?'} (s=${d.selector ?? '?'}) does not verify: ${d.result}.`,
            { header: 'DKIM-Signature', value: d.info ?? '' },
          ),
        );
      }
    }
    if (checks.dmarc.result === 'fail')
      findings.push(
        finding(
          'DMARC_FAIL',
          `DMARC fails for ${checks.dmarc.domain ?? '?'} (policy ${checks.dmarc.policy ?? 'none'}).`,
          { rule: 'RFC 7489', value: checks.dmarc.info ?? '' },
        ),
      );
    if (checks.arc.result === 'fail')
      findings.push(
        finding(
          'ARC_FAIL',
          `The ARC chain (${checks.arc.instances} instance(s)) is broken: ${checks.arc.info ?? ''}.`,
          { header: 'ARC-Seal' },
        ),
      );
    if (receiver) {
      const failed = receiver.results.filter(
        (r) =>
          ['spf', 'dkim', 'dmarc'].includes(r.method) &&
          (r.result === 'fail' || r.result === 'softfail' || r.result === 'permerror'),
      );
      if (failed.length > 0) {
        findings.push(
          finding(
            'RECEIVER_AUTH_FAIL',
            `${receiver.authservId} recorded at arrival: ${failed.map((r) => `${r.method}=${r.result}`).join(', ')}.`,
            { header: 'Authentication-Results', value: receiver.raw.slice(0, 300) },
          ),
        );
      }
    }
    const temp = [
      checks.spf.result,
      checks.dmarc.result,
      checks.arc.result,
      ...checks.dkim.map((d) => d.result),
    ].includes('temperror');
    if (dns.failures.length > 0 || temp) {
      const what = dns.failures
        .slice(0, 5)
        .map((f) => `${f.type} ${f.name}: ${f.code}`)
        .join('; ');
      findings.push(
        finding(
          'DNS_TEMPFAIL',
          `DNS failed during authentication checks${what ? ` (${what})` : ''}; affected results are temperror, not \
verdicts.`,
          { rule: 'SPAMDESK_DNS_TIMEOUT_MS' },
        ),
      );
    }
    return { result: { auth: Object.assign({}, checks, { receiver }) }, findings };
  },
});
