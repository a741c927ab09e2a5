/**
 * What a message advertises against what it only names (`advertised.ts`), on real corpus messages:
 * a PayPal phish that copies PayPal's list of sixteen real U.S. banks' addresses as text while its one
 * link goes to an address literal; a Blockchain.com newsletter turned into a phish, whose links all go
 * through the sender's click tracking while its text names www.blockchain.com; plain-text spam, where
 * the text is the link.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { analyse } from './analyse.ts';
import { offlinePorts } from './offline-ports.ts';
import { defaultAnalysisSettings } from './settings.ts';
import { splitMbox } from './test-support/corpus-messages.ts';
import { advertisedDomains, advertisedUrls, userDirectoryDomains } from './advertised.ts';

const run = (raw: Buffer) => analyse(raw, { ports: offlinePorts(), settings: defaultAnalysisSettings() });

const BANKS = [
  'bankamerica.com',
  'bankone.com',
  'bankboston.com',
  'calfed.com',
  'charterone.com',
  'citibank.com',
  'commerceonline.com',
  'commercebank.com',
  'firstunion.com',
  '53.com',
  'fleet.com',
  'keybank.com',
  'chase.com',
  'usbank.com',
  'uboc.com',
  'washingtonmutual.com',
  'wellsfargo.com',
];

test('a phish’s list of real banks written as text is named, not advertised; its link is', async (t) => {
  if (!needsCorpus(t, 'nazario_phishing/phishing0.mbox')) return;
  const raw = splitMbox(fs.readFileSync(path.join(CORPUS_DIR, 'nazario_phishing/phishing0.mbox')))[319];
  const a = await run(raw);
  const named = new Set(a.indicators.urls.map((u) => u.registrableDomain));
  for (const bank of BANKS) assert.ok(named.has(bank), `${bank} is still an indicator of the message`);
  const advertised = advertisedDomains(a);
  for (const bank of BANKS) assert.ok(!advertised.includes(bank), `${bank} is not advertised`);
  assert.deepEqual(advertised, ['paypal.com'], 'the page it links to');
  assert.ok(
    advertisedUrls(a).some((u) => u.host === '203.117.148.20'),
    'the phishing link, to an address literal, is advertised',
  );
});

test('a newsletter phish’s brand named in its text and footer is not advertised; its click tracking is', async (t) => {
  if (!needsCorpus(t, 'phishing_pot/email/sample-585.eml')) return;
  const a = await run(fs.readFileSync(path.join(CORPUS_DIR, 'phishing_pot/email/sample-585.eml')));
  assert.ok(a.indicators.urls.some((u) => u.registrableDomain === 'blockchain.com'));
  const advertised = advertisedDomains(a);
  assert.ok(!advertised.includes('blockchain.com'), advertised.join(' '));
  assert.ok(advertised.includes('sendgrid.net'), advertised.join(' '));
});

test('in a message without HTML links, every address of the text is advertised', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam_2')) return;
  const dir = path.join(CORPUS_DIR, 'spamassassin/spam_2');
  let seen = 0;
  for (const f of fs.readdirSync(dir).sort().slice(0, 200)) {
    const a = await run(fs.readFileSync(path.join(dir, f)));
    if (a.indicators.urls.some((u) => u.source === 'html-href' || u.source === 'form-action')) continue;
    const links = a.indicators.urls.filter((u) => u.role !== 'resource');
    if (links.length === 0) continue;
    seen++;
    assert.deepEqual(advertisedUrls(a), links, f);
  }
  assert.ok(seen >= 20, `plain-text spams with addresses: ${seen}`);
});

test('in an HTML message, an address of the text is advertised when a link goes to its domain too', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam_2')) return;
  const dir = path.join(CORPUS_DIR, 'spamassassin/spam_2');
  let seen = 0;
  for (const f of fs.readdirSync(dir).sort().slice(0, 800)) {
    const a = await run(fs.readFileSync(path.join(dir, f)));
    const linked = new Set(
      a.indicators.urls
        .filter((u) => u.source === 'html-href' || u.source === 'form-action')
        .map((u) => u.registrableDomain ?? u.host),
    );
    const echoed = a.indicators.urls.filter(
      (u) => u.source === 'text' && u.role !== 'resource' && linked.has(u.registrableDomain ?? u.host),
    );
    if (echoed.length === 0) continue;
    seen++;
    const sends = new Set(advertisedUrls(a));
    for (const u of echoed) assert.ok(sends.has(u), `${f}: ${u.url}`);
  }
  assert.ok(seen >= 10, `HTML spams that write their linked address out: ${seen}`);
});

test('a domain every advertised link of which is a user’s directory is a shared server’s; one linked outside them \
is not', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const raw = fs.readFileSync(path.join(CORPUS_DIR, 'spamassassin/spam/00341.99b463b92346291f5848137f4a253966'));
  const a = await analyse(raw, { ports: offlinePorts(), settings: defaultAnalysisSettings() });
  assert.deepEqual(advertisedDomains(a), ['attbi.com']);
  assert.deepEqual([...userDirectoryDomains(a)], ['attbi.com']);
  const url = (u: string) => ({
    ...a.indicators.urls[0],
    url: u,
    host: new URL(u).hostname,
    registrableDomain: 'attbi.com',
  });
  const mixed = { indicators: { ...a.indicators, urls: [...a.indicators.urls, url('http://www.attbi.com/offer')] } };
  assert.deepEqual([...userDirectoryDomains(mixed)], []);
});
