/** Authentication-Results (RFC 8601) parsing and the choice of the trusted receiver's verdict. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerFields } from '../traceback/header-block.ts';
import { TrustTable } from '../traceback/trust.ts';
import { parseAuthenticationResults } from './authentication-results.ts';
import { receiverVerdict } from './receiver.ts';

test('parses Gmail’s Authentication-Results (stalwart arc/001 sample)', () => {
  const r = parseAuthenticationResults(
    'mx.google.com; dkim=pass header.i=@ietf.org header.s=ietf1 header.b=jqktrzno; dkim=neutral (body hash did not ' +
      'verify) header.i=@stalw.art header.s=velikisrpan22 header.b=QS+O8z2Y; spf=pass (google.com: domain of ' +
      'jmap-bounces@ietf.org designates 50.223.129.194 as permitted sender) smtp.mailfrom=jmap-bounces@ietf.org; ' +
      'dmarc=fail (p=NONE sp=NONE dis=NONE) header.from=stalw.art',
  );
  assert.equal(r.authservId, 'mx.google.com');
  assert.deepEqual(
    r.results.map((x) => `${x.method}=${x.result}`),
    ['dkim=pass', 'dkim=neutral', 'spf=pass', 'dmarc=fail'],
  );
  assert.equal(r.results[2]?.properties['smtp.mailfrom'], 'jmap-bounces@ietf.org');
  assert.equal(r.results[3]?.properties['header.from'], 'stalw.art');
});

test('parses Microsoft 365’s field, which has no authserv-id', () => {
  const r = parseAuthenticationResults(
    'spf=fail (sender IP is 198.51.100.4) smtp.mailfrom=example.com; dkim=none (message not signed) ' +
      'header.d=none;dmarc=fail action=oreject header.from=example.com;compauth=fail reason=000',
  );
  assert.equal(r.authservId, null);
  assert.deepEqual(
    r.results.map((x) => `${x.method}=${x.result}`),
    ['spf=fail', 'dkim=none', 'dmarc=fail', 'compauth=fail'],
  );
  assert.equal(r.results[2]?.properties.action, 'oreject');
});

test('version numbers, quoted values, nested comments and `none`', () => {
  const r = parseAuthenticationResults('example.org 1; auth=pass (cram-md5 (nested)) smtp.auth="a b"; none');
  assert.equal(r.authservId, 'example.org');
  assert.equal(r.results[0]?.properties['smtp.auth'], 'a b');
  assert.equal(parseAuthenticationResults('example.org; none').results.length, 0);
});

const MSG = (ar: string, below = '') =>
  Buffer.from(
    [
      'Received: by 2002:a05:6000:1::1 with SMTP id x; Mon, 1 Jan 2024 00:00:02 +0000',
      `Authentication-Results: ${ar}`,
      'Received: from bad.example.net (bad.example.net [198.51.100.4]) by mx.google.com with ESMTPS id y; Mon, 1 Jan ' +
        '2024 00:00:01 +0000',
      below,
      'From: a@example.com',
      '',
      'x',
    ]
      .filter((l) => l !== '')
      .join('\r\n'),
  );

test('keeps the trusted receiver’s verdict above the boundary', () => {
  const f = headerFields(MSG('mx.google.com; spf=fail smtp.mailfrom=example.com; dmarc=fail header.from=example.com'));
  const v = receiverVerdict(f, 1, new TrustTable([], null), []);
  assert.equal(v?.authservId, 'mx.google.com');
  assert.deepEqual(
    v?.results.map((r) => r.result),
    ['fail', 'fail'],
  );
});

test('ignores an untrusted authserv-id and any field below the origin’s Received header', () => {
  const untrusted = headerFields(MSG('mx.evil.example; spf=pass'));
  assert.equal(receiverVerdict(untrusted, 1, new TrustTable([], null), []), null);
  const forgedBelow = headerFields(
    MSG('mx.example.org; spf=fail', 'Authentication-Results: mx.google.com; spf=pass dkim=pass'),
  );
  assert.equal(receiverVerdict(forgedBelow, 1, new TrustTable([], null), [])?.authservId, undefined);
  const operatorListed = headerFields(MSG('mx.example.org; spf=fail'));
  assert.equal(
    receiverVerdict(operatorListed, 1, new TrustTable([], null), ['mx.example.org'])?.authservId,
    'mx.example.org',
  );
});

test('a Microsoft field without authserv-id is attributed to the host that wrote the next Received', () => {
  const raw = Buffer.from(
    [
      'Authentication-Results: spf=fail (sender IP is 198.51.100.4) smtp.mailfrom=example.com; dmarc=fail ' +
        'action=oreject header.from=example.com',
      'Received: from x (198.51.100.4) by BN8NAM11FT066.mail.protection.outlook.com (10.13.177.138) with Microsoft ' +
        'SMTP Server id 15.20.6813.19; Tue, 19 Sep 2023 18:36:44 +0000',
      '',
      'x',
    ].join('\r\n'),
  );
  const v = receiverVerdict(headerFields(raw), 0, new TrustTable([], null), []);
  assert.equal(v?.authservId, 'bn8nam11ft066.mail.protection.outlook.com');
});

test('the auth stage refuses to verify an explosion of DKIM signatures and says so', async () => {
  const { authStage, MAX_DKIM_SIGNATURES } = await import('../auth.ts');
  const { analyse } = await import('../../analyse.ts');
  const { staticPorts } = await import('../../ports/index.ts');
  const { defaultAnalysisSettings } = await import('../../settings.ts');
  const { parseStage } = await import('../parse.ts');
  const { tracebackStage } = await import('../traceback.ts');
  const sigs = Array.from(
    { length: MAX_DKIM_SIGNATURES + 1 },
    (_, i) => `DKIM-Signature: v=1; a=rsa-sha256; d=e${i}.example; s=s; h=from; bh=x; b=y`,
  );
  const raw = Buffer.from(`${sigs.join('\r\n')}\r\nFrom: a@example.com\r\n\r\nx\r\n`);
  const ports = staticPorts({});
  const a = await analyse(raw, {
    ports,
    settings: defaultAnalysisSettings(),
    stages: [parseStage, tracebackStage, authStage],
  });
  assert.equal(a.auth.dkim[0]?.result, 'permerror');
  assert.ok(a.findings.some((f) => f.code === 'DKIM_FAIL' && f.evidence.rule === 'MAX_DKIM_SIGNATURES'));
  assert.ok(![...ports.dns.lookups.keys()].some((k) => k.includes('_domainkey')), 'no key was looked up');
});
