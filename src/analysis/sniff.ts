/**
 * Content type from magic bytes, for the attachment types spam and malware use. A declared type
 * that disagrees with the content (an `.pdf` that is a Windows executable) is a strong signal.
 */

interface Magic {
  type: string;
  offset: number;
  bytes: readonly number[];
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

const MAGICS: readonly Magic[] = [
  { type: 'application/pdf', offset: 0, bytes: ascii('%PDF-') },
  { type: 'application/zip', offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: 'application/zip', offset: 0, bytes: [0x50, 0x4b, 0x05, 0x06] },
  { type: 'application/x-rar-compressed', offset: 0, bytes: ascii('Rar!\x1a\x07') },
  { type: 'application/x-7z-compressed', offset: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { type: 'application/gzip', offset: 0, bytes: [0x1f, 0x8b] },
  { type: 'application/x-bzip2', offset: 0, bytes: ascii('BZh') },
  { type: 'application/x-xz', offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { type: 'application/vnd.ms-cab-compressed', offset: 0, bytes: ascii('MSCF') },
  { type: 'application/x-iso9660-image', offset: 0x8001, bytes: ascii('CD001') },
  { type: 'application/x-msdownload', offset: 0, bytes: ascii('MZ') },
  { type: 'application/x-elf', offset: 0, bytes: [0x7f, 0x45, 0x4c, 0x46] },
  { type: 'application/x-ole-storage', offset: 0, bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] },
  { type: 'application/rtf', offset: 0, bytes: ascii('{\\rtf') },
  { type: 'image/png', offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/gif', offset: 0, bytes: ascii('GIF8') },
  { type: 'image/bmp', offset: 0, bytes: ascii('BM') },
  { type: 'image/webp', offset: 8, bytes: ascii('WEBP') },
  { type: 'image/tiff', offset: 0, bytes: [0x49, 0x49, 0x2a, 0x00] },
  { type: 'image/tiff', offset: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { type: 'image/x-icon', offset: 0, bytes: [0x00, 0x00, 0x01, 0x00] },
  { type: 'application/x-shockwave-flash', offset: 0, bytes: ascii('FWS') },
  { type: 'application/x-shockwave-flash', offset: 0, bytes: ascii('CWS') },
  { type: 'application/java-archive', offset: 0, bytes: [0xca, 0xfe, 0xba, 0xbe] },
  { type: 'audio/mpeg', offset: 0, bytes: ascii('ID3') },
  { type: 'message/rfc822', offset: 0, bytes: ascii('Received:') },
  { type: 'message/rfc822', offset: 0, bytes: ascii('Return-Path:') },
];

const TEXTISH: readonly [string, string][] = [
  ['<!doctype html', 'text/html'],
  ['<html', 'text/html'],
  ['<?xml', 'application/xml'],
  ['<svg', 'image/svg+xml'],
  ['begin:vcalendar', 'text/calendar'],
  ['begin:vcard', 'text/vcard'],
  ['#!/', 'text/x-shellscript'],
];

function matches(b: Uint8Array, m: Magic): boolean {
  if (b.length < m.offset + m.bytes.length) return false;
  for (let i = 0; i < m.bytes.length; i++) if (b[m.offset + i] !== m.bytes[i]) return false;
  return true;
}

/** The content type the bytes show, or null when not recognised. */
export function sniffType(b: Uint8Array): string | null {
  for (const m of MAGICS) if (matches(b, m)) return refineZip(b, m.type);
  const head = new TextDecoder('latin1').decode(b.subarray(0, 256)).trimStart().toLowerCase();
  for (const [prefix, type] of TEXTISH) if (head.startsWith(prefix)) return type;
  return null;
}

/** Office Open XML and friends are zip files; their first entry name tells which. */
function refineZip(b: Uint8Array, type: string): string {
  if (type !== 'application/zip' || b.length < 30) return type;
  const nameLen = b[26] | (b[27] << 8);
  const name = new TextDecoder('latin1').decode(b.subarray(30, 30 + Math.min(nameLen, 100)));
  if (name === '[Content_Types].xml' || name.startsWith('word/') || name.startsWith('xl/') || name.startsWith('ppt/'))
    return 'application/vnd.openxmlformats-officedocument';
  if (name === 'mimetype') return 'application/vnd.oasis.opendocument';
  if (name.startsWith('META-INF/')) return 'application/java-archive';
  return type;
}

const EXECUTABLE_EXT = new Set([
  'exe',
  'scr',
  'com',
  'pif',
  'bat',
  'cmd',
  'vbs',
  'vbe',
  'js',
  'jse',
  'wsf',
  'wsh',
  'hta',
  'msi',
  'msp',
  'ps1',
  'jar',
  'lnk',
  'dll',
  'cpl',
  'reg',
  'iso',
  'img',
  'vhd',
  'one',
  'docm',
  'xlsm',
  'pptm',
  'dotm',
  'xlam',
  'html',
  'htm',
  'svg',
]);
const ARCHIVE_EXT = new Set(['zip', 'rar', '7z', 'gz', 'tgz', 'bz2', 'xz', 'cab', 'ace', 'arj', 'lzh', 'z', 'tar']);
const EXECUTABLE_TYPES = new Set([
  'application/x-msdownload',
  'application/x-elf',
  'application/java-archive',
  'application/x-iso9660-image',
  'text/x-shellscript',
]);
const ARCHIVE_TYPES = new Set([
  'application/zip',
  'application/x-rar-compressed',
  'application/x-7z-compressed',
  'application/gzip',
  'application/x-bzip2',
  'application/x-xz',
  'application/vnd.ms-cab-compressed',
]);

/** Lower-case extension of a file name, '' when none. */
export function extensionOf(filename: string | null): string {
  if (!filename) return '';
  const dot = filename.lastIndexOf('.');
  return dot < 0
    ? ''
    : filename
        .slice(dot + 1)
        .trim()
        .toLowerCase();
}

export function isExecutable(filename: string | null, sniffed: string | null): boolean {
  return EXECUTABLE_EXT.has(extensionOf(filename)) || (sniffed !== null && EXECUTABLE_TYPES.has(sniffed));
}

export function isArchive(filename: string | null, sniffed: string | null): boolean {
  return ARCHIVE_EXT.has(extensionOf(filename)) || (sniffed !== null && ARCHIVE_TYPES.has(sniffed));
}

/** Families that may legitimately stand for each other (a docx is a zip, a jpeg declared as image/jpg). */
function family(t: string): string {
  if (t.startsWith('image/')) return 'image';
  if (t.startsWith('text/') || t === 'application/xml' || t === 'image/svg+xml') return 'text';
  if (t.includes('zip') || t.includes('openxml') || t.includes('opendocument') || t === 'application/java-archive')
    return 'zip';
  if (
    t === 'application/x-ole-storage' ||
    t === 'application/msword' ||
    t.includes('ms-excel') ||
    t.includes('ms-powerpoint') ||
    t.includes('ms-outlook')
  )
    return 'ole';
  if (
    t === 'application/x-msdownload' ||
    t.includes('msdos') ||
    t.includes('executable') ||
    t === 'application/x-dosexec'
  )
    return 'exe';
  return t;
}

/**
 * True when the content clearly is not what the part declares. `application/octet-stream` and
 * unrecognised content never mismatch: there is nothing to compare.
 */
export function typeMismatch(declared: string, sniffed: string | null): boolean {
  if (sniffed === null || declared === 'application/octet-stream' || declared === '') return false;
  if (sniffed === 'message/rfc822') return false;
  return family(declared.toLowerCase()) !== family(sniffed);
}
