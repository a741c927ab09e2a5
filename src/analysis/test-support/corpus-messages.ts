/**
 * Every message of the shared corpora (../shared/corpus), for the corpus test, the fuzz test and
 * the benchmark: raw files as they are, mbox files split at their `From ` lines (RFC 4155), and
 * the SMS collection as canonical SMS evidence. Metadata files (SOURCE.txt, labels, JSON, XML,
 * archives, images) are left out. Read only; nothing in the corpora is ever opened otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import { serializeSmsEvidence } from '../../evidence/sms-format.ts';

export interface CorpusMessage {
  /** File (and index inside an mbox or the SMS collection). */
  origin: string;
  raw: Buffer;
}

const SKIP_NAMES = /^(SOURCE\.txt|labels\.csv|LICENSE.*|README.*|readme|\.git.*)$/i;
const SKIP_EXT = /\.(json|xml|md|csv|gz|zip|png|jpg|jpeg|gif|doc|pdf)$/i;

function walk(dir: string, out: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && !SKIP_NAMES.test(e.name) && !SKIP_EXT.test(e.name)) out.push(p);
  }
}

/** Splits an mbox at lines starting with `From ` (mboxo/mboxrd quoting is left as it is). */
export function splitMbox(buf: Buffer): Buffer[] {
  const starts: number[] = [];
  if (buf.subarray(0, 5).toString('latin1') === 'From ') starts.push(0);
  for (let i = buf.indexOf('\nFrom ', 0, 'latin1'); i >= 0; i = buf.indexOf('\nFrom ', i + 1, 'latin1'))
    starts.push(i + 1);
  return starts
    .map((s, k) => buf.subarray(s, k + 1 < starts.length ? starts[k + 1] - 1 : buf.length))
    .filter((b) => b.length > 0);
}

/** The corpus files of `dir` (or one of its folders), in a stable order. */
export function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  if (fs.existsSync(dir)) walk(dir, out);
  return out;
}

/** Every message under `dir`; `limit` stops early (benchmarks, samples). */
export function corpusMessages(dir: string, limit = Number.POSITIVE_INFINITY): CorpusMessage[] {
  const out: CorpusMessage[] = [];
  for (const file of corpusFiles(dir)) {
    if (out.length >= limit) break;
    const buf = fs.readFileSync(file);
    if (file.endsWith('.mbox')) {
      splitMbox(buf).forEach((raw, i) => {
        out.push({ origin: `${file}#${i}`, raw });
      });
    } else if (path.basename(file) === 'SMSSpamCollection') {
      buf
        .toString('utf8')
        .split('\n')
        .forEach((l, i) => {
          const tab = l.indexOf('\t');
          if (tab > 0)
            out.push({
              origin: `${file}:${i + 1}`,
              raw: serializeSmsEvidence({
                sender: 'unknown',
                text: l.slice(tab + 1).slice(0, 20_000),
                receivedAt: null,
              }),
            });
        });
    } else out.push({ origin: file, raw: buf });
  }
  return out.slice(0, limit);
}
