/**
 * Test support for the trace-back's corpus cases: a message (as latin1 text, as edited copies of corpus messages are
 * kept) traced offline with the default trusted-relay table and the real offline AS data, and an edit that must bite.
 */
import assert from 'node:assert/strict';
import { CORPUS_DIR } from '../../core/test-env.ts';
import { readLabelled } from '../../../scripts/eval/evaluate-traceback.ts';
import { ipLocationDbAsnLookup } from '../ports/ip-location-db.ts';
import { traceRaw, type TraceOptions } from '../stages/traceback.ts';
import { trustTableFor } from '../stages/traceback/trust.ts';

const asn = ipLocationDbAsnLookup();

/** The trace-back of `text` (latin1), offline, with nothing learned or declared unless `opts` says so. */
export function traceText(text: string, opts: Partial<TraceOptions> = {}) {
  return traceRaw(Buffer.from(text, 'latin1'), {
    trust: trustTableFor([], null),
    asn,
    mailhosts: [],
    documentationIsPublic: false,
    ...opts,
  });
}

/** A corpus message (path relative to the corpus; `file.mbox#N` for the N-th of an mbox) as latin1 text. */
export function corpusText(rel: string): string {
  return readLabelled(CORPUS_DIR, rel).toString('latin1');
}

/** Replaces one exact piece of a corpus message, failing the test if it is not there (the edit must bite). */
export function edit(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  assert.notEqual(out, text, `edit not applied: ${String(from)}`);
  return out;
}
