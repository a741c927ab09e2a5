/**
 * Content threats: macro documents, archives carrying executables, HTML smuggling — on real
 * corpus samples (SpamAssassin's olevbmacro test messages, phishing_pot HTML smuggling
 * attachments) and on fixtures built here byte by byte (RAR, tar, gzip headers, smuggling pages).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import yazl from 'yazl';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { analyse } from './analyse.ts';
import type { Analysis } from './analysis-schema.ts';
import { offlinePorts } from './offline-ports.ts';
import { defaultAnalysisSettings } from './settings.ts';
import {
  archiveEntryNames,
  blobRuns,
  downloadLinks,
  htmlSmugglingEvidence,
  macroStorage,
  runnableArchiveEntry,
} from './content-threats.ts';

async function analysed(raw: Buffer): Promise<Analysis> {
  return analyse(raw, { ports: offlinePorts(new Date('2026-01-01T00:00:00Z')), settings: defaultAnalysisSettings() });
}

function codes(a: Analysis): string[] {
  return a.findings.map((f) => f.code);
}

function zipOf(files: Record<string, Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of Object.entries(files))
    zip.addBuffer(data, name, { mtime: new Date('2026-01-01T00:00:00Z') });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });
}

/** A RAR 4 archive header sequence: marker, archive header, one file header named `name`. */
function rar4(name: string): Buffer {
  const marker = Buffer.from('Rar!\x1a\x07\x00', 'latin1');
  const main = Buffer.from([0, 0, 0x73, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0]);
  const n = Buffer.from(name, 'latin1');
  const file = Buffer.alloc(32 + n.length);
  file[2] = 0x74;
  file.writeUInt16LE(0x8000, 3);
  file.writeUInt16LE(file.length, 5);
  file.writeUInt32LE(4, 7); // packed size
  file.writeUInt16LE(n.length, 26);
  n.copy(file, 32);
  return Buffer.concat([marker, main, file, Buffer.from('data')]);
}

/** A RAR 5 archive: signature, main header, one file header named `name`. */
function rar5(name: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const main = Buffer.from([0, 0, 0, 0, 3, 1, 0, 0]); // crc, size 3, type 1 (main), flags 0, archive flags 0
  // file header fields after crc+size: type 2, flags 2 (data area), data size 4, file flags 0,
  // unpacked size 4, attributes 0, compression 0, host OS 0, name length, name
  const body = Buffer.concat([Buffer.from([2, 2, 4, 0, 4, 0, 0, 0, n.length]), n]);
  const file = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body, Buffer.from('data')]);
  return Buffer.concat([Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1'), main, file]);
}

function tarOf(name: string, data: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write(data.length.toString(8).padStart(11, '0'), 124, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  return Buffer.concat([h, data, Buffer.alloc(512 - (data.length % 512)), Buffer.alloc(1024)]);
}

function gzipNamed(name: string, data: Buffer): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3]);
  return Buffer.concat([header, Buffer.from(`${name}\0`, 'latin1'), zlib.deflateRawSync(data), Buffer.alloc(8)]);
}

/** A minimal OLE2 compound file whose directory names a `_VBA_PROJECT` stream (a .doc with macros). */
function oleWithVba(): Buffer {
  const b = Buffer.alloc(2048);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(b);
  Buffer.from('Root Entry', 'utf16le').copy(b, 1024);
  Buffer.from('_VBA_PROJECT', 'utf16le').copy(b, 1152);
  return b;
}

const payload = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919) % 251)).toString('base64');

describe('archives carrying executables', () => {
  test('a ZIP entry name is read from the central directory (and a runnable one is named)', async () => {
    const zip = await zipOf({ 'readme.txt': Buffer.from('hello'), 'Invoice_2026.pdf.exe': Buffer.from('MZ\x90\0') });
    assert.deepEqual(archiveEntryNames(zip), ['readme.txt', 'Invoice_2026.pdf.exe']);
    assert.equal(runnableArchiveEntry(zip), 'Invoice_2026.pdf.exe');
    assert.equal(runnableArchiveEntry(await zipOf({ 'photo.jpg': Buffer.from([0xff, 0xd8, 0xff]) })), null);
  });

  test('RAR 4 and RAR 5 file headers, tar headers and the gzip FNAME field name their files', () => {
    assert.deepEqual(archiveEntryNames(rar4('DHL_label.scr')), ['DHL_label.scr']);
    assert.deepEqual(archiveEntryNames(rar5('scan_0042.js')), ['scan_0042.js']);
    assert.deepEqual(archiveEntryNames(tarOf('setup.iso', Buffer.from('CD001'))), ['setup.iso']);
    assert.deepEqual(archiveEntryNames(gzipNamed('Payment.vbs', Buffer.from('WScript.Echo 1'))), ['Payment.vbs']);
    assert.equal(runnableArchiveEntry(rar4('notes.txt')), null);
  });

  test('hostile archive bytes (truncated, garbage) yield names or nothing, never an exception', async () => {
    const zip = await zipOf({ 'a.exe': Buffer.from('MZ') });
    for (let cut = 0; cut < zip.length; cut += 7) assert.ok(Array.isArray(archiveEntryNames(zip.subarray(0, cut))));
    for (const r of [rar4('x.exe'), rar5('x.exe')])
      for (let cut = 0; cut < r.length; cut++) assert.ok(Array.isArray(archiveEntryNames(r.subarray(0, cut))));
    assert.deepEqual(
      archiveEntryNames(Buffer.from('Rar!\x1a\x07\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff', 'latin1')).length <= 1,
      true,
    );
    // Short inputs of every size (a 20-byte .js attachment once read a tar header past its end).
    for (let n = 0; n < 700; n += 11) {
      const b = Buffer.alloc(n, 0x41);
      assert.ok(Array.isArray(archiveEntryNames(b)));
      assert.equal(macroStorage(b), null);
    }
  });

  test('a password-protected ZIP still shows the macro document inside (SpamAssassin zippwmacro.eml)', async (t) => {
    const rel = 'spamassassin_testdata/t/data/spam/olevbmacro/zippwmacro.eml';
    if (!needsCorpus(t, rel)) return;
    const a = await analysed(fs.readFileSync(path.join(CORPUS_DIR, rel)));
    const f = a.findings.find((x) => x.code === 'ARCHIVE_CARRIES_EXECUTABLE');
    assert.ok(f, codes(a).join(','));
    assert.equal(f.evidence.value, 'macro.zip → macro.xlsm');
  });
});

describe('macro documents', () => {
  test(
    'an Office Open XML file renamed .jpg still carries its vbaProject.bin (SpamAssassin ' + 'renamedmacro.eml)',
    async (t) => {
      const rel = 'spamassassin_testdata/t/data/spam/olevbmacro/renamedmacro.eml';
      if (!needsCorpus(t, rel)) return;
      const a = await analysed(fs.readFileSync(path.join(CORPUS_DIR, rel)));
      assert.equal(
        a.findings.find((x) => x.code === 'MACRO_DOCUMENT')?.evidence.value,
        'renamed.jpg: xl/vbaProject.bin',
      );
    },
  );

  test('a spreadsheet without macros is not a macro document (SpamAssassin nomacro.eml)', async (t) => {
    const rel = 'spamassassin_testdata/t/data/spam/olevbmacro/nomacro.eml';
    if (!needsCorpus(t, rel)) return;
    const a = await analysed(fs.readFileSync(path.join(CORPUS_DIR, rel)));
    assert.ok(!codes(a).includes('MACRO_DOCUMENT'));
    assert.ok(!codes(a).includes('ARCHIVE_CARRIES_EXECUTABLE'));
  });

  test('an OLE2 document (.doc) with a _VBA_PROJECT storage is a macro document', () => {
    assert.equal(macroStorage(oleWithVba()), '_VBA_PROJECT');
    const plain = oleWithVba();
    plain.fill(0, 1152);
    assert.equal(macroStorage(plain), null);
  });
});

describe('HTML smuggling', () => {
  test('real phishing_pot attachments that rebuild a .JS file with atob + Blob + msSaveOrOpenBlob', async (t) => {
    for (const [rel, name] of [
      ['phishing_pot/email/sample-402.eml', 'GDydFKtIKR.JS'],
      ['phishing_pot/email/sample-432.eml', 'HlGiLfODLD.JS'],
    ]) {
      if (!needsCorpus(t, rel)) return;
      const a = await analysed(fs.readFileSync(path.join(CORPUS_DIR, rel)));
      const f = a.findings.find((x) => x.code === 'HTML_SMUGGLING');
      assert.ok(f, `${rel}: ${codes(a).join(',')}`);
      assert.match(f.evidence.value ?? '', /KB base64 blob decoded with atob/);
      assert.match(f.evidence.value ?? '', new RegExp(`msSaveOrOpenBlob.*"${name}"`));
      assert.match(f.evidence.part ?? '', /^attachment \d/);
    }
  });

  test('a hex blob turned into bytes and offered through createObjectURL', () => {
    const hex = Buffer.from(payload(6000)).toString('hex');
    const page = `<html><body><script>var h="${hex}";var b=new Uint8Array(h.length/2);for(var i=0;i\
<b.length;i++)b[i]=parseInt(h.substr(i*2,2),16);
var u=URL.createObjectURL(new Blob([b]));var a=document.createElement('a');a.href=u;a.download='Statement.iso';a.click(\
);</script></body></html>`;
    assert.match(htmlSmugglingEvidence(page) ?? '', /hex blob .* saved with .*"Statement\.iso"/);
  });

  test('a data: URI of an archive type offered with a download attribute', () => {
    const page = `<p>Your document is ready.</p><a href="data:application/x-zip-compressed;base64,${payload(300)}" \
download="Remittance.zip">Open</a>`;
    assert.match(
      htmlSmugglingEvidence(page) ?? '',
      /data: URI of type application\/x-zip-compressed as "Remittance\.zip" with a download link/,
    );
  });

  test('an HTML body that smuggles is found too (not only attachments)', async () => {
    const page = `<html><body><script>const d=atob("${payload(9000)}");const u=new Uint8Array(d.length);for(let i=0;i\
<d.length;i++)u[i]=d.charCodeAt(i);
const a=document.createElement('a');a.href=URL.createObjectURL(new Blob([u],{type:'application/octet-stream'}));a.downl\
oad='Fax_2291.img';a.click();</script></body></html>`;
    const raw = Buffer.from(
      `From: "Fax Service" <fax@efax-notify.example>\r\nTo: bob@example.org\r\nSubject: You have a new fax\r\nDate: \
Mon, 05 Jan 2026 10:00:00 +0000\r\nMessage-ID: <f1@efax-notify.example>\r\nMIME-Version: 1.0\r\nContent-Type: \
text/html; charset=utf-8\r\n\r\n${page}\r\n`,
    );
    const a = await analysed(raw);
    const f = a.findings.find((x) => x.code === 'HTML_SMUGGLING');
    assert.equal(f?.evidence.part, 'text/html');
    assert.match(f?.evidence.value ?? '', /"Fax_2291\.img"/);
  });

  test('blob runs are measured as the two regexes would, on runs of every shape', () => {
    const longest = (text: string, re: RegExp): number => {
      let max = 0;
      for (const m of text.matchAll(re)) max = Math.max(max, m[0].length);
      return max;
    };
    // A seeded generator: runs of hex, base64 and '=' of lengths around the thresholds, between separators.
    let seed = 17;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const pieces = ['0123456789abcdefABCDEF', 'ghijklmnopqrstuvwxyzGHZ+/', '=', ' "<>;é\n'];
    let hexSeen = 0;
    let b64Seen = 0;
    for (let round = 0; round < 300; round++) {
      let text = '';
      for (let r = next(6); r >= 0; r--) {
        const alphabet = pieces[next(pieces.length)];
        const len = [1, 2, 3, 399, 400, 401, 999, 1000, 1001, 1500][next(10)];
        for (let i = 0; i < len; i++) text += alphabet[next(alphabet.length)];
      }
      const want = {
        base64: longest(text, /[A-Za-z0-9+/]{400,}={0,2}/g),
        hex: longest(text, /(?:[0-9a-fA-F]{2}){500,}/g),
      };
      assert.deepEqual(blobRuns(text), want, `round ${round}`);
      if (want.hex > 0) hexSeen++;
      if (want.base64 > 0) b64Seen++;
    }
    // The rounds reached both thresholds (the comparison is not only of zeros).
    assert.ok(hexSeen >= 20 && b64Seen >= 50, `hex ${hexSeen}, base64 ${b64Seen}`);
  });

  test('download links are found where the regex would find them, on tags of every shape', () => {
    let seed = 23;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const pieces = ['<a ', '<A href="x"', '<ab ', '>', ' download=', ' DOWNLOAD =', '\tdownload="f.zip"', 'x', '<'];
    let seen = 0;
    for (let round = 0; round < 400; round++) {
      let text = '';
      for (let r = 2 + next(10); r >= 0; r--) {
        const p = pieces[next(pieces.length)];
        text += p === 'x' ? 'x'.repeat([1, 10, 480, 485, 488, 490, 492, 497, 498, 499, 500, 501, 520][next(13)]) : p;
      }
      const want = [...text.matchAll(/<a\b[^>]{0,500}\sdownload\s*=/gi)].map((m) => m.index);
      assert.deepEqual(
        downloadLinks(text),
        want,
        `round ${round}: ${JSON.stringify(text.replace(/x{20,}/g, (x) => `x*${x.length}`))}`,
      );
      seen += want.length;
    }
    assert.ok(seen >= 100, `${seen} links`);
    // A second attribute exactly at, and just past, the 500 characters the first `<a` reaches, then a later `<a`.
    for (let gap = 385; gap <= 395; gap++) {
      const text = `<a ${'x'.repeat(99)} download=<a ${'x'.repeat(gap)} download=<a download=`;
      const want = [...text.matchAll(/<a\b[^>]{0,500}\sdownload\s*=/gi)].map((m) => m.index);
      assert.deepEqual(downloadLinks(text), want, `gap ${gap}`);
    }
  });

  test('a page of unclosed <a tags with a decoder is not smuggling', () => {
    assert.equal(htmlSmugglingEvidence(`<script>atob(x)</script>${'<a '.repeat(100_000)}`), null);
  });

  test('a page of tokens just short of a blob, with a decoder and a builder, is not smuggling', () => {
    const token = 'A'.repeat(399);
    const page = `<script>atob(x);URL.createObjectURL(new Blob([y]))</script>${`${token} `.repeat(2000)}`;
    assert.equal(htmlSmugglingEvidence(page), null);
    assert.deepEqual(blobRuns(page), { base64: 0, hex: 0 });
  });

  test('a newsletter with inline base64 images and no file-building script is not smuggling', () => {
    const page = `<html><body><img src="data:image/png;base64,${payload(12000)}"><script>var x = atob('aGVsbG8=');\
</script><p>50% off this week</p></body></html>`;
    assert.equal(htmlSmugglingEvidence(page), null);
    // A Blob from a small string (a web app's CSV export) is not a payload either.
    assert.equal(
      htmlSmugglingEvidence(
        `<script>const b=new Blob([atob('YSxi')]);a.href=URL.createObjectURL(b);a.download='x.csv'</script>`,
      ),
      null,
    );
  });
});
