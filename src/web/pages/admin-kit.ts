/**
 * What the administration and registry pages share: form fields, keyset paging by ULID (newest
 * first, `?after=<id>`, never OFFSET, no cap), the pager, the audit entry of a change, and turning
 * a service's refusal into the same page with the reason (4xx), never a 500.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { html, type SafeHtml } from '../html.ts';
import type { PageCtx } from '../page.ts';

/** Rows per registry page. */
export const ADMIN_PAGE_SIZE = 50;

type Body = Record<string, unknown>;

/** A string field of a form body ('' when absent or not a string). */
export function field(b: unknown, k: string): string {
  return b && typeof b === 'object' && typeof (b as Body)[k] === 'string' ? String((b as Body)[k]) : '';
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
