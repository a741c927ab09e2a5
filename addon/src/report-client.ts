/**
 * The part every report button shares (Outlook add-in, webmail extension): submit one message's
 * exact bytes to `POST /api/v1/reports` and turn whatever happens into an outcome the user can
 * read, in English or French. Nothing here touches a browser or Office API: `fetch` is injected,
 * so the same code runs in an Office runtime, an extension's service worker and node:test.
 */

/** The languages the buttons speak. */
export type Lang = 'en' | 'fr';

/** Which client sends (`X-Spamdesk-Client`): the server files token holders' reports as `addon`. */
export type ClientId = 'thunderbird' | 'outlook' | 'webmail';

/**
 * What became of one submission.
 * - `stored`: 202, the evidence is durably committed.
 * - `auth`: 401/403, the token is unknown, revoked, or not allowed to report.
 * - `too-large`: 413, larger than the instance accepts (retrying cannot help).
 * - `rejected`: any other 4xx (not an e-mail, bad request): retrying the same bytes cannot help.
 * - `unavailable`: 429 or 5xx: the instance is there but cannot take it now (retry later).
 * - `network`: no answer at all (instance down, DNS, TLS, offline, timeout).
 */
export type OutcomeKind = 'stored' | 'auth' | 'too-large' | 'rejected' | 'unavailable' | 'network';

export interface SubmitOutcome {
  kind: OutcomeKind;
  status?: number;
  reportId?: string;
  trackingUrl?: string;
  duplicate?: boolean;
  /** The server's own message (or the network error), shown under ours. */
  detail?: string;
  /** From a 413's `details.limitBytes`. */
  limitBytes?: number;
  /** Seconds from a `Retry-After` header. */
  retryAfterSeconds?: number;
}

export interface SubmitRequest {
  instanceUrl: string;
  token: string;
  client: ClientId;
  /** Standard base64 of the exact message bytes (line breaks allowed). */
  rawBase64: string;
  note?: string;
  /** Same key on every retry of one report: a retry after a lost 202 adds nothing. */
  idempotencyKey: string;
  fetch: typeof fetch;
  /** Gives up waiting after this long (a large message on a slow line still fits). */
  timeoutMs?: number;
}

/** Longest note the server accepts. */
export const MAX_NOTE_CHARS = 4000;
const DEFAULT_TIMEOUT_MS = 120_000;

/** Outcomes worth retrying later with the same bytes and key. */
export function isRetryable(kind: OutcomeKind): boolean {
  return kind === 'unavailable' || kind === 'network';
}

/** The reports endpoint of an instance. */
export function reportsEndpoint(instanceUrl: string): string {
  return `${instanceUrl.replace(/\/+$/, '')}/api/v1/reports`;
}

/** The instance's public web form, offered when a message's source cannot be had. */
export function webFormUrl(instanceUrl: string): string {
  return `${instanceUrl.replace(/\/+$/, '')}/report`;
}

/** Standard base64 of bytes, in chunks (no call-stack limit on large messages). */
export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  const CHUNK = 0x6000;
  for (let i = 0; i < bytes.length; i += CHUNK) out += btoa(String.fromCharCode(...bytes.subarray(i, i + CHUNK)));
  return out;
}

/** Bytes of standard or URL-safe base64 (RFC 4648 §4 and §5), whitespace and padding optional. */
export function base64ToBytes(b64: string): Uint8Array {
  const clean = b64.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(clean) || clean.length % 4 === 1) throw new Error('not base64');
  const bin = atob(clean + '='.repeat((4 - (clean.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * A random RFC 4122 version 4 UUID for an Idempotency-Key: `crypto.randomUUID` where the runtime
 * has it (it needs a secure context; classic Outlook's JavaScript-only runtime may lack it).
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Problems with the instance URL and token, in the user's language; empty when usable. */
export function settingsProblems(instanceUrl: string, token: string, lang: Lang): string[] {
  const m = MESSAGES[lang];
  const problems: string[] = [];
  let url: URL | null = null;
  try {
    url = new URL(instanceUrl);
  } catch {
    problems.push(m.badUrl);
  }
  if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url.hostname)))
    problems.push(m.needHttps);
  if (!/^sdk_[A-Za-z0-9_-]{20,}$/.test(token.trim())) problems.push(m.badToken);
  return problems;
}

function isLocalHost(h: string): boolean {
  return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' || h.endsWith('.localhost');
}

/** Submits one message. Never throws: every failure is an outcome. */
export async function submitReport(req: SubmitRequest): Promise<SubmitOutcome> {
  const body: { raw: string; note?: string } = { raw: req.rawBase64.replace(/\s+/g, '') };
  const note = req.note?.trim();
  if (note) body.note = note.slice(0, MAX_NOTE_CHARS);
  let res: Response;
  try {
    res = await req.fetch(reportsEndpoint(req.instanceUrl), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${req.token.trim()}`,
        'content-type': 'application/json',
        'idempotency-key': req.idempotencyKey,
        'x-spamdesk-client': req.client,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (e) {
    return { kind: 'network', detail: errorText(e) };
  }
  const payload: unknown = await res.json().catch(() => null);
  const serverMessage = isRecord(payload) && typeof payload.message === 'string' ? payload.message : undefined;
  const status = res.status;
  if (status === 202) {
    const first = isRecord(payload) && Array.isArray(payload.reports) ? payload.reports[0] : null;
    if (!isRecord(first) || typeof first.id !== 'string')
      return { kind: 'unavailable', status, detail: 'The server answered 202 without a report id.' };
    return {
      kind: 'stored',
      status,
      reportId: first.id,
      trackingUrl: typeof first.trackingUrl === 'string' ? first.trackingUrl : undefined,
      duplicate: first.duplicate === true,
    };
  }
  const detail = serverMessage ?? `HTTP ${status} ${res.statusText}`.trim();
  if (status === 401 || status === 403) return { kind: 'auth', status, detail };
  if (status === 413) {
    const details = isRecord(payload) && isRecord(payload.details) ? payload.details : null;
    const limit = details && typeof details.limitBytes === 'number' ? details.limitBytes : undefined;
    return { kind: 'too-large', status, detail, limitBytes: limit };
  }
  if (status === 429 || status >= 500) {
    const ra = Number(res.headers.get('retry-after'));
    return { kind: 'unavailable', status, detail, retryAfterSeconds: Number.isFinite(ra) && ra > 0 ? ra : undefined };
  }
  return { kind: 'rejected', status, detail };
}

/** The language to speak for a BCP 47 tag (`fr-FR`, `fr-CA` → French; anything else English). */
export function langOf(tag: string | undefined | null): Lang {
  return /^fr(?:$|[-_])/i.test(tag ?? '') ? 'fr' : 'en';
}

/** Title and text telling the user what happened. */
export function describeOutcome(o: SubmitOutcome, lang: Lang, instanceUrl: string): { title: string; text: string } {
  const m = MESSAGES[lang];
  const host = hostOf(instanceUrl);
  switch (o.kind) {
    case 'stored':
      return { title: m.storedTitle, text: o.duplicate ? m.storedDuplicate : m.storedText };
    case 'auth':
      return { title: m.authTitle, text: m.authText };
    case 'too-large':
      return {
        title: m.tooLargeTitle,
        text: m.tooLargeText(o.limitBytes === undefined ? null : formatSize(o.limitBytes, lang)),
      };
    case 'rejected':
      return { title: m.rejectedTitle, text: `${m.rejectedText} ${o.detail ?? ''}`.trim() };
    case 'unavailable':
      return { title: m.unavailableTitle, text: m.unavailableText(host) };
    case 'network':
      return { title: m.networkTitle, text: m.networkText(host) };
  }
}

function formatSize(bytes: number, lang: Lang): string {
  const n = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: 1 });
  const [value, unit] = bytes >= 1_000_000 ? [bytes / 1_000_000, 'MB'] : [bytes / 1000, 'kB'];
  return `${n.format(value)} ${lang === 'fr' ? (unit === 'MB' ? 'Mo' : 'ko') : unit}`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

interface Messages {
  badUrl: string;
  needHttps: string;
  badToken: string;
  storedTitle: string;
  storedText: string;
  storedDuplicate: string;
  authTitle: string;
  authText: string;
  tooLargeTitle: string;
  tooLargeText: (limit: string | null) => string;
  rejectedTitle: string;
  rejectedText: string;
  unavailableTitle: string;
  unavailableText: (host: string) => string;
  networkTitle: string;
  networkText: (host: string) => string;
}

const MESSAGES: Record<Lang, Messages> = {
  en: {
    badUrl: 'The instance URL is not a valid URL.',
    needHttps: 'The instance URL must use https:// (http:// only for a local test instance).',
    badToken: 'The token should look like sdk_… (create one on your account page).',
    storedTitle: 'Spam reported',
    storedText: 'Thank you: the message was reported.',
    storedDuplicate: 'Thank you: this message had already been reported.',
    authTitle: 'Token refused',
    authText:
      'The server refused your token (unknown, revoked or not allowed to report). Set a new one in the settings.',
    tooLargeTitle: 'Message too large',
    tooLargeText: (limit) =>
      `This message is larger than the service accepts${limit ? ` (${limit})` : ''}. It stays in your mailbox; ` +
      'nothing was sent.',
    rejectedTitle: 'Report refused',
    rejectedText: 'The server refused this message:',
    unavailableTitle: 'Service unavailable',
    unavailableText: (host) => `${host} cannot take reports right now. Nothing is lost: try again later.`,
    networkTitle: 'Cannot reach the service',
    networkText: (host) =>
      `No answer from ${host} (offline, or the service is down). Nothing is lost: try again later.`,
  },
  fr: {
    badUrl: 'L’adresse du service n’est pas une URL valide.',
    needHttps: 'L’adresse du service doit commencer par https:// (http:// seulement pour un service de test local).',
    badToken: 'Le jeton doit ressembler à sdk_… (créez-en un sur la page de votre compte).',
    storedTitle: 'Spam signalé',
    storedText: 'Merci : le message a été signalé.',
    storedDuplicate: 'Merci : ce message avait déjà été signalé.',
    authTitle: 'Jeton refusé',
    authText:
      'Le serveur a refusé votre jeton (inconnu, révoqué ou sans droit de signaler). ' +
      'Indiquez-en un nouveau dans les réglages.',
    tooLargeTitle: 'Message trop volumineux',
    tooLargeText: (limit) =>
      `Ce message dépasse la taille acceptée par le service${limit ? ` (${limit})` : ''}. ` +
      'Il reste dans votre boîte ; rien n’a été envoyé.',
    rejectedTitle: 'Signalement refusé',
    rejectedText: 'Le serveur a refusé ce message :',
    unavailableTitle: 'Service indisponible',
    unavailableText: (host) =>
      `${host} ne peut pas recevoir de signalement pour l’instant. Rien n’est perdu : réessayez plus tard.`,
    networkTitle: 'Service injoignable',
    networkText: (host) =>
      `Pas de réponse de ${host} (hors ligne, ou service arrêté). Rien n’est perdu : réessayez plus tard.`,
  },
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function errorText(e: unknown): string {
  return e instanceof Error ? (e.cause instanceof Error ? `${e.message} (${e.cause.message})` : e.message) : String(e);
}
