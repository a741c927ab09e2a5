/**
 * The evidence store: exact raw bytes, compressed, addressed by SHA-256, stored once however many
 * reports point at them. Raw bytes are never altered; `verifyEvidence` re-hashes them at any time.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { nowIso, sha256Hex } from '../core/ids.ts';

export type MessageKind = 'email' | 'sms';

/** Codecs understood by {@link decodeContent}. New codecs are added, never changed. */
export const CODECS = { DEFLATE_RAW: 'deflate-raw', IDENTITY: 'identity' } as const;

/** Compresses `raw` for storage; keeps it as is when compression does not pay. */
export function encodeContent(raw: Uint8Array): { codec: string; content: Buffer } {
  const deflated = deflateRawSync(raw, { level: 6 });
  if (deflated.length < raw.length) return { codec: CODECS.DEFLATE_RAW, content: deflated };
  return { codec: CODECS.IDENTITY, content: Buffer.from(raw) };
}

/** Inverse of {@link encodeContent}. */
export function decodeContent(codec: string, content: Uint8Array): Buffer {
  if (codec === CODECS.DEFLATE_RAW) return inflateRawSync(content);
  if (codec === CODECS.IDENTITY) return Buffer.from(content);
  throw new Error(`unknown evidence codec ${codec}`);
}

/** A message prepared for storage (hash and compression done outside the transaction). */
export interface PreparedMessage {
  sha256: string;
  kind: MessageKind;
  size: number;
  codec: string;
  content: Buffer;
}

export function prepareMessage(raw: Uint8Array, kind: MessageKind = 'email'): PreparedMessage {
  const { codec, content } = encodeContent(raw);
  return { sha256: sha256Hex(raw), kind, size: raw.length, codec, content };
}

/** Stores the message unless already present. Call inside the report's transaction. */
export async function putMessage(db: Kysely<Database>, m: PreparedMessage): Promise<void> {
  await db
    .insertInto('messages')
    .values({ sha256: m.sha256, kind: m.kind, size: m.size, codec: m.codec, content: m.content, first_seen_at: nowIso() })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
}

/** The exact raw bytes of a stored message, or null. */
export async function getMessageRaw(db: Kysely<Database>, sha256: string): Promise<Buffer | null> {
  const row = await db.selectFrom('messages').select(['codec', 'content']).where('sha256', '=', sha256).executeTakeFirst();
  return row ? decodeContent(row.codec, row.content) : null;
}

/** Metadata of a stored message. */
export async function getMessageMeta(db: Kysely<Database>, sha256: string) {
  return db.selectFrom('messages').select(['sha256', 'kind', 'size', 'codec', 'first_seen_at']).where('sha256', '=', sha256).executeTakeFirst();
}

export interface VerifyResult {
  checked: number;
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
  const result: VerifyResult = { checked: 0, bytes: 0, mismatches: [] };
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
      result.checked++;
      let raw: Buffer;
      try {
        raw = decodeContent(row.codec, row.content);
      } catch (e) {
        result.mismatches.push({ sha256: row.sha256, problem: `cannot decode: ${(e as Error).message}` });
        continue;
      }
      result.bytes += raw.length;
      const actual = sha256Hex(raw);
      if (actual !== row.sha256) result.mismatches.push({ sha256: row.sha256, problem: `content hashes to ${actual}` });
      else if (raw.length !== Number(row.size)) result.mismatches.push({ sha256: row.sha256, problem: `size ${raw.length} ≠ recorded ${row.size}` });
    }
    onProgress?.(result.checked);
  }
  return result;
}
