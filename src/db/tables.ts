/**
 * Table types of the foundation (Kysely's `Generated<>`/`Selectable<>` style). Timestamps are ISO
 * 8601 UTC strings, booleans are 0/1 integers and JSON is text, so that SQLite and PostgreSQL store
 * exactly the same values.
 */
import type { Generated, Insertable, Selectable } from 'kysely';

/** Raw evidence: the exact bytes of a reported message, compressed, addressed by SHA-256. */
export interface MessagesTable {
  sha256: string;
  /** `email` or `sms`. */
  kind: string;
  /** Uncompressed size in bytes. */
  size: number;
  /** Compression of `content`: `deflate-raw` or `identity`. */
  codec: string;
  content: Buffer;
  first_seen_at: string;
}

/** One act of reporting: who reported which message, when and how. */
export interface ReportsTable {
  id: string;
  message_sha256: string;
  /** api | web | smtp | addon | sms | arf | import */
  channel: string;
  received_at: string;
  /** users.id of the reporter, when known. */
  reporter_user_id: string | null;
  /** api_tokens.id the report was submitted with, if any. */
  reporter_token_id: string | null;
  /** The reporter's own address or number (redacted from everything that leaves). */
  reporter_address: string | null;
  client_ip: string | null;
  note: string | null;
  /** `full` (exact original) or `inline` (recovered from an inline forward: lower quality). */
  quality: string;
  /** Idempotency key: the same key never creates a second report. */
  dedup_key: string | null;
  /** JSON: channel-specific context (wrapper message hash, ARF feedback-type, file name, …). */
  context: string | null;
  /** Secret for the reporter's private tracking link. */
  tracking_token: string;
  /** 1 for a report from a historical import (see `spamdesk import --live`). */
  historical: Generated<number>;
}

/**
 * The globally unique keys of a report (0230), one row per report written with it: a partitioned
 * `reports` cannot enforce their uniqueness itself. Mirrors `reports.dedup_key`/`tracking_token`.
 */
export interface ReportKeysTable {
  report_id: string;
  dedup_key: string | null;
  tracking_token: string;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  role: string;
  password_hash: string | null;
  created_at: string;
  disabled_at: string | null;
}

export interface ApiTokensTable {
  id: string;
  name: string | null;
  role: string;
  user_id: string | null;
  /** SHA-256 of the secret; the secret itself is shown once and never stored. */
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** Background work, claimed by workers (SKIP LOCKED on PostgreSQL). */
export interface JobsTable {
  id: string;
  kind: string;
  /** JSON payload. */
  payload: string;
  /** queued | running | done | dead */
  state: string;
  run_at: string;
  attempts: number;
  locked_by: string | null;
  locked_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** Input that could not be accepted or processed, parked with its reason so it can be replayed. */
export interface DeadLettersTable {
  id: string;
  source: string;
  reason: string;
  /** Where it came from: file and offset, client address, job id, … */
  origin: string | null;
  payload: Buffer | null;
  created_at: string;
  retried_at: string | null;
}

/**
 * Who viewed, exported or sent which evidence, when and from where: an append-only hash chain
 * (migration 0091; see src/evidence/audit.ts).
 */
export interface AuditLogTable {
  id: string;
  at: string;
  actor: string;
  action: string;
  subject: string;
  ip: string | null;
  detail: string | null;
  /** Position in the chain, 1, 2, 3… (unique). */
  seq: number | null;
  /** Hash of entry `seq - 1` (or of the last pruned entry, or 64 zeros for the first). */
  prev_hash: string | null;
  /** SHA-256 of this entry's fields and `prev_hash` (audit-hash.ts). */
  hash: string | null;
}

/** The last entry of the audit chain (one row, id 1): every append locks and moves it. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
  updated_at: string;
}

/** Where retention cut the audit chain: the last pruned entry's number and hash. */
export interface AuditCheckpointsTable {
  seq: number;
  hash: string;
  pruned: number;
  created_at: string;
}

export interface FoundationTables {
  messages: MessagesTable;
  reports: ReportsTable;
  report_keys: ReportKeysTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  jobs: JobsTable;
  dead_letters: DeadLettersTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  audit_checkpoints: AuditCheckpointsTable;
}

export type Report = Selectable<ReportsTable>;
export type NewReport = Insertable<ReportsTable>;
export type ApiToken = Selectable<ApiTokensTable>;
export type Job = Selectable<JobsTable>;
