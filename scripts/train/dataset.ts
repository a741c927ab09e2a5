/**
 * The training/held-out split used by `npm run train` and `npm run eval`. Each corpus message is
 * analysed by the same pipeline the workers run (offline ports, fixed clock), and assigned to a
 * side by a hash of its normalised template text (`analysis/text/normalise.ts`): exact and
 * personalised duplicates normalise alike, so they always land on the same side and the held-out
 * split never contains a copy of a training message. The held-out share is 20 %. The SMS
 * collection (`kind: 'sms'`) is split the same way, stored as SMS evidence as the intake stores it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { analyse } from '../../src/analysis/analyse.ts';
import type { Analysis } from '../../src/analysis/analysis-schema.ts';
import { offlinePorts } from '../../src/analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../../src/analysis/settings.ts';
import { normaliseText } from '../../src/analysis/text/normalise.ts';
import type { ModelClass } from '../../src/analysis/classify/categories.ts';
import { SMS_REGION, corpusMessages, smsMessages } from './corpus.ts';

export const HELD_OUT_PERCENT = 20;
/** A fixed clock: analyses (and so features) do not depend on when training runs. */
export const TRAINING_CLOCK = new Date('2026-01-01T00:00:00Z');

export type Split = 'train' | 'held-out';

/** Share (percent of all messages, inside the training split) used by `train` to calibrate. */
export const VALIDATION_PERCENT = 15;

/** The 0–99 bucket of a duplicate key: < HELD_OUT_PERCENT is held out. */
export function bucketOf(dupKey: string): number {
  return parseInt(dupKey.slice(0, 8), 16) % 100;
}

/** True for a training example that `train` sets aside to calibrate the legitimate offset. */
export function isValidation(dupKey: string): boolean {
  const b = bucketOf(dupKey);
  return b >= HELD_OUT_PERCENT && b < HELD_OUT_PERCENT + VALIDATION_PERCENT;
}

export interface Example {
  source: string;
  id: string;
  label: ModelClass;
  split: Split;
  sha256: string;
  /** Hash of the normalised text: equal for duplicates. */
  dupKey: string;
  raw: Buffer;
  analysis: Analysis;
}

/** Which side of the split a message falls on, from its normalised text. */
export function splitOf(a: Analysis): { split: Split; dupKey: string } {
  const { tokens } = normaliseText(`${a.parse.subject ?? ''}\n${a.parse.visibleText}`);
  const basis = tokens.length > 0 ? tokens.join(' ') : a.sha256;
  const dupKey = createHash('sha256').update(basis).digest('hex');
  return { split: bucketOf(dupKey) < HELD_OUT_PERCENT ? 'held-out' : 'train', dupKey };
}

const ANALYSIS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/analysis');

/**
 * A hash of the analysis code (every `.ts` under src/analysis except this classifier): cached
 * analyses are reused only while the code that produced them is byte-for-byte the same.
 */
export function analysisCodeHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'classify') walk(p);
      } else if (/\.(ts|mjs|json)$/.test(e.name) && !e.name.endsWith('.test.ts')) {
        h.update(path.relative(ANALYSIS_DIR, p)).update(fs.readFileSync(p));
      }
    }
  };
  walk(ANALYSIS_DIR);
  return h.digest('hex').slice(0, 16);
}

/** Which corpus a dataset reads: the e-mail corpora, or the SMS collection. */
export type DatasetKind = 'email' | 'sms';

/** Where analyses of the corpora are cached between `train` and `eval` (a temporary directory). */
export function analysisCacheFile(corpusDir: string, kind: DatasetKind = 'email'): string {
  // Development only: pin a cache file across analysis-code edits (the figures then describe that older code).
  const pinned = process.env.SPAMDESK_ANALYSIS_CACHE_FILE;
  if (pinned) return kind === 'email' ? pinned : `${pinned}.${kind}`;
  const key = createHash('sha256')
    .update(path.resolve(corpusDir))
    .update(analysisCodeHash())
    .update(TRAINING_CLOCK.toISOString())
    .digest('hex')
    .slice(0, 16);
  return path.join(os.tmpdir(), 'spamdesk-analysis-cache', `${key}${kind === 'email' ? '' : `.${kind}`}.jsonl.gz`);
}

function readCache(file: string): Map<string, Analysis> {
  const out = new Map<string, Analysis>();
  if (!fs.existsSync(file)) return out;
  try {
    for (const line of zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n')) {
      if (!line) continue;
      const a = JSON.parse(line) as Analysis;
      out.set(a.sha256, a);
    }
  } catch {
    return new Map();
  }
  return out;
}

/**
 * Analyses the corpora and splits them. Analyses are cached in a temporary file keyed by the
 * analysis code's hash, so `npm run eval` after `npm run train` does not analyse twice.
 * `onProgress` is told every 1,000 messages.
 */
export async function loadDataset(
  corpusDir: string,
  opts: { want?: Split; onProgress?: (n: number) => void; cache?: boolean; kind?: DatasetKind } = {},
): Promise<Example[]> {
  const kind = opts.kind ?? 'email';
  const ports = offlinePorts(TRAINING_CLOCK);
  const settings = defaultAnalysisSettings(kind === 'sms' ? { region: SMS_REGION } : {});
  const out: Example[] = [];
  const seenSha = new Set<string>();
  const cacheFile = analysisCacheFile(corpusDir, kind);
  const cache = opts.cache === false ? new Map<string, Analysis>() : readCache(cacheFile);
  let fresh = 0;
  let n = 0;
  for (const m of kind === 'sms' ? smsMessages(corpusDir) : corpusMessages(corpusDir)) {
    const sha = createHash('sha256').update(m.raw).digest('hex');
    let analysis = cache.get(sha);
    if (!analysis) {
      analysis = await analyse(m.raw, { ports, settings });
      cache.set(sha, analysis);
      fresh++;
    }
    if (++n % 1000 === 0) opts.onProgress?.(n);
    // An identical file present twice (the SpamAssassin corpus has some) is one message.
    if (seenSha.has(analysis.sha256)) continue;
    seenSha.add(analysis.sha256);
    const { split, dupKey } = splitOf(analysis);
    if (opts.want && split !== opts.want) continue;
    out.push({
      source: m.source,
      id: m.id,
      label: m.label,
      split,
      sha256: analysis.sha256,
      dupKey,
      raw: m.raw,
      analysis,
    });
  }
  if (fresh > 0 && opts.cache !== false) {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    const lines = [...cache.values()].map((a) => JSON.stringify(a)).join('\n');
    fs.writeFileSync(cacheFile, zlib.gzipSync(lines, { level: 1 }));
  }
  return out;
}
