/**
 * The two ways out: SMTP through the configured relay (nodemailer, the stored bytes sent as they
 * are) and HTTPS webhooks (fetch). Each returns a result, never throws: a failure says whether it
 * is permanent (SMTP 5xx, RFC 5321 §4.2.1; HTTP 4xx other than 408/425/429) or worth a retry.
 */
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import ipaddr from 'ipaddr.js';
import type { OutboxRow } from '../../db/actions-tables.ts';

export type DeliveryResult = { ok: true; detail: string } | { ok: false; permanent: boolean; error: string };

/** Bound on one webhook call. */
export const WEBHOOK_TIMEOUT_MS = 30_000;
/** Bound on one SMTP transaction. */
export const SMTP_TIMEOUT_MS = 60_000;

const transports = new Map<string, Transporter>();

function transportFor(url: string): Transporter {
  let t = transports.get(url);
  if (!t) {
    t = nodemailer.createTransport(url, {});
    transports.set(url, t);
  }
  return t;
}

/** Closes cached SMTP connections (tests, shutdown). */
export function closeTransports(): void {
  for (const t of transports.values()) t.close();
  transports.clear();
}

function errorCode(e: unknown): number | null {
  if (typeof e !== 'object' || e === null || !('responseCode' in e)) return null;
  const c = e.responseCode;
  return typeof c === 'number' ? c : null;
}

/** Sends a stored mail through the relay. */
export async function deliverMail(row: OutboxRow, relayUrl: string | undefined): Promise<DeliveryResult> {
  if (!relayUrl) return { ok: false, permanent: false, error: 'no SMTP relay configured (SPAMDESK_OUTBOX_SMTP_URL)' };
  const from = row.envelope_from ?? '';
  try {
    const t = transportFor(relayUrl);
    const info = await withTimeout(
      t.sendMail({ envelope: { from, to: [row.destination] }, raw: row.body }),
      SMTP_TIMEOUT_MS,
      'SMTP',
    );
    return { ok: true, detail: String(info.response ?? 'sent') };
  } catch (e) {
    const code = errorCode(e);
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, permanent: code !== null && code >= 500, error: code ? `${code} ${msg}` : msg };
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Webhooks must use HTTPS; plain HTTP is accepted only to a loopback address (a partner instance
 * on the same machine, tests). Returns the reason a URL is refused, or null.
 */
export function webhookUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.username || u.password) return 'credentials in the URL are not allowed';
  if (u.protocol === 'https:') return null;
  if (u.protocol !== 'http:') return 'only https:// (or http:// to loopback) is allowed';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return null;
  if (ipaddr.isValid(host) && ipaddr.parse(host).range() === 'loopback') return null;
  return 'plain http:// is allowed only to a loopback address';
}

function parseHeaders(json: string | null): Record<string, string> {
  if (!json) return {};
  const v: unknown = JSON.parse(json);
  const out: Record<string, string> = {};
  if (typeof v === 'object' && v !== null)
    for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Posts a stored webhook body with its idempotency key. */
export async function deliverWebhook(row: OutboxRow): Promise<DeliveryResult> {
  const problem = webhookUrlProblem(row.destination);
  if (problem) return { ok: false, permanent: true, error: `refused URL: ${problem}` };
  try {
    const res = await fetch(row.destination, {
      method: 'POST',
      headers: { 'content-type': row.content_type, 'user-agent': 'Spamdesk-Outbox/1', ...parseHeaders(row.headers) },
      body: new Uint8Array(row.body),
      redirect: 'error',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    // Drain the body so the connection can be reused; its content does not matter.
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return { ok: true, detail: `HTTP ${res.status}` };
    const retryable = res.status >= 500 || res.status === 408 || res.status === 425 || res.status === 429;
    return { ok: false, permanent: !retryable, error: `HTTP ${res.status}` };
  } catch (e) {
    return { ok: false, permanent: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}
