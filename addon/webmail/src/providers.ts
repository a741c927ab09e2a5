/**
 * The opened message's raw source, through each provider's documented API:
 * - Gmail: `GET {apiBase}/gmail/v1/users/me/messages/{id}?format=raw` → JSON whose `raw` is the
 *   whole RFC 2822 message in base64url (https://developers.google.com/gmail/api/reference/rest/v1/users.messages/get);
 * - Microsoft Graph: `GET {apiBase}/me/messages/{id}/$value` → the MIME bytes themselves
 *   (https://learn.microsoft.com/graph/outlook-get-mime-message).
 * A refused access token is reported as `expired` so the caller can sign in again once.
 */
import { base64ToBytes } from '../../src/report-client.ts';
import type { Provider } from './queue.ts';

export type RawResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: 'expired' | 'not-found' | 'forbidden' | 'unavailable'; detail: string };

export function rawUrl(provider: Provider, apiBase: string, messageId: string): string {
  const base = apiBase.replace(/\/+$/, '');
  const id = encodeURIComponent(messageId);
  return provider === 'gmail'
    ? `${base}/gmail/v1/users/me/messages/${id}?format=raw`
    : `${base}/me/messages/${id}/$value`;
}

export async function fetchRaw(
  provider: Provider,
  apiBase: string,
  messageId: string,
  accessToken: string,
  fetchImpl: typeof fetch,
): Promise<RawResult> {
  let res: Response;
  try {
    res = await fetchImpl(rawUrl(provider, apiBase, messageId), {
      headers: { authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(120_000),
    });
  } catch (e) {
    return { ok: false, reason: 'unavailable', detail: e instanceof Error ? e.message : String(e) };
  }
  if (res.status === 401) return { ok: false, reason: 'expired', detail: 'HTTP 401' };
  if (res.status === 403) return { ok: false, reason: 'forbidden', detail: await errorDetail(res) };
  if (res.status === 404 || res.status === 400)
    return { ok: false, reason: 'not-found', detail: await errorDetail(res) };
  if (!res.ok) return { ok: false, reason: 'unavailable', detail: await errorDetail(res) };
  if (provider === 'outlook') return { ok: true, bytes: new Uint8Array(await res.arrayBuffer()) };
  const body: unknown = await res.json().catch(() => null);
  const raw = typeof body === 'object' && body !== null ? (body as { raw?: unknown }).raw : undefined;
  if (typeof raw !== 'string' || raw.length === 0)
    return { ok: false, reason: 'unavailable', detail: 'the answer holds no raw message' };
  try {
    return { ok: true, bytes: base64ToBytes(raw) };
  } catch {
    return { ok: false, reason: 'unavailable', detail: 'the raw message is not base64url' };
  }
}

async function errorDetail(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text) as { error?: { message?: string } };
    if (j.error?.message) return `HTTP ${res.status}: ${j.error.message.replace(/\.$/, '')}`;
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${res.status}`;
}
