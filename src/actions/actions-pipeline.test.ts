/**
 * The whole pipeline with nothing supplied by hand: reports forwarded over SMTP are analysed
 * (analysis worker threads, offline DNS), classified and clustered (campaigns area), and the
 * `actions-report` jobs they produce open a case by the campaign-volume rule, which is referred by
 * routing and delivered through the outbox to a real SMTP sink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import PostalMime from 'postal-mime';
import { createTestDatabase } from '../db/test-databases.ts';
import { closeContext, createContext } from '../app/context.ts';
import { createLogger } from '../core/logger.ts';
import { sha256Hex } from '../core/ids.ts';
import { SmtpIntake } from '../intake/smtp/smtp-intake.ts';
import { startWorkers } from '../workers/runner.ts';
import { jobHandlers } from '../app/pipeline.ts';
import { createAuthority } from './cases/authorities.ts';
import { drainOutbox } from './outbox/delivery.ts';
import { closeTransports } from './outbox/transports.ts';
import { verifyEvidencePackage } from './referrals/evidence-package.ts';
import { loadInstanceKey } from './referrals/instance-key.ts';
import { spamMessage } from './test-factories.ts';
import { startSmtpSink } from './test-sinks.ts';

test(
  '[sqlite] SMTP intake → analysis → campaigns → actions: a campaign passing the volume rule is referred and its ' +
    'package delivered',
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-policy-'));
    const policyFile = path.join(dir, 'policy.json');
    fs.writeFileSync(
      policyFile,
      JSON.stringify({
        cases: {
          rules: [
            { name: 'CAMPAIGN_VOLUME', kind: 'campaign-volume', minReports: 3, windowDays: 7, excludeCategories: [] },
          ],
          autoRefer: true,
          referDelayMinutes: 0,
        },
        routing: { routes: [{ categories: ['*'], competence: 'consumer_protection' }] },
      }),
    );
    const tdb = await createTestDatabase(t, 'sqlite', {
      smtpPort: 0,
      logLevel: 'error',
      dnsMode: 'offline',
      actionsPolicyFile: policyFile,
      outboxFrom: 'desk@spamdesk.example',
    });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const intake = await new SmtpIntake(ctx, { ackSender: null }).start();
    const sink = await startSmtpSink();
    const tr = nodemailer.createTransport({
      host: '127.0.0.1',
      port: intake.address().port,
      secure: false,
      ignoreTLS: true,
    });
    const runner = startWorkers(ctx, jobHandlers());
    try {
      await createAuthority(tdb.db, {
        name: 'Consumer protection',
        country: 'FR',
        competence: 'consumer_protection',
        contactKind: 'email',
        contact: 'referrals@consumer.example',
      });
      const reporters = [
        'anne.leroy@reporters.example',
        'bruno.petit@reporters.example',
        'chloe.moreau@reporters.example',
      ];
      for (let i = 0; i < reporters.length; i++) {
        const spam = spamMessage({ n: i, ip: `203.0.113.${20 + i}`, to: reporters[i], greet: false });
        await tr.sendMail({
          from: reporters[i],
          to: 'spam@report.test',
          subject: 'Fwd: spam',
          text: 'Spam.',
          attachments: [{ content: spam, contentType: 'message/rfc822', filename: 'spam.eml' }],
        });
      }
      // Every stage runs in the workers; wait until the referral has been queued.
      const deadline = Date.now() + 60_000;
      while (!(await tdb.db.selectFrom('action_referrals').select('id').executeTakeFirst())) {
        if (Date.now() > deadline) {
          const jobs = await tdb.db.selectFrom('jobs').select(['kind', 'state', 'last_error']).execute();
          throw new Error(`no referral after 60 s; jobs: ${JSON.stringify(jobs)}`);
        }
        await runner.drain();
        await new Promise((r) => setTimeout(r, 100));
      }
      const campaigns = await tdb.db.selectFrom('action_report_facts').select(['campaign_id', 'category']).execute();
      assert.equal(campaigns.length, 3);
      assert.equal(
        new Set(campaigns.map((c) => c.campaign_id)).size,
        1,
        'the three reports were clustered into one campaign',
      );
      const c = await tdb.db.selectFrom('action_cases').selectAll().executeTakeFirstOrThrow();
      assert.equal(c.opened_by, 'rule:CAMPAIGN_VOLUME');
      assert.equal(c.target_value, campaigns[0].campaign_id);
      await drainOutbox({ db: tdb.db, logger: ctx.logger, relayUrl: sink.url, retryBaseMs: 1, leaseMs: 60_000 });
      assert.equal(sink.mails.length, 1);
      const mail = await PostalMime.parse(sink.mails[0].raw);
      const att = mail.attachments.find((a) => a.mimeType === 'application/zip');
      assert.ok(att && att.content instanceof ArrayBuffer);
      const zip = Buffer.from(new Uint8Array(att.content));
      const v = await verifyEvidencePackage(zip, (await loadInstanceKey(tdb.db, tdb.config)).publicKeyPem);
      assert.deepEqual(v.problems, []);
      const stored = await tdb.db.selectFrom('reports').select('message_sha256').execute();
      assert.deepEqual(
        new Set(v.manifest?.messages.map((m) => m.sha256)),
        new Set(stored.map((r) => r.message_sha256)),
      );
      assert.equal(v.messagesChecked, 3);
      assert.equal(
        sha256Hex(zip),
        (await tdb.db.selectFrom('action_referrals').select('package_sha256').executeTakeFirstOrThrow()).package_sha256,
      );
    } finally {
      await runner.stop();
      tr.close();
      closeTransports();
      await intake.stop();
      await sink.close();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    }
  },
);
