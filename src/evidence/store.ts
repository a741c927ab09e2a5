/**
 * The evidence store: exact raw bytes, compressed, addressed by SHA-256, stored once however many
 * reports point at them. Raw bytes are never altered; `verifyEvidence` re-hashes them at any time.
 */
import { createHash } from 'node:crypto';
import { deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { nowIso, sha256Hex } from '../core/ids.ts';

export type MessageKind = 'email' | 'sms';

/** Codecs understood by {@link decodeContent}. New codecs are added, never changed. */
export const CODECS = {
  DEFLATE_RAW: 'deflate-raw',
  IDENTITY: 'identity',
  /** The bytes were dropped by retention (retention.ts): hash, size and reports remain. */
  EXPIRED: 'expired',
} as const;

/**
 * zlib level for evidence. On spamassassin/spam_2 level 1 stores 39.0 % of the raw size and
 * level 6 36.9 %, while compression is the largest CPU cost of intake: the fast level wins.
 * (The codec records only "deflate-raw"; any level decodes the same way.)
 */
export const DEFLATE_LEVEL = 1;

function pick(raw: Uint8Array, deflated: Buffer): { codec: string; content: Buffer } {
  if (deflated.length < raw.length) return { codec: CODECS.DEFLATE_RAW, content: deflated };
  return { codec: CODECS.IDENTITY, content: Buffer.from(raw) };
}

/** Compresses `raw` for storage; keeps it as is when compression does not pay. */
export function encodeContent(raw: Uint8Array): { codec: string; content: Buffer } {
  return pick(raw, deflateRawSync(raw, { level: DEFLATE_LEVEL }));
}

/**
 * {@link encodeContent} on libuv's thread pool, so compression of one batch overlaps with the
 * database work of the previous one instead of blocking the event loop.
 */
export function encodeContentAsync(raw: Uint8Array): Promise<{ codec: string; content: Buffer }> {
  return new Promise((resolve, reject) => {
    deflateRaw(raw, { level: DEFLATE_LEVEL }, (err, deflated) => (err ? reject(err) : resolve(pick(raw, deflated))));
  });
}

/**
 * Inverse of {@link encodeContent}. `maxBytes` (the recorded size) bounds inflation, so a damaged
 * or tampered row cannot expand into gigabytes.
 */
export function decodeContent(codec: string, content: Uint8Array, maxBytes?: number): Buffer {
  if (codec === CODECS.DEFLATE_RAW)
    return inflateRawSync(content, maxBytes === undefined ? {} : { maxOutputLength: Math.max(1, maxBytes + 1) });
  if (codec === CODECS.IDENTITY) return Buffer.from(content);
  throw new Error(`unknown evidence codec ${codec}`);
}

const inflateRawAsync = promisify(inflateRaw);

/** Stored evidence larger than this is inflated on libuv's pool, not on the calling thread. */
const ASYNC_DECODE_BYTES = 256 * 1024;

/** {@link decodeContent} off the event loop for large content (a 25 MB message takes ~100 ms to inflate). */
export async function decodeContentAsync(codec: string, content: Uint8Array, maxBytes?: number): Promise<Buffer> {
  if (codec !== CODECS.DEFLATE_RAW || content.length <= ASYNC_DECODE_BYTES)
    return decodeContent(codec, content, maxBytes);
  return inflateRawAsync(content, maxBytes === undefined ? {} : { maxOutputLength: Math.max(1, maxBytes + 1) });
}

/** A message prepared for storage (hash and compression done outside the transaction). */
export interface PreparedMessage {
  sha256: string;
  kind: MessageKind;
  size: number;
  codec: string;
  content: Buffer;
}

/**
 * A message hashed but not yet compressed: the SQLite commit thread compresses it, and only when
 * its evidence is not stored already (a popular spam is reported thousands of times).
 */
export interface HashedMessage {
  sha256: string;
  kind: MessageKind;
  size: number;
  raw: Uint8Array;
}

/** Hashes a message; compression is left to whoever stores it ({@link prepareMessage} later). */
export function hashMessage(raw: Uint8Array, kind: MessageKind = 'email'): HashedMessage {
  return { sha256: sha256Hex(raw), kind, size: raw.length, raw };
}

/** Hashes and compresses a message for storage. */
export function prepareMessage(raw: Uint8Array, kind: MessageKind = 'email'): PreparedMessage {
  const { codec, content } = encodeContent(raw);
  return { sha256: sha256Hex(raw), kind, size: raw.length, codec, content };
}

/**
 * Messages up to this size are compressed on the calling thread: for them a zlib stream on the
 * thread pool costs more than the compression itself. Larger ones go to the pool, so a 25 MB
 * upload does not stall every other request for a second.
 */
export const SYNC_COMPRESS_MAX_BYTES = 256 * 1024;

/**
 * SHA-256 is hashed in slices of this size with a turn of the event loop between them. Measured
 * on the 2-core dev VM under load (2026-12-02, four 25 MB messages at once): in one piece the
 * loop stalled 207–240 ms, in 1 MiB slices at most 29–47 ms, for 20–40 % more total time.
 * WebCrypto's `subtle.digest` was worse (430–640 ms: it copies the input on this thread).
 */
export const HASH_SLICE_BYTES = 1024 * 1024;

/** {@link sha256Hex} that lets other requests run between slices of a large message. */
export async function sha256HexSliced(raw: Uint8Array): Promise<string> {
  if (raw.length <= HASH_SLICE_BYTES) return sha256Hex(raw);
  const h = createHash('sha256');
  for (let at = 0; at < raw.length; at += HASH_SLICE_BYTES) {
    if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    h.update(raw.subarray(at, at + HASH_SLICE_BYTES));
  }
  return h.digest('hex');
}

/** {@link hashMessage} for the event loop: large messages hashed in slices. */
export async function hashMessageAsync(raw: Uint8Array, kind: MessageKind = 'email'): Promise<HashedMessage> {
  return { sha256: await sha256HexSliced(raw), kind, size: raw.length, raw };
}

/** {@link prepareMessage}, with large messages hashed in slices and compressed off the event loop. */
export async function prepareMessageAsync(raw: Uint8Array, kind: MessageKind = 'email'): Promise<PreparedMessage> {
  if (raw.length <= SYNC_COMPRESS_MAX_BYTES) return prepareMessage(raw, kind);
  const sha256 = await sha256HexSliced(raw);
  const { codec, content } = await encodeContentAsync(raw);
  return { sha256, kind, size: raw.length, codec, content };
}

/** Stores the message unless already present. Call inside the report's transaction. */
export async function putMessage(db: Kysely<Database>, m: PreparedMessage): Promise<void> {
  await db
    .insertInto('messages')
    .values({
      sha256: m.sha256,
      kind: m.kind,
      size: m.size,
      codec: m.codec,
      content: m.content,
      first_seen_at: nowIso(),
    })
    // Evidence whose bytes retention dropped is stored again (the same hash proves the same bytes).
    .onConflict((oc) =>
      oc
        .column('sha256')
        .doUpdateSet({ codec: m.codec, content: m.content })
        .where('messages.codec', '=', CODECS.EXPIRED),
    )
    .execute();
}

/** The exact raw bytes of a stored message, or null (unknown, or expired by retention). */
export async function getMessageRaw(db: Kysely<Database>, sha256: string): Promise<Buffer | null> {
  const row = await db
    .selectFrom('messages')
    .select(['codec', 'content', 'size'])
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  if (!row || row.codec === CODECS.EXPIRED) return null;
  return decodeContentAsync(row.codec, row.content, Number(row.size));
}

/** Metadata of a stored message. */
export async function getMessageMeta(db: Kysely<Database>, sha256: string) {
  return db
    .selectFrom('messages')
    .select(['sha256', 'kind', 'size', 'codec', 'first_seen_at'])
    .where('sha256', '=', sha256)
    .executeTakeFirst();
}

export interface VerifyResult {
  checked: number;
  /** Messages whose bytes retention dropped (not re-hashable, not a mismatch). */
  expired: number;
  bytes: number;
  mismatches: { sha256: string; problem: string }[];
}

/**
 * Re-hashes every stored message (keyset pagination, constant memory) and lists every mismatch:
 * a hash that does not match, a size that does not match, or content that does not decompress.
 */
export async function verifyEvidence(
  db: Kysely<Database>,
  onProgress?: (checked: number) => void,
  batchSize = 500,
): Promise<VerifyResult> {
  const result: VerifyResult = { checked: 0, expired: 0, bytes: 0, mismatches: [] };
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('messages')
      .select(['sha256', 'size', 'codec', 'content'])
      .where('sha256', '>', after)
      .orderBy('sha256')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      after = row.sha256;
      if (row.codec === CODECS.EXPIRED) {
        result.expired++;
        continue;
      }
      result.checked++;
      let raw: Buffer;
      try {
        raw = decodeContent(row.codec, row.content, Number(row.size));
      } catch (e) {
        result.mismatches.push({ sha256: row.sha256, problem: `cannot decode: ${(e as Error).message}` });
        continue;
      }
      result.bytes += raw.length;
      const actual = sha256Hex(raw);
      if (actual !== row.sha256) result.mismatches.push({ sha256: row.sha256, problem: `content hashes to ${actual}` });
      else if (raw.length !== Number(row.size))
        result.mismatches.push({ sha256: row.sha256, problem: `size ${raw.length} ≠ recorded ${row.size}` });
    }
    onProgress?.(result.checked);
  }
  return result;
}
