/**
 * Tables owned by the web application (migration 0005_web and the 005x ones after it): sessions,
 * login attempts, false-report marks, the report index + roll-ups behind the workbench list and
 * the dashboards, and what staff did with intake dead letters.
 * The extra account columns of `users` are typed in {@link WebUserColumns}.
 */
import type { Selectable } from 'kysely';

/** A signed-in browser. Only the SHA-256 of the cookie secret is stored. */
export interface WebSessionsTable {
  id_hash: string;
  user_id: string;
  /** Synchroniser token every state-changing form of this session must carry. */
  csrf_token: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  ip: string | null;
  user_agent: string | null;
}

export interface WebLoginAttemptsTable {
  id: string;
  at: string;
  email: string;
  ip: string | null;
  ok: number;
}

/** An analyst's judgement that a report is (or is not) a false report, with who and when. */
export interface WebReportMarksTable {
  id: string;
  report_id: string;
  mark: string;
  actor: string;
  at: string;
  note: string | null;
}

/** One row per report with the facts the list filters on (denormalised from analysis/campaigns). */
export interface WebReportIndexTable {
  report_id: string;
  received_at: string;
  /** When the message arrived (see `messageTimes`); statistics count by it, lists order by `received_at`. */
  arrived_at: string | null;
  channel: string;
  kind: string;
  message_sha256: string;
  reporter_user_id: string | null;
  subject: string | null;
  sender: string | null;
  sender_domain: string | null;
  origin_ip: string | null;
  origin_country: string | null;
  origin_asn: number | null;
  category: string | null;
  campaign_id: string | null;
  stage: number;
  false_report: number;
  updated_at: string;
}

export interface WebReportTermsTable {
  term: string;
  received_at: string;
  report_id: string;
}

export interface WebRollupDailyTable {
  dim: string;
  day: string;
  value: string;
  n: number;
}

/** What staff did with an intake dead letter (migration 0055). */
export interface WebDeadLetterActionsTable {
  id: string;
  dead_letter_id: string;
  /** `retried` | `retry-refused` | `dismissed` */
  action: string;
  actor: string;
  at: string;
  /** The report id (retried) or the reason (retry-refused). */
  detail: string | null;
}

export interface WebStateTable {
  key: string;
  value: string;
}

/** Account columns 0005_web adds to the foundation's `users` table. */
export interface WebUserColumns {
  locale: string | null;
  failed_logins: number;
  locked_until: string | null;
  last_login_at: string | null;
  authority_id: string | null;
  networks: string | null;
  must_change_password: number;
}

export interface WebTables {
  web_sessions: WebSessionsTable;
  web_login_attempts: WebLoginAttemptsTable;
  web_report_marks: WebReportMarksTable;
  web_report_index: WebReportIndexTable;
  web_report_terms: WebReportTermsTable;
  web_rollup_daily: WebRollupDailyTable;
  web_state: WebStateTable;
  web_dead_letter_actions: WebDeadLetterActionsTable;
}

export type ReportIndexRow = Selectable<WebReportIndexTable>;
