/**
 * The authority registry and the routing of cases to them by competence: the policy's routes map
 * a case category to competences (phishing/malware → cybercrime, consent/identity breaches →
 * data protection, deceptive offers/scams → consumer protection), and every active authority with
 * a matching competence (and country, when the policy restricts it) receives the case.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/schema.ts';
import { AppError } from '../../core/errors.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { COMPETENCES, type ActionPolicy, type Competence } from '../action-policy.ts';
import { webhookUrlProblem } from '../outbox/transports.ts';
import { APP_LANGUAGES } from '../../core/languages.ts';
import type { AuthorityRow } from '../../db/actions-tables.ts';

export const AuthorityInput = z
  .object({
    name: z.string().min(1).max(200),
    country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166 alpha-2, upper case'),
    competence: z.enum(COMPETENCES),
    contactKind: z.enum(['email', 'webhook', 'partner']),
    contact: z.string().min(3).max(2000),
    /** Default: originals and redacted copies for an authority; redacted copies only for a partner. */
    evidenceMode: z.enum(['original-and-redacted', 'redacted-only']).optional(),
    legalBasis: z
      .string()
      .trim()
      .min(10, 'a legal basis names the statute, agreement or order (10 characters at least)')
      .max(2000)
      .nullable()
      .default(null),
    userId: z.string().max(32).nullable().default(null),
    /** Receives the regulator's monthly report by mail on the first day of each month. */
    monthlyReport: z.boolean().default(false),
    /** Language of the mails it gets (`en`, `fr`); null: the instance region's. */
    language: z.enum(APP_LANGUAGES).nullable().default(null),
  })
  .superRefine((v, ctx) => {
    if (v.contactKind === 'partner' && v.evidenceMode === 'original-and-redacted' && !v.legalBasis) {
      ctx.addIssue({
        code: 'custom',
        path: ['legalBasis'],
        message: 'a partner platform receives originals (which name the reporter) only with a recorded legal basis',
      });
    }
    if (v.monthlyReport && v.contactKind !== 'email')
      ctx.addIssue({ code: 'custom', path: ['monthlyReport'], message: 'the monthly report is sent by e-mail only' });
    if (v.contactKind === 'email' && !z.email().safeParse(v.contact).success)
      ctx.addIssue({ code: 'custom', path: ['contact'], message: 'must be an e-mail address' });
    if (v.contactKind !== 'email') {
      const p = webhookUrlProblem(v.contact);
      if (p) ctx.addIssue({ code: 'custom', path: ['contact'], message: p });
    }
  });
export type AuthorityInput = z.input<typeof AuthorityInput>;

/** Path of the exchange endpoint on a partner Spamdesk instance (see exchange/receive.ts). */
export const PARTNER_EXCHANGE_PATH = '/api/v1/exchange/referrals';

/** A partner given by its base URL (`https://partner.example`) gets the exchange endpoint's path. */
export function partnerEndpoint(contact: string): string {
  const u = new URL(contact);
  if (u.pathname === '/' || u.pathname === '') u.pathname = PARTNER_EXCHANGE_PATH;
  return u.toString();
}

export async function createAuthority(db: Kysely<Database>, input: AuthorityInput): Promise<AuthorityRow> {
  const parsed = AuthorityInput.safeParse(input);
  if (!parsed.success)
    throw new AppError('BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const v = parsed.data;
  const row: AuthorityRow = {
    id: newId(),
    name: v.name,
    country: v.country,
    competence: v.competence,
    contact_kind: v.contactKind,
    contact: v.contactKind === 'partner' ? partnerEndpoint(v.contact) : v.contact,
    evidence_mode: v.evidenceMode ?? (v.contactKind === 'partner' ? 'redacted-only' : 'original-and-redacted'),
    legal_basis: v.legalBasis,
    user_id: v.userId,
    active: 1,
    created_at: nowIso(),
    monthly_report: v.monthlyReport ? 1 : 0,
    language: v.language,
  };
  await db.insertInto('action_authorities').values(row).execute();
  return row;
}

/**
 * What an authority receives: a partner platform gets originals only when registered with
 * originals and a legal basis (checked again here, whatever the row says); an unknown mode is
 * the safe one.
 */
export function evidenceModeOf(
  a: Pick<AuthorityRow, 'contact_kind' | 'evidence_mode' | 'legal_basis'>,
): 'original-and-redacted' | 'redacted-only' {
  if (a.evidence_mode !== 'original-and-redacted') return 'redacted-only';
  if (a.contact_kind === 'partner' && !a.legal_basis?.trim()) return 'redacted-only';
  return 'original-and-redacted';
}

export async function listAuthorities(db: Kysely<Database>): Promise<AuthorityRow[]> {
  return db.selectFrom('action_authorities').selectAll().orderBy('name').execute();
}

export async function getAuthority(db: Kysely<Database>, id: string): Promise<AuthorityRow> {
  const row = await db.selectFrom('action_authorities').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', `No authority ${id}.`);
  return row;
}

export async function setAuthorityActive(db: Kysely<Database>, id: string, active: boolean): Promise<void> {
  await getAuthority(db, id);
  await db
    .updateTable('action_authorities')
    .set({ active: active ? 1 : 0 })
    .where('id', '=', id)
    .execute();
}

/** Whether the authority receives the monthly report by mail (see actions/monthly-report/). */
export async function setAuthorityMonthlyReport(db: Kysely<Database>, id: string, on: boolean): Promise<void> {
  const a = await getAuthority(db, id);
  if (on && a.contact_kind !== 'email')
    throw new AppError(
      'BAD_REQUEST',
      'The monthly report is sent by e-mail only; this authority has no e-mail contact.',
    );
  await db
    .updateTable('action_authorities')
    .set({ monthly_report: on ? 1 : 0 })
    .where('id', '=', id)
    .execute();
}

/** The language of the mails an authority gets (null: the instance region's). */
export async function setAuthorityLanguage(db: Kysely<Database>, id: string, language: string | null): Promise<void> {
  await getAuthority(db, id);
  const v = z.enum(APP_LANGUAGES).nullable().safeParse(language);
  if (!v.success) throw new AppError('BAD_REQUEST', `language: one of ${APP_LANGUAGES.join(', ')}, or null`);
  await db.updateTable('action_authorities').set({ language: v.data }).where('id', '=', id).execute();
}

/** Competences a case category is routed to (the `*` route matches any category). */
export function competencesFor(category: string | null, policy: ActionPolicy): Competence[] {
  const c = (category ?? '').toLowerCase();
  const out = new Set<Competence>();
  for (const r of policy.routing.routes) {
    if (r.categories.some((x) => x === '*' || x.toLowerCase() === c)) out.add(r.competence);
  }
  return [...out];
}

/** Active authorities that should receive a case of this category. */
export async function routeCase(
  db: Kysely<Database>,
  category: string | null,
  policy: ActionPolicy,
): Promise<AuthorityRow[]> {
  const competences = competencesFor(category, policy);
  if (competences.length === 0) return [];
  let q = db
    .selectFrom('action_authorities')
    .selectAll()
    .where('active', '=', 1)
    .where('competence', 'in', competences);
  if (policy.routing.country) q = q.where('country', '=', policy.routing.country);
  return q.orderBy('name').execute();
}
