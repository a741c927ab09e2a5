import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import PostalMime from 'postal-mime';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import type { FormatsPlugin } from 'ajv-formats';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { createContext, closeContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import { CORPUS_DIR } from '../../core/test-env.ts';
import { parseArf } from '../../intake/arf/parse-arf.ts';
import { buildApp } from '../../app/build-app.ts';
import { createAccount } from '../../db/accounts.ts';
import { createToken } from '../../db/tokens.ts';
import { processReport } from '../actions-jobs.ts';
import { ACTIONS_NEXT } from '../../app/pipeline.ts';
import { analysisFor, spamMessage } from '../test-factories.ts';
import { registerOperator } from './operators.ts';
import { listAlerts, markAlertHandled, runIspDigests } from './isp-digests.ts';
import { drainOutbox } from '../outbox/delivery.ts';
import { closeTransports } from '../outbox/transports.ts';
import { startSmtpSink } from '../test-sinks.ts';

const REPO_SCHEMAS = path.join(path.dirname(new URL(import.meta.url).pathname), '../formats/xarf-v4-schemas');
const SHARED_SCHEMAS = path.join(CORPUS_DIR, 'arf_dmarc_reports/xarf_spec/schemas/v4');

/** A validator compiled here, independently of the production one, from the official files. */
function compileXarf(dir: string) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const addFormats: FormatsPlugin = createRequire(import.meta.url)('ajv-formats');
  addFormats(ajv);
  const files = [
    path.join(dir, 'xarf-core.json'),
    path.join(dir, 'xarf-v4-master.json'),
    ...fs
      .readdirSync(path.join(dir, 'types'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.join(dir, 'types', f)),
  ];
  for (const f of files) ajv.addSchema(JSON.parse(fs.readFileSync(f, 'utf8')));
  const v = ajv.getSchema('https://xarf.org/schemas/v4/xarf-v4-master.json');
  assert.ok(v);
  return v;
}

const VICTIM = 'jean.dupont@victim-mail.example';

for (const dialect of DIALECTS) {
  test(`[${dialect}] a simulated botnet in one ASN becomes X-ARF v4 (schema-valid) and ARF digests (parsed back), \
reporters redacted`, async (t) => {
    const tdb = await createTestDatabase(t, dialect, { outboxFrom: 'abuse-desk@spamdesk.example' });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config) });
    const sink = await startSmtpSink();
    try {
      await registerOperator(tdb.db, {
        name: 'Example Broadband',
        abuseAddress: 'abuse@broadband.example',
        format: 'xarf',
        asns: [64500],
      });
      await registerOperator(tdb.db, {
        name: 'Other Telecom',
        abuseAddress: 'abuse@other.example',
        format: 'arf',
        asns: [64501],
      });
      const scenarios: {
        ip: string;
        asn: number;
        asName?: string;
        rdns: string | null;
        reports: number;
        authenticated?: boolean;
        campaign: string;
      }[] = [];
      // Six infected broadband hosts in AS64500, four reports each, in two campaigns.
      for (let h = 1; h <= 6; h++)
        scenarios.push({
          ip: `81.56.113.${h}`,
          asn: 64500,
          rdns: `dyn-203-0-113-${h}.pool.broadband.example`,
          reports: 4,
          campaign: h % 2 ? 'camp-a' : 'camp-b',
        });
      // One host below the report threshold.
      scenarios.push({
        ip: '81.56.113.99',
        asn: 64500,
        rdns: 'dyn-203-0-113-99.pool.broadband.example',
        reports: 1,
        campaign: 'camp-a',
      });
      // A properly authenticated server with a static name: not a zombie.
      scenarios.push({
        ip: '81.58.100.7',
        asn: 64500,
        rdns: 'mail.newsletter.example',
        reports: 5,
        authenticated: true,
        campaign: 'camp-c',
      });
      // Two hosts without rDNS in AS64501 (ARF operator), an access provider by its AS name.
      for (let h = 1; h <= 2; h++)
        scenarios.push({
          ip: `81.57.2.${h}`,
          asn: 64501,
          asName: 'Other Telecom',
          rdns: null,
          reports: 3,
          campaign: 'camp-a',
        });
      let n = 0;
      for (const s of scenarios) {
        for (let i = 0; i < s.reports; i++) {
          n++;
          const raw = spamMessage({ n, ip: s.ip, port: 40_000 + n, to: VICTIM });
          const stored = await ctx.writer.submitOne({ raw, channel: 'api', reporterAddress: VICTIM });
          const analysis = await analysisFor(raw, {
            ip: s.ip,
            port: 40_000 + n,
            asn: s.asn,
            asName: s.asName,
            rdns: s.rdns,
            abuse: [],
            authenticated: s.authenticated,
          });
          await processReport(
            ctx,
            { reportId: stored.id, sha256: stored.sha256, campaignId: null },
            { ...analysis },
            ACTIONS_NEXT,
          );
          // Campaign ids come from the campaigns area; here they are set on the facts directly.
          await tdb.db
            .updateTable('action_report_facts')
            .set({ campaign_id: s.campaign })
            .where('report_id', '=', stored.id)
            .execute();
        }
      }
      const run = await runIspDigests(tdb.db, tdb.config, ctx.logger, new Date(Date.now() + 1000));
      assert.equal(run.digests.length, 2);
      const xarfDigest = run.digests.find((d) => d.format === 'xarf');
      const arfDigest = run.digests.find((d) => d.format === 'arf');
      assert.equal(xarfDigest?.alerts, 6);
      assert.equal(arfDigest?.alerts, 2);
      assert.equal(arfDigest?.outboxIds.length, 3, 'ARF: one cover with the CSV, one report per IP');

      await drainOutbox({ db: tdb.db, logger: ctx.logger, relayUrl: sink.url, retryBaseMs: 1, leaseMs: 60_000 });
      assert.equal(sink.mails.length, 4);
      for (const m of sink.mails)
        assert.ok(!m.raw.toString('latin1').toLowerCase().includes('jean.dupont'), 'no reporter identity leaves');

      // X-ARF: every report validates against the official v4 schemas.
      const validators = [compileXarf(REPO_SCHEMAS)];
      if (fs.existsSync(SHARED_SCHEMAS)) validators.push(compileXarf(SHARED_SCHEMAS));
      else t.diagnostic(`shared X-ARF schemas absent (${SHARED_SCHEMAS}); validated against the repository copy only`);
      const xarfMail = sink.mails.find((m) => m.to[0] === 'abuse@broadband.example');
      assert.ok(xarfMail);
      const parsed = await PostalMime.parse(xarfMail.raw);
      const jsons = parsed.attachments.filter((a) => a.mimeType === 'application/json');
      assert.equal(jsons.length, 6);
      const ips = new Set<string>();
      for (const att of jsons) {
        const report: unknown = JSON.parse(
          Buffer.from(
            att.content instanceof ArrayBuffer ? new Uint8Array(att.content) : Buffer.from(String(att.content)),
          ).toString('utf8'),
        );
        for (const v of validators) assert.ok(v(report), JSON.stringify(v.errors));
        assert.ok(
          typeof report === 'object' && report !== null && 'source_identifier' in report && 'source_port' in report,
        );
        ips.add(String(report.source_identifier));
        assert.match(JSON.stringify(report), /"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);
      }
      assert.deepEqual([...ips].sort(), [
        '81.56.113.1',
        '81.56.113.2',
        '81.56.113.3',
        '81.56.113.4',
        '81.56.113.5',
        '81.56.113.6',
      ]);
      const csv = parsed.attachments.find((a) => a.filename === 'digest.csv');
      assert.ok(csv);
      const csvText = Buffer.from(
        csv.content instanceof ArrayBuffer ? new Uint8Array(csv.content) : Buffer.from(String(csv.content)),
      ).toString();
      assert.equal(csvText.trim().split('\r\n').length, 7, 'header + one row per IP');
      assert.match(csvText, /81\.56\.113\.1,64500,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);

      // ARF: parsed back by the project's own parser (the one the SMTP intake uses).
      const arfs = sink.mails
        .filter((m) => m.to[0] === 'abuse@other.example')
        .map((m) => parseArf(m.raw))
        .filter((r) => r !== null);
      assert.equal(arfs.length, 2);
      for (const r of arfs) {
        assert.equal(r.feedbackType, 'abuse');
        assert.ok(r.sourceIp === '81.57.2.1' || r.sourceIp === '81.57.2.2');
        assert.equal(r.incidents, 3);
        assert.ok(r.arrivalDateIso);
        assert.equal(r.originalKind, 'message/rfc822');
        assert.ok(r.original?.toString().includes('[redacted]'));
        assert.deepEqual(r.warnings, []);
      }

      // The same IPs are not alerted again within the quiet period.
      const again = await runIspDigests(tdb.db, tdb.config, ctx.logger, new Date(Date.now() + 2 * 86_400_000));
      assert.equal(again.digests.length, 0);

      // Operators see and handle only their own alerts.
      const ops = await tdb.db.selectFrom('action_operators').select(['id', 'name']).execute();
      const broadband = ops.find((o) => o.name === 'Example Broadband')?.id ?? '';
      const other = ops.find((o) => o.name === 'Other Telecom')?.id ?? '';
      const mine = await listAlerts(tdb.db, { operatorIds: [broadband] });
      assert.equal(mine.length, 6);
      const theirs = (await listAlerts(tdb.db, { operatorIds: [other] }))[0];
      assert.equal(
        await markAlertHandled(tdb.db, theirs.id, 'user:x', [broadband]),
        false,
        'cannot handle another operator’s alert',
      );
      assert.equal(await markAlertHandled(tdb.db, mine[0].id, 'user:x', [broadband]), true);
      assert.equal((await listAlerts(tdb.db, { operatorIds: [broadband], state: 'handled' })).length, 1);

      // Through the API: a network-operator account whose web account lists AS64501.
      const app = await buildApp(ctx);
      try {
        const acct = await createAccount(tdb.db, {
          email: 'noc@other.example',
          role: 'network_operator',
          networks: [64501],
        });
        const tok = await createToken(tdb.db, { role: 'network_operator', userId: acct.id, name: 'noc' });
        const h = { authorization: `Bearer ${tok.secret}` };
        const res = await app.inject({ method: 'GET', url: '/api/v1/actions/isp/alerts', headers: h });
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(
          res
            .json()
            .alerts.map((a: { ip: string }) => a.ip)
            .sort(),
          ['81.57.2.1', '81.57.2.2'],
        );
        const foreign = await app.inject({
          method: 'POST',
          url: `/api/v1/actions/isp/alerts/${mine[1].id}/handled`,
          headers: h,
        });
        assert.equal(foreign.statusCode, 404);
        const own = await app.inject({
          method: 'POST',
          url: `/api/v1/actions/isp/alerts/${theirs.id}/handled`,
          headers: h,
        });
        assert.equal(own.statusCode, 200, own.body);
        const ops = await app.inject({ method: 'GET', url: '/api/v1/actions/isp/operators', headers: h });
        assert.equal(ops.statusCode, 403);
      } finally {
        await app.close();
      }
    } finally {
      closeTransports();
      await sink.close();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    }
  });
}
