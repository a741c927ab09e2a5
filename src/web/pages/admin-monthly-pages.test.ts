/**
 * The monthly report's page and downloads: for the regulator (authority), analysts and admins
 * only; in English and French; CSV, JSON (and PDF where Chromium is installed) downloads audited;
 * a malformed month is a 400 with its reason. Cases closed and ISP alerts per operator are counted
 * in the month they happened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../db/test-databases.ts';
import { newId } from '../../core/ids.ts';
import { createAuthority } from '../../actions/cases/authorities.ts';
import { registerOperator } from '../../actions/isp/operators.ts';
import { canPrintPdf } from '../../actions/monthly-report/pdf.ts';
import { listAudit } from '../../evidence/audit.ts';
import { createTestApp, sampleSpam, userWithSession } from '../test-helpers.ts';

for (const dialect of DIALECTS) {
  test(`${dialect}: the monthly report page, its downloads and who may see them`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { app, ctx } = h;
    const { db, config } = ctx;
    await ctx.writer.submit(
      [3, 9, 17].map((d) => ({
        raw: sampleSpam({ subject: `November ${d}` }),
        channel: 'web' as const,
        reporterUserId: null,
        receivedAt: `2026-11-${String(d).padStart(2, '0')}T10:00:00.000Z`,
      })),
    );
    await ctx.writer.submit([
      {
        raw: sampleSpam({ subject: 'October' }),
        channel: 'smtp',
        reporterUserId: null,
        receivedAt: '2026-10-30T10:00:00.000Z',
      },
    ]);
    const cnil = await createAuthority(db, {
      name: 'CNIL <Paris>',
      country: 'FR',
      competence: 'data_protection',
      contactKind: 'email',
      contact: 'plaintes@cnil.example',
    });
    const caseId = newId();
    await db
      .insertInto('action_cases')
      .values({
        id: caseId,
        target_kind: 'sender_domain',
        target_value: 'lottery.example',
        title: 'sender lottery.example',
        category: 'consent',
        state: 'closed',
        merged_into: null,
        opened_by: 'rule:CONSENT',
        created_at: '2026-10-20T08:00:00.000Z',
        updated_at: '2026-11-12T08:00:00.000Z',
      })
      .execute();
    await db
      .insertInto('action_referrals')
      .values({
        id: newId(),
        case_id: caseId,
        authority_id: cnil.id,
        state: 'closed',
        outbox_id: null,
        package_sha256: '0'.repeat(64),
        package_size: 1,
        package: Buffer.from('x'),
        created_at: '2026-10-21T08:00:00.000Z',
        updated_at: '2026-11-12T08:00:00.000Z',
      })
      .execute();
    const op = await registerOperator(db, { name: 'Orange', abuseAddress: 'abuse@orange.example', asns: [3215] });
    for (const [ip, state, at] of [
      ['192.0.2.1', 'handled', '2026-11-05T00:00:00.000Z'],
      ['192.0.2.2', 'open', '2026-11-06T00:00:00.000Z'],
      ['192.0.2.3', 'open', '2026-12-01T00:00:00.000Z'],
    ] as const)
      await db
        .insertInto('action_isp_alerts')
        .values({
          id: newId(),
          operator_id: op.id,
          asn: 3215,
          ip,
          first_seen: at,
          last_seen: at,
          report_count: 4,
          campaign_count: 1,
          evidence: '{}',
          digest_id: null,
          state,
          handled_at: null,
          handled_by: null,
          created_at: at,
        })
        .execute();

    const authority = await userWithSession(db, config, 'authority', { authorityId: cnil.id });
    const reporter = await userWithSession(db, config, 'reporter');
    const get = (url: string, cookie?: string) => app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
    assert.equal((await get('/monthly-report?month=2026-11', reporter.cookie)).statusCode, 403);
    assert.equal((await get('/monthly-report.csv?month=2026-11')).statusCode, 303, 'anonymous: to the sign-in page');
    const page = await get('/monthly-report?month=2026-11', authority.cookie);
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.body, /data-testid="total-reports">3</);
    assert.match(page.body, /CNIL &lt;Paris&gt; \(FR\)/, 'escaped');
    assert.match(
      page.body,
      /<td>Orange<\/td><td>AS3215[^<]*<\/td><td class="num">2<\/td><td class="num">8<\/td><td class="num">1<\/td>/,
    );
    const fr = await get('/monthly-report?month=2026-11&lang=fr', authority.cookie);
    assert.match(fr.body, /Signalements reçus/);
    assert.match(fr.body, /Les 50 premiers domaines d&#39;expéditeur|Les 50 premiers domaines d'expéditeur/);
    const bad = await get('/monthly-report?month=2026-13', authority.cookie);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /YYYY-MM/);

    const csv = await get('/monthly-report.csv?month=2026-11', authority.cookie);
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-disposition']), /spamdesk-monthly-2026-11\.csv/);
    assert.ok(csv.body.includes('summary,,,reports,3\r\n'));
    assert.ok(csv.body.includes(`authority,${cnil.id},CNIL <Paris>,closed,1\r\n`));
    assert.ok(
      csv.body.includes(`authority,${cnil.id},CNIL <Paris>,referred,0\r\n`),
      'referred in October, not November',
    );
    assert.ok(csv.body.includes(`operator,${op.id},Orange,alerts,2\r\n`), 'the December alert is not November’s');
    const json = await get('/monthly-report.json?month=2026-10', authority.cookie);
    assert.equal(json.json().totals.reports, 1);
    assert.equal(json.json().authorities[0].referred, 1);
    const pdf = await get('/monthly-report.pdf?month=2026-11', authority.cookie);
    if (canPrintPdf()) {
      assert.equal(pdf.statusCode, 200);
      assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    } else assert.equal(pdf.statusCode, 404);
    await new Promise((r) => setTimeout(r, 60));
    const audit = await listAudit(db, { limit: 50 });
    assert.ok(audit.filter((a) => a.action === 'export.monthly-report').length >= 2);
  });
}
