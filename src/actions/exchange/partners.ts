/**
 * Partner platforms: other Spamdesk instances (or any platform speaking the same package format)
 * whose referrals this instance accepts — seed 000 §4.1.2's "exchange of information and transfer
 * of files between authorities". A partner is known by its Ed25519 public key, obtained out of band
 * (its `GET /api/v1/actions/public-key`, with the fingerprint confirmed by phone or letter): the
 * key, not a shared secret, authenticates everything it sends.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/schema.ts';
import { AppError } from '../../core/errors.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { fingerprintOf } from '../referrals/instance-key.ts';
import type { PartnerRow } from '../../db/actions-tables.ts';
import { webhookUrlProblem } from '../outbox/transports.ts';

export const PartnerInput = z.object({
  name: z.string().trim().min(1).max(200),
  country: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2}$/, 'an ISO 3166 alpha-2 country code')
    .transform((c) => c.toUpperCase()),
  publicKeyPem: z.string().min(40).max(10_000),
  /** The partner's base URL: where this instance sends status messages about its referrals. */
  url: z
    .string()
    .trim()
    .max(2000)
    .refine((u) => !webhookUrlProblem(u), { message: 'an HTTPS URL (HTTP to loopback only)' })
    .nullable()
    .optional(),
});
export type PartnerInput = z.input<typeof PartnerInput>;

/** Registers a partner; its key must be an Ed25519 public key, and not already registered. */
export async function registerPartner(db: Kysely<Database>, input: PartnerInput): Promise<PartnerRow> {
  const parsed = PartnerInput.safeParse(input);
  if (!parsed.success)
    throw new AppError('BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const p = parsed.data;
  let fingerprint: string;
  try {
    const { createPublicKey } = await import('node:crypto');
    const key = createPublicKey(p.publicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType ?? 'non-asymmetric'} key`);
    fingerprint = fingerprintOf(p.publicKeyPem);
  } catch (e) {
    throw new AppError(
      'BAD_REQUEST',
      `publicKeyPem must be an Ed25519 public key in PEM (SPKI): ${(e as Error).message}`,
    );
  }
  const known = await db
    .selectFrom('action_partners')
    .select(['id', 'name'])
    .where('key_fingerprint', '=', fingerprint)
    .executeTakeFirst();
  if (known) throw new AppError('CONFLICT', `This key is already registered for partner ${known.name} (${known.id}).`);
  const row: PartnerRow = {
    id: newId(),
    name: p.name,
    country: p.country,
    public_key_pem: `${p.publicKeyPem.trim()}\n`,
    key_fingerprint: fingerprint,
    created_at: nowIso(),
    disabled_at: null,
    url: p.url ? new URL(p.url).origin : null,
  };
  await db.insertInto('action_partners').values(row).execute();
  return row;
}

export async function listPartners(db: Kysely<Database>): Promise<PartnerRow[]> {
  return db.selectFrom('action_partners').selectAll().orderBy('name').execute();
}

/** The enabled partner holding this key, if any. */
export async function partnerByFingerprint(db: Kysely<Database>, fingerprint: string): Promise<PartnerRow | undefined> {
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) return undefined;
  return db
    .selectFrom('action_partners')
    .selectAll()
    .where('key_fingerprint', '=', fingerprint)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function setPartnerEnabled(db: Kysely<Database>, id: string, enabled: boolean): Promise<void> {
  const r = await db
    .updateTable('action_partners')
    .set({ disabled_at: enabled ? null : nowIso() })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', `No partner ${id}.`);
}

/** Sets (or clears) the base URL where this instance answers a partner. */
export async function setPartnerUrl(db: Kysely<Database>, id: string, url: string | null): Promise<void> {
  const problem = url ? webhookUrlProblem(url) : null;
  if (problem) throw new AppError('BAD_REQUEST', `url: ${problem}`);
  const r = await db
    .updateTable('action_partners')
    .set({ url: url ? new URL(url).origin : null })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', `No partner ${id}.`);
}
