/**
 * Stage 2, trace-back: parse every Received header into hops and name the origin, the first
 * untrusted hop, SpamCop-style (see `traceback/walk.ts` for the rules and the README's
 * "Trace-back" section for worked examples).
 */
import { z } from 'zod';
import { MAX_HOPS, MAX_HEADER_VALUE_CHARS } from '../analysis-schema.ts';
import { BudgetedResolver } from '../ports/dns-budget.ts';
import { defineStage, finding, type AsnLookup, type DnsResolver, type StageFinding } from '../stage.ts';
import { headerFields } from './traceback/header-block.ts';
import { spfClientsAbove } from './traceback/inbound-gateway.ts';
import { arcFields } from './traceback/sealed-handoff.ts';
import { classifyIp } from './traceback/ip-class.ts';
import { parseReceived } from './traceback/received-parser.ts';
import { trustTableFor, TrustedRelaysFileError, type TrustTable } from './traceback/trust.ts';
import { WEBMAIL_IP_HEADERS, walkChain, type WalkOutput } from './traceback/walk.ts';
import { splitMailhosts } from './traceback/declared.ts';
import { mailhostRelay } from './traceback/mailhosts.ts';
import { answerLive, freshEnough, newLiveFacts } from './traceback/live-dns.ts';
import { resentOriginal } from './traceback/resent.ts';
import { redirectBoundary } from './traceback/redirect.ts';
import { ORIGIN_INSIDE_RECEIVER, ORIGIN_RESENT_ORIGINAL } from '../actionable-origin.ts';

const WEBMAIL_SET: ReadonlySet<string> = new Set(WEBMAIL_IP_HEADERS);

/** What {@link traceRaw} needs besides the message. */
export interface TraceOptions {
  trust: TrustTable;
  asn: AsnLookup;
  /**
   * The reporter's learned mail hosts (addresses, CIDRs, names) and, marked with `+`, the ones they
   * declared (`traceback/declared.ts`).
   */
  mailhosts: readonly string[];
  documentationIsPublic: boolean;
  /**
   * Live DNS for fresh mail (`traceback/live-dns.ts`): absent or null, the live rule is "unknown"
   * (the evaluation, offline instances, benchmarks).
   */
  dns?: DnsResolver | null;
  /** The time the live checks compare the message's date with (the clock port). */
  now?: Date;
  /** The reporter's own mail domains, for the live MX rule (before those the believed hops recorded). */
  recipientDomains?: readonly string[];
  /**
   * The reporter's own addresses when the report is their redirect of the message (the intake's `how: 'resent'`):
   * the Received fields above their resent block record the redirect, not the message's way in (`redirect.ts`).
   */
  resentBy?: readonly string[];
}

/**
 * Walks re-run after live answers: each round can believe one more hop (two DNS round trips each,
 * within the analysis time bound); the DNS budget bounds them too.
 */
const MAX_LIVE_ROUNDS = 2;
/** Live look-ups one message's trace-back may make (PTR + A per address, MX + A per MX host). */
export const TRACEBACK_DNS_MAX_LOOKUPS = 24;

/**
 * The trace-back of one raw message: its Received fields parsed, the AS of each public client
 * looked up (offline data), the chain walked. Used by the stage and by the evaluation.
 */
export async function traceRaw(raw: Uint8Array, opts: TraceOptions): Promise<WalkOutput> {
  const all = headerFields(raw);
  // The reporter's redirect: what stands above their resent block is the way from them to us (`redirect.ts`).
  const redirect = redirectBoundary(all, opts.resentBy ?? []);
  const fields = redirect === null ? all : all.slice(redirect.at);
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
  const spfClients = spfClientsAbove(fields, MAX_HOPS);
  const own = splitMailhosts(opts.mailhosts);
  const mailhosts = mailhostRelay(own.learned);
  const declared = mailhostRelay(own.declared, 'declared');
  const now = opts.now ?? new Date();
  const dns = opts.dns ?? null;
  const live =
    dns !== null &&
    freshEnough(
      received.map((r) => r.date),
      now,
    )
      ? newLiveFacts(now)
      : null;
  const input = {
    received,
    trust,
    asnOf,
    asNameOf,
    mailhosts,
    declared,
    webmailHeaders,
    spfClientsAbove: spfClients,
    arc: arcFields(fields),
    documentationIsPublic: opts.documentationIsPublic,
    live,
    recipientDomains: opts.recipientDomains ?? [],
  };
  let out = walkChain(input);
  for (let round = 0; live !== null && dns !== null && out.questions.length > 0 && round < MAX_LIVE_ROUNDS; round++) {
    const answered = await answerLive(out.questions, live, dns);
    out = walkChain(input);
    if (!answered) break;
  }
  // Nothing outside handed the message in: a copy resent inside the receiving organisation may keep its
  // original delivery below (`traceback/resent.ts`), walked on as the rest of the chain.
  if (out.origin === null || out.flags.includes(ORIGIN_INSIDE_RECEIVER)) {
    const resent = resentOriginal(fields, received, MAX_HOPS - received.length, MAX_HEADER_VALUE_CHARS);
    if (resent !== null) {
      for (const r of resent.fields) {
        const ip = r.fromIp;
        if (ip === null || asnOf.has(ip) || classifyIp(ip) !== 'public' || trust.byIp(ip) !== null) continue;
        const rec = await opts.asn.lookup(ip).catch(() => null);
        asnOf.set(ip, rec?.asn ?? null);
        if (rec?.asn != null) asNameOf.set(rec.asn, rec.asName);
      }
      const above = spfClients.at(-1) ?? [];
      const whole = walkChain({
        ...input,
        received: [...received, ...resent.fields],
        spfClientsAbove: [...spfClients, ...resent.fields.map(() => above)],
        // The original delivery's sets, if any, were sealed for another chain: no ARC rule reads them.
        arc: [],
      });
      if (whole.origin !== null && !whole.flags.includes(ORIGIN_INSIDE_RECEIVER)) {
        const first = received.length;
        out = {
          ...whole,
          flags: [...whole.flags, ORIGIN_RESENT_ORIGINAL],
          steps: [
            `The message was resent inside the receiving organisation (Resent-From ${resent.resender}): its Received \
fields are ${resent.domain}'s own. The original delivery, kept below them as X-Received fields written by \
${resent.domain}'s hosts (hops ${first}–${first + resent.fields.length - 1}), is walked on. Its origin is shown, not \
acted on: the resent copy was handed in on the receiving side, and whoever handed it in could have written those \
fields.`,
            ...whole.steps,
          ],
        };
      }
    }
  }
  if (redirect !== null) {
    out = {
      ...out,
      flags: [...out.flags, 'redirect-hops-left-out'],
      steps: [
        `The report is the reporter's redirect of the message (Resent-From ${redirect.resender}): the Received \
fields above the resent block (${redirect.redirectHops}) record the way from the reporter to this instance and are \
left out; the message's own chain starts below it.`,
        ...out.steps,
      ],
    };
  }
  return { ...out, findings: [...findings, ...out.findings] };
}

export const tracebackStage = defineStage({
  id: 'traceback',
  description: 'Parses the Received chain into hops and names the first untrusted hop as the origin (SpamCop-style).',
  kinds: ['email'],
  params: z.object({
    /** Treat RFC 5737 / RFC 3849 documentation addresses as public: only for synthetic test cases. */
    documentationIsPublic: z.boolean().default(false),
    /** Look fresh mail's unverified hops up in DNS now (`traceback/live-dns.ts`); off: judged offline. */
    liveDns: z.boolean().default(true),
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
    const dns =
      ctx.settings.dnsMode === 'offline' || !ctx.params.liveDns
        ? null
        : new BudgetedResolver(ctx.ports.dns, TRACEBACK_DNS_MAX_LOOKUPS);
    const out = await traceRaw(input.message.raw, {
      trust,
      asn: ctx.ports.asn,
      mailhosts: input.mailhosts ?? [],
      documentationIsPublic: ctx.params.documentationIsPublic,
      dns,
      now: ctx.ports.clock.now(),
      recipientDomains: input.recipientDomains ?? [],
      resentBy: input.resentBy ?? [],
    });
    findings.push(...out.findings);
    if (dns !== null && dns.failures.length > 0) {
      findings.push(
        finding(
          'DNS_TEMPFAIL',
          `Trace-back: ${dns.failures.length} live DNS look-up(s) failed; those hops were judged without them.`,
          {
            value: dns.failures.map((f) => `${f.type} ${f.name} ${f.code}`).join(', '),
            rule: 'SPAMDESK_DNS_TIMEOUT_MS',
          },
        ),
      );
    }
    return {
      result: { traceback: { hops: out.hops, origin: out.origin, steps: out.steps, flags: out.flags } },
      findings,
    };
  },
});
