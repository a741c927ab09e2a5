/**
 * Test factories of the actions area (Outline's `server/test/factories.ts` style): spam messages
 * and their analyses. The analysis runs the real pipeline (`analyse()` with offline ports); the
 * trace-back, authentication and enrichment sections are then set from the scenario, because what
 * the actions area is tested on is what it does with an origin IP, an ASN and an abuse contact,
 * not how the analysis found them.
 */
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import type { Insertable } from 'kysely';
import type { CampaignsTable } from '../db/campaigns-tables.ts';

/** A campaign row as the campaigns area leaves it (the standing the gates read), for tests that set it directly. */
export function campaignRow(o: {
  id: string;
  category: string;
  purity?: number;
  legitimateShare?: number;
  messages?: number;
  firstSeenAt?: string;
  lastSeenAt?: string;
  mergedInto?: string | null;
}): Insertable<CampaignsTable> {
  const first = o.firstSeenAt ?? o.lastSeenAt ?? new Date().toISOString();
  const last = o.lastSeenAt ?? first;
  return {
    id: o.id,
    merged_into: o.mergedInto ?? null,
    category: o.category,
    core_signature: null,
    core_kind: 'email',
    purity: o.purity ?? 1,
    legitimate_share: o.legitimateShare ?? 0,
    first_seen_at: first,
    last_seen_at: last,
    message_count: o.messages ?? 20,
    report_count: o.messages ?? 20,
    created_at: first,
    updated_at: last,
  };
}

export interface SpamOptions {
  n: number;
  ip: string;
  port?: number;
  to: string;
  from?: string;
  subject?: string;
  url?: string;
  /** Greets the recipient by the local part of `to`. */
  greet?: boolean;
  /** When the origin sent it (Received and Date:); default an hour ago, as reports of live spam are. */
  sentAt?: Date;
}

/** A spam message as received by the victim (Received hop naming the origin IP and port). */
export function spamMessage(o: SpamOptions): Buffer {
  const from = o.from ?? 'service@secure-bank-login.example';
  const local = o.to.split('@')[0];
  const date = (o.sentAt ?? new Date(Date.now() - 3_600_000)).toUTCString().replace('GMT', '+0000');
  return Buffer.from(
    [
      `Received: from dyn-host.pool.isp.example ([${o.ip}]:${o.port ?? 50_000 + o.n}) by mx.victim.example with ESMTP \
id ${o.n}; ${date}`,
      `Return-Path: <bounce${o.n}@secure-bank-login.example>`,
      `From: "Your Bank" <${from}>`,
      `To: ${o.to}`,
      `Subject: ${o.subject ?? 'Your account is suspended'}`,
      `Date: ${date}`,
      `Message-ID: <spam-${o.n}-${o.ip}@secure-bank-login.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `${o.greet === false ? 'Dear customer' : `Dear ${local}`},`,
      `Verify your account at ${o.url ?? 'https://secure-bank-login.example/verify'} within 24 hours (ref ${o.n}).`,
      '',
    ].join('\r\n'),
  );
}

export interface OriginScenario {
  ip: string;
  port?: number | null;
  asn: number | null;
  asName?: string | null;
  country?: string | null;
  rdns: string | null;
  abuse: string[];
  authenticated?: boolean;
  category?: string;
}

/** The real analysis of `raw`, with the origin sections set from the scenario. */
export async function analysisFor(raw: Buffer, s: OriginScenario): Promise<Analysis> {
  const a = await analyse(raw, { ports: offlinePorts(new Date()), settings: defaultAnalysisSettings() });
  const hopRaw = `from dyn-host.pool.isp.example ([${s.ip}]${s.port ? `:${s.port}` : ''}) by mx.victim.example with \
ESMTP`;
  const pass = s.authenticated === true;
  return {
    ...a,
    traceback: {
      hops: [
        {
          index: 0,
          raw: hopRaw,
          fromHelo: 'dyn-host.pool.isp.example',
          fromRdns: s.rdns,
          fromIp: s.ip,
          byHost: 'mx.victim.example',
          protocol: 'ESMTP',
          tls: false,
          id: null,
          date: a.traceback.hops[0]?.date ?? null,
          for: null,
          parsed: true,
          trusted: false,
          notes: [],
        },
      ],
      origin: { ip: s.ip, hopIndex: 0, ipVersion: s.ip.includes(':') ? 6 : 4, reason: 'first untrusted hop' },
      steps: [`Hop 0: mx.victim.example received the message from ${s.ip}; that is the origin.`],
      flags: [],
    },
    auth: {
      ...a.auth,
      spf: { result: pass ? 'pass' : 'fail', domain: 'secure-bank-login.example', clientIp: s.ip, explanation: null },
      dkim: pass
        ? [{ result: 'pass', domain: 'secure-bank-login.example', selector: 's1', aligned: true, info: null }]
        : [],
      dmarc: { result: pass ? 'pass' : 'fail', domain: 'secure-bank-login.example', policy: 'reject', info: null },
    },
    enrichment: {
      origin: {
        ip: s.ip,
        asn: s.asn,
        asName: s.asName ?? null,
        country: s.country ?? 'FR',
        rdns: s.rdns,
        abuseContacts: s.abuse.map((address) => ({ address, source: 'operator-table' })),
      },
    },
    ...(s.category ? { classification: { category: s.category, confidence: 0.9, reasons: ['test scenario'] } } : {}),
  };
}
