/**
 * The text inside attachments the byte search cannot read (redact.ts): ZIP archives and the documents built on them
 * (DOCX, XLSX, PPTX, ODT, ODS: APPNOTE.TXT §4.3), PDF streams (ISO 32000-1 §7.3.8, FlateDecode §7.4.4) and hex
 * strings (§7.3.4.3), and TNEF (`winmail.dat`, MS-OXTNEF), whose properties hold text in UTF-16LE as well as 8-bit.
 * Each yields latin1 views of what a reader of the file would see, bounded in count, size and depth (a zip bomb
 * inflates to at most {@link MAX_INFLATED} bytes in all).
 */
import { inflateRawSync, inflateSync } from 'node:zlib';

/** Most bytes inflated from one attachment, all entries and streams together. */
const MAX_INFLATED = 16 * 1024 * 1024;
/** Most entries or streams read from one attachment. */
const MAX_PIECES = 2000;
/** Deepest archive inside an archive read. */
const MAX_DEPTH = 2;

/** What kind of container the bytes are, or null. */
export function containerKind(b: Buffer): 'zip' | 'pdf' | 'tnef' | null {
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return 'zip';
  if (b.subarray(0, 1024).includes('%PDF-')) return 'pdf';
  if (b.length >= 4 && b.readUInt32LE(0) === 0x223e9f78) return 'tnef';
  return null;
}

interface Budget {
  inflated: number;
  pieces: number;
}

/** Latin1 views of the text inside a container (entry names, entries, streams), for the redactor to search. */
export function containerTexts(b: Buffer): string[] {
  const out: string[] = [];
  collect(b, { inflated: 0, pieces: 0 }, 0, out);
  return out;
}

function collect(b: Buffer, budget: Budget, depth: number, out: string[]): void {
  const kind = containerKind(b);
  if (kind === 'zip') {
    out.push(b.toString('latin1'));
    zipTexts(b, budget, depth, out);
  } else if (kind === 'pdf') pdfTexts(b, budget, out);
  else if (kind === 'tnef') out.push(b.toString('latin1'), utf16View(b));
  else out.push(b.toString('latin1'), utf16View(b));
}

/**
 * The UTF-16LE readings of bytes from an even and from an odd offset (a property need not start on an even byte),
 * as the latin1 view of their UTF-8 (Windows files and TNEF properties).
 */
function utf16View(b: Buffer): string {
  return [0, 1]
    .map((k) => {
      const end = k + ((b.length - k) & ~1);
      return Buffer.from(b.subarray(k, end).toString('utf16le'), 'utf8').toString('latin1');
    })
    .join('\n');
}

function inflate(data: Buffer, raw: boolean, budget: Budget): Buffer | null {
  const room = MAX_INFLATED - budget.inflated;
  if (room <= 0) return null;
  try {
    const out = raw ? inflateRawSync(data, { maxOutputLength: room }) : inflateSync(data, { maxOutputLength: room });
    budget.inflated += out.length;
    return out;
  } catch {
    // Truncated, corrupt or over the budget: the part of the stream that inflates is not returned by zlib here,
    // so nothing of it is searched; the raw bytes are (by the caller's byte search).
    return null;
  }
}

/** Entries of a ZIP by its central directory (sizes there are right even when the local header defers them). */
function zipTexts(b: Buffer, budget: Budget, depth: number, out: string[]): void {
  const central = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  for (let i = b.indexOf(central); i >= 0 && i + 46 <= b.length; i = b.indexOf(central, i + 46)) {
    if (++budget.pieces > MAX_PIECES) return;
    const method = b.readUInt16LE(i + 10);
    const size = b.readUInt32LE(i + 20);
    const nameLen = b.readUInt16LE(i + 28);
    const local = b.readUInt32LE(i + 42);
    out.push(b.subarray(i + 46, i + 46 + nameLen).toString('latin1'));
    if (local + 30 > b.length || b.readUInt32LE(local) !== 0x04034b50) continue;
    const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    const data = b.subarray(start, Math.min(b.length, start + size));
    const entry = method === 0 ? data : method === 8 ? inflate(data, true, budget) : null;
    if (entry === null) continue;
    if (depth < MAX_DEPTH && containerKind(entry) !== null) collect(entry, budget, depth + 1, out);
    else out.push(entry.toString('latin1'), ...(looksUtf16(entry) ? [utf16View(entry)] : []));
  }
}

function looksUtf16(b: Buffer): boolean {
  return b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b.length >= 4 && b[1] === 0 && b[3] === 0));
}

/** A PDF's streams (inflated when FlateDecode), and its hex strings decoded. */
function pdfTexts(b: Buffer, budget: Budget, out: string[]): void {
  const text = b.toString('latin1');
  out.push(text, hexStrings(text));
  const streamRe = /stream\r?\n/g;
  for (let m = streamRe.exec(text); m; m = streamRe.exec(text)) {
    if (++budget.pieces > MAX_PIECES) return;
    const start = m.index + m[0].length;
    const end = text.indexOf('endstream', start);
    if (end < 0) return;
    const dict = text.slice(Math.max(0, m.index - 400), m.index);
    if (/\/FlateDecode/.test(dict.slice(dict.lastIndexOf('<<')))) {
      const inflated = inflate(b.subarray(start, end), false, budget);
      if (inflated !== null) {
        const s = inflated.toString('latin1');
        out.push(s, hexStrings(s));
      }
    }
    streamRe.lastIndex = end;
  }
}

/** PDF hex strings (`<6C6561…>`) decoded, one per line. */
function hexStrings(text: string): string {
  const out: string[] = [];
  for (const m of text.matchAll(/<([0-9A-Fa-f\s]{8,4000})>/g)) {
    const hex = m[1].replace(/\s+/g, '');
    const bytes = Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex');
    out.push(bytes.toString('latin1'));
    if (bytes[0] === 0xfe && bytes[1] === 0xff && bytes.length % 2 === 0) {
      // A text string in UTF-16BE with its byte-order mark (§7.9.2.2).
      const le = Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
      out.push(Buffer.from(le, 'utf8').toString('latin1'));
    }
  }
  return out.join('\n');
}
