/**
 * Two Spamdesk instances exchange a case over real HTTP: instance A refers a case to a partner
 * authority; A's outbox delivers the signed referral to instance B's exchange endpoint; B verifies
 * it with A's registered key and files the byte-exact evidence under a case of its own. Then the
 * hostile variants: a redelivery, a body altered after signing, an unknown key, a package whose
 * content no longer matches its signed manifest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, DIALECTS } from '../../db/test-databases.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import { createToken } from '../../db/tokens.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { buildApp } from '../../app/build-app.ts';
import { createAuthority } from '../cases/authorities.ts';
import { addReportsToCase, caseHistory, openCase } from '../cases/cases.ts';
import { referCase } from '../referrals/referrals.ts';
import { loadInstanceKey, signatureHeader } from '../referrals/instance-key.ts';
import { drainOutbox } from '../outbox/delivery.ts';
import { closeTransports } from '../outbox/transports.ts';
import { spamMessage } from '../test-factories.ts';
import { readZipEntries } from '../referrals/evidence-package.ts';

for (const dialect of DIALECTS) {
  test(`[${dialect}] a case referred to a partner instance arrives over HTTP, verified, byte-exact, filed once; \
altered, unknown-key and forged-content deliveries are refused`, async (t) => {
    // A (the sender) on SQLite; B (the receiver) on the dialect under test.
    const tdbA = await createTestDatabase(t, 'sqlite', { publicUrl: 'https://a.spamdesk.test' });
    const tdbB = await createTestDatabase(t, dialect, { publicUrl: 'https://b.spamdesk.test' });
    if (!tdbA || !tdbB) return;
    const ctxA = await createContext(tdbA.config, { db: tdbA.db, logger: createLogger(tdbA.config), migrate: false });
    const ctxB = await createContext(tdbB.config, { db: tdbB.db, logger: createLogger(tdbB.config), migrate: false });
    const appB = await buildApp(ctxB);
    await appB.listen({ port: 0, host: '127.0.0.1' });
    const urlB = `http://127.0.0.1:${(appB.server.address() as AddressInfo).port}`;
    try {
      // B's admin registers A by its public key (obtained out of band).
      const keyA = await loadInstanceKey(tdbA.db, tdbA.config);
      const adminB = await createToken(tdbB.db, { role: 'admin', name: 'b-admin' });
      const reg = await fetch(`${urlB}/api/v1/actions/partners`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminB.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Instance A', country: 'be', publicKeyPem: keyA.publicKeyPem }),
      });
      assert.equal(reg.status, 201, await reg.clone().text());
      assert.equal((await reg.json()).partner.keyFingerprint, keyA.fingerprint);
      const analystB = await createToken(tdbB.db, { role: 'analyst', name: 'b-analyst' });
      const refused = await fetch(`${urlB}/api/v1/actions/partners`, {
        method: 'POST',
        headers: { authorization: `Bearer ${analystB.secret}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(refused.status, 403, 'only admins register partners');

      // A: three reports, a case, referred to B as a partner authority.
      const originals = [0, 1, 2].map((n) =>
        spamMessage({ n, ip: `203.0.113.${20 + n}`, to: `victim${n}@reporters.example` }),
      );
      const stored = await ctxA.writer.submit(
        originals.map((raw) => ({ raw, channel: 'api' as const, reporterAddress: 'victim@reporters.example' })),
      );
      const c = await openCase(tdbA.db, {
        targetKind: 'advertised_domain',
        targetValue: 'secure-bank-login.example',
        title: 'Fake bank login',
        category: 'phishing',
        openedBy: 'test',
      });
      await addReportsToCase(
        tdbA.db,
        c.id,
        stored.map((r) => ({ reportId: r.id, sha256: r.sha256 })),
        'test',
      );
      // A partner receives originals (which name the reporters) only with a recorded legal basis.
      await assert.rejects(
        createAuthority(tdbA.db, {
          name: 'Instance B',
          country: 'FR',
          competence: 'cybercrime',
          contactKind: 'partner',
          contact: urlB,
          evidenceMode: 'original-and-redacted',
        }),
        /legal basis/,
      );
      const byDefault = await createAuthority(tdbA.db, {
        name: 'Instance B (default)',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'partner',
        contact: urlB,
      });
      assert.equal(byDefault.evidence_mode, 'redacted-only', 'partners get redacted copies by default');
      await tdbA.db.deleteFrom('action_authorities').where('id', '=', byDefault.id).execute();
      const partnerB = await createAuthority(tdbA.db, {
        name: 'Instance B',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'partner',
        contact: urlB,
        evidenceMode: 'original-and-redacted',
        legalBasis: 'Agreement FR-BE of 2026-04-01 on the exchange of spam evidence, art. 3',
      });
      assert.equal(
        partnerB.contact,
        `${urlB}/api/v1/exchange/referrals`,
        'a partner given by its base URL gets the exchange path',
      );
      await referCase(ctxA, c.id, partnerB.id, 'test');
      const round = await drainOutbox({
        db: tdbA.db,
        logger: ctxA.logger,
        relayUrl: undefined,
        retryBaseMs: 1,
        leaseMs: 60_000,
      });
      assert.equal(round.sent, 1, `delivered (${JSON.stringify(round)})`);
      const [entry] = await tdbA.db.selectFrom('action_outbox').selectAll().execute();
      assert.equal(entry.state, 'sent');

      // B: three partner reports, byte-exact, under one case with the package's provenance.
      const reportsB = await tdbB.db.selectFrom('reports').selectAll().orderBy('id').execute();
      assert.equal(reportsB.length, 3);
      assert.ok(reportsB.every((r) => r.channel === 'partner'));
      const shasA = new Set(stored.map((r) => r.sha256));
      for (const r of reportsB) {
        assert.ok(shasA.has(r.message_sha256), 'B stores the very evidence A recorded');
        const raw = await getMessageRaw(tdbB.db, r.message_sha256);
        assert.ok(raw && originals.some((o) => o.equals(raw)), 'byte for byte');
        const context = JSON.parse(r.context ?? '{}');
        assert.equal(context.partner.name, 'Instance A');
        assert.equal(context.remoteCaseId, c.id);
        assert.equal(context.redactedCopy, false);
        assert.equal(r.reporter_address, null, 'no reporter identity travels');
      }
      const casesB = await tdbB.db.selectFrom('action_cases').selectAll().execute();
      assert.equal(casesB.length, 1);
      assert.equal(casesB[0].target_kind, 'partner_case');
      assert.equal(casesB[0].category, 'phishing');
      assert.match(casesB[0].title, /^From Instance A \(BE\): /);
      const kinds = (await caseHistory(tdbB.db, casesB[0].id)).map((e) => e.kind);
      assert.ok(kinds.includes('received-from-partner'), kinds.join(','));
      const jobs = await tdbB.db.selectFrom('jobs').select('kind').execute();
      assert.equal(jobs.filter((j) => j.kind === 'analyse-report').length, 3, 'B analyses the evidence itself');

      // The same delivery again (A's outbox retrying after a lost answer): same answer, nothing new.
      const headers = JSON.parse(entry.headers ?? '{}') as Record<string, string>;
      const post = (body: Buffer, h: Record<string, string> = headers) =>
        fetch(`${urlB}/api/v1/exchange/referrals`, {
          method: 'POST',
          // The refusals are read below in English; without the header they follow the region (fr).
          headers: { ...h, 'content-type': 'application/json', 'accept-language': 'en' },
          body: new Uint8Array(body),
        });
      const again = await post(entry.body);
      assert.equal(again.status, 200);
      assert.equal((await again.json()).duplicate, true);
      assert.equal((await tdbB.db.selectFrom('reports').select('id').execute()).length, 3);

      // Altered after signing.
      const altered = Buffer.from(entry.body.toString('utf8').replace('Fake bank login', 'Fake bank logon'));
      const r401 = await post(altered);
      assert.equal(r401.status, 401);
      assert.match((await r401.json()).message ?? '', /does not verify/);
      // Naming a key B does not know: refused before the body is read.
      const unknown = await post(entry.body, { ...headers, 'x-spamdesk-key-fingerprint': 'f'.repeat(64) });
      assert.equal(unknown.status, 401);
      assert.match((await unknown.json()).message ?? '', /not name a registered partner/);
      // Validly signed body (A's key) but a package whose message no longer matches its manifest.
      const json = JSON.parse(entry.body.toString('utf8'));
      const entries = await readZipEntries(Buffer.from(json.package.zipBase64, 'base64'));
      const yazl = (await import('yazl')).default;
      const zf = new yazl.ZipFile();
      for (const [name, data] of entries)
        zf.addBuffer(name.startsWith('messages/original/') ? Buffer.concat([data, Buffer.from('X')]) : data, name);
      zf.end();
      const chunks: Buffer[] = [];
      for await (const ch of zf.outputStream) chunks.push(ch as Buffer);
      const badZip = Buffer.concat(chunks);
      const { sha256Hex } = await import('../../core/ids.ts');
      const forgedJson = {
        ...json,
        referralId: 'forged-1',
        package: {
          ...json.package,
          zipBase64: badZip.toString('base64'),
          sha256: sha256Hex(badZip),
          size: badZip.length,
        },
      };
      const forgedBody = Buffer.from(JSON.stringify(forgedJson));
      const r400 = await post(forgedBody, { ...headers, 'x-spamdesk-signature': signatureHeader(keyA, forgedBody) });
      assert.equal(r400.status, 400);
      assert.match((await r400.json()).message ?? '', /does not verify|another package/);
      assert.equal((await tdbB.db.selectFrom('reports').select('id').execute()).length, 3, 'nothing partial stored');
    } finally {
      await appB.close();
      closeTransports();
      await closeContext(ctxA, { keepDb: true });
      await closeContext(ctxB, { keepDb: true });
      await tdbA.drop();
      await tdbB.drop();
    }
  });
}
