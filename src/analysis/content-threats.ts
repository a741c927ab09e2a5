/**
 * Malware delivery that only the content shows (the parse stage calls these on attachment bytes
 * and HTML bodies; findings MACRO_DOCUMENT, ARCHIVE_CARRIES_EXECUTABLE, HTML_SMUGGLING):
 *
 * - **Macro documents** whose name does not say so: an Office Open XML file holding a
 *   `vbaProject.bin` (a `.xlsm` renamed `.xlsx` or `.jpg`), or an OLE2 compound file (`.doc`,
 *   `.xls`) with a `_VBA_PROJECT` or `Macros` storage ([MS-OVBA] §2.2, [MS-CFB] §2.6 directory
 *   entry names are UTF-16LE).
 * - **Archives carrying executables**: entry names read from ZIP central directory and local
 *   headers (APPNOTE 4.3.7, 4.3.12 — names stay readable in password-protected archives), RAR 4
 *   and RAR 5 file headers, tar headers and the gzip FNAME field (RFC 1952 §2.3.1). 7z headers are
 *   usually compressed and are not read.
 * - **HTML smuggling** (MITRE ATT&CK T1027.006): a page whose script decodes a large embedded
 *   blob (atob, Uint8Array, charCodeAt…) and hands it to the browser as a file (Blob,
 *   createObjectURL, msSaveOrOpenBlob, a `download` link), or a `data:` URI of an executable or
 *   archive type.
 *
 * Pure functions over bytes and strings, bounded scans, never throw on hostile input.
 */
import { finding, type StageFinding } from './stage.ts';

/** File extensions that run code when opened (also inside an archive). */
const RUNNABLE_EXT = new RegExp(
  [
    String.raw`\.(exe|scr|com|pif|bat|cmd|vbs|vbe|js|jse|wsf|wsh|hta|msi|msp|ps1|jar|lnk|dll|cpl|reg|iso|img|`,
    'vhdx?|one|docm|xlsm|pptm|dotm|xlam|xll|chm|appx|msix|url|scf|sct|svg|html?)$',
  ].join(''),
  'i',
);
const MAX_ENTRIES = 1000;
const MAX_NAME = 400;
/** Bytes scanned for HTML smuggling (a smuggled payload is rarely above a few MB). */
const MAX_HTML_SCAN = 8 * 1024 * 1024;
/** A base64 run this long (≈ 3 KB decoded) is a payload, not an inline icon. */
const MIN_BLOB_BASE64 = 4000;
const MIN_BLOB_HEX = 6000;

/** True when a file name runs code when opened. */
export function isRunnableName(name: string): boolean {
  return RUNNABLE_EXT.test(name.trim());
}

function u16(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8);
}
function u32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + (b[i + 3] ?? 0) * 0x1000000;
}
function latin1(b: Uint8Array, from: number, len: number): string {
  if (from < 0 || from >= b.length) return '';
  return Buffer.from(b.buffer, b.byteOffset + from, Math.max(0, Math.min(len, b.length - from))).toString('latin1');
}

const CENTRAL = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
const LOCAL = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

function zipEntries(b: Uint8Array): string[] {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  const names: string[] = [];
  // Central directory headers (PK\x01\x02), else local headers (PK\x03\x04) for a truncated file.
  for (const [sig, nameLenAt, nameAt] of [
    [CENTRAL, 28, 46],
    [LOCAL, 26, 30],
  ] as const) {
    for (
      let i = buf.indexOf(sig);
      i >= 0 && i + nameAt <= b.length && names.length < MAX_ENTRIES;
      i = buf.indexOf(sig, i + 4)
    ) {
      const len = Math.min(u16(b, i + nameLenAt), MAX_NAME);
      names.push(latin1(b, i + nameAt, len));
    }
    if (names.length > 0) break;
  }
  return names;
}

/** RAR 5 variable-length integer: value and bytes used. */
function vint(b: Uint8Array, i: number): [number, number] {
  let v = 0;
  for (let n = 0; n < 8 && i + n < b.length; n++) {
    v += (b[i + n] & 0x7f) * 2 ** (7 * n);
    if ((b[i + n] & 0x80) === 0) return [v, n + 1];
  }
  return [v, 8];
}

function rarEntries(b: Uint8Array): string[] {
  const names: string[] = [];
  if (latin1(b, 0, 8) === 'Rar!\x1a\x07\x01\x00') {
    let p = 8;
    while (p + 7 < b.length && names.length < MAX_ENTRIES) {
      const [size, s1] = vint(b, p + 4);
      let q = p + 4 + s1;
      const end = q + size;
      const [type, s2] = vint(b, q);
      q += s2;
      const [flags, s3] = vint(b, q);
      q += s3;
      if (flags & 1) q += vint(b, q)[1];
      let data = 0;
      if (flags & 2) {
        const [d, s] = vint(b, q);
        data = d;
        q += s;
      }
      if (type === 2 || type === 3) {
        const [fileFlags, f1] = vint(b, q);
        q += f1;
        q += vint(b, q)[1]; // unpacked size
        q += vint(b, q)[1]; // attributes
        if (fileFlags & 2) q += 4;
        if (fileFlags & 4) q += 4;
        q += vint(b, q)[1]; // compression
        q += vint(b, q)[1]; // host OS
        const [nameLen, f2] = vint(b, q);
        q += f2;
        if (type === 2)
          names.push(
            Buffer.from(
              b.buffer,
              b.byteOffset + Math.min(q, b.length),
              Math.max(0, Math.min(nameLen, MAX_NAME, b.length - q)),
            ).toString('utf8'),
          );
      }
      if (size <= 0 || end + data <= p) break;
      p = end + data;
    }
  } else if (latin1(b, 0, 7) === 'Rar!\x1a\x07\x00') {
    let p = 7;
    while (p + 7 <= b.length && names.length < MAX_ENTRIES) {
      const type = b[p + 2];
      const flags = u16(b, p + 3);
      const size = u16(b, p + 5);
      let add = flags & 0x8000 ? u32(b, p + 7) : 0;
      if (type === 0x74) {
        add = u32(b, p + 7);
        const nameLen = Math.min(u16(b, p + 26), MAX_NAME);
        const nameAt = p + 32 + (flags & 0x100 ? 8 : 0);
        names.push(latin1(b, nameAt, nameLen).split('\0')[0]);
      }
      if (size < 7) break;
      p += size + add;
    }
  }
  return names;
}

function tarEntries(b: Uint8Array): string[] {
  const names: string[] = [];
  if (latin1(b, 257, 5) !== 'ustar') return names;
  for (let p = 0; p + 512 <= b.length && names.length < MAX_ENTRIES; ) {
    const name = latin1(b, p, 100).split('\0')[0];
    if (!name) break;
    names.push(name);
    const size = parseInt(latin1(b, p + 124, 12).replace(/[^0-7]/g, '') || '0', 8);
    p += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

function gzipName(b: Uint8Array): string[] {
  if (b.length < 10 || b[0] !== 0x1f || b[1] !== 0x8b || (b[3] & 0x08) === 0) return [];
  let p = 10;
  if (b[3] & 0x04) p += 2 + u16(b, p);
  const end = b.indexOf(0, p);
  return end > p ? [latin1(b, p, Math.min(end - p, MAX_NAME))] : [];
}

/** Entry names of an archive (ZIP, RAR 4/5, tar, gzip), bounded; [] when none can be read. */
export function archiveEntryNames(b: Uint8Array): string[] {
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b) return zipEntries(b);
  if (latin1(b, 0, 4) === 'Rar!') return rarEntries(b);
  if (b[0] === 0x1f && b[1] === 0x8b) return gzipName(b);
  return tarEntries(b);
}

/** The first archive entry that runs code when opened (a nested archive's name counts as itself), or null. */
export function runnableArchiveEntry(b: Uint8Array): string | null {
  return archiveEntryNames(b).find((n) => isRunnableName(n.replace(/\/$/, ''))) ?? null;
}

const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const utf16 = (s: string): Buffer => Buffer.from(s, 'utf16le');
const OLE_VBA_NAMES = [utf16('_VBA_PROJECT'), utf16('Macros'), utf16('VBA\0')];

/**
 * Where a document keeps VBA macros: `word/vbaProject.bin` (Office Open XML) or the OLE2
 * storage name that holds them; null when there is none.
 */
export function macroStorage(b: Uint8Array): string | null {
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b) {
    return zipEntries(b).find((n) => /(^|\/)vbaProject\.bin$/i.test(n) || /(^|\/)vbaData\.xml$/i.test(n)) ?? null;
  }
  if (b.length < 512 || OLE_MAGIC.some((v, i) => b[i] !== v)) return null;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  for (const name of OLE_VBA_NAMES) if (buf.indexOf(name) >= 0) return name.toString('utf16le').replace(/\0/g, '');
  return null;
}

const DECODER = new RegExp(
  [
    String.raw`\batob\s*\(|\bUint8Array\b|\.charCodeAt\s*\(|String\.fromCharCode\s*\(|\bunescape\s*\(|`,
    String.raw`\bBuffer\.from\s*\(|\bparseInt\s*\([^;]{0,40}?,\s*16\s*\)|\bTextDecoder\b|\bDecompressionStream\b`,
  ].join(''),
  'gi',
);
const BUILDER = new RegExp(
  [
    String.raw`\bnew\s+Blob\s*\(|\bnew\s+File\s*\(|\bcreateObjectURL\s*\(|\bmsSaveOrOpenBlob\b|\bmsSaveBlob\b|`,
    String.raw`\.download\s*=|setAttribute\s*\(\s*["']download["']`,
  ].join(''),
  'gi',
);
/** A `download` attribute; {@link downloadLinks} keeps those inside an `<a` tag. */
const DOWNLOAD_ATTRIBUTE = /\sdownload\s*=/gi;
/** Longest stretch of a tag between `<a` and its `download` attribute that is looked at. */
const MAX_TAG_SPAN = 500;

/**
 * Where `<a …download=` links start: what `/<a\b[^>]{0,500}\sdownload\s*=/gi` finds, found from each
 * `download` attribute backwards instead. The regex tries every `<a` forwards up to 500 characters,
 * so a page of unclosed `<a ` (≈ 400 ms per MB) cost far more than the page; this looks back once
 * per attribute.
 */
export function downloadLinks(text: string): number[] {
  const attributes = [...text.matchAll(DOWNLOAD_ATTRIBUTE)].map((m) => ({
    at: m.index ?? 0,
    end: (m.index ?? 0) + m[0].length,
  }));
  const starts: number[] = [];
  // The regex resumes after each match, and a match runs on (greedily) to the last attribute its `<a` reaches.
  let resume = 0;
  for (let i = 0; i < attributes.length; i++) {
    const { at } = attributes[i];
    // The earliest `<a` (then a word boundary) with at most MAX_TAG_SPAN characters other than `>` before `at`.
    const from = Math.max(resume, at - MAX_TAG_SPAN - 2, text.lastIndexOf('>', at) + 1);
    const a = /<a(?![A-Za-z0-9_])/i.exec(text.slice(from, at));
    if (a === null) continue;
    const start = from + a.index;
    const close = text.indexOf('>', start);
    let last = i;
    while (
      last + 1 < attributes.length &&
      attributes[last + 1].at - (start + 2) <= MAX_TAG_SPAN &&
      (close < 0 || close >= attributes[last + 1].at)
    )
      last++;
    starts.push(start);
    resume = attributes[last].end;
    i = last;
  }
  return starts;
}
const DOWNLOAD_NAME = new RegExp(
  [
    String.raw`(?:\.download\s*=\s*|download\s*=\s*|msSaveOrOpenBlob\s*\([^,]{1,80},\s*|`,
    String.raw`msSaveBlob\s*\([^,]{1,80},\s*|setAttribute\s*\(\s*["']download["']\s*,\s*)["']([^"'<>]{1,120})["']`,
  ].join(''),
  'i',
);
const DATA_URI = new RegExp(
  [
    String.raw`data:(application\/(?:octet-stream|x-msdownload|x-msdos-program|x-dosexec|x-ms-installer|x-msi|`,
    String.raw`zip|x-zip-compressed|x-rar-compressed|vnd\.rar|x-7z-compressed|x-iso9660-image|x-gzip|gzip|`,
    String.raw`java-archive|hta|x-javascript|javascript|vnd\.ms-[a-z.-]+|vnd\.openxmlformats-[a-z.-]+|x-bat|`,
    String.raw`x-sh)|text\/(?:javascript|vbscript|hta))[^,"'\s]{0,60},`,
  ].join(''),
  'i',
);

/** Character classes of {@link blobRuns}: bit 1 base64 alphabet, bit 2 hex digit. */
const B64 = 1;
const HEX = 2;
const BLOB_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9+/]/.test(ch)) BLOB_CLASS[c] |= B64;
  if (/[0-9a-fA-F]/.test(ch)) BLOB_CLASS[c] |= HEX;
}

/**
 * The longest base64 and hex blobs of a text, in one linear pass: what the longest match of
 * `/[A-Za-z0-9+/]{400,}={0,2}/g` and of `/(?:[0-9a-fA-F]{2}){500,}/g` would be (0 when none), without
 * the regexes' cost — each retries every start inside a run too short to match, which is
 * quadratic in the run's length (a page of 399-character tokens).
 */
export function blobRuns(text: string): { base64: number; hex: number } {
  let base64 = 0;
  let hex = 0;
  let b64Run = 0;
  let hexRun = 0;
  const n = text.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 0;
    const k = c < 128 ? BLOB_CLASS[c] : 0;
    if (k & HEX) hexRun++;
    else {
      const even = hexRun - (hexRun % 2);
      if (even >= 1000 && even > hex) hex = even;
      hexRun = 0;
    }
    if (k & B64) b64Run++;
    else {
      if (b64Run >= 400) {
        let eq = 0;
        while (eq < 2 && i + eq < n && text.charCodeAt(i + eq) === 0x3d) eq++;
        if (b64Run + eq > base64) base64 = b64Run + eq;
      }
      b64Run = 0;
    }
  }
  return { base64, hex };
}

/**
 * Evidence that an HTML page builds a file in the browser (HTML smuggling), or null. Fires on
 * (a large base64 or hex blob) + (a decoder) + (a file builder), or on a `data:` URI of an
 * executable/archive type whose payload is large or offered with a `download` attribute.
 */
export function htmlSmugglingEvidence(html: string): string | null {
  const text = html.length > MAX_HTML_SCAN ? html.slice(0, MAX_HTML_SCAN) : html;
  const name = DOWNLOAD_NAME.exec(text)?.[1];
  const named = name ? ` as "${name}"` : '';
  const dataUri = DATA_URI.exec(text);
  if (dataUri) {
    const start = dataUri.index + dataUri[0].length;
    const payload = /^[A-Za-z0-9+/=%]*/.exec(text.slice(start, start + MIN_BLOB_BASE64 + 10))?.[0].length ?? 0;
    const offered =
      /\sdownload\b/i.test(text.slice(Math.max(0, dataUri.index - 2000), dataUri.index)) ||
      /^[^>]{0,300}\sdownload\b/i.test(text.slice(start + payload, start + payload + 310));
    if (payload >= MIN_BLOB_BASE64 || (offered && payload >= 100))
      return `data: URI of type ${dataUri[1]}${named}${offered ? ' with a download link' : ''}`;
  }
  // Most mail has no decoder or no builder: those scans go first, the blob measure only when both are there.
  const decoders = new Set([...text.matchAll(DECODER)].map((m) => /[A-Za-z][A-Za-z0-9.]*/.exec(m[0])?.[0] ?? m[0]));
  if (decoders.size === 0) return null;
  const found: [number, string][] = [...text.matchAll(BUILDER)].map((m) => [
    m.index ?? 0,
    m[0]
      .replace(/\s*\($/, '')
      .replace(/^\./, '')
      .replace(/\s*=$/, '')
      .replace(/\s+/g, ' '),
  ]);
  for (const at of downloadLinks(text)) found.push([at, 'download link']);
  const builders = new Set(found.sort((a, b) => a[0] - b[0]).map(([, name]) => name));
  if (builders.size === 0) return null;
  const runs = blobRuns(text);
  const hex = runs.hex;
  const base64 = hex >= MIN_BLOB_HEX ? 0 : runs.base64;
  if (base64 < MIN_BLOB_BASE64 && hex < MIN_BLOB_HEX) return null;
  const blob =
    hex >= MIN_BLOB_HEX
      ? `${Math.round(hex / 2 / 1024)} KB hex blob`
      : `${Math.round((base64 * 3) / 4 / 1024)} KB base64 blob`;
  return `${blob} decoded with ${[...decoders].slice(0, 3).join(', ')} and saved with \
${[...builders].slice(0, 3).join(', ')}${named}`;
}

const HTML_NAME = /\.(html?|shtml|xhtml|svg|hta)$/i;
const HTML_TYPE = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|application\/hta)/i;

/**
 * The content findings of one attachment (MACRO_DOCUMENT, ARCHIVE_CARRIES_EXECUTABLE,
 * HTML_SMUGGLING), with the part and what was found as evidence.
 */
export function attachmentContentFindings(
  filename: string | null,
  declared: string,
  sniffed: string | null,
  bytes: Uint8Array,
  part: string,
): StageFinding[] {
  try {
    return contentFindings(filename, declared, sniffed, bytes, part);
  } catch {
    // A reader bug on hostile bytes must not cost the parse stage; the attachment just goes unexamined.
    return [];
  }
}

function contentFindings(
  filename: string | null,
  declared: string,
  sniffed: string | null,
  bytes: Uint8Array,
  part: string,
): StageFinding[] {
  const out: StageFinding[] = [];
  const label = filename ?? part;
  const macro = macroStorage(bytes);
  if (macro)
    out.push(
      finding('MACRO_DOCUMENT', `Attachment ${label} is a document carrying VBA macros (${macro}).`, {
        part,
        value: `${label}: ${macro}`,
      }),
    );
  else {
    const entry = runnableArchiveEntry(bytes);
    if (entry)
      out.push(
        finding('ARCHIVE_CARRIES_EXECUTABLE', `Archive ${label} contains ${entry}, which runs code when opened.`, {
          part,
          value: `${label} → ${entry}`,
        }),
      );
  }
  if (HTML_NAME.test(filename ?? '') || HTML_TYPE.test(declared) || (sniffed !== null && HTML_TYPE.test(sniffed))) {
    const ev = htmlSmugglingEvidence(
      Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, MAX_HTML_SCAN)).toString('latin1'),
    );
    if (ev)
      out.push(
        finding('HTML_SMUGGLING', `Attachment ${label} builds a file in the browser: ${ev}.`, {
          part,
          value: `${label}: ${ev}`,
        }),
      );
  }
  return out;
}

/** HTML_SMUGGLING in a message's own HTML body, or nothing. */
export function htmlBodyFindings(html: string | undefined, part: string): StageFinding[] {
  const ev = html ? htmlSmugglingEvidence(html) : null;
  return ev
    ? [finding('HTML_SMUGGLING', `The HTML body builds a file in the browser: ${ev}.`, { part, value: ev })]
    : [];
}
