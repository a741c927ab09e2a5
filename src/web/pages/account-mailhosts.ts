/**
 * The account page's "Your mail hosts" section: the reporter's declared mail hosts as one text area
 * (a host per line, `# note` after it), and what the trace-back learned from their reports
 * (`src/analysis/mailhost-routes.ts` does the checking and storing, for the page and the API alike);
 * the same form serves each intake channel on `/admin/mailhosts`.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../../core/config.ts';
import { AppError } from '../../core/errors.ts';
import type { Principal } from '../../core/roles.ts';
import type { Database } from '../../db/schema.ts';
import { declareMailhosts, type TypedDeclaration } from '../../analysis/mailhost-routes.ts';
import { trustTableFor } from '../../analysis/stages/traceback/trust.ts';
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
/** The reporter's latest reports read for it (an account page, not a scan of a feed's million reports). */
const FREQUENT_ORIGIN_WINDOW = 2000;

/**
 * The origins that recur across campaigns in the latest reports of `key` (`user:ID`), most reports
 * first, at most five; none that the reporter's declared or learned hosts already name by address.
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
    .select(['f.origin_ip', 'f.origin_rdns', 'f.campaign_id', 'f.message_sha256'])
    .where('r.reporter_user_id', '=', id)
    .where('f.origin_ip', 'is not', null)
    .orderBy('r.received_at', 'desc')
    .limit(FREQUENT_ORIGIN_WINDOW)
    .execute();
  const byIp = new Map<string, { rdns: string | null; reports: number; campaigns: Set<string> }>();
  for (const r of rows) {
    const ip = r.origin_ip as string;
    const e = byIp.get(ip) ?? { rdns: null, reports: 0, campaigns: new Set<string>() };
    e.reports++;
    e.rdns ??= r.origin_rdns;
    // A message in no campaign is its own.
    e.campaigns.add(r.campaign_id ?? `msg:${r.message_sha256}`);
    byIp.set(ip, e);
  }
  const skip = new Set(known);
  return [...byIp]
    .filter(
      ([ip, e]) =>
        !skip.has(ip) && e.reports >= FREQUENT_ORIGIN_REPORTS && e.campaigns.size >= FREQUENT_ORIGIN_CAMPAIGNS,
    )
    .map(([ip, e]) => ({ ip, rdns: e.rdns, reports: e.reports, campaigns: e.campaigns.size }))
    .sort((a, b) => b.reports - a.reports || (a.ip < b.ip ? -1 : 1))
    .slice(0, 5);
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
