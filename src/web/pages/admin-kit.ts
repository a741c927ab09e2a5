/**
 * What the administration and registry pages share: form fields, keyset paging by ULID (newest
 * first, `?after=<id>`, never OFFSET, no cap), the pager, the audit entry of a change, and turning
 * a service's refusal into the same page with the reason (4xx), never a 500.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { type Action, authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { html, type SafeHtml } from '../html.ts';
import { CSRF_FIELD, type PageCtx, pageContext, sendPage, verifyCsrf } from '../page.ts';
import { APP_LANGUAGES, type AppLanguage } from '../../core/languages.ts';
import { labelOf } from '../i18n.ts';

/** Rows per registry page. */
export const ADMIN_PAGE_SIZE = 50;

type Body = Record<string, unknown>;

/** A string field of a form body ('' when absent or not a string). */
export function field(b: unknown, k: string): string {
  return b && typeof b === 'object' && typeof (b as Body)[k] === 'string' ? String((b as Body)[k]) : '';
}

/** The named string fields of a form body, to check and to show again when refused. */
export function formOf(b: unknown, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, field(b, k)]));
}

/** A checkbox: present (any value) means on. */
export function checked(b: unknown, k: string): boolean {
  return field(b, k) !== '';
}

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The `after` cursor of a list (an id), or null for the first page; anything malformed is refused. */
export function cursorOf(query: unknown): string | null {
  const v = query && typeof query === 'object' ? (query as Body).after : undefined;
  if (v === undefined || v === '') return null;
  if (typeof v !== 'string' || !ULID_RE.test(v)) throw new AppError('BAD_REQUEST', 'after must be an id from a list.');
  return v;
}

/** An id in a path, checked before any lookup. */
export function idParam(v: string): string {
  if (!ULID_RE.test(v)) throw new AppError('NOT_FOUND', 'No such entry.');
  return v;
}

/** Splits one extra row off a `limit(size + 1)` query: the rows to show and the next cursor. */
export function pageOf<T extends { id: string }>(
  rows: T[],
  size = ADMIN_PAGE_SIZE,
): { rows: T[]; next: string | null } {
  if (rows.length <= size) return { rows, next: null };
  const shown = rows.slice(0, size);
  return { rows: shown, next: shown[shown.length - 1].id };
}

/** "Next page" and "first page" links of a keyset-paged list. */
export function pager(ctx: PageCtx, base: string, next: string | null, paged: boolean): SafeHtml {
  const sep = base.includes('?') ? '&' : '?';
  return html`<p class="pager">${
    paged ? html`<a href="${base}">${ctx.t('admin.list.first')}</a> ` : ''
  }${next ? html`<a rel="next" href="${base}${sep}after=${next}">${ctx.t('list.next')}</a>` : ''}</p>`;
}

/** Writes the audit entry of an administrative change. */
export async function auditChange(
  req: FastifyRequest,
  action: string,
  subject: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  await writeAudit(req.server.ctx.db, {
    actor: principalLabel(req.principal),
    action,
    subject,
    ip: req.ip,
    ...(detail ? { detail } : {}),
  });
}

/**
 * Runs a change; a refusal of the service (bad input, conflict, missing row) becomes the message
 * to show again with its status, anything else propagates.
 */
export async function attempt<T>(
  run: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: AppError }> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    if (e instanceof AppError && e.status >= 400 && e.status < 500) return { ok: false, error: e };
    throw e;
  }
}

/** A notice or an error above a form. */
export function flash(opts: { error?: string; message?: string }): SafeHtml {
  return html`${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}${
    opts.message ? html`<p class="notice" role="status">${opts.message}</p>` : ''
  }`;
}

/** The breadcrumb back to the administration index (and a registry). */
export function crumbs(ctx: PageCtx, trail: { href: string; label: string }[] = []): SafeHtml {
  return html`<p class="crumbs"><a href="/admin">${ctx.t('admin.title')}</a>${trail.map(
    (c) => html` › <a href="${c.href}">${c.label}</a>`,
  )}</p>`;
}

/** AS numbers typed by a person ("AS3215, 5410 64500"): integers, or a refusal naming the bad one. */
export function parseAsns(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(/[\s,;]+/).filter(Boolean)) {
    const m = /^(?:AS)?(\d{1,10})$/i.exec(part);
    const n = m ? Number(m[1]) : Number.NaN;
    if (!Number.isInteger(n) || n < 0 || n > 4_294_967_295)
      throw new AppError('BAD_REQUEST', `"${part}" is not an AS number.`);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

type EntryPage = (
  req: FastifyRequest,
  ctx: PageCtx,
  id: string,
  f: { error?: string; message?: string },
) => Promise<string>;

/**
 * A registry's two views: its list (`GET base`) and one entry's page (`GET base/:id`, the id
 * checked before any look-up), both behind one permission.
 */
export function registryViews(
  app: FastifyInstance,
  base: string,
  spec: { permission: Action; list: (req: FastifyRequest, ctx: PageCtx) => Promise<string>; entry: EntryPage },
): void {
  app.get(base, async (req, reply) => {
    authorize(req.principal, spec.permission);
    return sendPage(reply, await spec.list(req, pageContext(req, reply)));
  });
  app.get<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
    authorize(req.principal, spec.permission);
    return sendPage(reply, await spec.entry(req, pageContext(req, reply), idParam(req.params.id), {}));
  });
}

/** What a change writes to the audit trail; null when nothing changed (nothing is written). */
type AuditOf<T> = (id: string, value: T) => { action: string; detail?: Record<string, unknown> } | null;

/**
 * A POST that changes one registry entry (`path` holds `:id`): permission, CSRF token, a
 * well-formed id, then the change. A refusal of the service shows the entry's page again with the
 * reason and its 4xx; a change is audited against `subject:id` and answered with a 303 back to the
 * entry (post/redirect/get), so a reload never repeats it.
 */
export function entryChange<T>(
  app: FastifyInstance,
  path: string,
  spec: {
    permission: Action;
    /** `operator`, `partner`…: the audit subject is `${subject}:${id}`. */
    subject: string;
    /** Where the 303 goes, and whose page shows a refusal. */
    back: string;
    page: EntryPage;
    run: (id: string, body: unknown) => Promise<T>;
    audit: AuditOf<T>;
  },
): void {
  app.post<{ Params: { id: string } }>(path, async (req, reply) => {
    authorize(req.principal, spec.permission);
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const id = idParam(req.params.id);
    const r = await attempt(() => spec.run(id, req.body));
    if (!r.ok) {
      const page = await spec.page(req, pageContext(req, reply), id, { error: r.error.message });
      return sendPage(reply, page, r.error.status);
    }
    const entry = spec.audit(id, r.value);
    if (entry) await auditChange(req, entry.action, `${spec.subject}:${id}`, entry.detail);
    return reply.redirect(`${spec.back}/${id}`, 303);
  });
}

/** The `<option>`s of a select: each value with its label, `selected` chosen. */
export function selectOptions(values: readonly string[], selected: string, label: (v: string) => string): SafeHtml[] {
  return values.map((v) => html`<option value="${v}" ${v === selected ? 'selected' : ''}>${label(v)}</option>`);
}

/**
 * The language of what Spamdesk writes to a registry entry (referrals, digests, feedback): a
 * select of the languages it writes, empty for "the instance region's" (issue 18 item 6).
 */
export function languageField(ctx: PageCtx, value: string | null | undefined): SafeHtml {
  const { t } = ctx;
  return html`<label for="language">${t('registry.language')}</label><select id="language" name="language">\
<option value="">${t('registry.language.region')}</option>${selectOptions(APP_LANGUAGES, value ?? '', (l) =>
    labelOf(t, 'registry.language', l),
  )}</select>`;
}

/** The registry entry's language as its page shows it (`dt`/`dd` of its facts). */
export function languageFact(ctx: PageCtx, value: string | null): SafeHtml {
  const { t } = ctx;
  return html`<dt>${t('registry.language')}</dt><dd data-testid="language">${
    value ? labelOf(t, 'registry.language', value) : t('registry.language.region')
  }</dd>`;
}

/** A form's language field: '' is the region's (null), else one of {@link APP_LANGUAGES}; 400 otherwise. */
export function formLanguage(v: string | undefined): AppLanguage | null {
  const s = (v ?? '').trim();
  if (s === '') return null;
  if ((APP_LANGUAGES as readonly string[]).includes(s)) return s as AppLanguage;
  throw new AppError('BAD_REQUEST', `language: one of ${APP_LANGUAGES.join(', ')}, or empty for the region's.`);
}

/** A registry entry's form to change its language alone (posted to `action`). */
export function languageForm(ctx: PageCtx, action: string, value: string | null, csrf: SafeHtml): SafeHtml {
  return html`<form method="post" action="${action}" class="row">${csrf}${languageField(ctx, value)} \
<button type="submit">${ctx.t('registry.save')}</button></form>`;
}
