/** Tables owned by the feeds area's threat-intelligence part (migration 0131_feeds-intel). */
import type { Selectable } from 'kysely';

/** A TAXII collection (and MISP feed): its marking and what it publishes. */
export interface IntelCollectionsTable {
  /** UUID (TAXII collection ids are UUIDs). */
  id: string;
  /** Short stable name, used in MISP feed URLs and the CLI. */
  alias: string;
  title: string;
  description: string;
  /** `white` | `green` | `amber` | `red` */
  tlp: string;
  /** JSON array of campaign categories published (empty: every abusive category). */
  categories: string;
  /** JSON array of indicator kinds published (`ip`, `domain`, `url`, `email`, `phone`, `wallet`). */
  kinds: string;
  /** A campaign is published once it has at least this many reports. */
  min_reports: number;
  created_at: string;
  updated_at: string;
}

/** Read access to a collection: one API token, or one account (every token of it). */
export interface IntelGrantsTable {
  id: string;
  collection_id: string;
  token_id: string | null;
  user_id: string | null;
  granted_by: string;
  granted_at: string;
  revoked_at: string | null;
}

/** One version of one STIX object in one collection. */
export interface IntelObjectsTable {
  collection_id: string;
  seq: number;
  object_id: string;
  type: string;
  /** The object's `modified` (its `created` for objects without one, such as marking definitions). */
  version: string;
  /** The object's `created` (kept across its versions). */
  created: string;
  /** When this version was added to the collection (TAXII `date_added`, microseconds, strictly increasing). */
  date_added: string;
  /** SHA-256 of the object without `created` and `modified`: unchanged content adds no version. */
  content_hash: string;
  revoked: number;
  superseded_seq: number | null;
  json: string;
}

/** The current MISP event of a published campaign in a collection. */
export interface IntelMispEventsTable {
  collection_id: string;
  uuid: string;
  campaign_id: string;
  /** The event's human-readable id in this collection (MISP core format `id`, an unsigned integer). */
  event_id: number;
  content_hash: string;
  /** SHA-256 of the event as built, before attributes no longer published were kept as deleted. */
  draft_hash: string;
  /** Unix seconds of the last change (the event's `timestamp`). */
  timestamp: number;
  json: string;
}

export interface IntelStateTable {
  collection_id: string;
  last_seq: number;
  last_date_added: string;
  built_at: string | null;
}

export interface IntelTables {
  intel_collections: IntelCollectionsTable;
  intel_grants: IntelGrantsTable;
  intel_objects: IntelObjectsTable;
  intel_misp_events: IntelMispEventsTable;
  intel_state: IntelStateTable;
}

export type IntelCollection = Selectable<IntelCollectionsTable>;
export type IntelGrant = Selectable<IntelGrantsTable>;
export type IntelObjectRow = Selectable<IntelObjectsTable>;
