/**
 * The instance's Ed25519 signing identity (RFC 8032, node:crypto): one per instance, shared by
 * every process, whatever machine it runs on.
 *
 * The keys live in the database (`action_instance_keys`), the private half encrypted with
 * AES-256-GCM under a key derived (scrypt) from `SPAMDESK_INSTANCE_KEY_SECRET`; without that
 * setting, from a random secret kept in `<data-dir>/keys/instance-key-secret`, which is enough for
 * processes sharing one data directory (several machines must share the setting). The first
 * process to need a key creates it; two processes racing both try to insert the `current` slot,
 * the unique constraint lets one win and the other reads the winner's key.
 *
 * `spamdesk keys rotate` retires the current key (its validity ends now), creates a new one and
 * has the retired key sign a rotation statement naming the new one, so a partner holding the old
 * key can follow. Retired keys stay published with their validity period
 * (`GET /api/v1/actions/public-key`), so packages signed before a rotation still verify. Every
 * signature is made with the key that is current at that moment: processes read the current slot
 * whenever they sign, so none keeps signing with a retired key.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scryptSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Config } from '../../core/config.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { nowIso, sha256Hex } from '../../core/ids.ts';
import type { ActionInstanceKeysTable } from '../../db/actions-tables.ts';

export interface InstanceKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex: the key id quoted in signatures. */
  fingerprint: string;
}

/** A key as published: public half and validity. */
export interface PublishedKey {
  algorithm: 'Ed25519';
  fingerprint: string;
  publicKeyPem: string;
  state: 'current' | 'retired';
  validFrom: string;
  validUntil: string | null;
  /** The previous key's signature over `spamdesk-key-rotation/1` naming this key, if any. */
  endorsement: { by: string; statement: string; signature: string } | null;
}

const SLOT = 'current';
const KDF_SALT = 'spamdesk/instance-key/v1';
/** scrypt cost (RFC 7914): N=2^15, r=8, p=1, as for passwords; paid once per process and secret. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const ROTATION_FORMAT = 'spamdesk-key-rotation/1';

/** Decrypted keys by secret and fingerprint, and derived encryption keys by secret (immutable values). */
const keys = new Map<string, InstanceKey>();
const derived = new Map<string, Buffer>();

/** Path of the key file older versions kept (imported once into the database). */
export function legacyKeyPath(dataDir: string): string {
  return path.join(dataDir, 'keys', 'instance-ed25519.pem');
}

/** Path of the generated secret used when `SPAMDESK_INSTANCE_KEY_SECRET` is unset. */
export function secretFilePath(dataDir: string): string {
  return path.join(dataDir, 'keys', 'instance-key-secret');
}

/** The configured secret, or the data directory's (created once, 0600, exclusively). */
function secretOf(config: Config): string {
  if (config.instanceKeySecret) return config.instanceKeySecret;
  const file = secretFilePath(config.dataDir);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return fs.readFileSync(file, 'utf8').trim();
}

function encryptionKey(secret: string): Buffer {
  let k = derived.get(secret);
  if (!k) {
    k = scryptSync(secret, KDF_SALT, 32, SCRYPT);
    derived.set(secret, k);
  }
  return k;
}

function fromPrivate(privateKey: KeyObject): InstanceKey {
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: sha256Hex(der),
  };
}

/** AES-256-GCM over the PKCS#8 DER; the fingerprint is authenticated data (a row cannot be swapped). */
function encryptPrivate(key: InstanceKey, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey(secret), iv);
  cipher.setAAD(Buffer.from(key.fingerprint));
  const der = key.privateKey.export({ type: 'pkcs8', format: 'der' });
  const ct = Buffer.concat([cipher.update(der), cipher.final()]);
  return JSON.stringify({
    alg: 'A256GCM',
    kdf: 'scrypt',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  });
}

/** A process knows a key only through the secret it was given: the cache is per secret. */
function cacheKey(secret: string, fingerprint: string): string {
  return `${sha256Hex(Buffer.from(secret))}:${fingerprint}`;
}

function decryptPrivate(
  row: Pick<ActionInstanceKeysTable, 'fingerprint' | 'private_key_enc'>,
  secret: string,
): InstanceKey {
  const cached = keys.get(cacheKey(secret, row.fingerprint));
  if (cached) return cached;
  let key: InstanceKey;
  try {
    const e = JSON.parse(row.private_key_enc) as { iv: string; tag: string; ct: string };
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey(secret), Buffer.from(e.iv, 'base64'));
    decipher.setAAD(Buffer.from(row.fingerprint));
    decipher.setAuthTag(Buffer.from(e.tag, 'base64'));
    const der = Buffer.concat([decipher.update(Buffer.from(e.ct, 'base64')), decipher.final()]);
    key = fromPrivate(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  } catch {
    throw new Error(
      `this process cannot decrypt the instance signing key ${row.fingerprint.slice(0, 16)}…: every process of an \
instance must have the same SPAMDESK_INSTANCE_KEY_SECRET (or share one data directory)`,
    );
  }
  if (key.fingerprint !== row.fingerprint) throw new Error(`instance key ${row.fingerprint} decrypts to another key`);
  keys.set(cacheKey(secret, row.fingerprint), key);
  return key;
}

async function insertCurrent(
  db: Kysely<Database>,
  key: InstanceKey,
  secret: string,
  at: string,
  endorsement: PublishedKey['endorsement'],
): Promise<void> {
  await db
    .insertInto('action_instance_keys')
    .values({
      fingerprint: key.fingerprint,
      algorithm: 'Ed25519',
      public_key_pem: key.publicKeyPem,
      private_key_enc: encryptPrivate(key, secret),
      active_slot: SLOT,
      valid_from: at,
      valid_until: null,
      endorsement: endorsement ? JSON.stringify(endorsement) : null,
      created_at: at,
    })
    .execute();
}

/** A fresh key that is not the instance's (tests, tools). */
export function generateInstanceKey(): InstanceKey {
  return fromPrivate(generateKeyPairSync('ed25519').privateKey);
}

/**
 * The instance's current signing key, created on first use (or imported from the key file an
 * older version kept in the data directory, so an instance keeps its identity).
 */
export async function loadInstanceKey(db: Kysely<Database>, config: Config): Promise<InstanceKey> {
  const secret = secretOf(config);
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await db
      .selectFrom('action_instance_keys')
      .select(['fingerprint', 'private_key_enc'])
      .where('active_slot', '=', SLOT)
      .executeTakeFirst();
    if (row) return decryptPrivate(row, secret);
    const legacy = legacyKeyPath(config.dataDir);
    const fresh = fs.existsSync(legacy)
      ? fromPrivate(createPrivateKey(fs.readFileSync(legacy, 'utf8')))
      : fromPrivate(generateKeyPairSync('ed25519').privateKey);
    try {
      await insertCurrent(db, fresh, secret, nowIso(), null);
      keys.set(cacheKey(secret, fresh.fingerprint), fresh);
      return fresh;
    } catch (e) {
      // Another process created it first: read theirs.
      if (!isUniqueViolation(e)) throw e;
    }
  }
  throw new Error('could not create or read the instance signing key');
}

/** The current key's public half (no secret needed). */
export async function currentPublicKey(db: Kysely<Database>): Promise<PublishedKey | null> {
  return (await publishedKeys(db)).find((k) => k.state === 'current') ?? null;
}

/** Every key the instance has signed with: the current one first, then retired ones, newest first. */
export async function publishedKeys(db: Kysely<Database>): Promise<PublishedKey[]> {
  const rows = await db
    .selectFrom('action_instance_keys')
    .select(['fingerprint', 'public_key_pem', 'active_slot', 'valid_from', 'valid_until', 'endorsement'])
    .orderBy('valid_from', 'desc')
    .execute();
  return rows
    .map((r) => ({
      algorithm: 'Ed25519' as const,
      fingerprint: r.fingerprint,
      publicKeyPem: r.public_key_pem,
      state: r.active_slot === SLOT ? ('current' as const) : ('retired' as const),
      validFrom: r.valid_from,
      validUntil: r.valid_until,
      endorsement: r.endorsement ? (JSON.parse(r.endorsement) as PublishedKey['endorsement']) : null,
    }))
    .sort((a, b) => (a.state === b.state ? 0 : a.state === 'current' ? -1 : 1));
}

/** The statement a retiring key signs to introduce its successor. */
export function rotationStatement(oldFingerprint: string, newFingerprint: string, at: string): string {
  return `${ROTATION_FORMAT}\nretired=${oldFingerprint}\ncurrent=${newFingerprint}\nat=${at}\n`;
}

/**
 * Retires the current key and makes a new one current, in one transaction: a concurrent rotation
 * finds the slot already taken and fails rather than leaving two current keys.
 */
export async function rotateInstanceKey(
  db: Kysely<Database>,
  config: Config,
): Promise<{ retired: string; current: string; at: string }> {
  const secret = secretOf(config);
  const old = await loadInstanceKey(db, config);
  const fresh = fromPrivate(generateKeyPairSync('ed25519').privateKey);
  const at = nowIso();
  const statement = rotationStatement(old.fingerprint, fresh.fingerprint, at);
  const endorsement = { by: old.fingerprint, statement, signature: signBytes(old, Buffer.from(statement)) };
  await db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('action_instance_keys')
      .set({ active_slot: null, valid_until: at })
      .where('fingerprint', '=', old.fingerprint)
      .where('active_slot', '=', SLOT)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1)
      throw new Error('the signing key was rotated by another process meanwhile; run the command again');
    await insertCurrent(trx, fresh, secret, at, endorsement);
  });
  keys.set(cacheKey(secret, fresh.fingerprint), fresh);
  return { retired: old.fingerprint, current: fresh.fingerprint, at };
}

/** Ed25519 signature of `data`, base64. */
export function signBytes(key: InstanceKey, data: Uint8Array): string {
  return sign(null, data, key.privateKey).toString('base64');
}

/** Verifies an Ed25519 signature against a PEM public key. */
export function verifyBytes(publicKeyPem: string, data: Uint8Array, signatureB64: string): boolean {
  try {
    return verify(null, data, createPublicKey(publicKeyPem), Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

/** Fingerprint of a PEM public key (same definition as {@link InstanceKey.fingerprint}). */
export function fingerprintOf(publicKeyPem: string): string {
  return sha256Hex(createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' }));
}

/** The `X-Spamdesk-Signature` header value for a body: `ed25519=<base64>`. */
export function signatureHeader(key: InstanceKey, body: Uint8Array): string {
  return `ed25519=${signBytes(key, body)}`;
}

/** The base64 signature of an `X-Spamdesk-Signature` header, or null when it is not one. */
export function parseSignatureHeader(header: string | undefined): string | null {
  const m = /^\s*ed25519=([A-Za-z0-9+/=]+)\s*$/.exec(header ?? '');
  return m ? m[1] : null;
}
