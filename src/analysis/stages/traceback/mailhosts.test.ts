/**
 * Learning a reporter's mail hosts from real chains: the walks a learning pass remembers give what
 * walking every chain afresh gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { needsCorpus } from '../../../core/test-env.ts';
import { analyse } from '../../analyse.ts';
import { staticPorts } from '../../ports/index.ts';
import { defaultAnalysisSettings } from '../../settings.ts';
import { webnoteCorpus } from '../../test-webnote.ts';
import { learnMailhosts } from './mailhosts.ts';
import type { ParsedReceived } from './received-parser.ts';
import { trustTableFor } from './trust.ts';

/** The Received hops of spam_2 messages that reached their reporter through his secondary MX (mail.webnote.net). */
async function webnoteChains(): Promise<ParsedReceived[][]> {
  const { files } = webnoteCorpus();
  const ports = staticPorts();
  const settings = defaultAnalysisSettings({ dnsMode: 'offline' });
  const chains: ParsedReceived[][] = [];
  for (const f of files) {
    const a = await analyse(fs.readFileSync(f), { ports, settings });
    chains.push(a.traceback.hops.map(({ raw: _raw, ...hop }) => hop));
  }
  return chains;
}

test('learning again from the same chains gives what walking each chain afresh gives', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam_2')) return;
  const chains = await webnoteChains();
  assert.ok(chains.length >= 25, `${chains.length} webnote.net chains`);
  const trust = trustTableFor([], null);
  const first = learnMailhosts(chains, trust);
  assert.ok(first.includes('193.120.211.219'), `learned ${first.join(', ')}`);
  // Passes over the same chain objects (as the store hands them, pass after pass), and over copies no walk was
  // remembered for: the same hosts in the same order.
  assert.deepEqual(learnMailhosts(chains, trust), first);
  assert.deepEqual(
    learnMailhosts(chains.slice().reverse(), trust),
    learnMailhosts(structuredClone(chains).reverse(), trust),
  );
  assert.deepEqual(learnMailhosts(structuredClone(chains), trust), first);
  // Fewer chains than the thresholds need: nothing learned, remembered walks or not.
  assert.deepEqual(learnMailhosts(chains.slice(0, 2), trust), []);
  // Another trust table is walked for itself: one that already trusts the secondary MX learns what lies behind it.
  const withMx = trustTableFor(['193.120.211.219'], null);
  const behind = learnMailhosts(chains, withMx);
  assert.deepEqual(behind, learnMailhosts(structuredClone(chains), withMx));
  assert.ok(!behind.includes('193.120.211.219'), `learned with the MX trusted: ${behind.join(', ')}`);
});
