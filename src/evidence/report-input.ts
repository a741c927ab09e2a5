/**
 * What a channel hands to the report writer and what it gets back. Apart from the writer so that
 * the writer's commit code (store-units.ts, which also runs in the SQLite commit thread) can name
 * these types without importing the writer.
 */
import type { MessageKind, PreparedMessage } from './store.ts';

/** `partner`: evidence a partner platform referred here in a signed package (actions area). */
export const CHANNELS = ['api', 'web', 'smtp', 'addon', 'sms', 'arf', 'import', 'partner'] as const;
export type Channel = (typeof CHANNELS)[number];

/** What every report carries besides its message. */
export interface ReportFields {
  kind?: MessageKind;
  channel: Channel;
  reporterUserId?: string | null;
  reporterTokenId?: string | null;
  reporterAddress?: string | null;
  clientIp?: string | null;
  note?: string | null;
  quality?: 'full' | 'inline';
  /**
   * A report with a key already stored is not stored again; the existing one is returned.
   * A function receives the message's SHA-256 (e.g. bulk import keys on content).
   */
  dedupKey?: string | ((sha256: string) => string) | null;
  /**
   * With a dedup key: when the key is already stored for a *different* message, fail with
   * `CONFLICT` instead of answering with the earlier report (HTTP `Idempotency-Key` reuse).
   */
  dedupRequiresSameMessage?: boolean;
  context?: Record<string, unknown> | null;
  /** Received time, when the channel knows it (import, SMS); defaults to now. */
  receivedAt?: string;
  /**
   * Old mail from an archive (bulk import): kept as evidence, analysed and clustered, counted at
   * its own arrival time, but never the trigger of an automatic referral, ISP alert or feedback.
   */
  historical?: boolean;
}

/**
 * A report to store: its raw message, or the message already hashed and compressed elsewhere
 * (bulk import prepares evidence on its own thread; the raw bytes then never reach this one).
 */
export type ReportInput = ReportFields &
  ({ raw: Uint8Array; prepared?: undefined } | { raw?: undefined; prepared: PreparedMessage });

export interface StoredReport {
  id: string;
  sha256: string;
  size: number;
  trackingToken: string;
  /** True when the dedup key matched an existing report and nothing new was stored. */
  duplicate: boolean;
}
