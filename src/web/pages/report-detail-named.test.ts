/**
 * The report page marks the addresses a message only names (written in its text while its links go
 * elsewhere, `analysis/advertised.ts`) apart from its links, as it marks resources: the Nazario PayPal
 * phish's copied list of real banks reads "named only", its phishing link does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { createTestApp, userWithSession } from '../test-helpers.ts';
import { splitMbox } from '../../analysis/test-support/corpus-messages.ts';
import { analyse } from '../../analysis/analyse.ts';
import { offlinePorts } from '../../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../../analysis/settings.ts';
import { storeAnalysis } from '../../analysis/repository.ts';

test('the report page marks the banks a phish only names, not its link', async (t) => {
  if (!needsCorpus(t, 'nazario_phishing/phishing0.mbox')) return;
  const h = await createTestApp(t);
  if (!h) return;
  const raw = splitMbox(fs.readFileSync(path.join(CORPUS_DIR, 'nazario_phishing/phishing0.mbox')))[319];
  const [report] = await h.ctx.writer.submit([{ raw, channel: 'api', reporterAddress: null }]);
  await storeAnalysis(h.ctx.db, await analyse(raw, { ports: offlinePorts(), settings: defaultAnalysisSettings() }), 1);
  const a = await userWithSession(h.ctx.db, h.ctx.config, 'analyst');
  const page = await h.app.inject({
    method: 'GET',
    url: `/workbench/reports/${report.id}`,
    headers: { cookie: a.cookie },
  });
  assert.equal(page.statusCode, 200);
  const item = (needle: string) => page.body.split('<li').find((li) => li.includes(needle)) ?? '';
  assert.match(item('http://www.usbank.com/'), /named only/);
  assert.match(item('http://www.keybank.com/'), /named only/);
  assert.doesNotMatch(item('http://203.117.148.20/'), /named only/);
  assert.match(item('http://images.paypal.com/en_US/i/logo/email_logo.gif'), />resource</);
});
