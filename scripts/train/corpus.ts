/**
 * The labelled public corpora (`../shared/corpus`, read-only, hostile input: only ever parsed) as
 * one stream of `{source, id, label, raw}`, in a fixed order so training is reproducible.
 * Labels: SpamAssassin and TREC 2007 ham/spam, phishing_pot and Nazario phishing, the 2023–2025
 * spam archive as spam (its mixed "Oddballs" folder is left out).
 */
import fs from 'node:fs';
import path from 'node:path';
import { MboxSplitter } from '../../src/intake/import/mbox.ts';
import { serializeSmsEvidence } from '../../src/evidence/sms-format.ts';
import { UNKNOWN_SENDER } from '../../src/intake/sms/sms-intake.ts';
import type { ModelClass } from '../../src/analysis/classify/categories.ts';

export interface LabelledMessage {
  /** Corpus folder. */
  source: string;
  /** Path (or mbox#index) inside the folder. */
  id: string;
  label: ModelClass;
  raw: Buffer;
}

/** Splits one CSV line (quotes allowed, as in the corpora's labels.csv). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function labelsOf(dir: string): { path: string; label: string }[] {
  const file = path.join(dir, 'labels.csv');
  if (!fs.existsSync(file)) return [];
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  return lines.slice(1).map((l) => {
    const f = csvFields(l);
    return { path: f[0], label: f[1] };
  });
}

function mapLabel(label: string): ModelClass | null {
  if (label === 'ham' || label === 'nice') return 'legitimate';
  if (label === 'phishing') return 'phishing';
  if (label === 'spam' || label === 'spam/scam') return 'spam';
  return null;
}

/** Folders used for training and evaluation, in order. */
export const TRAINING_SOURCES = [
  'spamassassin',
  'trec07p',
  'phishing_pot',
  'nazario_phishing',
  'spam_archive_2023_2025',
] as const;

/** Every labelled corpus message, in a deterministic order. Missing folders are skipped. */
export function* corpusMessages(
  corpusDir: string,
  sources: readonly string[] = TRAINING_SOURCES,
): Generator<LabelledMessage> {
  for (const source of sources) {
    const dir = path.join(corpusDir, source);
    if (!fs.existsSync(dir)) continue;
    if (source === 'nazario_phishing') {
      const mboxes = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.mbox'))
        .sort();
      for (const mbox of mboxes) {
        const splitter = new MboxSplitter('mboxo');
        const entries = [...splitter.push(fs.readFileSync(path.join(dir, mbox))), ...splitter.end()];
        let index = 0;
        for (const e of entries) {
          const i = index++;
          if (!e.raw || e.raw.includes('FOLDER INTERNAL DATA')) continue;
          yield { source, id: `${mbox}#${i}`, label: 'phishing', raw: e.raw };
        }
      }
      continue;
    }
    for (const row of labelsOf(dir)) {
      const label = mapLabel(row.label);
      if (!label) continue;
      const file = path.join(dir, row.path);
      if (!fs.existsSync(file)) continue;
      yield { source, id: row.path, label, raw: fs.readFileSync(file) };
    }
  }
}

/** The SMS corpus folder: the UCI SMS Spam Collection (Almeida & Gómez Hidalgo, 2011), ham/spam. */
export const SMS_SOURCE = 'sms_spam_collection';
/** The collection comes from UK (Grumbletext) and Singapore sources: phone numbers are read as UK ones. */
export const SMS_REGION = 'GB';

/**
 * Every SMS of the collection, in file order, stored exactly as the SMS intake stores one (canonical
 * SMS evidence, sender unknown, no date): ham → legitimate, spam → spam. Missing folder: nothing.
 */
export function* smsMessages(corpusDir: string): Generator<LabelledMessage> {
  const file = path.join(corpusDir, SMS_SOURCE, 'SMSSpamCollection');
  if (!fs.existsSync(file)) return;
  let line = 0;
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    line++;
    const m = /^(ham|spam)\t(.*)$/.exec(l.replace(/\r$/, ''));
    if (!m) continue;
    yield {
      source: SMS_SOURCE,
      id: `line ${line}`,
      label: m[1] === 'spam' ? 'spam' : 'legitimate',
      raw: serializeSmsEvidence({ sender: UNKNOWN_SENDER, text: m[2], receivedAt: null }),
    };
  }
}
