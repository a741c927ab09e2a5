/** Tables owned by the analysis area (migration 0002_analysis). */
import type { Selectable } from 'kysely';

/**
 * One analysis of one message at one analyser version (re-analysis adds a row per new version).
 * Summary columns are copies of fields of `json`, for search and grouping without parsing JSON.
 */
export interface AnalysesTable {
  message_sha256: string;
  /** ANALYSER_VERSION that produced it. */
  version: string;
  analysed_at: string;
  duration_ms: number;
  /** `ANALYSIS_ERROR: …` / `ANALYSIS_TIMEOUT: …` when it failed; null when it ran. */
  error: string | null;
  /** The whole `Analysis` record as JSON. */
  json: string;
  subject: string | null;
  from_address: string | null;
  /** Registrable domain of the From address. */
  from_domain: string | null;
  origin_ip: string | null;
  origin_asn: number | null;
  origin_country: string | null;
}

/** Indicators of a message, one row each, for search by value (`kind`, `value` indexed). */
export interface MessageIndicatorsTable {
  message_sha256: string;
  /** url | domain | email | phone | wallet | ip */
  kind: string;
  value: string;
}

/** A learned mail host of a reporter or intake (migration 0081; see `mailhost-store.ts`). */
export interface AnalysisMailhostsTable {
  /** `user:<id>`, `address:<sha256>`, `token:<id>` or `intake:<channel>`. */
  reporter_key: string;
  ip: string;
  learned_at: string;
}

/** A mail host declared by a reporter or, for an intake, by the operator (migration 0292; `declared.ts`). */
export interface AnalysisDeclaredMailhostsTable {
  /** `user:<id>`, `token:<id>` or `intake:<channel>`. */
  reporter_key: string;
  /** `1.2.3.4`, `1.2.3.0/24`, `=host.example.org` (one host) or `example.org` (a domain). */
  entry: string;
  note: string | null;
  declared_at: string;
  /** Who declared it (principal label). */
  declared_by: string;
}

/** Per key: reports analysed since the last learning pass. */
export interface AnalysisMailhostKeysTable {
  reporter_key: string;
  reports_since: number;
  learned_at: string | null;
}

export interface AnalysisTables {
  analyses: AnalysesTable;
  message_indicators: MessageIndicatorsTable;
  analysis_mailhosts: AnalysisMailhostsTable;
  analysis_mailhost_keys: AnalysisMailhostKeysTable;
  analysis_declared_mailhosts: AnalysisDeclaredMailhostsTable;
}

export type AnalysisRow = Selectable<AnalysesTable>;
export type IndicatorKind = 'url' | 'domain' | 'email' | 'phone' | 'wallet' | 'ip';
