/**
 * Test support: a facts row as the actions area stores it for one live report, received an hour before
 * {@link FACTS_NOW} from a subscriber line (an access provider by name), commercial spam; a test
 * overrides what its case needs.
 */
import type { ReportFactsRow } from '../../db/actions-tables.ts';
import { newId } from '../../core/ids.ts';

/** The listing tests' clock. */
export const FACTS_NOW = new Date('2026-11-20T12:00:00.000Z');

let n = 0;

export function reportFact(o: Partial<ReportFactsRow> = {}): ReportFactsRow {
  n++;
  const hourAgo = new Date(FACTS_NOW.getTime() - 3_600_000).toISOString();
  return {
    report_id: newId(),
    message_sha256: `${String(n).padStart(8, '0')}${'f'.repeat(56)}`,
    campaign_id: null,
    category: 'commercial',
    received_at: hourAgo,
    origin_ip: null,
    origin_asn: 64500,
    origin_as_name: 'Example Broadband',
    origin_country: 'FR',
    origin_rdns: null,
    origin_abuse: '[]',
    origin_port: null,
    sender_domain: null,
    advertised_domains: '[]',
    named_domains: null,
    consent_denied: 0,
    unauthenticated: 1,
    bot_signals: '[]',
    created_at: hourAgo,
    message_category: 'commercial',
    authenticated: 0,
    historical: 0,
    arrived_at: null,
    origin_sent_at: null,
    ...o,
  };
}
