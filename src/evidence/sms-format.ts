/**
 * How an SMS report is kept as evidence. An SMS has no RFC 5322 form, so its evidence is one
 * canonical UTF-8 JSON document (keys in fixed order, no whitespace): hashing it gives the same
 * SHA-256 for the same SMS reported twice, and the analysis reads it back with {@link parseSmsEvidence}.
 */
import { z } from 'zod';

export const SMS_EVIDENCE_VERSION = 1;

export const SmsEvidence = z.object({
  type: z.literal('sms'),
  v: z.literal(SMS_EVIDENCE_VERSION),
  /** Sender as shown on the phone: a number (E.164 when it parses) or an alphanumeric sender id. */
  sender: z.string().min(1).max(64),
  /** The message text as received. */
  text: z.string().max(20_000),
  /** When the recipient received it (ISO 8601 UTC), when known. */
  receivedAt: z.string().nullable(),
});
export type SmsEvidence = z.infer<typeof SmsEvidence>;

/** Canonical bytes of an SMS (stable key order). */
export function serializeSmsEvidence(sms: Omit<SmsEvidence, 'type' | 'v'>): Buffer {
  const doc: SmsEvidence = {
    type: 'sms',
    v: SMS_EVIDENCE_VERSION,
    sender: sms.sender,
    text: sms.text,
    receivedAt: sms.receivedAt,
  };
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** Reads SMS evidence back; null when the bytes are not SMS evidence. */
export function parseSmsEvidence(raw: Uint8Array): SmsEvidence | null {
  if (raw.length === 0 || raw[0] !== 0x7b) return null;
  try {
    const parsed = SmsEvidence.safeParse(JSON.parse(Buffer.from(raw).toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
