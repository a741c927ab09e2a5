/**
 * The account page's "Your mail hosts" section: the reporter's declared mail hosts as one text area
 * (a host per line, `# note` after it), and what the trace-back learned from their reports
 * (`src/analysis/mailhost-routes.ts` does the checking and storing, for the page and the API alike);
 * the same form serves each intake channel on `/admin/mailhosts`.
 */
import type { Kysely } from 'kysely';
import { getDomain } from 'tldts';
import type { Config } from '../../core/config.ts';
import { AppError } from '../../core/errors.ts';
import type { Principal } from '../../core/roles.ts';
import type { Database } from '../../db/schema.ts';
import { declareMailhosts, type TypedDeclaration } from '../../analysis/mailhost-routes.ts';
import { trustTableFor } from '../../analysis/stages/traceback/trust.ts';
import { isListMail } from '../../analysis/list-mail.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, formatNumber, type PageCtx } from '../page.ts';

/**
 * A machine the trace-back named the origin of many of one reporter's reports, of several campaigns: a spam source
 * sends its own campaign, a machine that passes on many is usually the reporter's own forwarder, filter or gateway,
 * which only a declaration lets the trace-back look past (SpamCop asks its users the same).
 */
export interface FrequentOrigin {
  ip: string;
  rdns: string | null;
  reports: number;
  campaigns: number;
}

/** Reports of the reporter's, and campaigns among them, an origin must reach to be shown. */
export const FREQUENT_ORIGIN_REPORTS = 5;
export const FREQUENT_ORIGIN_CAMPAIGNS = 3;
/**
 * Senders (registered domains of the From addresses) among them: a forwarder passes on everybody's mail, a
 * newsletter's own mail server sends one sender's issues, each a campaign of its own (CNET's, AccuWeather's, CBS's on
 * the mixed corpus stream, which the reporting mailboxes received directly).
 */
export const FREQUENT_ORIGIN_SENDERS = 3;
/** The reporter's latest reports read for it (an account page, not a scan of a feed's million reports). */
export const FREQUENT_ORIGIN_WINDOW = 2000;

/** One of a reporter's reports as the suggestion reads it: where the trace-back stopped, and its campaign. */
export interface OriginOfReport {
  origin_ip: string | null;
  origin_rdns: string | null;
  campaign_id: string | null;
  message_sha256: string;
  /** The domain of the message's From address (`action_report_facts.sender_domain`). */
  sender_domain: string | null;
}

/** An origin that reaches the thresholds, with the latest of its messages to read for list headers. */
export interface FrequentCandidate extends FrequentOrigin {
  /** Its latest distinct messages (sha256), at most {@link LIST_SAMPLE}. */
  samples: string[];
}

/** Candidates whose messages are read for list headers (the page shows five). */
export const LIST_CHECKED_CANDIDATES = 10;
/** A candidate's latest messages read; it is held back when at least half of them came through a list. */
export const LIST_SAMPLE = 6;

/**
 * The origins of `rows` (a reporter's reports, latest first) that reach the thresholds, most reports first; none
 * named by address in `known` (the reporter's declared or learned hosts).
 */
export function frequentCandidates(
  rows: readonly OriginOfReport[],
  known: readonly string[] = [],
  /** The senders a candidate needs (the evaluation passes 1 to show what the sender rule holds back). */
  minSenders = FREQUENT_ORIGIN_SENDERS,
): FrequentCandidate[] {
  interface Tally {
    rdns: string | null;
    reports: number;
    campaigns: Set<string>;
    senders: Set<string>;
    samples: Set<string>;
  }
  const byIp = new Map<string, Tally>();
  for (const r of rows) {
    const ip = r.origin_ip;
    if (ip === null) continue;
    const e = byIp.get(ip) ?? {
      rdns: null,
      reports: 0,
      campaigns: new Set<string>(),
      senders: new Set<string>(),
      samples: new Set<string>(),
    };
    e.reports++;
    e.rdns ??= r.origin_rdns;
    // A message in no campaign is its own.
    e.campaigns.add(r.campaign_id ?? `msg:${r.message_sha256}`);
    if (r.sender_domain !== null) e.senders.add(getDomain(r.sender_domain) ?? r.sender_domain);
    if (e.samples.size < LIST_SAMPLE) e.samples.add(r.message_sha256);
    byIp.set(ip, e);
  }
  const skip = new Set(known);
  return [...byIp]
    .filter(
      ([ip, e]) =>
        !skip.has(ip) &&
        e.reports >= FREQUENT_ORIGIN_REPORTS &&
        e.campaigns.size >= FREQUENT_ORIGIN_CAMPAIGNS &&
        e.senders.size >= minSenders,
    )
    .map(([ip, e]) => ({ ip, rdns: e.rdns, reports: e.reports, campaigns: e.campaigns.size, samples: [...e.samples] }))
    .sort((a, b) => b.reports - a.reports || (a.ip < b.ip ? -1 : 1));
}

/**
 * The account page's suggestions from `rows` (latest first): the {@link frequentCandidates}, without those at least
 * half of whose sampled messages came through a mailing list (`listMail`: the sha256 of each sampled message that
 * did, `src/analysis/list-mail.ts`) — a list's server passes on many campaigns to each subscriber, and is the origin
 * of its mail, never a subscriber's mail host: on the mixed corpus stream, every address the thresholds alone named
 * was one (the listings evaluation) — at most five. Shared with that evaluation.
 */
export function frequentOriginsOf(
  rows: readonly OriginOfReport[],
  known: readonly string[] = [],
  listMail: ReadonlySet<string> = new Set(),
): FrequentOrigin[] {
  return frequentCandidates(rows, known)
    .slice(0, LIST_CHECKED_CANDIDATES)
    .filter((c) => 2 * c.samples.filter((s) => listMail.has(s)).length < c.samples.length)
    .slice(0, 5)
    .map(({ ip, rdns, reports, campaigns }) => ({ ip, rdns, reports, campaigns }));
}

/**
 * {@link frequentOriginsOf} over the latest {@link FREQUENT_ORIGIN_WINDOW} reports of `key` (`user:ID`), the sampled
 * messages of the first {@link LIST_CHECKED_CANDIDATES} candidates read for list headers.
 */
export async function frequentOrigins(
  db: Kysely<Database>,
  key: string,
  known: readonly string[] = [],
): Promise<FrequentOrigin[]> {
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  const id = key.slice(colon + 1);
  // An account's reports are read by its index (reporter, time); a token without an account has no page.
  if (kind !== 'user' || id.length === 0) return [];
  const rows = await db
    .selectFrom('reports as r')
    .innerJoin('action_report_facts as f', 'f.report_id', 'r.id')
    .select(['f.origin_ip', 'f.origin_rdns', 'f.campaign_id', 'f.message_sha256', 'f.sender_domain'])
    .where('r.reporter_user_id', '=', id)
    .where('f.origin_ip', 'is not', null)
    .orderBy('r.received_at', 'desc')
    .limit(FREQUENT_ORIGIN_WINDOW)
    .execute();
  const sampled = new Set(
    frequentCandidates(rows, known)
      .slice(0, LIST_CHECKED_CANDIDATES)
      .flatMap((c) => c.samples),
  );
  const listMail = new Set<string>();
  for (const sha of sampled) {
    const raw = await getMessageRaw(db, sha);
    if (raw !== null && isListMail(raw)) listMail.add(sha);
  }
  return frequentOriginsOf(rows, known, listMail);
}

/** Most lines read from the text area (the store keeps at most 32; more are refused there, by count). */
const MAX_LINES = 200;

/** The text area's lines as declarations: blank lines skipped, text after `#` the note. */
export function typedMailhosts(text: string): TypedDeclaration[] {
  const out: TypedDeclaration[] = [];
  for (const line of text.split(/\r?\n/).slice(0, MAX_LINES)) {
    const hash = line.indexOf('#');
    const host = (hash < 0 ? line : line.slice(0, hash)).trim();
    const note = hash < 0 ? '' : line.slice(hash + 1).trim();
    if (host.length === 0) continue;
    out.push(note.length > 0 ? { host, note } : { host });
  }
  return out;
}

/** Where a mail-hosts form posts and how it is titled (the account page's, or one intake channel's). */
export interface MailhostsForm {
  action: string;
  /** Element id of the section (and, suffixed, of its text area). */
  id: string;
  title: string;
  lead: string;
}

/**
 * Declares what a mail-hosts form's text area holds for `key`: null when saved, else the refusal to
 * show above the form (each refused line with its reason; nothing is stored then).
 */
export async function declareFromForm(
  db: Kysely<Database>,
  config: Config,
  key: string,
  text: string,
  p: Principal,
  ip: string,
): Promise<string | null> {
  try {
    await declareMailhosts(
      db,
      key,
      typedMailhosts(text),
      trustTableFor(config.intakeHosts, config.trustedRelaysFile ?? null),
      p,
      ip,
    );
    return null;
  } catch (e) {
    if (e instanceof AppError && e.code === 'BAD_REQUEST') return e.message;
    throw e;
  }
}

export function mailhostsSection(
  ctx: PageCtx,
  view: { declared: { host: string; note: string | null }[]; learned: string[]; frequent?: FrequentOrigin[] },
  opts: { text?: string; error?: string },
  form: MailhostsForm = {
    action: '/account/mailhosts',
    id: 'mailhosts',
    title: ctx.t('account.mailhosts'),
    lead: ctx.t('account.mailhosts.lead'),
  },
): SafeHtml {
  const { t } = ctx;
  const text = opts.text ?? view.declared.map((d) => (d.note ? `${d.host}  # ${d.note}` : d.host)).join('\n');
  const area = form.id === 'mailhosts' ? 'mailhosts' : `${form.id}-hosts`;
  return html`<section class="card" id="${form.id}"><h2>${form.title}</h2>
<p>${form.lead}</p>
${opts.error ? html`<p class="error" role="alert" data-testid="mailhosts-error">${opts.error}</p>` : ''}
<form method="post" action="${form.action}" class="stack">${csrfField(ctx)}
  <label for="${area}">${t('account.mailhosts.label')}</label>
  <textarea id="${area}" name="mailhosts" rows="5" spellcheck="false" translate="no">${text}</textarea>
  <button type="submit">${t('account.mailhosts.save')}</button>
</form>
<p>${
    view.learned.length === 0
      ? t('account.mailhosts.none')
      : t('account.mailhosts.learned', { hosts: view.learned.join(', ') })
  }</p>
${
  (view.frequent ?? []).length === 0
    ? ''
    : html`<p>${t('account.mailhosts.frequent')}</p>
<ul data-testid="mailhosts-frequent">${(view.frequent ?? []).map(
        (o) =>
          html`<li><code translate="no">${o.ip}</code>${
            o.rdns ? html` (<code translate="no">${o.rdns}</code>)` : ''
          }: ${t('account.mailhosts.frequent.item', {
            reports: formatNumber(ctx, o.reports),
            campaigns: formatNumber(ctx, o.campaigns),
          })}</li>`,
      )}</ul>`
}
</section>`;
}
