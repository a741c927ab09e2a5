/**
 * The evidence package of a referral: one ZIP an authority can check without trusting us or the
 * channel it came by.
 *
 * ```
 * manifest.json                 every file's SHA-256 and size; every message's original and redacted hash
 * manifest.sig                  Ed25519 signature (base64) of manifest.json's exact bytes
 * summary.json                  the case summary (timeline, volumes, indicators, trace-back, findings)
 * summary.sig                   Ed25519 signature of summary.json
 * report.html                   the same summary, readable (no script, no remote content)
 * public-key.pem                the instance's Ed25519 public key (check its fingerprint out of band)
 * VERIFY.txt                    how to verify, step by step
 * messages/original/<sha>.eml   byte-exact evidence as stored (evidence mode `original-and-redacted`)
 * messages/redacted/<sha>.eml   the same message with the reporter's identity removed
 * ```
 * The original's file name is its own SHA-256, the hash recorded at intake: re-hashing it proves
 * it is the message reported. When the authority receives redacted copies only, the manifest
 * still records the original's hash, so an original handed over later can be checked.
 */
import yazl from 'yazl';
import yauzl from 'yauzl';
import { sha256Hex } from '../../core/ids.ts';
import { fingerprintOf, signBytes, verifyBytes, type InstanceKey } from './instance-key.ts';

export const PACKAGE_FORMAT = 'spamdesk-evidence-package/1';
/** Bounds applied when reading a package back (zip-bomb defence). */
export const MAX_PACKAGE_ENTRIES = 20_000;
export const MAX_PACKAGE_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024;

export type EvidenceMode = 'original-and-redacted' | 'redacted-only';

export interface PackageMessage {
  sha256: string;
  raw: Buffer;
  /** Copy with the reporter's identity removed; null when nothing had to be removed. */
  redacted: Buffer | null;
  reportCount: number;
  firstReportedAt: string;
  lastReportedAt: string;
}

export interface PackageInput {
  packageId: string;
  createdAt: string;
  caseId: string;
  authority: { id: string; name: string; country: string; competence: string };
  instance: { org: string; url: string };
  evidenceMode: EvidenceMode;
  messages: PackageMessage[];
  /** JSON-serialisable, already redacted. */
  summary: unknown;
  html: string;
  key: InstanceKey;
}

export interface ManifestFile {
  path: string;
  sha256: string;
  size: number;
}

export interface ManifestMessage {
  /** Hash of the byte-exact evidence (as recorded at intake). */
  sha256: string;
  size: number;
  /** Path of the original in the ZIP, or null when withheld (redacted-only). */
  original: string | null;
  redacted: string | null;
  redactedSha256: string | null;
  reportCount: number;
  firstReportedAt: string;
  lastReportedAt: string;
}

export interface Manifest {
  format: typeof PACKAGE_FORMAT;
  packageId: string;
  caseId: string;
  createdAt: string;
  instance: { org: string; url: string; keyFingerprint: string; signatureAlgorithm: 'Ed25519' };
  authority: PackageInput['authority'];
  evidenceMode: EvidenceMode;
  files: ManifestFile[];
  messages: ManifestMessage[];
}

const VERIFY_TXT = `How to verify this evidence package
====================================

1. Check public-key.pem against the key the instance publishes at
   <instance>/api/v1/actions/public-key (and, ideally, a fingerprint obtained out of band).
   The fingerprint is the SHA-256 of the DER SubjectPublicKeyInfo:
     openssl pkey -pubin -in public-key.pem -outform DER | sha256sum
2. Verify the Ed25519 signature of manifest.json (RFC 8032):
     base64 -d manifest.sig > manifest.sig.bin
     openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in manifest.json -sigfile manifest.sig.bin
   (summary.json / summary.sig likewise.)
3. Re-hash every file listed in manifest.json ("files") and compare:  sha256sum <path>
4. Each original message is named after its SHA-256, the hash recorded when it was reported;
   its hash also appears in "messages". Redacted copies have their own hash ("redactedSha256").
`;

function fileName(prefix: string, sha: string): string {
  return `${prefix}/${sha}.eml`;
}

/** Builds the ZIP. Returns its bytes, its SHA-256 and the manifest. */
export async function buildEvidencePackage(
  input: PackageInput,
): Promise<{ zip: Buffer; sha256: string; manifest: Manifest }> {
  const entries: { path: string; data: Buffer }[] = [];
  const messages: ManifestMessage[] = [];
  for (const m of input.messages) {
    const original = input.evidenceMode === 'original-and-redacted' ? fileName('messages/original', m.sha256) : null;
    if (original) entries.push({ path: original, data: m.raw });
    // A message needing no redaction is its own redacted copy: redacted-only still carries it.
    const redactedBytes = m.redacted ?? (input.evidenceMode === 'redacted-only' ? m.raw : null);
    const redactedSha = redactedBytes ? sha256Hex(redactedBytes) : null;
    const redacted = redactedBytes && redactedSha ? fileName('messages/redacted', m.sha256) : null;
    if (redacted && redactedBytes) entries.push({ path: redacted, data: redactedBytes });
    messages.push({
      sha256: m.sha256,
      size: m.raw.length,
      original,
      redacted,
      redactedSha256: redactedSha,
      reportCount: m.reportCount,
      firstReportedAt: m.firstReportedAt,
      lastReportedAt: m.lastReportedAt,
    });
  }
  const summaryJson = Buffer.from(`${JSON.stringify(input.summary, null, 2)}\n`);
  entries.push({ path: 'summary.json', data: summaryJson });
  entries.push({ path: 'report.html', data: Buffer.from(input.html) });
  entries.push({ path: 'public-key.pem', data: Buffer.from(input.key.publicKeyPem) });
  entries.push({ path: 'VERIFY.txt', data: Buffer.from(VERIFY_TXT) });
  const manifest: Manifest = {
    format: PACKAGE_FORMAT,
    packageId: input.packageId,
    caseId: input.caseId,
    createdAt: input.createdAt,
    instance: { ...input.instance, keyFingerprint: input.key.fingerprint, signatureAlgorithm: 'Ed25519' },
    authority: input.authority,
    evidenceMode: input.evidenceMode,
    files: entries.map((e) => ({ path: e.path, sha256: sha256Hex(e.data), size: e.data.length })),
    messages,
  };
  const manifestJson = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  entries.push({ path: 'manifest.json', data: manifestJson });
  entries.push({ path: 'manifest.sig', data: Buffer.from(`${signBytes(input.key, manifestJson)}\n`) });
  entries.push({ path: 'summary.sig', data: Buffer.from(`${signBytes(input.key, summaryJson)}\n`) });

  const zip = new yazl.ZipFile();
  const mtime = new Date(input.createdAt);
  for (const e of entries) zip.addBuffer(e.data, e.path, { mtime, compress: !e.path.endsWith('.sig') });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  const bytes = Buffer.concat(chunks);
  return { zip: bytes, sha256: sha256Hex(bytes), manifest };
}

/** Reads every entry of a ZIP into memory, within bounds. */
export async function readZipEntries(zip: Buffer): Promise<Map<string, Buffer>> {
  const file = await yauzl.fromBufferPromise(zip, {
    lazyEntries: true,
    validateEntrySizes: true,
    strictFileNames: true,
  });
  const out = new Map<string, Buffer>();
  let total = 0;
  try {
    for await (const entry of file.eachEntry()) {
      if (out.size >= MAX_PACKAGE_ENTRIES) throw new Error(`more than ${MAX_PACKAGE_ENTRIES} entries`);
      if (entry.fileName.endsWith('/')) continue;
      total += entry.uncompressedSize;
      if (total > MAX_PACKAGE_UNCOMPRESSED_BYTES) throw new Error('uncompressed size over the limit');
      if (out.has(entry.fileName)) throw new Error(`duplicate entry ${entry.fileName}`);
      const stream = await file.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
      out.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    file.close();
  }
  return out;
}

export interface PackageVerification {
  ok: boolean;
  problems: string[];
  manifest: Manifest | null;
  keyFingerprint: string | null;
  messagesChecked: number;
}

function isManifest(v: unknown): v is Manifest {
  if (typeof v !== 'object' || v === null) return false;
  return (
    'format' in v &&
    v.format === PACKAGE_FORMAT &&
    'files' in v &&
    Array.isArray(v.files) &&
    'messages' in v &&
    Array.isArray(v.messages)
  );
}

/**
 * Verifies a package as an authority would: signatures (with `trustedPublicKeyPem` when given,
 * else with the key inside, whose fingerprint the caller must then compare), every file's hash,
 * every original's name against its content, and that nothing unlisted was slipped in.
 */
export async function verifyEvidencePackage(zip: Buffer, trustedPublicKeyPem?: string): Promise<PackageVerification> {
  const problems: string[] = [];
  let entries: Map<string, Buffer>;
  try {
    entries = await readZipEntries(zip);
  } catch (e) {
    return {
      ok: false,
      problems: [`not a readable ZIP: ${(e as Error).message}`],
      manifest: null,
      keyFingerprint: null,
      messagesChecked: 0,
    };
  }
  const manifestBytes = entries.get('manifest.json');
  const pem = trustedPublicKeyPem ?? entries.get('public-key.pem')?.toString();
  if (!manifestBytes || !pem)
    return {
      ok: false,
      problems: ['manifest.json or public key missing'],
      manifest: null,
      keyFingerprint: null,
      messagesChecked: 0,
    };
  const sig = entries.get('manifest.sig')?.toString().trim() ?? '';
  if (!verifyBytes(pem, manifestBytes, sig)) problems.push('manifest.sig does not verify');
  const summary = entries.get('summary.json');
  if (!summary || !verifyBytes(pem, summary, entries.get('summary.sig')?.toString().trim() ?? ''))
    problems.push('summary.sig does not verify');
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifestBytes.toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!isManifest(parsed))
    return {
      ok: false,
      problems: [...problems, 'manifest.json is not a package manifest'],
      manifest: null,
      keyFingerprint: null,
      messagesChecked: 0,
    };
  const listed = new Set(['manifest.json', 'manifest.sig', 'summary.sig']);
  for (const f of parsed.files) {
    listed.add(f.path);
    const data = entries.get(f.path);
    if (!data) problems.push(`${f.path}: listed but missing`);
    else if (sha256Hex(data) !== f.sha256) problems.push(`${f.path}: hash mismatch`);
    else if (data.length !== f.size) problems.push(`${f.path}: size mismatch`);
  }
  for (const name of entries.keys()) if (!listed.has(name)) problems.push(`${name}: not listed in the manifest`);
  let messagesChecked = 0;
  for (const m of parsed.messages) {
    if (m.original) {
      const data = entries.get(m.original);
      if (!data || sha256Hex(data) !== m.sha256)
        problems.push(`${m.original}: does not hash to the recorded evidence hash ${m.sha256}`);
      else messagesChecked++;
    }
    if (m.redacted) {
      const data = entries.get(m.redacted);
      if (!data || sha256Hex(data) !== m.redactedSha256)
        problems.push(`${m.redacted}: does not hash to ${m.redactedSha256}`);
      else if (!m.original) messagesChecked++;
    }
  }
  const fingerprint = fingerprintOf(pem);
  if (fingerprint !== parsed.instance.keyFingerprint)
    problems.push('the signing key is not the one the manifest names');
  return { ok: problems.length === 0, problems, manifest: parsed, keyFingerprint: fingerprint, messagesChecked };
}
