/** The operator's abuse-contact CSV and the shipped defaults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AbuseContactsFileError,
  abuseContactLookup,
  loadAbuseContactsFile,
  parseAbuseContactsCsv,
} from './abuse-contacts.ts';

test('most specific network wins, then the ASN, then the shipped default', async () => {
  const t = parseAbuseContactsCsv(
    'network,address\n# comment\n198.51.100.0/24,net@example.net\n198.51.100.128/25,small@example.net # ' +
      'inline\nAS64500,asn@example.org\n',
  );
  const l = abuseContactLookup(t);
  assert.deepEqual(await l.lookup('198.51.100.200', 64500), [
    { address: 'small@example.net', source: 'operator-table:198.51.100.128/25' },
  ]);
  assert.equal((await l.lookup('198.51.100.1', null))[0]?.address, 'net@example.net');
  assert.equal((await l.lookup('192.0.2.1', 64500))[0]?.address, 'asn@example.org');
  assert.deepEqual(await l.lookup('192.0.2.1', 15169), [
    { address: 'network-abuse@google.com', source: 'rir-default:ARIN whois AS15169' },
  ]);
  assert.deepEqual(await l.lookup('192.0.2.1', 64511), []);
  assert.equal((await abuseContactLookup(null).lookup('192.0.2.1', 16276))[0]?.address, 'abuse@ovh.net');
});

test('a bad line is reported with the file and the line number', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abuse-'));
  const f = path.join(dir, 'abuse.csv');
  fs.writeFileSync(f, '192.0.2.0/24,ok@example.net\nnot-a-net,x@example.net\n');
  assert.throws(
    () => loadAbuseContactsFile(f),
    (e: unknown) => e instanceof AbuseContactsFileError && e.line === 2 && e.message.startsWith(`${f}:2:`),
  );
  assert.throws(
    () => parseAbuseContactsCsv('AS1,not-an-address', 'x.csv'),
    /x\.csv:1: "not-an-address" is not an e-mail address/,
  );
  assert.throws(() => loadAbuseContactsFile(path.join(dir, 'missing.csv')), /cannot read/);
});
