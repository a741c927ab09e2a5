/**
 * The golden set: which messages, how each source folder is analysed, and the expected-record
 * format. Expected records live in `expected/<id>.json`; `golden.test.ts` runs the full `analyse()`
 * over each message and compares; `bless.ts` rewrites the records after a deliberate change (every
 * diff is then reviewed by reading the Received chain, as the README's trace-back section explains).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Analysis } from '../analysis-schema.ts';
import { analyse } from '../analyse.ts';
import { staticPorts } from '../ports/index.ts';
import { zoneFromText, type Zone } from '../ports/dns-static-zone.ts';
import { defaultAnalysisSettings } from '../settings.ts';

export const GOLDEN_DIR = path.dirname(fileURLToPath(import.meta.url));
/** Fixed clock: the records must not depend on the day the test runs. */
export const GOLDEN_NOW = new Date('2026-01-01T00:00:00Z');

/**
 * The SpamAssassin test messages were received by its author's own relays; a careful analyst (and a
 * SpamCop user, who calls them "mailhosts") trusts the recipient's infrastructure, so the golden run
 * lists them as intake hosts: mail.netnoteinc.com / gw.netnoteinc.com, webnote.net (secondary MX),
 * dogma.slashnull.org, mandark / phobos.labs.netnoteinc.com and jmason.org.
 */
const JM_HOSTS = [
  'netnoteinc.com',
  'webnote.net',
  'slashnull.org',
  'jmason.org',
  '193.120.149.226',
  '193.120.211.219',
  '212.17.35.0/24',
  '213.105.180.140',
];

export interface SourceConfig {
  licence: string;
  intakeHosts: string[];
  /** Synthetic cases use RFC 5737 / 3849 documentation addresses as if public. */
  documentationIsPublic: boolean;
  /** The file starts with `name TXT-value` zone lines, a blank line, then the message (stalwart ARC samples). */
  zoneInFile: boolean;
}

export const SOURCES: Record<string, SourceConfig> = {
  spamassassin: {
    licence: 'Apache-2.0 (LICENSES/spamassassin-LICENSE, spamassassin-NOTICE); github.com/apache/spamassassin t/data',
    intakeHosts: JM_HOSTS,
    documentationIsPublic: false,
    zoneInFile: false,
  },
  stalwart: {
    licence: 'Apache-2.0 OR MIT (LICENSES/stalwart-*); github.com/stalwartlabs/mail-auth resources/arc',
    intakeHosts: [],
    documentationIsPublic: false,
    zoneInFile: true,
  },
  synthetic: {
    licence: 'written for this project (trace-back cases), AGPL-3.0-or-later',
    intakeHosts: ['intake.spamdesk.example'],
    documentationIsPublic: true,
    zoneInFile: false,
  },
};

/** What the golden test compares. */
export interface GoldenExpected {
  origin: string | null;
  auth: {
    spf: string;
    dkim: string[];
    dmarc: string;
    arc: string;
    receiver: string[] | null;
  };
  urls: string[];
  /** Finding codes of the trace-back, authentication and enrichment stages (exact set). */
  findings: string[];
  /** Finding codes of the other stages that must be present (subset). */
  otherFindings: string[];
}

export interface GoldenCase {
  id: string;
  source: string;
  file: string;
}

/** Every message under messages/<source>/. */
export function goldenCases(): GoldenCase[] {
  const out: GoldenCase[] = [];
  for (const source of Object.keys(SOURCES)) {
    const dir = path.join(GOLDEN_DIR, 'messages', source);
    for (const name of fs.readdirSync(dir).sort())
      out.push({ id: `${source}__${name}`, source, file: path.join(dir, name) });
  }
  return out;
}

const MY_STAGES = new Set(['traceback', 'auth', 'enrich']);

/** Runs the whole pipeline on one case, deterministically. */
export async function runCase(c: GoldenCase): Promise<Analysis> {
  const cfg = SOURCES[c.source];
  if (cfg === undefined) throw new Error(`unknown golden source ${c.source}`);
  let raw = fs.readFileSync(c.file);
  let zone: Zone = {};
  if (cfg.zoneInFile) {
    const text = raw.toString('latin1');
    const split = text.indexOf('\n\n');
    zone = zoneFromText(text.slice(0, split));
    raw = Buffer.from(text.slice(split + 2), 'latin1');
  }
  const settings = defaultAnalysisSettings({
    intakeHosts: cfg.intakeHosts,
    stageParams: { traceback: { documentationIsPublic: cfg.documentationIsPublic } },
  });
  return analyse(raw, { ports: staticPorts(zone, GOLDEN_NOW), settings });
}

/** The compared summary of an analysis. */
export function summarise(a: Analysis): GoldenExpected {
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return {
    origin: a.traceback.origin?.ip ?? null,
    auth: {
      spf: a.auth.spf.result,
      dkim: a.auth.dkim.map((d) => `${d.domain ?? '?'}=${d.result}`),
      dmarc: a.auth.dmarc.result,
      arc: a.auth.arc.result,
      receiver: a.auth.receiver
        ? [a.auth.receiver.authservId, ...a.auth.receiver.results.map((r) => `${r.method}=${r.result}`)]
        : null,
    },
    urls: uniq(a.indicators.urls.map((u) => u.url)),
    findings: uniq(a.findings.filter((f) => MY_STAGES.has(f.stage)).map((f) => f.code)),
    otherFindings: uniq(a.findings.filter((f) => !MY_STAGES.has(f.stage)).map((f) => f.code)),
  };
}

export function expectedPath(c: GoldenCase): string {
  return path.join(GOLDEN_DIR, 'expected', `${c.id}.json`);
}
