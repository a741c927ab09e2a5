/**
 * Recovery of inline forwards. When a user forwards a spam "inline" rather than as an attachment,
 * the original bytes are gone: the client rewrote them into its own body, usually after a marker
 * line and a small block of the original's headers. We recover what the client kept — the marker
 * text before it is the user's note, the header block becomes header fields, the rest the body —
 * and mark the result as a lower-quality report (`quality: 'inline'`): it is a reconstruction,
 * and the recovered message says so in its first header field.
 */

/** Marker lines clients put before an inline-forwarded message (several languages). */
const MARKERS: RegExp[] = [
  new RegExp(
    [
      String.raw`^\s*-{2,}\s*(?:forwarded message|original message|message d'origine|message transféré|`,
      'message transfere|mensaje original|mensaje reenviado|weitergeleitete nachricht|',
      'ursprüngliche nachricht|messaggio inoltrato|messaggio originale|doorgestuurd bericht|',
      String.raw`oorspronkelijk bericht|mensagem original|mensagem encaminhada)\s*-{2,}\s*$`,
    ].join(''),
    'i',
  ),
  new RegExp(
    [
      String.raw`^\s*(?:begin forwarded message|début du message réexpédié|début du message transféré|`,
      String.raw`anfang der weitergeleiteten nachricht|inicio del mensaje reenviado)\s*:\s*$`,
    ].join(''),
    'i',
  ),
  // Outlook: a line of underscores followed by the header block.
  /^\s*_{10,}\s*$/,
];

/** Localised labels of the header block, mapped to RFC 5322 field names. */
const LABELS: Record<string, string> = {
  from: 'From',
  de: 'From',
  von: 'From',
  da: 'From',
  van: 'From',
  remetente: 'From',
  expéditeur: 'From',
  to: 'To',
  à: 'To',
  a: 'To',
  an: 'To',
  para: 'To',
  aan: 'To',
  destinataire: 'To',
  cc: 'Cc',
  kopie: 'Cc',
  date: 'Date',
  sent: 'Date',
  envoyé: 'Date',
  'envoyé le': 'Date',
  gesendet: 'Date',
  datum: 'Date',
  fecha: 'Date',
  enviado: 'Date',
  inviato: 'Date',
  data: 'Date',
  verzonden: 'Date',
  subject: 'Subject',
  objet: 'Subject',
  sujet: 'Subject',
  betreff: 'Subject',
  asunto: 'Subject',
  oggetto: 'Subject',
  onderwerp: 'Subject',
  assunto: 'Subject',
  'reply-to': 'Reply-To',
  'répondre à': 'Reply-To',
  'antwort an': 'Reply-To',
  'message-id': 'Message-ID',
};

/** An RFC 5322 field name (printable ASCII except colon and space). */
const FIELD_NAME = /^[!-9;-~]{1,76}$/;
/** Most header lines we read after a marker. */
const MAX_RECOVERED_LINES = 200;

/** The result of recovering an inline forward. */
export interface InlineRecovery {
  /** The reconstructed message (UTF-8). */
  raw: Buffer;
  /** Header fields recovered, as `Name: value` lines (already in `raw`). */
  headers: string[];
  /** The user's own text above the marker. */
  note: string;
  /** The marker line found. */
  marker: string;
}

/**
 * Looks for an inline forward in a plain-text body. Returns null when there is no marker, or
 * when nothing follows it.
 */
export function recoverInlineForward(text: string, wrapperSha256: string): InlineRecovery | null {
  const lines = text.split(/\r\n|\r|\n/);
  let markerIdx = -1;
  for (let i = 0; i < lines.length; i++) {
    if (!MARKERS.some((m) => m.test(lines[i]))) continue;
    // The underscore line only counts when a header block follows it.
    if (/^\s*_{10,}\s*$/.test(lines[i]) && !looksLikeHeader(lines[i + 1] ?? '')) continue;
    markerIdx = i;
    break;
  }
  if (markerIdx === -1) return null;
  let rest = lines.slice(markerIdx + 1);
  // A forward quoted with "> " (some clients do both): remove one quoting level.
  const nonEmpty = rest.filter((l) => l.trim() !== '');
  if (nonEmpty.length > 0 && nonEmpty.filter((l) => /^>/.test(l)).length / nonEmpty.length > 0.8) {
    rest = rest.map((l) => l.replace(/^> ?/, ''));
  }
  let i = 0;
  while (i < rest.length && rest[i].trim() === '') i++;
  const headers: string[] = [];
  for (; i < rest.length && headers.length < MAX_RECOVERED_LINES; i++) {
    const line = rest[i];
    if (line.trim() === '') break;
    if ((line[0] === ' ' || line[0] === '\t') && headers.length > 0) {
      headers[headers.length - 1] += ` ${line.trim()}`;
      continue;
    }
    const h = toHeader(line);
    if (!h) break;
    headers.push(h);
  }
  const body = rest.slice(i).join('\n').replace(/^\n+/, '');
  if (headers.length === 0 && body.trim() === '') return null;
  const head = [`X-Spamdesk-Recovered: inline-forward; wrapper=${wrapperSha256}`, ...headers];
  if (!headers.some((h) => /^mime-version:/i.test(h))) head.push('MIME-Version: 1.0');
  // The body was decoded by the forwarding client; we store it as UTF-8 text.
  head.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
  const note = lines.slice(0, markerIdx).join('\n').trim();
  const raw = Buffer.from(
    `${head.map(sanitizeHeaderLine).join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}`,
    'utf8',
  );
  return { raw, headers, note, marker: lines[markerIdx].trim() };
}

function looksLikeHeader(line: string): boolean {
  return toHeader(line) !== null;
}

/** `Label: value` → `Field: value` (localised labels mapped), or null. */
function toHeader(line: string): string | null {
  const m = /^\s*\*?([^:*]{1,40}?)\*?\s*:\s?(.*)$/.exec(line);
  if (!m) return null;
  const label = m[1].trim();
  // Outlook's plain-text forwards bold the labels: `*From:* Name`.
  const value = m[2].replace(/^\*\s*/, '').trim();
  const mapped = LABELS[label.toLowerCase()];
  if (mapped) return `${mapped}: ${value}`;
  if (FIELD_NAME.test(label)) return `${label}: ${value}`;
  return null;
}

/** A recovered line must not inject extra header lines or bare CRs. */
function sanitizeHeaderLine(line: string): string {
  return line.replace(/[\r\n\0]/g, ' ');
}

/** A crude HTML-to-text conversion, enough to find a forward marker in an HTML-only wrapper. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|tr|li|h\d|blockquote)\s*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Math.min(Number(d), 0x10ffff)))
    .replace(/&amp;/g, '&');
}
