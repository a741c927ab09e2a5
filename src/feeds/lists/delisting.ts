/**
 * Delisting: anyone may ask for a listed value to be removed (the public form and
 * `POST /api/v1/feeds/delist-requests`), rate-limited per client address and overall; one pending
 * request per listing (asking again returns the pending one). A rule grants a request for an
 * infected machine at once when no report came about it for `delisting.autoInfectedQuietHours`
 * (it was cleaned; new spam lists it again); every other request waits for an analyst, who grants
 * or refuses it with a note. Every request and decision is audited; a grant bumps the revision so
 * the zones and lists drop the value within a pass.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { DelistRequestRow } from '../../db/feeds-lists-tables.ts';
import type { ActionPolicy } from '../../actions/action-policy.ts';
import { AppError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { parseQuery } from './explain.ts';
import { bumpRevision, findListing } from './store.ts';

/** The rule that grants a cleaned infected machine's request. */
export const AUTO_INFECTED_RULE = 'rule:DELIST_INFECTED_QUIET';
export const MAX_REASON_CHARS = 2000;
export const MIN_REASON_CHARS = 10;
export const MAX_CONTACT_CHARS = 320;

export interface DelistInput {
  value: string;
  reason: string;
  contact: string | null;
  clientIp: string | null;
  actor: string;
}

export interface DelistOutcome {
  request: DelistRequestRow;
  /** True when this call created it (false: the pending request of the listing was returned). */
  created: boolean;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips control characters on purpose
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

function clean(text: string, max: number): string {
  // Control characters other than line breaks and tabs have no place in a reason.
  return text.replace(CONTROL_CHARS, '').trim().slice(0, max);
}

/** Validates a request's fields; throws 400 with the reason. */
export function validateDelistInput(raw: { value?: unknown; reason?: unknown; contact?: unknown }): {
  value: string;
  reason: string;
  contact: string | null;
} {
  const problems: string[] = [];
  const value = typeof raw.value === 'string' ? raw.value.trim() : '';
  if (!parseQuery(value)) problems.push('value: an IP address or a domain name');
  const reason = typeof raw.reason === 'string' ? clean(raw.reason, MAX_REASON_CHARS + 1) : '';
  if (reason.length < MIN_REASON_CHARS) problems.push(`reason: at least ${MIN_REASON_CHARS} characters`);
  if (reason.length > MAX_REASON_CHARS) problems.push(`reason: at most ${MAX_REASON_CHARS} characters`);
  let contact: string | null = null;
  if (raw.contact !== undefined && raw.contact !== null && raw.contact !== '') {
    contact = typeof raw.contact === 'string' ? clean(raw.contact, MAX_CONTACT_CHARS + 1) : '';
    if (!/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(contact) || contact.length > MAX_CONTACT_CHARS)
      problems.push('contact: an e-mail address');
  }
  if (problems.length > 0) throw new AppError('BAD_REQUEST', problems.join('; '));
  return { value, reason, contact };
}

async function countSince(db: Kysely<Database>, since: string, clientIp: string | null): Promise<number> {
  let q = db
    .selectFrom('feed_delist_requests')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_at', '>=', since);
  if (clientIp !== null) q = q.where('client_ip', '=', clientIp);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Files a delisting request (or returns the pending one), applying the rate limits and the rule. */
export async function requestDelisting(
  db: Kysely<Database>,
  policy: ActionPolicy,
  input: DelistInput,
  now = new Date(),
): Promise<DelistOutcome> {
  const parsed = parseQuery(input.value);
  if (!parsed) throw new AppError('BAD_REQUEST', 'value: an IP address or a domain name');
  const listing = await findListing(db, parsed.kind, parsed.value);
  if (listing?.state !== 'listed') throw new AppError('NOT_FOUND', `${parsed.value} is not listed.`);
  const pending = await db
    .selectFrom('feed_delist_requests')
    .selectAll()
    .where('listing_id', '=', listing.id)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  if (pending) return { request: pending, created: false };
  const hourAgo = new Date(now.getTime() - 3_600_000).toISOString();
  const limits = policy.listing.delisting;
  if (input.clientIp !== null && (await countSince(db, hourAgo, input.clientIp)) >= limits.requestsPerHourPerClient)
    throw new AppError('RATE_LIMITED', `At most ${limits.requestsPerHourPerClient} delisting requests per hour.`);
  if ((await countSince(db, hourAgo, null)) >= limits.requestsPerHour)
    throw new AppError('RATE_LIMITED', 'Too many delisting requests at the moment; retry in an hour.');
  const at = now.toISOString();
  const row: DelistRequestRow = {
    id: newId(),
    listing_id: listing.id,
    kind: listing.kind,
    value: listing.value,
    reason: input.reason,
    contact: input.contact,
    client_ip: input.clientIp,
    state: 'pending',
    decided_by: null,
    decided_at: null,
    decision_note: null,
    created_at: at,
  };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('feed_delist_requests').values(row).execute();
    await writeAudit(trx, {
      actor: input.actor,
      action: 'feeds.delist.request',
      subject: `listing:${listing.id}`,
      ip: input.clientIp,
      detail: { request: row.id, value: listing.value, list: listing.list },
    });
  });
  const quietHours = limits.autoInfectedQuietHours;
  if (
    listing.list === 'infected' &&
    quietHours > 0 &&
    Date.parse(listing.last_seen) <= now.getTime() - quietHours * 3_600_000
  ) {
    const decided = await decideDelisting(
      db,
      row.id,
      'grant',
      `no report for ${quietHours} hour(s): the machine is taken as cleaned; new spam lists it again`,
      AUTO_INFECTED_RULE,
      null,
      now,
    );
    return { request: decided, created: true };
  }
  return { request: row, created: true };
}

/** Grants or refuses a pending request; throws 404 for an unknown id and 409 for a decided one. */
export async function decideDelisting(
  db: Kysely<Database>,
  id: string,
  decision: 'grant' | 'refuse',
  note: string,
  actor: string,
  ip: string | null,
  now = new Date(),
): Promise<DelistRequestRow> {
  return db.transaction().execute(async (trx) => {
    const req = await trx.selectFrom('feed_delist_requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!req) throw new AppError('NOT_FOUND', 'No such delisting request.');
    if (req.state !== 'pending') throw new AppError('CONFLICT', `The request was already ${req.state}.`);
    const at = now.toISOString();
    const state = decision === 'grant' ? 'granted' : 'refused';
    const r = await trx
      .updateTable('feed_delist_requests')
      .set({ state, decided_by: actor, decided_at: at, decision_note: clean(note, MAX_REASON_CHARS) || null })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new AppError('CONFLICT', 'The request was decided meanwhile.');
    if (decision === 'grant') {
      const listed = await trx
        .updateTable('feed_listings')
        .set({ state: 'delisted', return_code: null, delisted_at: at, delisted_by: actor, updated_at: at })
        .where('id', '=', req.listing_id)
        .where('state', 'in', ['listed', 'held'])
        .executeTakeFirst();
      if (Number(listed.numUpdatedRows) > 0) await bumpRevision(trx, at);
    }
    await writeAudit(trx, {
      actor,
      action: `feeds.delist.${state}`,
      subject: `listing:${req.listing_id}`,
      ip,
      detail: { request: id, value: req.value, note: note || null },
    });
    return { ...req, state, decided_by: actor, decided_at: at, decision_note: clean(note, MAX_REASON_CHARS) || null };
  });
}

export interface RequestPage {
  rows: DelistRequestRow[];
  /** Cursor of the next page (older requests), or null at the end. */
  next: string | null;
}

/** Requests newest first, by keyset pages (`before`: the previous page's cursor). */
export async function listDelistRequests(
  db: Kysely<Database>,
  opts: { state?: string; before?: string | null; limit: number },
): Promise<RequestPage> {
  let q = db
    .selectFrom('feed_delist_requests')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (opts.state) q = q.where('state', '=', opts.state);
  const cursor = decodeCursor(opts.before ?? null);
  if (opts.before && !cursor) throw new AppError('BAD_REQUEST', 'before: not a cursor this list gave.');
  if (cursor) {
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', cursor.at), eb.and([eb('created_at', '=', cursor.at), eb('id', '<', cursor.id)])]),
    );
  }
  const rows = await q.execute();
  const page = rows.slice(0, opts.limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > opts.limit && last ? encodeCursor(last.created_at, last.id) : null };
}

export function encodeCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

/** The cursor's parts, or null for a missing or malformed one (a tampered cursor starts over). */
export function decodeCursor(c: string | null): { at: string; id: string } | null {
  if (!c || c.length > 200) return null;
  const [at, id] = Buffer.from(c, 'base64url').toString('utf8').split('|');
  if (!at || !id || !/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(at) || !/^[0-9A-Za-z]{10,40}$/.test(id)) return null;
  return { at, id };
}
