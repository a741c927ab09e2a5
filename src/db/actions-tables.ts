/**
 * Tables owned by the actions area: the outbox, cases and referrals, authorities, ISP alerts and
 * digests, registered senders (migrations `0006_actions`, `0061_*`). Conventions of the foundation:
 * ISO 8601 UTC text timestamps, ULID text ids, 0/1 booleans, JSON as text.
 */
import type { ColumnType, Selectable } from 'kysely';

/** One thing that leaves the platform: a mail (SMTP) or an HTTPS webhook call. */
export interface ActionOutboxTable {
  id: string;
  /** `smtp` | `webhook` */
  channel: string;
  /** Message-ID for mail, `Idempotency-Key` for webhooks: the same on every attempt. */
  idempotency_key: string;
  /** Recipient address (smtp) or URL (webhook). */
  destination: string;
  /** SMTP envelope sender; null for webhooks. */
  envelope_from: string | null;
  /** JSON object of extra HTTP headers (webhook); null for mail. */
  headers: string | null;
  /** The exact bytes sent: the whole RFC 5322 message, or the HTTP body. Built once, never rebuilt. */
  body: Buffer;
  body_sha256: string;
  content_type: string;
  /** `queued` | `sending` | `sent` | `dead` */
  state: string;
  attempts: number;
  max_attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  locked_by: string | null;
  locked_at: string | null;
  /** What it is about, e.g. `referral`, `isp-digest`, `fbl`; and the id of that thing. */
  purpose: string;
  subject_id: string | null;
  description: string;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

/** Per-report facts the actions area keeps (from the analysis and the campaign), for rules and digests. */
export interface ActionReportFactsTable {
  report_id: string;
  message_sha256: string;
  campaign_id: string | null;
  /** Classification category (e.g. `phishing`), or null. */
  category: string | null;
  received_at: string;
  origin_ip: string | null;
  origin_asn: number | null;
  origin_as_name: string | null;
  origin_country: string | null;
  origin_rdns: string | null;
  /** JSON array of abuse-contact addresses for the origin network. */
  origin_abuse: string | null;
  /** Source port of the origin connection when a Received header shows it. */
  origin_port: number | null;
  /** Registrable domain of From. */
  sender_domain: string | null;
  /** JSON array of advertised registrable domains (`analysis/advertised.ts`: what the message links to). */
  advertised_domains: string | null;
  /**
   * JSON array of registrable domains the message only names (written in the text of an HTML part whose
   * links go elsewhere; migration 0293): never listed for it, still legitimate evidence from ham. Null
   * on facts made before 0293.
   */
  named_domains: string | null;
  /** 1 when the reporter states they never consented. */
  consent_denied: number;
  /** 1 when SPF, DKIM and DMARC all failed or were absent. */
  unauthenticated: number;
  /** JSON array of botnet signals seen for this report's origin. */
  bot_signals: string | null;
  created_at: string;
  /** The message's own category (an analyst's relabel, else its classification); `category` is its campaign's. */
  message_category: string | null;
  /** 1 when SPF or DKIM passed aligned with the From domain (the sender is who it says). */
  authenticated: number;
  /** 1 for a report from a historical import: never an automatic referral, ISP alert or feedback. */
  historical: number;
  /** When the message arrived (believed topmost Received, else Date:, else when it was reported). */
  arrived_at: string | null;
  /** When the origin handed it on (the Received line that names the origin), when written. */
  origin_sent_at: string | null;
}

/** A case: the evidence gathered against one target. */
export interface ActionCasesTable {
  id: string;
  /** `campaign` | `sender_domain` | `advertised_domain` | `origin_network` */
  target_kind: string;
  target_value: string;
  title: string;
  /** Category that drives routing (phishing, malware, consent, scam, …). */
  category: string | null;
  /** `open` | `referred` | `closed` | `merged` */
  state: string;
  merged_into: string | null;
  /** `rule:<name>` or the principal label of the analyst. */
  opened_by: string;
  created_at: string;
  updated_at: string;
}

export interface ActionCaseReportsTable {
  case_id: string;
  report_id: string;
  message_sha256: string;
  added_at: string;
  /** The report's reception time (a copy of `reports.received_at`, for the case's timeline; 0151). */
  received_at: string | null;
}

/**
 * A case's counts kept as reports join and leave it (0180): one row per (case, kind, value), kinds
 * `total`, `day`, `sender`, `advertised`, `asn`, `country`, `ip`; the `total` row marks it built.
 */
export interface ActionCaseTalliesTable {
  case_id: string;
  kind: string;
  value: string;
  reports: number;
  /** `ip` rows: the origin's AS number. */
  asn: number | null;
  /** `asn` and `ip` rows: the network's name first seen. */
  as_name: string | null;
  /** `ip` rows: the origin's country. */
  country: string | null;
}

/** The case history: every state change, annotation, referral and answer. */
export interface ActionCaseEventsTable {
  id: string;
  case_id: string;
  at: string;
  actor: string;
  /** opened | report-added | annotated | merged | referred | acknowledged | more-requested | closed | reopened */
  kind: string;
  /** JSON. */
  detail: string | null;
}

export interface ActionAuthoritiesTable {
  id: string;
  name: string;
  country: string;
  /** `data_protection` | `consumer_protection` | `cybercrime` | `telecom_regulator` */
  competence: string;
  /** `email` | `webhook` | `partner` */
  contact_kind: string;
  /** Address or URL. */
  contact: string;
  /** `original-and-redacted` | `redacted-only` */
  evidence_mode: string;
  /**
   * Why this recipient may receive originals naming the reporter (statute, agreement, court
   * order). Required for a partner platform to receive originals (migration 0092).
   */
  legal_basis: string | null;
  /** api_tokens.id / users.id of the authority's account, for acknowledging referrals. */
  user_id: string | null;
  active: number;
  created_at: string;
  /** 1: the authority receives the regulator's monthly report by mail (migration 0160). */
  monthly_report: ColumnType<number, number | undefined, number>;
  /** `en` | `fr` of the mails it gets; null: the instance region's language (migration 0220). */
  language: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One row per (authority, month) the monthly report was queued for: the once-a-month guard (0160). */
export interface ActionMonthlyReportSendsTable {
  authority_id: string;
  /** `YYYY-MM`. */
  month: string;
  outbox_id: string | null;
  created_at: string;
}

/** The monthly report as last computed, one row per month (0288, `actions/monthly-report/snapshots.ts`). */
export interface ActionMonthlyReportsTable {
  /** `YYYY-MM`. */
  month: string;
  generated_at: string;
  /** The report's JSON (`MonthlyReport`). */
  body: string;
}

export interface ActionReferralsTable {
  id: string;
  case_id: string;
  authority_id: string;
  /**
   * `queued` until the authority answers — what it shows is then its delivery's state (see
   * `referralState`) — or the answer: `acknowledged` | `more-requested` | `closed`.
   */
  state: string;
  /** The outbox entry that delivers it. */
  outbox_id: string | null;
  package_sha256: string;
  package_size: number;
  /** The ZIP as sent. */
  package: Buffer;
  created_at: string;
  updated_at: string;
}

/** A network operator (ISP, host) receiving alerts about its networks. */
export interface ActionOperatorsTable {
  id: string;
  name: string;
  /** Where digests go. */
  abuse_address: string;
  /** `xarf` | `arf` */
  format: string;
  /** 1: never send this operator alerts. */
  opted_out: number;
  /** users.id of the operator's account (sees its own alerts). */
  user_id: string | null;
  created_at: string;
  /** `en` | `fr` of the mails it gets; null: the instance region's language (migration 0220). */
  language: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ActionOperatorAsnsTable {
  asn: number;
  operator_id: string;
}

/** One origin IP judged infected/abused in one period, for one operator. */
export interface ActionIspAlertsTable {
  id: string;
  operator_id: string;
  asn: number | null;
  ip: string;
  first_seen: string;
  last_seen: string;
  report_count: number;
  campaign_count: number;
  /** JSON: signals, sample (time, port, report ids). */
  evidence: string;
  digest_id: string | null;
  /** `open` | `handled` */
  state: string;
  handled_at: string | null;
  handled_by: string | null;
  created_at: string;
}

export interface ActionIspDigestsTable {
  id: string;
  operator_id: string;
  format: string;
  period_start: string;
  period_end: string;
  alert_count: number;
  csv: string;
  created_at: string;
}

/** A legitimate sender (newsletter operator, ESP) in the feedback loop. */
export interface ActionSendersTable {
  id: string;
  name: string;
  /** Where ARF feedback goes. */
  feedback_address: string;
  user_id: string | null;
  created_at: string;
  /** `en` | `fr` of the mails it gets; null: the instance region's language (migration 0220). */
  language: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ActionSenderIdentitiesTable {
  id: string;
  sender_id: string;
  /** `domain` | `ip` */
  kind: string;
  value: string;
  /** The token to publish in DNS TXT. */
  token: string;
  verified_at: string | null;
  created_at: string;
}

/** Which report was fed back to which sender identity (never twice). */
export interface ActionFblSentTable {
  report_id: string;
  identity_id: string;
  outbox_id: string;
  created_at: string;
}

/** A partner platform whose signed evidence packages this instance accepts. */
export interface ActionPartnersTable {
  id: string;
  name: string;
  country: string;
  public_key_pem: string;
  /** SHA-256 of the key's DER SubjectPublicKeyInfo, as the partner's manifests name it. */
  key_fingerprint: string;
  created_at: string;
  disabled_at: string | null;
  /** The partner's base URL (migration 0140): where status messages for its referrals go. */
  url: string | null;
}

/** A signed status message sent to or received from a partner (migration 0140), once per message id. */
export interface ActionExchangeMessagesTable {
  id: string;
  partner_id: string;
  /** `in` (received from the partner) or `out` (sent to it). */
  direction: string;
  message_id: string;
  /** The sender's referral (package) id the message is about. */
  referral_id: string;
  /** The local case. */
  case_id: string;
  /** 1, 2, 3… per referral and direction (unique). */
  sequence: number;
  status: string;
  body_sha256: string;
  /** The signed JSON body, exactly as sent or received. */
  body: string;
  outbox_id: string | null;
  created_at: string;
}

/** A partner's request for more (originals, further reports), waiting for an analyst's decision. */
export interface ActionExchangeRequestsTable {
  id: string;
  referral_id: string;
  case_id: string;
  partner_id: string;
  message_id: string;
  kind: string;
  question: string;
  /** `pending` | `approved` | `declined`. */
  state: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  follow_up_referral_id: string | null;
  created_at: string;
}

/** A package received from a partner: recorded once, so a redelivery changes nothing. */
export interface ActionReceivedPackagesTable {
  id: string;
  partner_id: string;
  package_id: string;
  package_sha256: string;
  remote_case_id: string;
  /** The local case the package was filed under. */
  case_id: string;
  messages: number;
  /** JSON array of the local report ids. */
  report_ids: string;
  received_at: string;
}

/** The instance's signing keys (migration 0093): the current one and every retired one. */
export interface ActionInstanceKeysTable {
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex. */
  fingerprint: string;
  /** `Ed25519`. */
  algorithm: string;
  public_key_pem: string;
  /** JSON: the PKCS#8 private key encrypted with AES-256-GCM under the configured secret. */
  private_key_enc: string;
  /** `current` for the key that signs now; null once retired. */
  active_slot: string | null;
  valid_from: string;
  /** When it was retired (packages signed before then verify with it). */
  valid_until: string | null;
  /** JSON: the retired key's signature over this key's rotation statement. */
  endorsement: string | null;
  created_at: string;
}

export interface ActionTables {
  action_instance_keys: ActionInstanceKeysTable;
  action_outbox: ActionOutboxTable;
  action_report_facts: ActionReportFactsTable;
  action_cases: ActionCasesTable;
  action_case_reports: ActionCaseReportsTable;
  action_case_tallies: ActionCaseTalliesTable;
  action_case_events: ActionCaseEventsTable;
  action_authorities: ActionAuthoritiesTable;
  action_referrals: ActionReferralsTable;
  action_operators: ActionOperatorsTable;
  action_operator_asns: ActionOperatorAsnsTable;
  action_isp_alerts: ActionIspAlertsTable;
  action_isp_digests: ActionIspDigestsTable;
  action_senders: ActionSendersTable;
  action_sender_identities: ActionSenderIdentitiesTable;
  action_fbl_sent: ActionFblSentTable;
  action_partners: ActionPartnersTable;
  action_received_packages: ActionReceivedPackagesTable;
  action_monthly_report_sends: ActionMonthlyReportSendsTable;
  action_monthly_reports: ActionMonthlyReportsTable;
  action_exchange_messages: ActionExchangeMessagesTable;
  action_exchange_requests: ActionExchangeRequestsTable;
}

export type OutboxRow = Selectable<ActionOutboxTable>;
export type CaseRow = Selectable<ActionCasesTable>;
export type PartnerRow = Selectable<ActionPartnersTable>;
export type ExchangeRequestRow = Selectable<ActionExchangeRequestsTable>;
export type AuthorityRow = Selectable<ActionAuthoritiesTable>;
export type ReportFactsRow = Selectable<ActionReportFactsTable>;
export type OperatorRow = Selectable<ActionOperatorsTable>;
export type IspAlertRow = Selectable<ActionIspAlertsTable>;
