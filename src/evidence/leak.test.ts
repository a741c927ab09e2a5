/**
 * The leak test (issue 14): one reporter identity — Léa Martin, lea.martin@léa-martin.fr, her
 * own mail host mx1.xn--la-martin-b4a.fr, +33 6 12 34 56 78 — is planted in every form
 * (test-leak-plant.ts) into real corpus messages of every kind (spam, phishing, ham newsletters)
 * and SMS, reported by her account, and run through the whole pipeline (analysis, campaigns,
 * cases, automatic and manual referrals to authorities in both evidence modes and to a partner,
 * ISP digests in X-ARF and ARF, sender feedback). Then every artefact that leaves or that an
 * authority, network-operator, sender or partner account can see (test-leak-artefacts.ts) is
 * read by an independent scanner (test-leak-scan.ts): not one form may survive. The second test
 * proves the scanner catches each form and an unredacted artefact, so the first can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { createTestDatabase } from '../db/test-databases.ts';
import { closeContext, createContext } from '../app/context.ts';
import { createLogger } from '../core/logger.ts';
import { newId, nowIso, sha256Hex } from '../core/ids.ts';
import { buildApp } from '../app/build-app.ts';
import { userWithSession } from '../web/test-helpers.ts';
import { indexAll } from '../web/indexer.ts';
import { startWorkers } from '../workers/runner.ts';
import { jobHandlers } from '../app/pipeline.ts';
import { smsReportInput } from '../intake/sms/sms-intake.ts';
import { createAuthority } from '../actions/cases/authorities.ts';
import { addReportsToCase, openCase } from '../actions/cases/cases.ts';
import { referCase } from '../actions/referrals/referrals.ts';
import { runIspDigests } from '../actions/isp/isp-digests.ts';
import { registerOperator } from '../actions/isp/operators.ts';
import { queueSenderFeedback, registerSender } from '../actions/fbl/sender-feedback.ts';
import { closeTransports } from '../actions/outbox/transports.ts';
import { getMessageRaw } from './store.ts';
import {
  LEAK_ADDRESS,
  LEAK_ADDRESS_ASCII,
  LEAK_NAME,
  LEAK_PHONE,
  PLANTED_FORMS,
  plantIdentity,
  plantSms,
} from './test-leak-plant.ts';
import { LeakScanner, SCANNED_FORMS, type Artefact } from './test-leak-scan.ts';
import { ARTEFACT_SOURCES, type LeakEnv } from './test-leak-artefacts.ts';

/** Messages per kind (spam, recent spam, phishing, ham newsletters); override for a longer run. */
const PER_KIND = Number(process.env.SPAMDESK_LEAK_PER_KIND ?? 25);
const MAX_BYTES = 300_000;

/** Every `step`-th file of a corpus folder (a spread, not the first few), small enough to keep the test quick. */
function pick(dir: string, n: number, filter: (f: string) => boolean = () => true): string[] {
  if (!fs.existsSync(dir)) return [];
  const files = fs
    .readdirSync(dir)
    .filter(filter)
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile() && fs.statSync(f).size < MAX_BYTES);
  const step = Math.max(1, Math.floor(files.length / n));
  return files.filter((_f, i) => i % step === 0).slice(0, n);
}

function corpusMix(): { kind: string; file: string }[] {
  const c = CORPUS_DIR;
  return [
    ...pick(path.join(c, 'spamassassin', 'spam'), PER_KIND, (f) => /^\d{5}\./.test(f)).map((file) => ({
      kind: 'spam',
      file,
    })),
    ...pick(path.join(c, 'spam_archive_2023_2025', '2024'), PER_KIND, (f) => f.endsWith('.eml')).map((file) => ({
      kind: 'spam (2024)',
      file,
    })),
    ...pick(path.join(c, 'phishing_pot', 'email'), PER_KIND, (f) => f.endsWith('.eml')).map((file) => ({
      kind: 'phishing',
      file,
    })),
    ...pick(path.join(c, 'spamassassin', 'hard_ham'), PER_KIND, (f) => /^\d{5}\./.test(f)).map((file) => ({
      kind: 'ham newsletter',
      file,
    })),
  ];
}

function smsSpam(n: number): string[] {
  const file = path.join(CORPUS_DIR, 'sms_spam_collection', 'SMSSpamCollection');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('spam\t'))
    .slice(0, n)
    .map((l) => l.slice(5).trim());
}

test(
  '[sqlite] not one form of the reporter’s identity survives in anything that leaves or that an outside role ' + 'sees',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam') || !needsCorpus(t, 'phishing_pot/email')) return;
    const policyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sd-leak-')), 'policy.json');
    fs.writeFileSync(
      policyFile,
      JSON.stringify({
        cases: { autoRefer: true, referDelayMinutes: 0, referUpdates: false },
        routing: { routes: [{ categories: ['*'], competence: 'cybercrime' }] },
        // Corpus spam is years old and mixed with ham: alert on it all the same (it is the artefacts
        // that are tested here, not the gates).
        isp: { minReports: 1, minSignals: 1, quietPeriodHours: 0, maxOriginAgeDays: 100_000, maxLegitimateShare: 1 },
        gates: { maxLegitimateShare: 1, minPurity: 0 },
      }),
    );
    const tdb = await createTestDatabase(t, 'sqlite', {
      dnsMode: 'offline',
      actionsPolicyFile: policyFile,
      outboxFrom: 'desk@spamdesk.example',
      publicUrl: 'https://spamdesk.test',
      logLevel: 'error',
    });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const app = await buildApp(ctx);
    try {
      const { db } = tdb;
      // Léa's account: her address and name; her number comes with the SMS she reports.
      const lea = newId();
      await db
        .insertInto('users')
        .values({
          id: lea,
          email: LEAK_ADDRESS,
          name: LEAK_NAME,
          role: 'reporter',
          password_hash: null,
          created_at: nowIso(),
          disabled_at: null,
        })
        .execute();

      // Real messages with the identity planted, reported by her (API and forwarded by mail).
      const mix = corpusMix();
      const planted: { kind: string; raw: Buffer; bodyPlanted: boolean }[] = [];
      for (const [i, m] of mix.entries()) {
        const p = plantIdentity(fs.readFileSync(m.file), i);
        if (p) planted.push({ kind: m.kind, ...p });
      }
      assert.ok(planted.length >= 4 * Math.min(PER_KIND, 20), `a real mix (${planted.length} messages)`);
      const byMail = (i: number) => i % 4 === 3;
      const stored = await ctx.writer.submit(
        planted.map((p, i) => ({
          raw: p.raw,
          channel: byMail(i) ? ('smtp' as const) : ('api' as const),
          reporterUserId: lea,
          reporterAddress: byMail(i) ? LEAK_ADDRESS_ASCII : null,
          clientIp: '192.0.2.10',
          note: `Encore un spam — ${LEAK_NAME}, ${LEAK_PHONE}`,
          context: byMail(i)
            ? { wrapper: { from: `"${LEAK_NAME}" <${LEAK_ADDRESS_ASCII}>`, subject: 'Fwd: spam' } }
            : null,
        })),
      );
      const sms = smsSpam(4);
      const storedSms = await ctx.writer.submit(
        sms.map((text, i) =>
          smsReportInput({
            sender: `+3370000000${i}`,
            text: plantSms(text, i),
            receivedAt: null,
            reporterNumber: LEAK_PHONE,
            reporterUserId: lea,
            clientIp: '192.0.2.10',
          }),
        ),
      );

      // Accounts of the outside roles, and who receives what.
      const authorityUser = await userWithSession(db, tdb.config, 'authority');
      const police = await createAuthority(db, {
        name: 'Police cybercrime unit',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'email',
        contact: 'referrals@police.example',
        userId: authorityUser.id,
      });
      const dpa = await createAuthority(db, {
        name: 'Data protection authority',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'email',
        contact: 'referrals@dpa.example',
        evidenceMode: 'redacted-only',
        userId: authorityUser.id,
      });
      const hookAuthority = await createAuthority(db, {
        name: 'Consumer protection (webhook)',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'webhook',
        contact: 'https://consumer.example/hook',
        evidenceMode: 'redacted-only',
      });
      const partner = await createAuthority(db, {
        name: 'Partner platform',
        country: 'BE',
        competence: 'cybercrime',
        contactKind: 'partner',
        contact: 'https://partner.example',
      });
      assert.equal(partner.evidence_mode, 'redacted-only', 'a partner gets redacted copies by default');

      // The whole pipeline: analysis, campaigns, case rules, automatic referrals.
      const runner = startWorkers(ctx, jobHandlers());
      for (let round = 0; round < 200; round++) {
        await runner.drain();
        const left = await db
          .selectFrom('jobs')
          .select('id')
          .where('state', 'in', ['queued', 'running'])
          .where('run_at', '<=', nowIso())
          .executeTakeFirst();
        if (!left) break;
      }
      await runner.stop();
      const dead = await db.selectFrom('jobs').select(['kind', 'last_error']).where('state', '=', 'dead').execute();
      assert.deepEqual(dead, [], 'every job ran');
      // The web app's report index (the service `serve` runs) behind the operator's pages.
      await indexAll(db);

      // A case holding every report, referred to every authority (both modes, webhook, partner).
      const all = [...stored, ...storedSms];
      const c = await openCase(db, {
        targetKind: 'campaign',
        targetValue: 'leak-test',
        title: `Campagne visant ${LEAK_NAME} (${LEAK_ADDRESS})`,
        category: 'phishing',
        openedBy: 'test',
      });
      await addReportsToCase(
        db,
        c.id,
        all.map((r) => ({ reportId: r.id, sha256: r.sha256 })),
        'test',
      );
      for (const a of [police, dpa, hookAuthority, partner]) await referCase(ctx, c.id, a.id, 'test');

      // ISP digests to the networks the messages came from, in X-ARF and ARF.
      const facts = await db.selectFrom('action_report_facts').selectAll().execute();
      const asns = [
        ...new Set(
          facts
            .map((f) => f.origin_asn)
            .filter((a): a is number => a !== null)
            .map(Number),
        ),
      ].sort((a, b) => a - b);
      assert.ok(asns.length >= 2, `origins in several networks (${asns.join(', ')})`);
      const operatorUser = await userWithSession(db, tdb.config, 'network_operator', { networks: asns });
      for (const [i, asn] of asns.entries()) {
        await registerOperator(db, {
          name: `ISP AS${asn}`,
          abuseAddress: `abuse@as${asn}.example`,
          format: i % 2 ? 'arf' : 'xarf',
          asns: [asn],
          userId: operatorUser.id,
        });
      }
      const digest = await runIspDigests(db, tdb.config, ctx.logger, new Date(Date.now() + 60_000));
      assert.ok(
        digest.digests.some((d) => d.format === 'xarf') && digest.digests.some((d) => d.format === 'arf'),
        `digests in both formats: ${JSON.stringify(digest.digests.map((d) => d.format))}`,
      );

      // Sender feedback: a registered sender owning every origin IP receives an ARF per complaint.
      const senderUser = await userWithSession(db, tdb.config, 'sender');
      const sender = await registerSender(db, {
        name: 'Newsletter Co',
        feedbackAddress: 'fbl@newsletter.example',
        userId: senderUser.id,
      });
      for (const ip of new Set(facts.map((f) => f.origin_ip).filter((x): x is string => x !== null))) {
        await db
          .insertInto('action_sender_identities')
          .values({
            id: newId(),
            sender_id: sender.id,
            kind: 'ip',
            value: ip,
            token: 't',
            verified_at: nowIso(),
            created_at: nowIso(),
          })
          .execute();
      }
      let fbl = 0;
      for (const f of facts) fbl += await queueSenderFeedback(db, tdb.config, f);
      assert.ok(fbl > 0, 'sender feedback queued');
      const partnerUser = await userWithSession(db, tdb.config, 'partner');

      // The evidence itself is never altered.
      for (const [i, r] of stored.entries())
        assert.ok(
          (await getMessageRaw(db, r.sha256))?.equals(planted[i].raw),
          'stored evidence is byte for byte what was reported',
        );

      // Collect every artefact and read it.
      const env: LeakEnv = {
        ctx,
        app,
        accounts: {
          authority: authorityUser,
          network_operator: operatorUser,
          sender: senderUser,
          partner: partnerUser,
        },
        lookupMessage: planted[0].raw,
      };
      const scanner = new LeakScanner();
      const counts: string[] = [];
      let artefacts = 0;
      const names: string[] = [];
      for (const source of ARTEFACT_SOURCES) {
        const list = await source.collect(env);
        counts.push(`${source.name}: ${list.length}`);
        artefacts += list.length;
        for (const a of list) await scanner.scan(a);
        names.push(...list.map((a) => a.name));
        if (process.env.SPAMDESK_LEAK_REPORT)
          fs.appendFileSync(
            `${process.env.SPAMDESK_LEAK_REPORT}.artefacts`,
            list.map((a) => `${a.name} (${a.audience}) ${a.bytes.length} bytes\n`).join(''),
          );
      }
      const outbox = await db.selectFrom('action_outbox').select(['purpose']).execute();
      const purposes = new Map<string, number>();
      for (const o of outbox) purposes.set(o.purpose, (purposes.get(o.purpose) ?? 0) + 1);
      const kinds = new Map<string, number>();
      for (const p of planted) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
      process.stdout.write(
        `# leak test: ${planted.length} corpus messages (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}; \
${planted.filter((p) => p.bodyPlanted).length} with planted bodies) + ${sms.length} SMS, ` +
          `${PLANTED_FORMS.length} planted forms, ${SCANNED_FORMS.length} scanned forms; ${artefacts} artefacts \
(${counts.join('; ')}; outbox ${[...purposes].map(([k, n]) => `${k} ${n}`).join(', ')}), ${scanner.layers} decoded \
layers read\n`,
      );
      for (const view of [
        'GET /network/reports/',
        'GET /network?',
        'GET /api/v1/campaigns/',
        'GET /api/v1/actions/cases/',
        'GET /cases',
        'GET /api/v1/actions/referrals/',
        'GET /referrals/',
        'POST /api/v1/lookup',
        'GET /api/v1/actions/isp/alerts',
        'GET /stats.csv',
      ]) {
        assert.ok(
          names.some((n) => n.startsWith(view.replace(/\?$/, ''))),
          `the artefacts include ${view}`,
        );
      }
      assert.ok(
        names.filter((n) => n.startsWith('GET /network/reports/')).length >= planted.length / 4,
        'the operator’s report pages were read',
      );
      assert.ok(
        (purposes.get('referral') ?? 0) >= 4 && (purposes.get('isp-digest') ?? 0) > 0 && (purposes.get('fbl') ?? 0) > 0,
        'every kind of outbound artefact was produced',
      );
      if (process.env.SPAMDESK_LEAK_REPORT)
        fs.writeFileSync(
          process.env.SPAMDESK_LEAK_REPORT,
          scanner.leaks.map((l) => `${l.artefact} › ${l.where}: ${l.form} — …${l.excerpt}…`).join('\n'),
        );
      const report = scanner.leaks.slice(0, 40).map((l) => `${l.artefact} › ${l.where}: ${l.form} — …${l.excerpt}…`);
      assert.deepEqual(report, [], `${scanner.leaks.length} leak(s)`);
    } finally {
      closeTransports();
      await app.close();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    }
  },
);

test('a base64 run whose + surround the letters of the first name is not read as a form-encoded name', async () => {
  const s = new LeakScanner();
  const b64 = `AKW8aukzOIzFGwP6boTwW48XvgFbaT98LO3h+x4+lea+Ipc25bQwtHt77Y7J2RwvH6lgflNdb+85kY6PonXgnZFYn5ps6Br0Bp21`;
  await s.scan({
    name: 'signature',
    audience: 'test',
    kind: 'mail',
    bytes: Buffer.from(`DKIM-Signature: b=${b64}\r\n`),
  });
  assert.deepEqual(s.leaks, []);
  // A form-encoded name is still one.
  const f = new LeakScanner();
  await f.scan({ name: 'form', audience: 'test', kind: 'mail', bytes: Buffer.from('first=L%C3%A9a&last=Martin\r\n') });
  assert.ok(f.leaks.some((l) => l.form === 'first name'));
});

test('the leak scanner catches each planted form and an unredacted artefact (the leak test can fail)', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const file = pick(path.join(CORPUS_DIR, 'spamassassin', 'spam'), 1, (f) => /^\d{5}\./.test(f))[0];
  const p = plantIdentity(fs.readFileSync(file), 1);
  assert.ok(p);
  // The original as planted: the scanner finds the identity in it, in many forms.
  const s = new LeakScanner();
  await s.scan({ name: 'unredacted original', audience: 'nobody', kind: 'mail', bytes: p.raw });
  const found = new Set(s.leaks.map((l) => l.form));
  for (const form of [
    'address',
    'address (punycode)',
    'local part',
    'name',
    'first name',
    'surname',
    'phone number',
    'own mail domain (punycode)',
    'md5 of the address',
    'hex of the address',
  ]) {
    assert.ok(
      found.has(form),
      `the scanner finds the ${form} in an unredacted message (found: ${[...found].join(', ')})`,
    );
  }
  // Each encoding alone, hidden in a JSON artefact as a summary would carry it.
  const lone: Record<string, string> = {
    percent: `https://v.example/verify?u=${encodeURIComponent(LEAK_ADDRESS_ASCII)}`,
    base64: `https://t.example/o?e=${Buffer.from(`id=1;${LEAK_ADDRESS}`).toString('base64')}`,
    base64url: `https://t.example/o?e=${Buffer.from(`ab${LEAK_ADDRESS_ASCII}`).toString('base64url')}`,
    entities: [...LEAK_ADDRESS_ASCII].map((c) => `&#${c.charCodeAt(0)};`).join(''),
    quotedPrintable: 'lea.martin=40xn--la-martin-b4a.fr',
    sha256: sha256Hex(LEAK_ADDRESS),
    name: 'Hello L\u00e9a',
    phone: 'call 06 12 34 56 78',
  };
  for (const [label, value] of Object.entries(lone)) {
    const one = new LeakScanner();
    const a: Artefact = {
      name: `planted ${label}`,
      audience: 'test',
      kind: 'json',
      bytes: Buffer.from(JSON.stringify({ indicators: { urls: [{ value }] } })),
    };
    await one.scan(a);
    assert.ok(one.leaks.length > 0, `the scanner catches the ${label} form`);
  }
  // An artefact whose package carries an unredacted copy where only redacted ones belong.
  const yazl = (await import('yazl')).default;
  const z = new yazl.ZipFile();
  z.addBuffer(p.raw, 'messages/redacted/x.eml');
  z.addBuffer(p.raw, 'messages/original/x.eml');
  z.end();
  const chunks: Buffer[] = [];
  for await (const ch of z.outputStream) chunks.push(Buffer.isBuffer(ch) ? ch : Buffer.from(ch));
  const zipScan = new LeakScanner();
  await zipScan.scan({
    name: 'package',
    audience: 'authority (originals allowed)',
    kind: 'zip',
    bytes: Buffer.concat(chunks),
    exempt: (f) => f.startsWith('messages/original/'),
  });
  assert.ok(
    zipScan.leaks.some((l) => l.where.includes('messages/redacted/x.eml')),
    'an unredacted copy in a package is caught',
  );
  assert.ok(
    !zipScan.leaks.some((l) => l.where.includes('messages/original/')),
    'originals an authority is entitled to are not counted',
  );
});
