/**
 * Stage 2, trace-back: parse every Received header into hops and name the origin, the first
 * untrusted hop, SpamCop-style (see `traceback/walk.ts` for the rules and the README's
 * "Trace-back" section for worked examples).
 */
import { z } from 'zod';
import { MAX_HOPS, MAX_HEADER_VALUE_CHARS } from '../analysis-schema.ts';
import { defineStage, finding } from '../stage.ts';
import { headerFields } from './traceback/header-block.ts';
import { classifyIp } from './traceback/ip-class.ts';
import { parseReceived } from './traceback/received-parser.ts';
import { trustTableFor, TrustedRelaysFileError, type TrustTable } from './traceback/trust.ts';
import { WEBMAIL_IP_HEADERS, walkChain } from './traceback/walk.ts';

const WEBMAIL_SET: ReadonlySet<string> = new Set(WEBMAIL_IP_HEADERS);

export const tracebackStage = defineStage({
  id: 'traceback',
  description: 'Parses the Received chain into hops and names the first untrusted hop as the origin (SpamCop-style).',
  kinds: ['email'],
  params: z.object({
    /** Treat RFC 5737 / RFC 3849 documentation addresses as public: only for synthetic test cases. */
    documentationIsPublic: z.boolean().default(false),
  }),
  async run(input, ctx) {
    const fields = headerFields(input.message.raw);
    const receivedFields = fields.filter((f) => f.name === 'received');
    const findings = [];
    if (receivedFields.length > MAX_HOPS) {
      findings.push(finding('RECEIVED_UNPARSED', `${receivedFields.length} Received headers; only the top ${MAX_HOPS} are traced.`, { rule: 'MAX_HOPS' }));
    }
    const received = receivedFields.slice(0, MAX_HOPS).map((f) => Object.assign(parseReceived(f.value), { raw: f.value.slice(0, MAX_HEADER_VALUE_CHARS) }));

    let trust: TrustTable;
    try {
      trust = trustTableFor(ctx.settings.intakeHosts, ctx.settings.trustedRelaysFile ?? null);
    } catch (e) {
      // A bad operator file must not stop analysis: fall back to the shipped table and say so.
      trust = trustTableFor(ctx.settings.intakeHosts, null);
      findings.push(finding('STAGE_ERROR', e instanceof TrustedRelaysFileError ? e.message : 'trusted relays file unusable', { rule: 'SPAMDESK_TRUSTED_RELAYS_FILE' }));
    }

    // AS numbers of the public hop addresses (offline data), for AS-based trust.
    const asnOf = new Map<string, number | null>();
    for (const r of received) {
      const ip = r.fromIp;
      if (ip === null || asnOf.has(ip) || classifyIp(ip) !== 'public' || trust.byIp(ip) !== null) continue;
      const rec = await ctx.ports.asn.lookup(ip).catch(() => null);
      asnOf.set(ip, rec?.asn ?? null);
    }

    const webmailHeaders = fields.filter((f) => WEBMAIL_SET.has(f.name));
    const out = walkChain({ received, trust, asnOf, webmailHeaders, documentationIsPublic: ctx.params.documentationIsPublic });
    return {
      result: { traceback: { hops: out.hops, origin: out.origin, steps: out.steps, flags: out.flags } },
      findings: [...findings, ...out.findings],
    };
  },
});
