/**
 * The indicators stage on real corpus messages (../shared/corpus, in place; skipped loudly when
 * absent): relative references never become domains, and every resource a mail client would fetch
 * is extracted and marked as a resource.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { analyse } from '../analyse.ts';
import type { Analysis } from '../analysis-schema.ts';
import { readLabelled } from '../../../scripts/eval/evaluate-traceback.ts';
import { staticPorts } from '../ports/index.ts';
import { defaultAnalysisSettings } from '../settings.ts';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { writtenAsDialled } from './indicators.ts';

const ports = staticPorts();
const settings = defaultAnalysisSettings({ dnsMode: 'offline' });

function run(rel: string): Promise<Analysis> {
  return analyse(readLabelled(CORPUS_DIR, rel), { ports, settings });
}

/** The corpus messages whose relative images (`dot.gif`, `header.png`, `ebay_logo.gif`, …) became hosts before. */
const RELATIVE_IMAGES = [
  'spamassassin/spam/00380.a262abe251ca7cc3026e4e146d9cf817',
  'spamassassin/spam/00430.d2179c2841013fea688db8bbcf60b3b0',
  'spamassassin/spam/00437.defdb75139dbe5cdd027cbab9f704a27',
  'spamassassin/spam/00449.7d33f465cb813806296901ee541841d6',
  'spamassassin/spam/00473.7086ec944a1245a002b04547a433c887',
  'spamassassin/spam/00477.24ef7a042f97482f884387c75249380c',
  'spamassassin/spam_2/00214.39bd955c9db013255c326dbcbb4f2f86',
  'spamassassin/spam_2/00396.bb9671c94f0061c7f2a74cde8a507c1f',
  'spamassassin/spam_2/00397.dc85d97361fbed3637f8db56d4c9c92d',
  'spamassassin/spam_2/00543.e69bd0a0effd4a12537fb358d79ea337',
  'spamassassin/spam_2/00570.cc1a4d6cf41350cf10e2b588dacb2dff',
  'spamassassin/spam_2/00894.f54f07418fc8e677fe0fe5ac60a251ab',
  'spamassassin/spam_2/01301.91269fd2b14a1fa0f183ca60953b99af',
  'spamassassin/spam_2/01360.5bf908ff3e674f31061afcb8a6c17a8d',
  'spamassassin/spam_2/01396.e80a10644810bc2ae3c1b58c5fd38dfa',
  'phishing_pot/email/sample-1.eml',
  'phishing_pot/email/sample-1047.eml',
  'phishing_pot/email/sample-1131.eml',
  'phishing_pot/email/sample-757.eml',
  'phishing_pot/email/sample-903.eml',
  'nazario_phishing/20051114.mbox#159',
  'nazario_phishing/phishing0.mbox#126',
  'nazario_phishing/phishing0.mbox#127',
  'nazario_phishing/phishing0.mbox#130',
  'nazario_phishing/phishing0.mbox#273',
  'nazario_phishing/phishing1.mbox#178',
  'trec07p/data/inmail.4326',
];

test(
  'relative image references are never turned into domains (27 corpus messages did: dot.gif, header.png, ' +
    'ebay_logo.gif)',
  async (t) => {
    if (!needsCorpus(t)) return;
    for (const rel of RELATIVE_IMAGES) {
      const a = await run(rel);
      const fileHosts = a.indicators.urls.filter((u) => /\.(?:png|gif|jpe?g|bmp)$/i.test(u.host));
      assert.deepEqual(
        fileHosts.map((u) => u.url),
        [],
        rel,
      );
    }
  },
);

test(
  '<base href> resolves relative images to the spammer’s host, as resources (spamassassin ' + 'spam_2/00756)',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin')) return;
    const a = await run('spamassassin/spam_2/00756.b68f9bcfd782a01a2ece132eccdcbbe9');
    const img = a.indicators.urls.find((u) => u.url === 'http://www.rebackee.com/www/imagesjulio/contraloria.jpg');
    assert.ok(img, a.indicators.urls.map((u) => u.url).join('\n'));
    assert.equal(img.role, 'resource');
    assert.equal(img.source, 'html-src');
  },
);

test('a tracking pixel and remote images are resources, the links stay links (spamassassin spam/00449)', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const a = await run('spamassassin/spam/00449.7d33f465cb813806296901ee541841d6');
  const pixel = a.indicators.urls.find((u) => u.host === 'www.330w.com' && u.url.includes('/open/open.php'));
  assert.equal(pixel?.role, 'resource');
  assert.ok(a.indicators.urls.some((u) => u.role === 'link' && u.source === 'html-href'));
});

test('CSS url() in style attributes is extracted as a resource (trec07p inmail.1373)', async (t) => {
  if (!needsCorpus(t, 'trec07p')) return;
  const a = await run('trec07p/data/inmail.1373');
  const css = a.indicators.urls.find(
    (u) => u.url === 'http://www.cnn.com/linkto/student.news/images/sn.light.pattern.jpg',
  );
  assert.equal(css?.source, 'html-css');
  assert.equal(css?.role, 'resource');
});

test(
  '<link> style sheets, @import, srcset and font hosts are resources (phishing_pot sample-485, ' + 'sample-950)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    const a = await run('phishing_pot/email/sample-485.eml');
    const res = a.indicators.urls.filter((u) => u.role === 'resource').map((u) => u.host);
    for (const h of [
      'acf-producao.s3.us-east-1.amazonaws.com',
      'fonts.googleapis.com',
      'hello.myfonts.net',
      'acontafecha.com.br',
    ])
      assert.ok(res.includes(h), `${h} in ${res.join(' ')}`);
    const b = await run('phishing_pot/email/sample-950.eml');
    const srcset = b.indicators.urls.filter((u) => u.host === 'hs-8726485.f.hubspotemail.net' && u.role === 'resource');
    assert.ok(srcset.length >= 3, 'src and each srcset candidate');
    assert.ok(b.indicators.urls.some((u) => u.host === 'fonts.googleapis.com' && u.role === 'resource'));
  },
);

test('digits that are not written as a number is dialled are no phone: ZIP+4 codes, IP addresses, years', async (t) => {
  if (!needsCorpus(t)) return;
  // "Las Vegas, NV 89101-6716": in the FR region it parsed as the premium number +33 8 91 01 67 16.
  const zip = await run('trec07p/data/inmail.1386');
  assert.ok(!zip.indicators.phones.some((p) => p.e164 === '+33891016716'), JSON.stringify(zip.indicators.phones));
  // http://61.129.81.99/al/cgi-bin/redir.cgi: the address parsed as the mobile number +33 6 11 29 81 99.
  const ip = await run('spamassassin/spam_2/00264.8fae38cbbed6a43b40e83aa8496018e4');
  assert.ok(!ip.indicators.phones.some((p) => p.e164 === '+33611298199'), JSON.stringify(ip.indicators.phones));
  // International numbers stay (an Irish list member's signature, +353-1-7161987).
  const irish = await run('spamassassin/easy_ham/00250.c99c3af1901ffb471442f3ef4580ffc8');
  assert.ok(
    irish.indicators.phones.some((p) => p.e164 === '+35317161987'),
    JSON.stringify(irish.indicators.phones),
  );
});

test('a national number is a phone only with its region’s trunk prefix', () => {
  const parse = (s: string) => {
    const p = parsePhoneNumberFromString(s, 'FR');
    if (!p?.isValid()) throw new Error(`${s} does not parse in FR`);
    return p;
  };
  assert.equal(writtenAsDialled('08 91 01 67 16', parse('08 91 01 67 16')), true);
  assert.equal(writtenAsDialled('06.12.34.56.78', parse('06.12.34.56.78')), true);
  assert.equal(writtenAsDialled('+33 6 12 34 56 78', parse('+33 6 12 34 56 78')), true);
  assert.equal(writtenAsDialled('0033 6 12 34 56 78', parse('0033 6 12 34 56 78')), true);
  assert.equal(writtenAsDialled('89101-6716', parse('89101-6716')), false);
  assert.equal(writtenAsDialled('9 1999-2002', parse('9 1999-2002')), false);
  // A table's columns (SpamAssassin's nice_cjk_gb2312.1: "0           5510/510  65").
  assert.equal(writtenAsDialled('0           5510/510  65', parse('0           5510/510  65')), false);
  // A region without a trunk prefix in its national format keeps what it parses (Italy: 06 is part of the number).
  const it = parsePhoneNumberFromString('06 6982 1234', 'IT');
  if (!it?.isValid()) throw new Error('06 6982 1234 does not parse in IT');
  assert.equal(writtenAsDialled('06 6982 1234', it), true);
});
