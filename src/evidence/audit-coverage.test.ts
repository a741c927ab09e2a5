/**
 * Every access to evidence leaves an entry in the audit chain: API detail and raw views, every
 * export, the campaign and case views, package downloads, each outbound package (to whom, which
 * hash) when queued and when sent, and the CLI's `show` and `outbox inspect`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createTestApp, userWithSession } from '../web/test-helpers.ts';
import { sampleEmail } from '../app/test-context.ts';
import { REPO_ROOT } from '../core/test-env.ts';
import { newId, nowIso, sha256Hex } from '../core/ids.ts';
import { createAuthority } from '../actions/cases/authorities.ts';
import { addReportsToCase, openCase } from '../actions/cases/cases.ts';
import { referCase } from '../actions/referrals/referrals.ts';
import { drainOutbox } from '../actions/outbox/delivery.ts';
import { closeTransports } from '../actions/outbox/transports.ts';
import { startWebhookSink } from '../actions/test-sinks.ts';
import { verifyAuditChain } from './audit.ts';

function cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout }));
  });
}

test('[sqlite] every view, export and outbound copy of evidence is in the audit chain', async (t) => {
  const h = await createTestApp(t, 'sqlite');
  if (!h) return;
  const { ctx, app } = h;
  const { db, config } = ctx;
  const hook = await startWebhookSink();
  t.after(async () => {
    closeTransports();
    await hook.close();
  });
  const raw = sampleEmail('audited');
  const [report] = await ctx.writer.submit([{ raw, channel: 'api' }]);
  const analyst = await userWithSession(db, config, 'analyst');
  const authorityUser = await userWithSession(db, config, 'authority');
  const authority = await createAuthority(db, {
    name: 'Police',
    country: 'FR',
    competence: 'cybercrime',
    contactKind: 'webhook',
    contact: hook.url,
    userId: authorityUser.id,
  });
  const c = await openCase(db, {
    targetKind: 'sender_domain',
    targetValue: 'spam.example',
    title: 'Prize scam',
    category: 'scam',
    openedBy: 'test',
  });
  await addReportsToCase(db, c.id, [{ reportId: report.id, sha256: report.sha256 }], 'test');
  const campaign = newId();
  await db
    .insertInto('campaigns')
    .values({
      id: campaign,
      merged_into: null,
      category: 'scam',
      first_seen_at: nowIso(),
      last_seen_at: nowIso(),
      message_count: 1,
      report_count: 1,
      created_at: nowIso(),
      updated_at: nowIso(),
    })
    .execute();

  const referral = await referCase(ctx, c.id, authority.id, 'user:analyst');
  await drainOutbox({ db, logger: ctx.logger, relayUrl: undefined, retryBaseMs: 1, leaseMs: 60_000 });
  assert.equal(hook.calls.length, 1);
  const staff = { cookie: analyst.cookie };
  const outside = { cookie: authorityUser.cookie };
  for (const [url, headers] of [
    [`/api/v1/reports/${report.id}`, staff],
    [`/api/v1/messages/${report.sha256}/raw`, staff],
    ['/workbench/reports.csv', staff],
    ['/workbench/export.csv?table=category', staff],
    [`/workbench/reports/${report.id}`, staff],
    [`/api/v1/campaigns/${campaign}`, outside],
    [`/api/v1/actions/cases/${c.id}`, outside],
    [`/api/v1/actions/referrals/${referral.referralId}/package`, outside],
  ] as const) {
    const res = await app.inject({ method: 'GET', url, headers });
    assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
  }
  const dbUrl = config.database.dialect === 'sqlite' ? `sqlite:${config.database.path}` : '';
  const show = await cli(['show', report.id, '--database-url', dbUrl, '--data-dir', config.dataDir]);
  assert.notEqual(show.code, 1, 'spamdesk show ran');
  const outboxId = (await db.selectFrom('action_outbox').select('id').executeTakeFirstOrThrow()).id;
  const inspect = await cli([
    'outbox',
    'inspect',
    outboxId,
    '--raw',
    '--database-url',
    dbUrl,
    '--data-dir',
    config.dataDir,
  ]);
  assert.equal(inspect.code, 0);

  const entries = await db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
  const has = (action: string, subject: string): boolean =>
    entries.some((e) => e.action === action && e.subject === subject);
  const expected: [string, string][] = [
    ['evidence.view-report', `report:${report.id}`],
    ['evidence.download', `message:${report.sha256}`],
    ['export.reports', 'reports.csv'],
    ['export.workbench', 'table:category'],
    ['campaign.view', `campaign:${campaign}`],
    ['case.view', `case:${c.id}`],
    ['referral.download', `referral:${referral.referralId}`],
    ['evidence.package', `referral:${referral.referralId}`],
    ['outbound.queued', `outbox:${outboxId}`],
    ['outbound.sent', `outbox:${outboxId}`],
    ['outbound.inspect-raw', `outbox:${outboxId}`],
  ];
  for (const [action, subject] of expected)
    assert.ok(
      has(action, subject),
      `audited: ${action} ${subject} (have ${entries.map((e) => `${e.action} ${e.subject}`).join(', ')})`,
    );
  assert.equal(
    entries.filter((e) => e.action === 'evidence.view-report').length,
    3,
    'API view, workbench page and CLI show',
  );
  // Each outbound package: to whom and which hash.
  const pkg = entries.find((e) => e.action === 'evidence.package');
  const detail = JSON.parse(pkg?.detail ?? '{}') as { packageSha256?: string; destination?: string };
  assert.equal(detail.packageSha256, referral.packageSha256);
  assert.equal(detail.destination, hook.url);
  const sent = JSON.parse(entries.find((e) => e.action === 'outbound.sent')?.detail ?? '{}') as { sha256?: string };
  assert.equal(sent.sha256, sha256Hex(hook.calls[0].body), 'the hash of the bytes that left');
  assert.deepEqual((await verifyAuditChain(db)).problems, []);
});
