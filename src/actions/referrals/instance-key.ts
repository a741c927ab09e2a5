/**
 * The instance's Ed25519 signing key (RFC 8032, node:crypto). Generated on first use under the
 * data directory (`<data-dir>/keys/instance-ed25519.pem`, mode 0600) and kept there; the public
 * key is published at `GET /api/v1/actions/public-key` so an authority can verify a package
 * without trusting the channel it came by. Several processes sharing one data directory race to
 * create it: the file is written with `wx` (exclusive), and the loser reads the winner's key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../../core/ids.ts';

export interface InstanceKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex: the key id quoted in signatures. */
  fingerprint: string;
}

const cache = new Map<string, InstanceKey>();

/** Path of the key file for a data directory. */
export function instanceKeyPath(dataDir: string): string {
  return path.join(dataDir, 'keys', 'instance-ed25519.pem');
}

function fromPrivate(privateKey: KeyObject): InstanceKey {
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), fingerprint: sha256Hex(der) };
}

/** Loads the instance key, creating it on first use. */
export function loadInstanceKey(dataDir: string): InstanceKey {
  const file = instanceKeyPath(dataDir);
  const cached = cache.get(file);
  if (cached) return cached;
  let pem: string;
  if (fs.existsSync(file)) {
    pem = fs.readFileSync(file, 'utf8');
  } else {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const fresh = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      fs.writeFileSync(file, fresh, { flag: 'wx', mode: 0o600 });
      pem = fresh;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      pem = fs.readFileSync(file, 'utf8');
    }
  }
  const key = fromPrivate(createPrivateKey(pem));
  cache.set(file, key);
  return key;
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
