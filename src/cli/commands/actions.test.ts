import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase } from '../../db/test-databases.ts';
import { REPO_ROOT } from '../../core/test-env.ts';
import { createLogger } from '../../core/logger.ts';
import { sha256Hex } from '../../core/ids.ts';
import { enqueueWebhook, getOutboxEntry } from '../../actions/outbox/outbox.ts';
import { drainOutbox } from '../../actions/outbox/delivery.ts';
import { startWebhookSink } from '../../actions/test-sinks.ts';
import { loadInstanceKey } from '../../actions/referrals/instance-key.ts';
import { buildEvidencePackage } from '../../actions/referrals/evidence-package.ts';
import { openCase } from '../../actions/cases/cases.ts';

const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, SPAMDESK_LOG_LEVEL: 'silent' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

test('spamdesk outbox list shows a dead entry and outbox requeue queues it again', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  const gone = await startWebhookSink(() => 410);
  try {
    const id = await enqueueWebhook(tdb.db, {
      url: gone.url,
      idempotencyKey: 'k',
      contentType: 'application/json',
      body: Buffer.from('{}'),
      purpose: 'test',
      description: 'cli test hook',
      maxAttempts: 3,
    });
    await drainOutbox({
      db: tdb.db,
      logger: createLogger(tdb.config),
      relayUrl: undefined,
      retryBaseMs: 1,
      leaseMs: 60_000,
    });
    assert.equal((await getOutboxEntry(tdb.db, id))?.state, 'dead');
    const db = tdb.config.database.dialect === 'sqlite' ? `sqlite:${tdb.config.database.path}` : '';
    const list = await cli(['outbox', 'list', '--state', 'dead', '--database-url', db]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /dead 1/);
    assert.ok(list.stdout.includes(id) && list.stdout.includes('HTTP 410'));
    const retry = await cli(['outbox', 'requeue', id, '--database-url', db]);
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal((await getOutboxEntry(tdb.db, id))?.state, 'queued');
  } finally {
    await gone.close();
    await tdb.drop();
  }
});

test('spamdesk cases verify-package accepts a genuine package and rejects a tampered one', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  try {
    const raw = Buffer.from('From: a@b.example\r\nSubject: x\r\n\r\nhello\r\n');
    const key = await loadInstanceKey(tdb.db, tdb.config);
    const pkg = await buildEvidencePackage({
      packageId: 'P',
      createdAt: '2026-01-01T00:00:00.000Z',
      caseId: 'C',
      authority: { id: 'A', name: 'Police', country: 'FR', competence: 'cybercrime' },
      instance: { org: 'Test', url: 'https://spamdesk.test' },
      evidenceMode: 'original-and-redacted',
      messages: [
        { sha256: sha256Hex(raw), raw, redacted: null, reportCount: 1, firstReportedAt: '', lastReportedAt: '' },
      ],
      summary: {},
      html: '<p>x</p>',
      key,
    });
    const good = path.join(tdb.config.dataDir, 'good.zip');
    fs.writeFileSync(good, pkg.zip);
    const pem = path.join(tdb.config.dataDir, 'key.pem');
    fs.writeFileSync(pem, key.publicKeyPem);
    const ok = await cli(['cases', 'verify-package', good, '--public-key', pem]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /OK/);
    // Flip one byte of the stored (uncompressed) signature file: the signature no longer verifies.
    const tampered = Buffer.from(pkg.zip);
    const at = tampered.indexOf(Buffer.from('manifest.sig'));
    const sigStart = tampered.indexOf(Buffer.from('\n'), at) - 10;
    tampered[sigStart] = tampered[sigStart] === 0x41 ? 0x42 : 0x41;
    const badFile = path.join(tdb.config.dataDir, 'bad.zip');
    fs.writeFileSync(badFile, tampered);
    const bad = await cli(['cases', 'verify-package', badFile, '--public-key', pem]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /INVALID/);
  } finally {
    await tdb.drop();
  }
});

test('spamdesk cases list pages with --cursor, lists everything with --all, and filters', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  const ids: string[] = [];
  for (let i = 0; i < 120; i++)
    ids.push(
      (
        await openCase(tdb.db, {
          targetKind: 'sender_domain',
          targetValue: `s${i}.example`,
          title: `Sender ${i}`,
          category: i < 30 ? 'scam' : 'phishing',
          openedBy: 'rule:SENDER_CONSENT',
        })
      ).id,
    );
  const db = `sqlite:${tdb.config.database.dialect === 'sqlite' ? tdb.config.database.path : ''}`;
  const idsIn = (out: string) =>
    out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split(/\s+/)[0]);
  const first = await cli(['cases', 'list', '--limit', '100', '--database-url', db]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(idsIn(first.stdout).length, 100);
  const cursor = /--cursor (\S+)/.exec(first.stderr)?.[1];
  assert.ok(cursor, `the next page's cursor is printed: ${first.stderr}`);
  const second = await cli(['cases', 'list', '--limit', '100', '--cursor', cursor, '--database-url', db]);
  assert.equal(idsIn(second.stdout).length, 20);
  assert.doesNotMatch(second.stderr, /--cursor/, 'the last page names no next one');
  assert.deepEqual([...idsIn(first.stdout), ...idsIn(second.stdout)].sort(), [...ids].sort());
  const all = await cli(['cases', 'list', '--all', '--json', '--database-url', db]);
  assert.equal(all.stdout.trim().split('\n').length, 120, 'no cap at 100');
  const scam = await cli(['cases', 'list', '--all', '--category', 'scam', '--database-url', db]);
  assert.equal(idsIn(scam.stdout).length, 30);
  const bad = await cli(['cases', 'list', '--state', 'sleeping', '--database-url', db]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--state/);
});
