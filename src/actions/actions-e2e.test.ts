/**
 * End to end: a phishing campaign reported over SMTP (the real SMTP intake, forward-as-attachment)
 * opens a case, the case is routed to the cybercrime authorities (one by e-mail, one partner
 * webhook) and not to data protection, the signed evidence packages reach a real SMTP sink and a
 * real webhook receiver, and the test unzips them, re-hashes every message against the manifest
 * and checks the Ed25519 signatures with the published key.
 *
 * The analysis and campaign steps are supplied here (stored analyses injected through
 * `useStoredAnalyses`, the campaign id put in the `actions-report` job), as the analysis and
 * campaigns areas would; everything from the job on is the production path.
 */
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import nodemailer from 'nodemailer';
import PostalMime from 'postal-mime';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { closeContext, createContext } from '../app/context.ts';
import { createLogger } from '../core/logger.ts';
import { newId, nowIso, sha256Hex } from '../core/ids.ts';
import { createToken } from '../db/tokens.ts';
import { getMessageRaw } from '../evidence/store.ts';
import { SmtpIntake } from '../intake/smtp/smtp-intake.ts';
import { buildApp } from '../app/build-app.ts';
import { startWorkers } from '../workers/runner.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { enqueue, jobHandler } from '../app/pipeline.ts';
import { useStoredAnalyses } from './sources.ts';
import { createAuthority } from './cases/authorities.ts';
import { caseHistory } from './cases/cases.ts';
import { drainOutbox } from './outbox/delivery.ts';
import { closeTransports } from './outbox/transports.ts';
import { readZipEntries, verifyEvidencePackage, type Manifest } from './referrals/evidence-package.ts';
import { analysisFor, spamMessage } from './test-factories.ts';
import { startSmtpSink, startWebhookSink } from './test-sinks.ts';

const REPORTERS = [
  'marie.curie@reporters.example',
  'pierre.martin@reporters.example',
  'sophie.germain@reporters.example',
];

function attachmentBytes(content: ArrayBuffer | Uint8Array | string): Buffer {
  if (typeof content === 'string') return Buffer.from(content);
  return Buffer.from(content instanceof ArrayBuffer ? new Uint8Array(content) : content);
}

function isManifest(v: unknown): v is Manifest {
  return typeof v === 'object' && v !== null && 'messages' in v && 'files' in v;
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] phishing over SMTP → case → cybercrime authorities → signed packages at a real SMTP sink and \
webhook, re-hashed and verified`, async (t) => {
    // Default policy, but referred at once (the default waits 15 minutes for the burst to join).
    const policyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sd-policy-')), 'policy.json');
    fs.writeFileSync(policyFile, JSON.stringify({ cases: { referDelayMinutes: 0 } }));
    const tdb = await createTestDatabase(t, dialect, {
      smtpPort: 0,
      outboxFrom: 'desk@spamdesk.example',
      publicUrl: 'https://spamdesk.test',
      actionsPolicyFile: policyFile,
    });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const intake = await new SmtpIntake(ctx, { ackSender: null }).start();
    const sink = await startSmtpSink();
    const hook = await startWebhookSink();
    const app = await buildApp(ctx);
    const tr = nodemailer.createTransport({
      host: '127.0.0.1',
      port: intake.address().port,
      secure: false,
      ignoreTLS: true,
    });
    try {
      const police = await createAuthority(tdb.db, {
        name: 'Cybercrime unit',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'email',
        contact: 'referrals@cyber-police.example',
      });
      const partner = await createAuthority(tdb.db, {
        name: 'Partner CERT',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'partner',
        contact: hook.url,
        evidenceMode: 'redacted-only',
      });
      await createAuthority(tdb.db, {
        name: 'Data protection',
        country: 'FR',
        competence: 'data_protection',
        contactKind: 'email',
        contact: 'dpa@dpa.example',
      });

      // Three reporters forward the phishing mail they received, as an attachment.
      const analyses = new Map<string, Analysis>();
      for (let i = 0; i < REPORTERS.length; i++) {
        const spam = spamMessage({ n: i, ip: `203.0.113.${10 + i}`, to: REPORTERS[i] });
        analyses.set(
          sha256Hex(spam),
          await analysisFor(spam, {
            ip: `203.0.113.${10 + i}`,
            asn: 64500,
            rdns: null,
            abuse: ['abuse@isp.example'],
            category: 'phishing',
          }),
        );
        await tr.sendMail({
          from: REPORTERS[i],
          to: 'spam@report.test',
          subject: 'Fwd: phishing',
          text: 'This is a scam.',
          attachments: [{ content: spam, contentType: 'message/rfc822', filename: 'spam.eml' }],
        });
      }
      const reports = await tdb.db
        .selectFrom('reports')
        .select(['id', 'message_sha256', 'channel'])
        .orderBy('id')
        .execute();
      assert.equal(reports.length, 3);
      assert.ok(
        reports.every((r) => r.channel === 'smtp' && analyses.has(r.message_sha256)),
        'the stored evidence is the attached original, byte for byte',
      );
      useStoredAnalyses(async (_db, sha) => analyses.get(sha) ?? null);
      for (const r of reports)
        await enqueue(tdb.db, 'actions-report', {
          reportId: r.id,
          sha256: r.message_sha256,
          campaignId: 'campaign-phish-1',
        });

      // One worker at a time, so the burst of reports has joined the case before it is referred.
      const runner = startWorkers(ctx, [jobHandler('actions-report'), jobHandler('actions-refer')]);
      await runner.stop();
      await runner.drain();

      const cases = await tdb.db.selectFrom('action_cases').selectAll().execute();
      assert.equal(cases.length, 1);
      assert.equal(cases[0].target_kind, 'campaign');
      assert.equal(cases[0].category, 'phishing');
      assert.equal(cases[0].state, 'referred');
      assert.equal(cases[0].opened_by, 'rule:PHISHING_CAMPAIGN');
      const referrals = await tdb.db
        .selectFrom('action_referrals')
        .select(['id', 'authority_id', 'package_sha256'])
        .execute();
      assert.deepEqual(
        referrals.map((r) => r.authority_id).sort(),
        [police.id, partner.id].sort(),
        'routed to cybercrime only',
      );

      await drainOutbox({ db: tdb.db, logger: ctx.logger, relayUrl: sink.url, retryBaseMs: 1, leaseMs: 60_000 });
      assert.equal(sink.mails.length, 1);
      assert.deepEqual(sink.mails[0].to, ['referrals@cyber-police.example']);
      assert.equal(hook.calls.length, 1);

      const keyRes = await app.inject({ method: 'GET', url: '/api/v1/actions/public-key' });
      const publicKeyPem: string = keyRes.json().publicKeyPem;

      // The mailed package.
      const mail = await PostalMime.parse(sink.mails[0].raw);
      const zipAtt = mail.attachments.find((a) => a.mimeType === 'application/zip');
      assert.ok(zipAtt);
      const mailedZip = attachmentBytes(zipAtt.content);
      // The webhook package, with its idempotency key and body signature.
      const call = hook.calls[0];
      assert.match(String(call.headers['idempotency-key']), /^referral-/);
      const sig = String(call.headers['x-spamdesk-signature']).replace(/^ed25519=/, '');
      assert.ok(
        verify(null, call.body, createPublicKey(publicKeyPem), Buffer.from(sig, 'base64')),
        'webhook body signature verifies',
      );
      const hookJson: { package: { zipBase64: string; sha256: string } } = JSON.parse(call.body.toString('utf8'));
      const hookedZip = Buffer.from(hookJson.package.zipBase64, 'base64');

      const stored = new Set(reports.map((r) => r.message_sha256));
      for (const [zip, authorityId] of [
        [mailedZip, police.id],
        [hookedZip, partner.id],
      ] as const) {
        const recorded = referrals.find((r) => r.authority_id === authorityId)?.package_sha256;
        assert.equal(sha256Hex(zip), recorded, 'the package hash is the one recorded');
        const entries = await readZipEntries(zip);
        const manifestBytes = entries.get('manifest.json');
        assert.ok(manifestBytes);
        assert.ok(
          verify(
            null,
            manifestBytes,
            createPublicKey(publicKeyPem),
            Buffer.from(entries.get('manifest.sig')?.toString().trim() ?? '', 'base64'),
          ),
          'manifest signature verifies',
        );
        const manifest: unknown = JSON.parse(manifestBytes.toString());
        assert.ok(isManifest(manifest));
        for (const f of manifest.files)
          assert.equal(
            sha256Hex(entries.get(f.path) ?? Buffer.alloc(0)),
            f.sha256,
            `${f.path} re-hashes to the manifest`,
          );
        assert.deepEqual(new Set(manifest.messages.map((m) => m.sha256)), stored);
        for (const m of manifest.messages) {
          if (m.original) {
            const bytes = entries.get(m.original) ?? Buffer.alloc(0);
            assert.equal(sha256Hex(bytes), m.sha256, 'the original re-hashes to the evidence hash');
            assert.ok(bytes.equals((await getMessageRaw(tdb.db, m.sha256)) ?? Buffer.alloc(0)), 'byte-exact evidence');
          }
          assert.ok(m.redacted && m.redactedSha256);
          const red = entries.get(m.redacted) ?? Buffer.alloc(0);
          assert.equal(sha256Hex(red), m.redactedSha256);
          for (const who of REPORTERS)
            assert.ok(
              !red.toString().includes(who) && !red.toString().includes(who.split('@')[0]),
              'redacted copy has no reporter',
            );
        }
        if (authorityId === partner.id)
          assert.ok(
            manifest.messages.every((m) => m.original === null),
            'redacted-only authority gets no originals',
          );
        for (const name of ['summary.json', 'report.html']) {
          const text = entries.get(name)?.toString() ?? '';
          for (const who of REPORTERS) assert.ok(!text.includes(who.split('@')[0]), `${name} names no reporter`);
        }
        // The authority names no language and the instance is French: the readable report is in French.
        assert.match(entries.get('report.html')?.toString() ?? '', /<h2>Remontée\u00a0: d’où venait le courriel<\/h2>/);
        const v = await verifyEvidencePackage(zip, publicKeyPem);
        assert.deepEqual(v.problems, []);
      }

      // The police acknowledges, then closes; the partner's referral keeps the case referred.
      const userId = newId();
      await tdb.db
        .insertInto('users')
        .values({
          id: userId,
          email: 'officer@cyber-police.example',
          name: 'Officer',
          role: 'authority',
          password_hash: null,
          created_at: nowIso(),
          disabled_at: null,
        })
        .execute();
      await tdb.db.updateTable('action_authorities').set({ user_id: userId }).where('id', '=', police.id).execute();
      const token = await createToken(tdb.db, { role: 'authority', userId, name: 'police' });
      const auth = { authorization: `Bearer ${token.secret}` };
      const mine = await app.inject({ method: 'GET', url: '/api/v1/actions/referrals', headers: auth });
      assert.equal(mine.statusCode, 200);
      const policeRef = referrals.find((r) => r.authority_id === police.id)?.id ?? '';
      const partnerRef = referrals.find((r) => r.authority_id === partner.id)?.id ?? '';
      assert.deepEqual(
        mine.json().referrals.map((r: { id: string }) => r.id),
        [policeRef],
      );
      const other = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/referrals/${partnerRef}/answer`,
        headers: auth,
        payload: { answer: 'close' },
      });
      assert.equal(other.statusCode, 404, 'an authority cannot answer another authority’s referral');
      const dl = await app.inject({
        method: 'GET',
        url: `/api/v1/actions/referrals/${policeRef}/package`,
        headers: auth,
      });
      assert.equal(dl.statusCode, 200);
      assert.equal(sha256Hex(dl.rawPayload), referrals.find((r) => r.id === policeRef)?.package_sha256);
      for (const answer of ['acknowledge', 'request-more', 'close']) {
        const res = await app.inject({
          method: 'POST',
          url: `/api/v1/actions/referrals/${policeRef}/answer`,
          headers: auth,
          payload: { answer, note: `${answer} by the police` },
        });
        assert.equal(res.statusCode, 200, res.body);
      }
      const caseView = await app.inject({ method: 'GET', url: `/api/v1/actions/cases/${cases[0].id}`, headers: auth });
      assert.equal(caseView.statusCode, 200);
      assert.ok(
        !caseView.body.includes('reporters.example'),
        'an authority never sees reporter identities through the API',
      );
      const kinds = (await caseHistory(tdb.db, cases[0].id)).map((h) => h.kind);
      for (const k of [
        'opened',
        'reports-added',
        'referred',
        'state:referred',
        'acknowledged',
        'more-requested',
        'closed',
      ])
        assert.ok(kinds.includes(k), `history has ${k}: ${kinds.join(',')}`);
      assert.equal(
        (await tdb.db.selectFrom('action_cases').select('state').where('id', '=', cases[0].id).executeTakeFirst())
          ?.state,
        'referred',
      );
      const anon = await app.inject({ method: 'GET', url: '/api/v1/actions/cases' });
      assert.equal(anon.statusCode, 401);
    } finally {
      useStoredAnalyses(null);
      tr.close();
      closeTransports();
      await app.close();
      await intake.stop();
      await sink.close();
      await hook.close();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    }
  });
}
