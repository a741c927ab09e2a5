import { test } from 'node:test';
import assert from 'node:assert/strict';
import yazl from 'yazl';
import { sha256Hex } from '../../core/ids.ts';
import { generateInstanceKey, type InstanceKey } from './instance-key.ts';
import { buildEvidencePackage, readZipEntries, verifyEvidencePackage, type PackageInput } from './evidence-package.ts';

function input(key: InstanceKey, mode: PackageInput['evidenceMode']): PackageInput {
  const raw = Buffer.from('From: a@spam.example\r\nTo: victim@reporter.example\r\nSubject: hi\r\n\r\nDear victim\r\n');
  const redacted = Buffer.from('From: a@spam.example\r\nTo: [reporter]\r\nSubject: hi\r\n\r\nDear [reporter]\r\n');
  return {
    packageId: 'P1',
    createdAt: '2026-01-02T03:04:05.000Z',
    caseId: 'C1',
    authority: { id: 'A1', name: 'Cyber police', country: 'FR', competence: 'cybercrime' },
    instance: { org: 'Test', url: 'http://127.0.0.1' },
    evidenceMode: mode,
    messages: [
      {
        sha256: sha256Hex(raw),
        raw,
        redacted,
        reportCount: 2,
        firstReportedAt: '2026-01-01T00:00:00Z',
        lastReportedAt: '2026-01-02T00:00:00Z',
      },
    ],
    summary: { hello: 'world' },
    html: '<!doctype html><title>x</title>',
    key,
  };
}

test('a package verifies: signatures, every listed hash, originals named by their evidence hash', async () => {
  const key = generateInstanceKey();
  const built = await buildEvidencePackage(input(key, 'original-and-redacted'));
  assert.equal(built.sha256, sha256Hex(built.zip));
  const v = await verifyEvidencePackage(built.zip, key.publicKeyPem);
  assert.deepEqual(v.problems, []);
  assert.equal(v.messagesChecked, 1);
  const entries = await readZipEntries(built.zip);
  const m = built.manifest.messages[0];
  assert.ok(m.original && entries.has(m.original));
  assert.equal(sha256Hex(entries.get(m.original ?? '') ?? Buffer.alloc(0)), m.sha256);
  assert.ok(!(entries.get(m.redacted ?? '') ?? Buffer.alloc(0)).toString().includes('victim@reporter.example'));
});

test('redacted-only packages withhold the original but record its hash', async () => {
  const built = await buildEvidencePackage(input(generateInstanceKey(), 'redacted-only'));
  const entries = await readZipEntries(built.zip);
  for (const [name, data] of entries) assert.ok(!data.toString().includes('victim@reporter.example'), name);
  assert.equal(built.manifest.messages[0].original, null);
  assert.match(built.manifest.messages[0].sha256, /^[0-9a-f]{64}$/);
  assert.ok((await verifyEvidencePackage(built.zip)).ok);
});

test('a tampered message, a foreign key or an extra file is detected', async () => {
  const built = await buildEvidencePackage(input(generateInstanceKey(), 'original-and-redacted'));
  const other = generateInstanceKey();
  const foreign = await verifyEvidencePackage(built.zip, other.publicKeyPem);
  assert.ok(foreign.problems.includes('manifest.sig does not verify'));

  const entries = await readZipEntries(built.zip);
  const z = new yazl.ZipFile();
  for (const [name, data] of entries) {
    const bytes = name.startsWith('messages/original/') ? Buffer.from(data.toString().replace('hi', 'ho')) : data;
    z.addBuffer(bytes, name);
  }
  z.addBuffer(Buffer.from('x'), 'extra.txt');
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(Buffer.from(c));
  const v = await verifyEvidencePackage(Buffer.concat(chunks));
  assert.equal(v.ok, false);
  assert.ok(v.problems.some((p) => p.includes('hash mismatch')));
  assert.ok(v.problems.some((p) => p.includes('extra.txt')));
  const garbage = await verifyEvidencePackage(Buffer.from('not a zip'));
  assert.equal(garbage.ok, false);
});
