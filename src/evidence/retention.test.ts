import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../db/test-databases.ts';
import { createTestContext, sampleEmail } from '../app/test-context.ts';
import { newId, nowIso } from '../core/ids.ts';
import { reporterAddressKey } from '../core/reporter-key.ts';
import { createToken } from '../db/tokens.ts';
import type { AppContext } from '../app/context.ts';
import { smsReportInput } from '../intake/sms/sms-intake.ts';
import { createAuthority } from '../actions/cases/authorities.ts';
import { addReportsToCase, openCase } from '../actions/cases/cases.ts';
import { referCase } from '../actions/referrals/referrals.ts';
import { buildApp } from '../app/build-app.ts';
import { getMessageRaw, verifyEvidence } from './store.ts';
import { verifyAuditChain } from './audit.ts';
import { applyRetention, eraseReporter } from './retention.ts';

const DAY = 86_400_000;
const LEA = 'lea.martin@famille-martin.fr';

/** Léa reports three messages (one also reported by Bob) and an SMS; the first goes to the police. */
async function scenario(ctx: AppContext) {
  const { db } = ctx;
  const lea = newId();
  const bob = newId();
  for (const [id, email, name] of [
    [lea, LEA, 'Léa Martin'],
    [bob, 'bob@example.org', 'Bob'],
  ] as const) {
    await db
      .insertInto('users')
      .values({ id, email, name, role: 'reporter', password_hash: null, created_at: nowIso(), disabled_at: null })
      .execute();
  }
  const [referred, own, shared] = [sampleEmail('referred'), sampleEmail('own'), sampleEmail('shared')];
  const reports = await ctx.writer.submit([
    {
      raw: referred,
      channel: 'smtp',
      reporterUserId: lea,
      reporterAddress: LEA,
      clientIp: '192.0.2.1',
      note: 'from Léa',
      context: { wrapper: { from: `"Léa Martin" <${LEA}>` }, how: 'attachment' },
    },
    { raw: own, channel: 'api', reporterUserId: lea, clientIp: '192.0.2.1' },
    { raw: shared, channel: 'api', reporterUserId: lea },
    { raw: shared, channel: 'api', reporterUserId: bob },
  ]);
  const [sms] = await ctx.writer.submit([
    smsReportInput({
      sender: '+33700000001',
      text: 'Votre colis attend',
      receivedAt: null,
      reporterNumber: '+33612345678',
      reporterUserId: lea,
      clientIp: null,
    }),
  ]);
  const police = await createAuthority(db, {
    name: 'Police',
    country: 'FR',
    competence: 'cybercrime',
    contactKind: 'email',
    contact: 'cyber@police.example',
  });
  const c = await openCase(db, {
    targetKind: 'sender_domain',
    targetValue: 'spam.example',
    title: 'Prize scam',
    category: 'scam',
    openedBy: 'test',
  });
  await addReportsToCase(db, c.id, [{ reportId: reports[0].id, sha256: reports[0].sha256 }], 'test');
  const referral = await referCase(ctx, c.id, police.id, 'test');
  return { lea, bob, reports, sms, referral, referred, own, shared };
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] a reporter is erased: identity and reports gone, evidence referred to an authority kept under its \
case`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    const { ctx } = h;
    const app = await buildApp(ctx);
    try {
      const s = await scenario(ctx);
      const { db } = ctx;
      const token = await createToken(db, { role: 'reporter', userId: s.lea, name: 'addon' });
      // Self-service erasure needs an explicit confirmation.
      const unconfirmed = await app.inject({
        method: 'POST',
        url: '/api/v1/account/erasure',
        headers: { authorization: `Bearer ${token.secret}` },
        payload: {},
      });
      assert.equal(unconfirmed.statusCode, 400);
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/account/erasure',
        headers: { authorization: `Bearer ${token.secret}` },
        payload: { confirm: 'erase' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        reportsDeleted: 3,
        messagesDeleted: 2,
        reportsKeptForAuthorities: 1,
        accountErased: s.lea,
      });

      // Kept: the referred report and its evidence, without any trace of Léa.
      const kept = await db
        .selectFrom('reports')
        .selectAll()
        .where('id', '=', s.reports[0].id)
        .executeTakeFirstOrThrow();
      assert.equal(kept.reporter_user_id, null);
      assert.equal(kept.reporter_address, null);
      assert.equal(kept.client_ip, null);
      assert.equal(kept.note, null);
      assert.notEqual(kept.tracking_token, s.reports[0].trackingToken, 'her tracking link no longer works');
      assert.doesNotMatch(kept.context ?? '', /lea|Martin|wrapper/i);
      assert.match(kept.context ?? '', /"how":"attachment"/, 'what says nothing about her stays');
      assert.ok((await getMessageRaw(db, s.reports[0].sha256))?.equals(s.referred), 'the referred evidence is intact');
      assert.ok(
        await db
          .selectFrom('action_case_reports')
          .select('report_id')
          .where('report_id', '=', s.reports[0].id)
          .executeTakeFirst(),
        'still under its case',
      );
      assert.ok(
        await db.selectFrom('action_referrals').select('id').where('id', '=', s.referral.referralId).executeTakeFirst(),
      );
      // Gone: her other reports, evidence only she reported; Bob's report of the shared message stays.
      const left = await db.selectFrom('reports').select(['id', 'reporter_user_id']).execute();
      assert.deepEqual(left.map((r) => r.id).sort(), [s.reports[0].id, s.reports[3].id].sort());
      assert.equal(await getMessageRaw(db, s.reports[1].sha256), null);
      assert.ok(await getMessageRaw(db, s.reports[2].sha256), 'a message someone else reported stays');
      assert.equal(await getMessageRaw(db, s.sms.sha256), null);
      // Her account: anonymised, disabled, no token.
      const user = await db.selectFrom('users').selectAll().where('id', '=', s.lea).executeTakeFirstOrThrow();
      assert.match(user.email, /@erased\.invalid$/);
      assert.equal(user.name, null);
      assert.ok(user.disabled_at);
      assert.equal((await db.selectFrom('api_tokens').select('id').where('user_id', '=', s.lea).execute()).length, 0);
      // The erasure is in the audit chain, without her identity; the chain still verifies.
      const entry = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'privacy.erasure')
        .executeTakeFirstOrThrow();
      assert.doesNotMatch(JSON.stringify(entry), /lea\.martin|famille-martin|Léa/);
      assert.deepEqual((await verifyAuditChain(db)).problems, []);
      // Bob, erased by an admin on request by address, and a staff account that cannot be.
      const admin = await createToken(db, { role: 'admin', name: 'dpo' });
      const byAdmin = await app.inject({
        method: 'POST',
        url: '/api/v1/privacy/erasures',
        headers: { authorization: `Bearer ${admin.secret}` },
        payload: { email: 'bob@example.org' },
      });
      assert.equal(byAdmin.statusCode, 200, byAdmin.body);
      assert.equal(byAdmin.json().reportsDeleted, 1);
      assert.equal(await getMessageRaw(db, s.reports[2].sha256), null, 'nobody reports the shared message any more');
      const analyst = newId();
      await db
        .insertInto('users')
        .values({
          id: analyst,
          email: 'analyst@spamdesk.example',
          name: null,
          role: 'analyst',
          password_hash: null,
          created_at: nowIso(),
          disabled_at: null,
        })
        .execute();
      await assert.rejects(
        eraseReporter(db, { userId: analyst }, 'test'),
        /staff and partner accounts are disabled, not erased/,
      );
    } finally {
      await app.close();
      await h.close();
    }
  });

  test(`[${dialect}] retention periods per kind of data: identity, raw evidence, reports, audit; referred evidence \
kept`, async (t) => {
    const h = await createTestContext(t, dialect, {
      retentionIdentityDays: 30,
      retentionRawDays: 60,
      retentionReportsDays: 90,
      retentionAuditDays: 100,
    });
    if (!h) return;
    const { ctx } = h;
    try {
      const s = await scenario(ctx);
      const { db, config } = ctx;
      const at = (days: number) => new Date(Date.now() + days * DAY);

      const none = await applyRetention(db, config, at(10));
      assert.equal(none.identityCleared + none.rawExpired + none.reportsDeleted, 0, 'nothing is due yet');

      // After 45 days: the reporters' identities go, the reports and evidence stay.
      const r1 = await applyRetention(db, config, at(45));
      assert.equal(r1.identityCleared, 5);
      const reports = await db.selectFrom('reports').selectAll().execute();
      assert.equal(reports.length, 5);
      assert.ok(
        reports.every(
          (r) => r.reporter_user_id === null && r.reporter_address === null && r.client_ip === null && r.note === null,
        ),
      );
      assert.ok(reports.every((r) => !/wrapper|lea/i.test(r.context ?? '')));
      assert.ok(await getMessageRaw(db, s.reports[1].sha256));

      // After 75 days: raw evidence dropped (hash, size and reports kept), except the referred one.
      const r2 = await applyRetention(db, config, at(75));
      assert.equal(r2.rawExpired, 3, JSON.stringify(r2));
      assert.equal(await getMessageRaw(db, s.reports[1].sha256), null);
      assert.ok(
        (await getMessageRaw(db, s.reports[0].sha256))?.equals(s.referred),
        'the referred evidence keeps its bytes',
      );
      const meta = await db
        .selectFrom('messages')
        .select(['sha256', 'size', 'codec'])
        .where('sha256', '=', s.reports[1].sha256)
        .executeTakeFirstOrThrow();
      assert.equal(meta.codec, 'expired');
      assert.equal(Number(meta.size), s.own.length);
      const v = await verifyEvidence(db);
      assert.deepEqual(v.mismatches, []);
      assert.equal(v.expired, 3);
      // Reported again, expired evidence is stored again (the hash proves the bytes).
      await ctx.writer.submit([{ raw: s.own, channel: 'api' }]);
      assert.ok((await getMessageRaw(db, s.reports[1].sha256))?.equals(s.own));

      // After 120 days: reports deleted with their evidence, except what was referred; audit pruned.
      const r3 = await applyRetention(db, config, at(120));
      assert.ok(r3.reportsDeleted >= 5 && r3.keptForAuthorities === 1, JSON.stringify(r3));
      const left = await db.selectFrom('reports').select('id').execute();
      assert.deepEqual(
        left.map((r) => r.id),
        [s.reports[0].id],
      );
      assert.ok((await getMessageRaw(db, s.reports[0].sha256))?.equals(s.referred));
      assert.equal(
        await db.selectFrom('messages').select('sha256').where('sha256', '=', s.reports[2].sha256).executeTakeFirst(),
        undefined,
      );
      assert.ok(r3.auditPruned > 0);
      const chain = await verifyAuditChain(db);
      assert.deepEqual(chain.problems, []);
      assert.ok(chain.startsAfter > 0, 'the chain starts after a checkpoint');
    } finally {
      await h.close();
    }
  });
  test(`[${dialect}] erasing a reporter known only by address erases the mail hosts kept under its hash`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    try {
      const { db } = h.ctx;
      const address = 'Carol@Example.net';
      await h.ctx.writer.submit([{ raw: sampleEmail('carol'), channel: 'smtp', reporterAddress: address }]);
      const key = reporterAddressKey(address);
      const at = nowIso();
      await db
        .insertInto('analysis_mailhosts')
        .values({ reporter_key: key, ip: '=mx.carol-forwarder.net', learned_at: at })
        .execute();
      await db
        .insertInto('analysis_declared_mailhosts')
        .values({ reporter_key: key, entry: 'carol-forwarder.net', note: null, declared_at: at, declared_by: 'test' })
        .execute();
      await db
        .insertInto('analysis_mailhost_keys')
        .values({ reporter_key: key, reports_since: 3, learned_at: at })
        .execute();
      await eraseReporter(db, { email: 'carol@example.net' }, 'test');
      for (const table of ['analysis_mailhosts', 'analysis_declared_mailhosts', 'analysis_mailhost_keys'] as const)
        assert.deepEqual(
          await db.selectFrom(table).select('reporter_key').where('reporter_key', '=', key).execute(),
          [],
          table,
        );
    } finally {
      await h.close();
    }
  });
}
