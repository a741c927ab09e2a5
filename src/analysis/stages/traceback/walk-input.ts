/**
 * What the trace-back walk (`walk.ts`) is given and what it gives back.
 */
import type { Hop, Origin } from '../../analysis-schema.ts';
import type { StageFinding } from '../../stage.ts';
import type { ParsedReceived } from './received-parser.ts';
import type { CompiledRelay, TrustTable } from './trust.ts';
import type { LiveFacts, LiveQuestion } from './live-dns.ts';
import type { ArcField } from './sealed-handoff.ts';

/** Webmail headers naming the browser's address (RFC 7239 has no mail equivalent; these are de facto). */
export const WEBMAIL_IP_HEADERS = [
  'x-originating-ip',
  'x-sender-ip',
  'x-aol-ip',
  'x-yahoo-post-ip',
  'x-source-ip',
  'x-client-ip',
] as const;

/** One SPF client a receiver recorded, with the text of the field that records it (lower case, bounded). */
export interface SpfClient {
  ip: string;
  field: string;
}

export interface WalkInput {
  /** Parsed Received headers, top first, with their raw text. */
  received: readonly (ParsedReceived & { raw: string })[];
  trust: TrustTable;
  /** AS number of each public hop address (offline data), when known. */
  asnOf: ReadonlyMap<string, number | null>;
  /** Registered name of each AS number, when known (access and hosting networks earn no trust). */
  asNameOf?: ReadonlyMap<number, string | null>;
  /** The reporter's (or intake's) own mail hosts, learned from earlier reports (see `mailhosts.ts`). */
  mailhosts?: CompiledRelay | null;
  /** The mail hosts the reporter (or the intake's operator) declared as their own (see `declared.ts`). */
  declared?: CompiledRelay | null;
  /**
   * For each Received field (top first), the SPF clients the receiving side's authentication fields above it
   * name (`inbound-gateway.ts`): a client they look past is the recipient's inbound gateway.
   */
  spfClientsAbove?: readonly (readonly SpfClient[])[];
  /** The header's ARC fields and where they sit (`sealed-handoff.ts`): a stripped tenant's sealed inbound hop. */
  arc?: readonly ArcField[];
  /** Webmail headers present (name → value). */
  webmailHeaders: readonly { name: string; value: string }[];
  /** Treat RFC 5737 / RFC 3849 documentation addresses as public (synthetic cases only). */
  documentationIsPublic: boolean;
  /**
   * Live DNS answers, present only for fresh mail with DNS online (`live-dns.ts`); absent, the live
   * rule is "unknown" and asks nothing.
   */
  live?: LiveFacts | null;
  /**
   * The reporter's own mail domains (their address's, given by the intake): a checked reverse name in
   * one of their registered domains is the receiving side's (rule 3); with live DNS, a hop that is an
   * MX host of one of them is their inbound relay.
   */
  recipientDomains?: readonly string[];
}

export interface WalkOutput {
  hops: Hop[];
  origin: Origin | null;
  steps: string[];
  flags: string[];
  findings: StageFinding[];
  /** What live DNS could settle at the hop the walk stopped at (only when {@link WalkInput.live} is given). */
  questions: LiveQuestion[];
}
