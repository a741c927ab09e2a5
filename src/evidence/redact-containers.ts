/**
 * The text inside attachments the byte search cannot read (redact.ts): ZIP archives and the documents built on them
 * (DOCX, XLSX, PPTX, ODT, ODS: APPNOTE.TXT §4.3), PDF streams (ISO 32000-1 §7.3.8: FlateDecode §7.4.4, ASCII85
 * §7.4.3) and strings (§7.3.4: literal with their escapes, hex, UTF-16BE), TNEF (`winmail.dat`, MS-OXTNEF) and OLE
 * compound files (Word 97–2003, Outlook `.msg`), whose properties and streams hold text in UTF-16LE as well as 8-bit.
 * Each yields latin1 views of what a reader of the file would see, bounded in count, size and depth (a zip bomb
 * inflates to at most {@link MAX_INFLATED} bytes in all, stored entries counted too), and says whether it read the
 * whole file: an entry it cannot decompress (bzip2, LZMA), a budget spent, or nesting too deep leaves it incomplete,
 * and the caller withholds what it could not search whole.
 */
import { inflateRawSync, inflateSync } from 'node:zlib';

/** Most bytes inflated or copied out of one attachment, all entries and streams together. */
const MAX_INFLATED = 16 * 1024 * 1024;
/** Most entries or streams read from one attachment. */
const MAX_PIECES = 2000;
/** Deepest container inside a container read. */
const MAX_DEPTH = 3;
/** Most containers embedded in a TNEF or OLE file looked for. */
const MAX_EMBEDDED = 16;

/** The signature of an OLE compound file ([MS-CFB] §2.2): Word 97–2003, Excel, PowerPoint, Outlook `.msg`. */
const OLE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const ZIP_LOCAL = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const ZIP_CENTRAL = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
const ZIP_END = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

export type ContainerKind = 'zip' | 'pdf' | 'tnef' | 'ole';

/** What kind of container the bytes are, or null. A ZIP is also found by its end record (bytes before it, SFX). */
export function containerKind(b: Buffer): ContainerKind | null {
  if (b.length >= 4 && b.subarray(0, 4).equals(ZIP_LOCAL)) return 'zip';
  if (b.subarray(0, 1024).includes('%PDF-')) return 'pdf';
  if (b.length >= 4 && b.readUInt32LE(0) === 0x223e9f78) return 'tnef';
  if (b.length >= 8 && b.subarray(0, 8).equals(OLE)) return 'ole';
  if (b.length >= 22 && b.lastIndexOf(ZIP_END, b.length - 22) >= Math.max(0, b.length - 22 - 65535)) {
    const end = b.lastIndexOf(ZIP_END, b.length - 22);
    if (end >= 0 && b.includes(ZIP_CENTRAL)) return 'zip';
  }
  return null;
}

interface Budget {
  inflated: number;
  pieces: number;
  complete: boolean;
}

/**
 * A latin1 view of something inside a container: `raw` when it is the file's own bytes (binary streams and all),
 * which only the identity's unmistakable forms are looked for in; else text a reader sees.
 */
export interface ContainerText {
  text: string;
  raw: boolean;
}

/** Latin1 views of the text inside a container, and whether all of it was read. */
export function containerTexts(b: Buffer): { texts: ContainerText[]; complete: boolean } {
  const out: ContainerText[] = [];
  const budget: Budget = { inflated: 0, pieces: 0, complete: true };
  collect(b, budget, 0, out);
  return { texts: out, complete: budget.complete };
}

function collect(b: Buffer, budget: Budget, depth: number, out: ContainerText[]): void {
  if (depth > MAX_DEPTH) {
    budget.complete = false;
    return;
  }
  const kind = containerKind(b);
  if (kind === 'zip') zipTexts(b, budget, depth, out);
  else if (kind === 'pdf') pdfTexts(b, budget, out);
  else {
    // TNEF and OLE files (a Word 97 document's text, an Outlook item's recipients) keep text in UTF-16LE or 8-bit,
    // and carry attachments of their own: an archive or a PDF inside is read as such.
    out.push(...[b.toString('latin1'), ...utf16Views(b)].map((text) => ({ text, raw: true })));
    if (kind === 'tnef' || kind === 'ole') embedded(b, budget, depth, out);
  }
}

/**
 * Archives and PDFs inside a TNEF or OLE file, found by their signatures: read as well as they can be (a signature
 * may be four bytes of something else, so one that leads nowhere does not make the file unsearched).
 */
function embedded(b: Buffer, budget: Budget, depth: number, out: ContainerText[]): void {
  let found = 0;
  const complete = budget.complete;
  for (const sig of [ZIP_LOCAL, Buffer.from('%PDF-')]) {
    for (let i = b.indexOf(sig, 1); i > 0 && found < MAX_EMBEDDED; i = b.indexOf(sig, i + sig.length)) {
      found++;
      collect(b.subarray(i), budget, depth + 1, out);
    }
  }
  budget.complete = complete && (budget.inflated < MAX_INFLATED || found === 0);
}

/**
 * The UTF-16 readings of bytes (little-endian from an even and an odd offset, big-endian when zeros lead), as the
 * latin1 view of their UTF-8: a property need not start on an even byte.
 */
export function utf16Views(b: Buffer): string[] {
  const views: string[] = [];
  for (const k of [0, 1]) {
    const end = k + ((b.length - k) & ~1);
    views.push(Buffer.from(b.subarray(k, end).toString('utf16le'), 'utf8').toString('latin1'));
  }
  if (b.length >= 2 && (b[0] === 0xfe || leadingZeros(b))) {
    const even = b.subarray(0, b.length & ~1);
    views.push(Buffer.from(Buffer.from(even).swap16().toString('utf16le'), 'utf8').toString('latin1'));
  }
  return views;
}

/** Whether zeros sit more often at even offsets than odd ones (UTF-16BE of mostly Latin text). */
function leadingZeros(b: Buffer): boolean {
  let even = 0;
  let odd = 0;
  for (let i = 0; i + 1 < Math.min(b.length, 4096); i += 2) {
    if (b[i] === 0) even++;
    if (b[i + 1] === 0) odd++;
  }
  return even > odd * 2 && even > 4;
}

function inflate(data: Buffer, raw: boolean, budget: Budget): Buffer | null {
  const room = MAX_INFLATED - budget.inflated;
  if (room <= 0) {
    budget.complete = false;
    return null;
  }
  try {
    const out = raw ? inflateRawSync(data, { maxOutputLength: room }) : inflateSync(data, { maxOutputLength: room });
    budget.inflated += out.length;
    return out;
  } catch (e) {
    // Over the budget (a bomb): the budget is spent and the file was not read whole. Corrupt or truncated data
    // holds no more text than its bytes, which the caller searches too.
    if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      budget.inflated = MAX_INFLATED;
      budget.complete = false;
    }
    return null;
  }
}

/** Copies bytes out of a stored entry against the same budget as inflated ones. */
function take(data: Buffer, budget: Budget): Buffer | null {
  if (budget.inflated + data.length > MAX_INFLATED) {
    budget.inflated = MAX_INFLATED;
    budget.complete = false;
    return null;
  }
  budget.inflated += data.length;
  return data;
}

/**
 * Entries of a ZIP by its central directory (sizes there are right even when the local header defers them), the
 * offsets shifted by whatever precedes the archive (a self-extractor's stub, junk a review put in front).
 */
function zipTexts(b: Buffer, budget: Budget, depth: number, out: ContainerText[]): void {
  const end = b.lastIndexOf(ZIP_END);
  const shift = end >= 0 && end + 22 <= b.length ? end - b.readUInt32LE(end + 12) - b.readUInt32LE(end + 16) : 0;
  let entries = 0;
  for (let i = b.indexOf(ZIP_CENTRAL); i >= 0 && i + 46 <= b.length; i = b.indexOf(ZIP_CENTRAL, i + 46)) {
    entries++;
    if (++budget.pieces > MAX_PIECES) {
      budget.complete = false;
      return;
    }
    const method = b.readUInt16LE(i + 10);
    const size = b.readUInt32LE(i + 20);
    const nameLen = b.readUInt16LE(i + 28);
    const name = b.subarray(i + 46, i + 46 + nameLen).toString('latin1');
    out.push({ text: name, raw: false });
    const local = b.readUInt32LE(i + 42) + shift;
    if (local < 0 || local + 30 > b.length || b.readUInt32LE(local) !== 0x04034b50) {
      budget.complete = false;
      continue;
    }
    const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    const data = b.subarray(start, Math.min(b.length, start + size));
    const entry = method === 0 ? take(data, budget) : method === 8 ? inflate(data, true, budget) : null;
    if (entry === null) {
      // bzip2, LZMA, encrypted: not readable here.
      if (method !== 0 && method !== 8) budget.complete = false;
      continue;
    }
    if (containerKind(entry) !== null) collect(entry, budget, depth + 1, out);
    else {
      // An entry is text or binary by what it holds (the caller tells them apart); an image is an image.
      out.push({ text: entry.toString('latin1'), raw: false });
      // XML (DOCX, ODT, XLSX): a word processor splits a line into runs of its own, `<w:t>lea.mar</w:t></w:r>
      // <w:r><w:t>tin@…`; the text without its tags is what the reader sees.
      if (/\.(?:xml|rels|html?|svg)$/i.test(name) || entry.subarray(0, 5).toString('latin1') === '<?xml')
        out.push({ text: entry.toString('latin1').replace(/<[^<>]{0,2000}>/g, ''), raw: false });
      if (looksUtf16(entry)) out.push(...utf16Views(entry).map((text) => ({ text, raw: false })));
    }
  }
  // Only local headers (no directory: a truncated archive): what they hold was not read.
  if (entries === 0) budget.complete = false;
}

function looksUtf16(b: Buffer): boolean {
  if (b.length < 2) return false;
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) return true;
  let zeros = 0;
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i++) if (b[i] === 0) zeros++;
  return zeros > n / 4;
}

/** A PDF's streams (ASCII85 and FlateDecode undone), and the strings its text operators show. */
function pdfTexts(b: Buffer, budget: Budget, out: ContainerText[]): void {
  const text = b.toString('latin1');
  // The file as it is (its streams' bytes too), and the strings outside its streams (an annotation, a form field).
  out.push({ text, raw: true }, { text: pdfStrings(text.replace(/stream\r?\n[\s\S]*?endstream/g, ' ')), raw: false });
  const streamRe = /(?<!end)stream\r?\n/g;
  for (let m = streamRe.exec(text); m; m = streamRe.exec(text)) {
    if (++budget.pieces > MAX_PIECES) {
      budget.complete = false;
      return;
    }
    const start = m.index + m[0].length;
    const end = text.indexOf('endstream', start);
    if (end < 0) return;
    // The stream's dictionary: from the object's start (or 2,000 characters back) to `stream`, nested `<< >>` too.
    const objAt = text.lastIndexOf(' obj', m.index);
    const dict = text.slice(Math.max(0, objAt, m.index - 2000), m.index);
    // Pictures and embedded fonts hold no text a reader sees: not inflated (a scanned page would spend the budget).
    if (/\/Subtype\s*\/Image|\/Length[123]\b|\/Subtype\s*\/(?:Type1C|CIDFontType0C|OpenType)/.test(dict)) {
      streamRe.lastIndex = end + 'endstream'.length;
      continue;
    }
    const filters = /\/Filter\s*(\[[^\]]*\]|\/[A-Za-z0-9]+)/.exec(dict)?.[1] ?? '';
    let data: Buffer | null = b.subarray(start, end);
    for (const f of filters.match(/\/[A-Za-z0-9]+/g) ?? []) {
      if (data === null) break;
      if (f === '/ASCII85Decode' || f === '/A85') data = ascii85(data);
      else if (f === '/FlateDecode' || f === '/Fl') data = inflate(data, false, budget);
      else data = null; // images (DCT, JPX, CCITT) and the rest: no text to read
    }
    if (data !== null && filters !== '') {
      const s = data.toString('latin1');
      out.push({ text: s, raw: false }, { text: pdfStrings(s), raw: false });
    }
    streamRe.lastIndex = end + 'endstream'.length;
  }
}

/** ASCII85 (§7.4.3), or null when it does not decode. */
function ascii85(data: Buffer): Buffer | null {
  const s = data.toString('latin1').replace(/\s+/g, '').replace(/^<~/, '').replace(/~>.*$/, '');
  const out: number[] = [];
  let group: number[] = [];
  for (const ch of s) {
    if (ch === 'z' && group.length === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    const c = ch.charCodeAt(0) - 33;
    if (c < 0 || c > 84) return null;
    group.push(c);
    if (group.length === 5) {
      const v = group.reduce((a, d) => a * 85 + d, 0);
      out.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
      group = [];
    }
  }
  if (group.length > 1) {
    const n = group.length;
    while (group.length < 5) group.push(84);
    const v = group.reduce((a, d) => a * 85 + d, 0);
    out.push(...[(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].slice(0, n - 1));
  }
  return Buffer.from(out);
}

/**
 * The strings of a PDF text, decoded and joined as a reader sees them: literal strings with their escapes (`\n`,
 * `\(`, octal `\154`), hex strings, UTF-16BE ones by their byte-order mark; the pieces of a `TJ` array (kerning
 * between letters: `[(l)-10(e)…] TJ`) joined with nothing between them, separate strings with a space.
 */
function pdfStrings(text: string): string {
  const out: string[] = [];
  for (const arr of text.matchAll(/\[((?:[^[\]]|\\[[\]]){0,20000})\]\s*TJ/g)) out.push(stringsIn(arr[1]).join(''));
  out.push(...stringsIn(text));
  return out.join('\n');
}

function stringsIn(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length && out.length < 100000; i++) {
    const c = text[i];
    if (c === '(') {
      let depth = 1;
      let s = '';
      let j = i + 1;
      for (; j < text.length && depth > 0; j++) {
        const d = text[j];
        if (d === '\\') {
          const next = text[j + 1] ?? '';
          const oct = /^[0-7]{1,3}/.exec(text.slice(j + 1, j + 4));
          if (oct) {
            s += String.fromCharCode(parseInt(oct[0], 8) & 255);
            j += oct[0].length;
          } else {
            s += ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[next] ?? next;
            j++;
          }
          continue;
        }
        if (d === '(') depth++;
        if (d === ')' && --depth === 0) break;
        s += d;
      }
      out.push(fromPdfString(Buffer.from(s, 'latin1')));
      i = j;
    } else if (c === '<' && text[i + 1] !== '<') {
      const m = /^<([0-9A-Fa-f\s]{2,8000})>/.exec(text.slice(i, i + 8010));
      if (m) {
        const hex = m[1].replace(/\s+/g, '');
        out.push(fromPdfString(Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex')));
        i += m[0].length - 1;
      }
    }
  }
  return out;
}

/** A PDF string's bytes as latin1 text: UTF-16BE with its byte-order mark (§7.9.2.2) as UTF-8, else as they are. */
function fromPdfString(bytes: Buffer): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const body = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    return Buffer.from(body.swap16().toString('utf16le'), 'utf8').toString('latin1');
  }
  return bytes.toString('latin1');
}
