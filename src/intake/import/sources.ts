/**
 * What `spamdesk import` reads: `.eml` files, directories (walked recursively), mbox files and
 * Maildir folders (`cur/` and `new/`). Yields one entry at a time, streaming, so memory does not
 * grow with the size of the source.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MboxSplitter, type MboxFormat } from './mbox.ts';

export interface SourceEntry {
  /** null when the entry was skipped; `problem` says why. */
  raw: Buffer | null;
  /** `file`, `file:line N (offset B)` — where an operator finds it. */
  origin: string;
  problem?: string;
}

export interface SourceFile {
  path: string;
  size: number;
  kind: 'mbox' | 'message';
}

const SKIP_NAMES = new Set(['.DS_Store', 'Thumbs.db', 'SOURCE.txt', 'LICENSE', 'LICENSE.txt', 'labels.csv', 'cmds', 'README.md', 'COPYING']);
const NON_MESSAGE_EXT = /\.(json|csv|xml|gz|zip|md|py|rb|js|ts|pl|cs|sh|html?|png|jpe?g|gif|pdf|bin|tsv)$/i;

async function isMaildir(dir: string): Promise<boolean> {
  try {
    const [cur, nw] = await Promise.all([fsp.stat(path.join(dir, 'cur')), fsp.stat(path.join(dir, 'new'))]);
    return cur.isDirectory() && nw.isDirectory();
  } catch {
    return false;
  }
}

async function startsWithFrom(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(5);
    const { bytesRead } = await fh.read(buf, 0, 5, 0);
    return bytesRead === 5 && buf.toString('latin1') === 'From ';
  } finally {
    await fh.close();
  }
}

/**
 * Lists the files under the given paths in a stable order. Inside directories, files that are
 * obviously not messages (by name) are left out; a path named explicitly is always read.
 */
export async function listSourceFiles(paths: string[], onProblem: (origin: string, problem: string) => void): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  async function visit(p: string, explicit: boolean): Promise<void> {
    let st: fs.Stats;
    try {
      st = await fsp.stat(p);
    } catch (e) {
      onProblem(p, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message);
      return;
    }
    if (st.isDirectory()) {
      if (await isMaildir(p)) {
        for (const sub of ['cur', 'new']) {
          const names = (await fsp.readdir(path.join(p, sub))).sort();
          for (const n of names) if (!n.startsWith('.')) await visit(path.join(p, sub, n), false);
        }
        return;
      }
      const names = (await fsp.readdir(p)).sort();
      for (const n of names) {
        if (n.startsWith('.') || SKIP_NAMES.has(n)) continue;
        if (n === 'tmp' && (await isMaildir(p))) continue;
        await visit(path.join(p, n), false);
      }
      return;
    }
    if (!st.isFile()) return;
    if (!explicit && NON_MESSAGE_EXT.test(p)) return;
    const mbox = (/\.mbox(\.txt)?$/i.test(p) || (await startsWithFrom(p))) && st.size > 0;
    out.push({ path: p, size: st.size, kind: mbox ? 'mbox' : 'message' });
  }
  for (const p of paths) await visit(path.resolve(p), true);
  return out;
}

/** Streams the entries of one file. `onBytes` reports progress in bytes read. */
export async function* readEntries(
  file: SourceFile,
  opts: { maxMessageBytes: number; mboxFormat: MboxFormat; onBytes?: (n: number) => void },
): AsyncGenerator<SourceEntry> {
  if (file.kind === 'message') {
    if (file.size > opts.maxMessageBytes) {
      opts.onBytes?.(file.size);
      yield { raw: null, origin: file.path, problem: `message larger than ${opts.maxMessageBytes} bytes (${file.size})` };
      return;
    }
    const raw = await fsp.readFile(file.path);
    opts.onBytes?.(raw.length);
    yield { raw, origin: file.path };
    return;
  }
  const splitter = new MboxSplitter(opts.mboxFormat, opts.maxMessageBytes);
  const stream = fs.createReadStream(file.path, { highWaterMark: 1024 * 1024 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    opts.onBytes?.(chunk.length);
    for (const e of splitter.push(chunk)) yield toEntry(file.path, e);
  }
  for (const e of splitter.end()) yield toEntry(file.path, e);
}

function toEntry(file: string, e: { raw: Buffer | null; offset: number; line: number; problem?: string }): SourceEntry {
  return { raw: e.raw, origin: `${file}:${e.line} (offset ${e.offset})`, ...(e.problem ? { problem: e.problem } : {}) };
}
