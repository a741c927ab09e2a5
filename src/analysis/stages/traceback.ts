/**
 * Stage 2, trace-back: parse every Received header into hops and name the origin, the first
 * untrusted hop, SpamCop-style (see `traceback/walk.ts` for the rules and the README's
 * "Trace-back" section for worked examples).
 */
import { z } from 'zod';
import { MAX_HOPS, MAX_HEADER_VALUE_CHARS } from '../analysis-schema.ts';
import { defineStage, finding, type AsnLookup, type StageFinding } from '../stage.ts';
import { headerFields } from './traceback/header-block.ts';
import { classifyIp } from './traceback/ip-class.ts';
import { parseReceived } from './traceback/received-parser.ts';
import { trustTableFor, TrustedRelaysFileError, type TrustTable } from './traceback/trust.ts';
import { WEBMAIL_IP_HEADERS, walkChain, type WalkOutput } from './traceback/walk.ts';
import { mailhostRelay } from './traceback/mailhosts.ts';

const WEBMAIL_SET: ReadonlySet<string> = new Set(WEBMAIL_IP_HEADERS);

/** What {@link traceRaw} needs besides the message. */
export interface TraceOptions {
  trust: TrustTable;
  asn: AsnLookup;
  /** The reporter's learned mail hosts (addresses, CIDRs, names). */
  mailhosts: readonly string[];
  documentationIsPublic: boolean;
}

/**
 * The trace-back of one raw message: its Received fields parsed, the AS of each public client
 * looked up (offline data), the chain walked. Used by the stage and by the evaluation.
 */
export async function traceRaw(raw: Uint8Array, opts: TraceOptions): Promise<WalkOutput> {
  const fields = headerFields(raw);
  const receivedFields = fields.filter((f) => f.name === 'received');
  const findings: StageFinding[] = [];
  if (receivedFields.length > MAX_HOPS) {
    findings.push(
      finding('RECEIVED_UNPARSED', `${receivedFields.length} Received headers; only the top ${MAX_HOPS} are traced.`, {
        rule: 'MAX_HOPS',
      }),
    );
  }
  const received = receivedFields
    .slice(0, MAX_HOPS)
    .map((f) => Object.assign(parseReceived(f.value), { raw: f.value.slice(0, MAX_HEADER_VALUE_CHARS) }));
  const { trust } = opts;
  // AS numbers and names of the public hop addresses (offline data), for AS-based trust.
  const asnOf = new Map<string, number | null>();
  const asNameOf = new Map<number, string | null>();
  for (const r of received) {
    const ip = r.fromIp;
    if (
      ip === null ||
      asnOf.has(ip) ||
      r.notes.includes('retrieval') ||
      classifyIp(ip) !== 'public' ||
      trust.byIp(ip) !== null
    )
      continue;
    const rec = await opts.asn.lookup(ip).catch(() => null);
    asnOf.set(ip, rec?.asn ?? null);
    if (rec?.asn != null) asNameOf.set(rec.asn, rec.asName);
  }
  const webmailHeaders = fields.filter((f) => WEBMAIL_SET.has(f.name));
  const mailhosts = mailhostRelay(opts.mailhosts);
  const out = walkChain({
    received,
    trust,
    asnOf,
    asNameOf,
    mailhosts,
    webmailHeaders,
    documentationIsPublic: opts.documentationIsPublic,
  });
  return { ...out, findings: [...findings, ...out.findings] };
}

export const tracebackStage = defineStage({
  id: 'traceback',
  description: 'Parses the Received chain into hops and names the first untrusted hop as the origin (SpamCop-style).',
  kinds: ['email'],
  params: z.object({
    /** Treat RFC 5737 / RFC 3849 documentation addresses as public: only for synthetic test cases. */
    documentationIsPublic: z.boolean().default(false),
  }),
  async run(input, ctx) {
    const findings: StageFinding[] = [];
    let trust: TrustTable;
    try {
      trust = trustTableFor(ctx.settings.intakeHosts, ctx.settings.trustedRelaysFile ?? null);
    } catch (e) {
      // A bad operator file must not stop analysis: fall back to the shipped table and say so.
      trust = trustTableFor(ctx.settings.intakeHosts, null);
      findings.push(
        finding('STAGE_ERROR', e instanceof TrustedRelaysFileError ? e.message : 'trusted relays file unusable', {
          rule: 'SPAMDESK_TRUSTED_RELAYS_FILE',
        }),
      );
    }
    const out = await traceRaw(input.message.raw, {
      trust,
      asn: ctx.ports.asn,
      mailhosts: input.mailhosts ?? [],
      documentationIsPublic: ctx.params.documentationIsPublic,
    });
    findings.push(...out.findings);
    return {
      result: { traceback: { hops: out.hops, origin: out.origin, steps: out.steps, flags: out.flags } },
      findings,
    };
  },
});
