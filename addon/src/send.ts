/**
 * The add-on's sending logic, free of Thunderbird APIs so it can be tested against a running
 * Spamdesk server: it takes `fetch` and `getRaw` and reports each message with the exact raw
 * bytes Thunderbird holds (`messenger.messages.getRaw`), never a re-serialised copy.
 */

/** What the user sets on the options page. */
export interface AddonSettings {
  instanceUrl: string;
  token: string;
  moveToJunk: boolean;
  note: string;
}

export const DEFAULT_SETTINGS: AddonSettings = { instanceUrl: '', token: '', moveToJunk: false, note: '' };

/**
 * What `messenger.messages.getRaw` returns: a "binary string" (one char per byte, the default)
 * or a `File` (with `{ data_format: 'File' }`, Thunderbird 117+).
 */
export type RawMessage = string | Blob | Uint8Array;

export interface SendDeps {
  fetch: typeof fetch;
  getRaw: (messageId: number) => Promise<RawMessage>;
  settings: AddonSettings;
  /**
   * The language Thunderbird shows its interface in (`messenger.i18n.getUILanguage()`), sent as
   * `Accept-Language` so the instance's refusals read in it; without it the instance answers in its
   * region's language.
   */
  language?: string;
}

/** The result for one message, shown to the user. */
export interface ReportOutcome {
  messageId: number;
  ok: boolean;
  reportId?: string;
  trackingUrl?: string;
  duplicate?: boolean;
  /** HTTP status, when the server answered. */
  status?: number;
  /** The server's error message, or why the server could not be reached. */
  error?: string;
}

/** Longest note the server accepts. */
export const MAX_NOTE_CHARS = 4000;

/** Problems with the settings, in words for the options page; empty when usable. */
/**
 * What is wrong with the settings, in the user's language when `msg` (the add-on's message
 * catalogue, `messenger.i18n.getMessage`) knows the sentence, in English otherwise.
 */
export function settingsProblems(
  s: AddonSettings,
  msg: (key: string, substitutions?: string[]) => string | null = () => null,
): string[] {
  const problems: string[] = [];
  let url: URL | null = null;
  try {
    url = new URL(s.instanceUrl);
  } catch {
    problems.push(msg('problemUrlInvalid') ?? 'The instance URL is not a valid URL.');
  }
  if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url.hostname))) {
    problems.push(
      msg('problemUrlHttps') ?? 'The instance URL must use https:// (http:// only for a local test instance).',
    );
  }
  if (!/^sdk_[A-Za-z0-9_-]{20,}$/.test(s.token.trim()))
    problems.push(msg('problemToken') ?? 'The API token should look like sdk_… (create one in your Spamdesk account).');
  if (s.note.length > MAX_NOTE_CHARS)
    problems.push(
      msg('problemNoteLong', [String(MAX_NOTE_CHARS)]) ?? `The note is longer than ${MAX_NOTE_CHARS} characters.`,
    );
  return problems;
}

function isLocalHost(h: string): boolean {
  return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' || h.endsWith('.localhost');
}

/** The exact bytes of a raw message, whatever form Thunderbird returned. */
export async function rawToBytes(raw: RawMessage): Promise<Uint8Array> {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string') {
    // A binary string: each UTF-16 code unit holds one byte (0–255).
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i) & 0xff;
    return out;
  }
  return new Uint8Array(await raw.arrayBuffer());
}

/** Standard base64 of bytes, in chunks (no call-stack limits on large messages). */
export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  const CHUNK = 0x6000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += btoa(String.fromCharCode(...bytes.subarray(i, i + CHUNK)));
  }
  return out;
}

/** The reports endpoint of an instance. */
export function reportsEndpoint(instanceUrl: string): string {
  return `${instanceUrl.replace(/\/+$/, '')}/api/v1/reports`;
}

/** Reports one message. Never throws: failures are outcomes with the reason. */
export async function reportMessage(messageId: number, deps: SendDeps): Promise<ReportOutcome> {
  let bytes: Uint8Array;
  try {
    bytes = await rawToBytes(await deps.getRaw(messageId));
  } catch (e) {
    return { messageId, ok: false, error: `Thunderbird could not read the message source: ${errorText(e)}` };
  }
  const body: { raw: string; channel: 'addon'; note?: string } = { raw: bytesToBase64(bytes), channel: 'addon' };
  const note = deps.settings.note.trim();
  if (note) body.note = note.slice(0, MAX_NOTE_CHARS);
  let res: Response;
  try {
    res = await deps.fetch(reportsEndpoint(deps.settings.instanceUrl), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${deps.settings.token.trim()}`,
        'content-type': 'application/json',
        'x-spamdesk-client': 'thunderbird',
        ...(deps.language ? { 'accept-language': deps.language } : {}),
      },
      body: JSON.stringify(body),
    });
  } catch (e) {
    return { messageId, ok: false, error: `Cannot reach ${deps.settings.instanceUrl}: ${errorText(e)}` };
  }
  const payload = await res.json().catch(() => null);
  if (res.status !== 202) {
    const message =
      isRecord(payload) && typeof payload.message === 'string'
        ? payload.message
        : `HTTP ${res.status} ${res.statusText}`;
    return { messageId, ok: false, status: res.status, error: message };
  }
  const first = isRecord(payload) && Array.isArray(payload.reports) ? payload.reports[0] : null;
  if (!isRecord(first) || typeof first.id !== 'string')
    return { messageId, ok: false, status: res.status, error: 'The server answered without a report id.' };
  return {
    messageId,
    ok: true,
    status: res.status,
    reportId: first.id,
    trackingUrl: typeof first.trackingUrl === 'string' ? first.trackingUrl : undefined,
    duplicate: first.duplicate === true,
  };
}

/** Reports messages one after the other (a selection can be large; the server is not flooded). */
export async function reportMessages(messageIds: number[], deps: SendDeps): Promise<ReportOutcome[]> {
  const out: ReportOutcome[] = [];
  for (const id of messageIds) out.push(await reportMessage(id, deps));
  return out;
}

/** One notification for a batch of outcomes. */
export function summarise(outcomes: ReportOutcome[]): { title: string; message: string } {
  const ok = outcomes.filter((o) => o.ok);
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) {
    return {
      title: 'Spam reported',
      message:
        ok.length === 1 ? 'Thank you: the message was reported.' : `Thank you: ${ok.length} messages were reported.`,
    };
  }
  const reasons = [...new Set(failed.map((f) => f.error ?? 'unknown error'))].join(' ');
  const title = ok.length === 0 ? 'Report failed' : `${ok.length} reported, ${failed.length} failed`;
  return { title, message: reasons };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
