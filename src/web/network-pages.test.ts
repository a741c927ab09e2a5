/**
 * Network operators through HTTP: they list and open the reports from their own networks (filters,
 * several ASes), never a report from another network (404), never the reporter's identity or the
 * raw source, and see and handle only the ISP alerts about their networks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId, nowIso } from '../core/ids.ts';
import { registerOperator } from '../actions/isp/operators.ts';
import { indexAll } from './indexer.ts';
import { createTestApp, postForm, sampleSpam, userWithSession } from './test-helpers.ts';

test('network operators: their reports and alerts only, without reporter identity', async (t) => {
  const h = await createTestApp(t, 'sqlite');
  if (!h) return;
  const { ctx, app } = h;
  const { db, config } = ctx;

  const reporter = await userWithSession(db, config, 'reporter');
  // One operator by the account's AS list (two networks), one through the actions area's link.
  const noc = await userWithSession(db, config, 'network_operator', { networks: [64500, 64502] });
  const other = await userWithSession(db, config, 'network_operator');
  const analyst = await userWithSession(db, config, 'analyst');
  const [mine, theirs, second] = await ctx.writer.submit([
    {
      raw: sampleSpam({ subject: `Hello ${reporter.email}, victim@example.org wins` }),
      channel: 'web',
      reporterUserId: reporter.id,
    },
    { raw: sampleSpam({ subject: 'Elsewhere' }), channel: 'web', reporterUserId: null },
    { raw: sampleSpam({ subject: 'Second network' }), channel: 'web', reporterUserId: null },
  ]);
  await indexAll(db);
  // What indexing an analysis with this origin writes (index row and the origin-IP term).
  const setOrigin = async (id: string, asn: number, ip: string) => {
    const row = await db
      .updateTable('web_report_index')
      .set({ origin_asn: asn, origin_ip: ip })
      .where('report_id', '=', id)
      .returning('received_at')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('web_report_terms')
      .values({ term: `i:${ip}`, received_at: row.received_at, report_id: id })
      .execute();
  };
  await setOrigin(mine.id, 64500, '203.0.113.7');
  await setOrigin(theirs.id, 64501, '198.51.100.9');
  await setOrigin(second.id, 64502, '192.0.2.44');
  const op = await registerOperator(db, { name: 'Example NOC', abuseAddress: 'abuse@isp.example', asns: [64500] });
  const op2 = await registerOperator(db, {
    name: 'Other NOC',
    abuseAddress: 'abuse@other.example',
    asns: [64501],
    userId: other.id,
  });
  const alert = (operatorId: string, asn: number, ip: string) => ({
    id: newId(),
    operator_id: operatorId,
    asn,
    ip,
    first_seen: nowIso(),
    last_seen: nowIso(),
    report_count: 3,
    campaign_count: 2,
    evidence: '{}',
    digest_id: null,
    state: 'open',
    handled_at: null,
    handled_by: null,
    created_at: nowIso(),
  });
  const mineAlert = alert(op.id, 64500, '203.0.113.7');
  const theirAlert = alert(op2.id, 64501, '198.51.100.9');
  await db.insertInto('action_isp_alerts').values([mineAlert, theirAlert]).execute();
  const get = (url: string, cookie: string) => app.inject({ method: 'GET', url, headers: { cookie } });

  await t.test('the list shows the reports of every network of the operator, subjects redacted', async () => {
    const res = await get('/network', noc.cookie);
    assert.equal(res.statusCode, 200);
    assert.ok(res.body.includes(`data-report-id="${mine.id}"`));
    assert.ok(res.body.includes(`data-report-id="${second.id}"`));
    assert.ok(!res.body.includes(`data-report-id="${theirs.id}"`));
    assert.ok(!res.body.includes(reporter.email), 'the reporter address is redacted');
    assert.ok(!res.body.includes('victim@example.org'), 'recipient addresses are masked');
    assert.ok(res.body.includes(`href="/network/reports/${mine.id}"`));
    assert.ok(!res.body.includes('/workbench/'), 'no link into the workbench');
  });

  await t.test('filters narrow the list and cannot leave the scope', async () => {
    const byAsn = await get('/network?asn=64502', noc.cookie);
    assert.ok(
      byAsn.body.includes(`data-report-id="${second.id}"`) && !byAsn.body.includes(`data-report-id="${mine.id}"`),
    );
    const outside = await get('/network?asn=64501', noc.cookie);
    assert.ok(!outside.body.includes(`data-report-id="${theirs.id}"`));
    const byIp = await get('/network?ip=203.0.113.7', noc.cookie);
    assert.ok(
      byIp.body.includes(`data-report-id="${mine.id}"`) && !byIp.body.includes(`data-report-id="${second.id}"`),
    );
  });

  await t.test(
    'the detail page shows origin and trace-back facts, no reporter, no raw source, and is logged',
    async () => {
      const res = await get(`/network/reports/${mine.id}`, noc.cookie);
      assert.equal(res.statusCode, 200, res.body.slice(0, 300));
      assert.ok(res.body.includes('203.0.113.7'));
      assert.ok(!res.body.includes(reporter.email));
      assert.ok(!res.body.includes('victim@example.org'));
      assert.ok(!res.body.includes('/raw'), 'no link to the raw source');
      const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'network.view-report').execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0].subject, `report:${mine.id}`);
    },
  );

  await t.test('a report from another network does not exist for the operator', async () => {
    assert.equal((await get(`/network/reports/${theirs.id}`, noc.cookie)).statusCode, 404);
    assert.equal((await get(`/network/reports/${mine.id}`, other.cookie)).statusCode, 404);
    assert.equal((await get(`/network/reports/${theirs.id}`, other.cookie)).statusCode, 200);
    assert.equal((await get(`/network/reports/${mine.id}`, analyst.cookie)).statusCode, 403, 'staff use the workbench');
  });

  await t.test('alerts: each operator sees and handles its own; staff see all', async () => {
    const res = await get('/network/alerts', noc.cookie);
    assert.ok(res.body.includes(`data-alert-id="${mineAlert.id}"`));
    assert.ok(!res.body.includes(`data-alert-id="${theirAlert.id}"`));
    const staff = await get('/network/alerts', analyst.cookie);
    assert.ok(
      staff.body.includes(`data-alert-id="${mineAlert.id}"`) && staff.body.includes(`data-alert-id="${theirAlert.id}"`),
    );
    const denied = await postForm(app, `/network/alerts/${theirAlert.id}/handled`, { _csrf: noc.csrf }, noc.cookie);
    assert.equal(denied.statusCode, 404);
    const noCsrf = await postForm(app, `/network/alerts/${mineAlert.id}/handled`, {}, noc.cookie);
    assert.equal(noCsrf.statusCode, 403);
    const ok = await postForm(app, `/network/alerts/${mineAlert.id}/handled`, { _csrf: noc.csrf }, noc.cookie);
    assert.equal(ok.statusCode, 303);
    const row = await db
      .selectFrom('action_isp_alerts')
      .selectAll()
      .where('id', '=', mineAlert.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.state, 'handled');
    assert.match(row.handled_by ?? '', /network_operator/);
    assert.equal(
      (
        await db
          .selectFrom('action_isp_alerts')
          .select('state')
          .where('id', '=', theirAlert.id)
          .executeTakeFirstOrThrow()
      ).state,
      'open',
    );
    const handled = await get('/network/alerts?state=handled', noc.cookie);
    assert.ok(handled.body.includes(`data-alert-id="${mineAlert.id}"`));
  });

  await t.test('an operator account with no network gets an explanation, not an error', async () => {
    const bare = await userWithSession(db, config, 'network_operator');
    const res = await get('/network', bare.cookie);
    assert.equal(res.statusCode, 200);
    assert.ok(res.body.includes('No AS number'));
  });
});
