/**
 * The look-up's lean analysis (profile `lookup`: parse and indicators without findings, headers or
 * content scans) gives every message the same look-up print as the whole analysis does: on a
 * sample of every corpus (e-mail and SMS, spam and ham) and on personalised copies of corpus spams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { corpusMessages } from '../analysis/test-support/corpus-messages.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { stagesFor } from '../analysis/registry.ts';
import { makeRecipient, personalise, seededRng, type BaseMessage } from './personalise.ts';
import { reduce } from './lookup-print.ts';

const NOW = new Date('2026-03-01T00:00:00Z');
/** Every STRIDE-th corpus message: all the corpora, mixed as they come. */
const STRIDE = 23;
/** Personalised copies of every COPY_STRIDE-th sampled spam with text. */
const COPY_STRIDE = 10;

test('the lean look-up analysis gives corpus messages and personalised copies the print of the whole analysis', {
  timeout: 600_000,
}, async (t) => {
  if (!needsCorpus(t)) return;
  const ports = offlinePorts(NOW);
  const settings = defaultAnalysisSettings();
  const lean = stagesFor('lookup');
  const rng = seededRng(17);
  const sample = corpusMessages(CORPUS_DIR).filter((_, i) => i % STRIDE === 0);
  let withText = 0;
  let withLinks = 0;
  let copies = 0;
  const compare = async (raw: Buffer, origin: string) => {
    const whole = await analyse(raw, { ports, settings });
    const looked = await analyse(raw, { ports, settings, stages: lean });
    assert.equal(looked.error?.code ?? null, whole.error?.code ?? null, origin);
    assert.deepEqual(reduce(looked), reduce(whole), origin);
    return whole;
  };
  for (const [i, m] of sample.entries()) {
    const whole = await compare(m.raw, m.origin);
    const print = reduce(whole);
    if (print.signature) withText++;
    if (print.links.length > 0) withLinks++;
    if (i % COPY_STRIDE !== 0 || !print.signature || whole.kind !== 'email') continue;
    const base: BaseMessage = {
      subject: whole.parse.subject ?? '',
      from: whole.parse.from[0]?.address ?? 'x@spam.example',
      text: whole.parse.visibleText.slice(0, 4000),
      urls: whole.indicators.urls
        .filter((u) => u.role === 'link')
        .map((u) => u.url)
        .slice(0, 3),
    };
    for (let k = 0; k < 2; k++) {
      await compare(personalise(base, makeRecipient(rng), rng, k), `${m.origin} (copy ${k})`);
      copies++;
    }
  }
  // Not an empty comparison: most prints have a signature, many have links, copies were made.
  assert.ok(withText > sample.length / 2, `${withText} of ${sample.length} with a signature`);
  assert.ok(withLinks > sample.length / 10, `${withLinks} of ${sample.length} with links`);
  assert.ok(copies > 50, `${copies} personalised copies`);
});
