import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase } from '../../db/test-databases.ts';
import { REPO_ROOT } from '../../core/test-env.ts';
import { createLogger } from '../../core/logger.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createAuthority } from '../../actions/cases/authorities.ts';
import { addReportsToCase, openCase } from '../../actions/cases/cases.ts';
import { registerPartner } from '../../actions/exchange/partners.ts';
import { receivePartnerStatus } from '../../actions/exchange/status.ts';
import { referCase } from '../../actions/referrals/referrals.ts';
import { generateInstanceKey, signatureHeader } from '../../actions/referrals/instance-key.ts';
import { spamMessage } from '../../actions/test-factories.ts';

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

test('spamdesk exchange: a partner’s request for originals is listed, refused without a legal basis, approved \
with one (audited) and answered by a follow-up package carrying the originals', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
  try {
    const partnerKey = generateInstanceKey();
    await registerPartner(tdb.db, {
      name: 'CERT B',
      country: 'FR',
      publicKeyPem: partnerKey.publicKeyPem,
      url: 'http://127.0.0.1:9',
    });
    const authority = await createAuthority(tdb.db, {
      name: 'CERT B',
      country: 'FR',
      competence: 'cybercrime',
      contactKind: 'partner',
      contact: 'http://127.0.0.1:9',
    });
    const stored = await ctx.writer.submit(
      [0, 1].map((n) => ({
        raw: spamMessage({ n, ip: `198.51.100.${n + 5}`, to: `victim${n}@r.example` }),
        channel: 'api' as const,
        reporterAddress: 'v@r.example',
      })),
    );
    const c = await openCase(tdb.db, {
      targetKind: 'advertised_domain',
      targetValue: 'cli-exchange.example',
      title: 'CLI exchange',
      category: 'phishing',
      openedBy: 'test',
    });
    await addReportsToCase(
      tdb.db,
      c.id,
      stored.map((r) => ({ reportId: r.id, sha256: r.sha256 })),
      'test',
    );
    const { referralId } = await referCase(ctx, c.id, authority.id, 'test');
    const status = (sequence: number, extra: Record<string, unknown>) => {
      const body = Buffer.from(
        JSON.stringify({
          type: 'spamdesk.referral-status',
          version: 1,
          messageId: newId(),
          referralId,
          sequence,
          sentAt: nowIso(),
          caseReference: { sender: c.id, receiver: 'B-17' },
          receiver: { name: 'CERT B', country: 'FR', contactPoint: { name: 'Desk' } },
          ...extra,
        }),
      );
      return receivePartnerStatus(tdb.db, body, {
        signature: signatureHeader(partnerKey, body),
        fingerprint: partnerKey.fingerprint,
      });
    };
    await status(1, { status: 'received' });
    const asked = await status(2, {
      status: 'more-requested',
      request: { kind: 'originals', question: 'Unredacted copies, please.' },
    });
    assert.ok(asked.requestId);
    const where = tdb.config.database;
    assert.ok(where.dialect === 'sqlite');
    const db = `sqlite:${where.path}`;
    const dataDir = tdb.config.dataDir;
    const list = await cli(['exchange', 'requests', '--database-url', db, '--data-dir', dataDir]);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.includes(asked.requestId) && list.stdout.includes('Unredacted copies'));
    const refused = await cli(['exchange', 'approve', asked.requestId, '--database-url', db, '--data-dir', dataDir]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /legalBasis/);
    const ok = await cli([
      'exchange',
      'approve',
      asked.requestId,
      '--legal-basis',
      'Agreement FR-BE of 2026-04-01, art. 3',
      '--database-url',
      db,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const followUp = /follow-up referral (\S+)/.exec(ok.stdout)?.[1];
    assert.ok(followUp, ok.stdout);
    const audit = await tdb.db
      .selectFrom('audit_log')
      .select(['action', 'detail'])
      .where('action', 'in', ['exchange.request.approve', 'evidence.package'])
      .execute();
    assert.equal(audit.filter((a) => a.action === 'exchange.request.approve').length, 1);
    const pkgAudit = audit
      .filter((a) => a.action === 'evidence.package')
      .map((a) => JSON.parse(String(a.detail)))
      .find((d) => d.referralId === followUp);
    assert.equal(pkgAudit?.evidenceMode, 'original-and-redacted', 'the follow-up carries the originals');
    assert.equal(pkgAudit?.legalBasis, 'Agreement FR-BE of 2026-04-01, art. 3');
    assert.equal(pkgAudit?.originals.length, 2);
    const entry = await tdb.db
      .selectFrom('action_outbox')
      .select('body')
      .where('subject_id', '=', followUp)
      .executeTakeFirstOrThrow();
    assert.equal(JSON.parse(entry.body.toString('utf8')).inReplyTo, asked.messageId);
    const statuses = await cli(['exchange', 'statuses', referralId, '--database-url', db, '--data-dir', dataDir]);
    assert.equal(statuses.code, 0, statuses.stderr);
    assert.match(statuses.stdout, /from CERT B {2}more-requested {2}asks originals: Unredacted copies/);
    const notPartner = await cli([
      'exchange',
      'answer',
      c.id,
      '--status',
      'acknowledged',
      '--database-url',
      db,
      '--data-dir',
      dataDir,
    ]);
    assert.notEqual(notPartner.code, 0);
    assert.match(notPartner.stderr, /was not received from a partner/);
    const badOutcome = await cli([
      'exchange',
      'answer',
      c.id,
      '--status',
      'closed',
      '--database-url',
      db,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(badOutcome.code, 2);
    assert.match(badOutcome.stderr, /--outcome must be one of/);
  } finally {
    await closeContext(ctx, { keepDb: true });
    await tdb.drop();
  }
});
