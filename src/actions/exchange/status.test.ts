/**
 * Partners answer back (issue 22), between two real instances over real HTTP, one on SQLite and
 * one on PostgreSQL, each with its own database and its own Fastify app on 127.0.0.1: A refers a
 * case to B; B's signed statuses travel back through B's outbox (received → acknowledged → more
 * requested); A's analyst approves the request and a follow-up package with the originals answers
 * it; B closes with an outcome, and A's referrals, case and reporters' outcome follow. Then the
 * hostile statuses — an unknown key, a forged signature, a replay, a reused message id, a case
 * never sent, a partner answering for another, out of order, off-schema — are refused with a
 * clear reason and nothing changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createTestDatabase } from '../../db/test-databases.ts';
import type { DialectName } from '../../db/dialect.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import { createToken } from '../../db/tokens.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { buildApp } from '../../app/build-app.ts';
import { createAuthority } from '../cases/authorities.ts';
import { addReportsToCase, caseHistory, getCase, openCase } from '../cases/cases.ts';
import { referCase } from '../referrals/referrals.ts';
import { generateInstanceKey, loadInstanceKey, signatureHeader, type InstanceKey } from '../referrals/instance-key.ts';
import { drainOutbox } from '../outbox/delivery.ts';
import { closeTransports } from '../outbox/transports.ts';
import { spamMessage } from '../test-factories.ts';
import { exchangeSchemaProblems } from './schemas.ts';
import { reporterExchangeOutcome } from './outcome.ts';
import { referralStatusHistory, statusTransition, type StatusMessage } from './status.ts';

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers field by field
type Json = Record<string, any>;

const PAIRS: ReadonlyArray<[DialectName, DialectName]> = [
  ['sqlite', 'postgres'],
  ['postgres', 'sqlite'],
];

test('status order: nothing before received, nothing after closed, received once', () => {
  assert.equal(statusTransition('none', 'received').ok, true);
  const early = statusTransition('none', 'closed');
  assert.ok(!early.ok && early.tooEarly);
  const late = statusTransition('closed', 'acknowledged');
  assert.ok(!late.ok && !late.tooEarly && /closed/.test(late.reason));
  assert.equal(statusTransition('received', 'received').ok, false);
  assert.equal(statusTransition('acknowledged', 'acknowledged').ok, false);
  assert.equal(statusTransition('more-requested', 'acknowledged').ok, true);
  assert.equal(statusTransition('acknowledged', 'more-requested').ok, true);
  assert.equal(statusTransition('more-requested', 'closed').ok, true);
});

test('the published status schema refuses a close without outcome and a request outside more-requested', () => {
  const base = {
    type: 'spamdesk.referral-status',
    version: 1,
    messageId: 'abcdefgh12',
    referralId: 'r1',
    sequence: 1,
    sentAt: '2026-12-01T10:00:00.000Z',
    caseReference: { sender: 'c1', receiver: 'c2' },
    receiver: { name: 'CERT', country: 'FR', contactPoint: { name: 'Desk' } },
  };
  assert.deepEqual(exchangeSchemaProblems('status-v1', { ...base, status: 'closed', outcome: 'sanction' }), []);
  assert.notDeepEqual(exchangeSchemaProblems('status-v1', { ...base, status: 'closed' }), []);
  assert.notDeepEqual(
    exchangeSchemaProblems('status-v1', {
      ...base,
      status: 'acknowledged',
      request: { kind: 'originals', question: 'q' },
    }),
    [],
  );
  assert.notDeepEqual(exchangeSchemaProblems('status-v1', { ...base, status: 'acknowledged', extra: 1 }), []);
  assert.notDeepEqual(exchangeSchemaProblems('status-v1', { ...base, status: 'done' }), []);
  assert.notDeepEqual(exchangeSchemaProblems('status-v1', { ...base, sequence: 0, status: 'received' }), []);
});

for (const [dA, dB] of PAIRS) {
  test(`[A ${dA}, B ${dB}] refer → received → acknowledge → request originals → approved follow-up → close travels \
back signed; hostile statuses are refused with nothing changed`, async (t) => {
    const tdbA = await createTestDatabase(t, dA, { publicUrl: 'https://a.spamdesk.test' });
    const tdbB = await createTestDatabase(t, dB, { publicUrl: 'https://b.spamdesk.test' });
    if (!tdbA || !tdbB) return;
    const ctxA = await createContext(tdbA.config, { db: tdbA.db, logger: createLogger(tdbA.config), migrate: false });
    const ctxB = await createContext(tdbB.config, { db: tdbB.db, logger: createLogger(tdbB.config), migrate: false });
    const appA = await buildApp(ctxA);
    const appB = await buildApp(ctxB);
    await appA.listen({ port: 0, host: '127.0.0.1' });
    await appB.listen({ port: 0, host: '127.0.0.1' });
    const urlA = `http://127.0.0.1:${(appA.server.address() as AddressInfo).port}`;
    const urlB = `http://127.0.0.1:${(appB.server.address() as AddressInfo).port}`;
    const drain = (ctx: typeof ctxA) =>
      drainOutbox({ db: ctx.db, logger: ctx.logger, relayUrl: undefined, retryBaseMs: 1, leaseMs: 60_000 });
    const api = async (base: string, token: string, method: string, path: string, b?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'accept-language': 'en',
          ...(b ? { 'content-type': 'application/json' } : {}),
        },
        body: b ? JSON.stringify(b) : undefined,
      });
      return { status: res.status, json: (await res.json()) as Json };
    };
    try {
      const keyA = await loadInstanceKey(tdbA.db, tdbA.config);
      const keyB = await loadInstanceKey(tdbB.db, tdbB.config);
      const adminA = (await createToken(tdbA.db, { role: 'admin', name: 'a-admin' })).secret;
      const adminB = (await createToken(tdbB.db, { role: 'admin', name: 'b-admin' })).secret;
      const analystA = (await createToken(tdbA.db, { role: 'analyst', name: 'a-analyst' })).secret;
      const analystB = (await createToken(tdbB.db, { role: 'analyst', name: 'b-analyst' })).secret;
      // Each registers the other by key and URL (obtained out of band).
      const regB = await api(urlB, adminB, 'POST', '/api/v1/actions/partners', {
        name: 'Instance A',
        country: 'be',
        publicKeyPem: keyA.publicKeyPem,
      });
      assert.equal(regB.status, 201, JSON.stringify(regB.json));
      const regA = await api(urlA, adminA, 'POST', '/api/v1/actions/partners', {
        name: 'Instance B',
        country: 'fr',
        publicKeyPem: keyB.publicKeyPem,
        url: urlB,
      });
      assert.equal(regA.status, 201, JSON.stringify(regA.json));
      assert.equal(regA.json.partner.url, urlB);
      const badUrl = await api(urlA, adminA, 'POST', '/api/v1/actions/partners', {
        name: 'Plain HTTP',
        country: 'de',
        publicKeyPem: generateInstanceKey().publicKeyPem,
        url: 'http://partner.example',
      });
      assert.equal(badUrl.status, 400, 'plain http only to loopback');

      // A: a case of three reports referred to B (redacted copies: no legal basis registered).
      const originals = [0, 1, 2].map((n) =>
        spamMessage({ n, ip: `203.0.113.${40 + n}`, to: `victim${n}@reporters.example` }),
      );
      const stored = await ctxA.writer.submit(
        originals.map((raw) => ({ raw, channel: 'api' as const, reporterAddress: 'victim@reporters.example' })),
      );
      const openReferredCase = async (title: string) => {
        const c = await openCase(tdbA.db, {
          targetKind: 'advertised_domain',
          targetValue: `${title.replace(/\W/g, '-').toLowerCase()}.example`,
          title,
          category: 'phishing',
          openedBy: 'test',
        });
        await addReportsToCase(
          tdbA.db,
          c.id,
          stored.map((r) => ({ reportId: r.id, sha256: r.sha256 })),
          'test',
        );
        return c;
      };
      const c = await openReferredCase('Fake bank login');
      const authB = await createAuthority(tdbA.db, {
        name: 'Instance B',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'partner',
        contact: urlB,
      });
      const { referralId } = await referCase(ctxA, c.id, authB.id, 'test');
      assert.equal((await drain(ctxA)).sent, 1);
      const receivedB = await tdbB.db.selectFrom('action_received_packages').selectAll().execute();
      assert.equal(receivedB.length, 1);
      const caseB = receivedB[0].case_id;
      const reportsB1 = await tdbB.db.selectFrom('reports').select(['context']).execute();
      assert.ok(
        reportsB1.every((r) => JSON.parse(r.context ?? '{}').redactedCopy === true),
        'redacted first',
      );

      // B registered A without its URL: nothing can go back yet.
      const refState = async (id: string) =>
        (await tdbA.db.selectFrom('action_referrals').select('state').where('id', '=', id).executeTakeFirstOrThrow())
          .state;
      assert.equal((await drain(ctxB)).claimed, 0);
      const noUrl = await api(urlB, analystB, 'POST', `/api/v1/actions/cases/${caseB}/partner-status`, {
        status: 'acknowledged',
      });
      assert.equal(noUrl.status, 409);
      assert.match(String(noUrl.json.message), /no registered URL/);
      const setUrl = await api(urlB, adminB, 'POST', `/api/v1/actions/partners/${regB.json.partner.id}/url`, {
        url: urlA,
      });
      assert.equal(setUrl.status, 200, JSON.stringify(setUrl.json));

      // B's analyst acknowledges, then asks for the originals.
      const ack = await api(urlB, analystB, 'POST', `/api/v1/actions/cases/${caseB}/partner-status`, {
        status: 'acknowledged',
        note: 'Opened file 2026/4471.',
        competence: 'cybercrime',
        legalBasis: 'Code de procédure pénale, art. 40',
      });
      assert.equal(ack.status, 202, JSON.stringify(ack.json));
      // The package's `received` goes first (it could not go when the package came), then the answer.
      assert.equal((await drain(ctxB)).sent, 2);
      assert.equal(await refState(referralId), 'acknowledged');
      const twice = await api(urlB, analystB, 'POST', `/api/v1/actions/cases/${caseB}/partner-status`, {
        status: 'acknowledged',
      });
      assert.equal(twice.status, 409, 'B does not send what A would refuse');
      const noOutcome = await api(urlB, analystB, 'POST', `/api/v1/actions/cases/${caseB}/partner-status`, {
        status: 'closed',
      });
      assert.equal(noOutcome.status, 400);
      assert.match(String(noOutcome.json.message), /outcome/);
      const more = await api(urlB, analystB, 'POST', `/api/v1/actions/cases/${caseB}/partner-status`, {
        status: 'more-requested',
        request: { kind: 'originals', question: 'The prosecutor needs the unredacted headers.' },
      });
      assert.equal(more.status, 202, JSON.stringify(more.json));
      assert.equal((await drain(ctxB)).sent, 1);
      assert.equal(await refState(referralId), 'more-requested');

      // A's analyst sees the request; originals need a legal basis; approving sends a follow-up.
      const pending = await api(urlA, analystA, 'GET', '/api/v1/actions/exchange/requests?state=pending');
      assert.equal(pending.status, 200);
      assert.equal(pending.json.requests.length, 1);
      const request = pending.json.requests[0];
      assert.equal(request.kind, 'originals');
      assert.equal(request.question, 'The prosecutor needs the unredacted headers.');
      const noBasis = await api(urlA, analystA, 'POST', `/api/v1/actions/exchange/requests/${request.id}/approve`, {});
      assert.equal(noBasis.status, 400);
      assert.match(String(noBasis.json.message), /legalBasis/);
      const approved = await api(urlA, analystA, 'POST', `/api/v1/actions/exchange/requests/${request.id}/approve`, {
        legalBasis: 'Mutual assistance request MLA-2026-118 of 2026-11-30',
      });
      assert.equal(approved.status, 202, JSON.stringify(approved.json));
      const again = await api(urlA, analystA, 'POST', `/api/v1/actions/exchange/requests/${request.id}/approve`, {
        legalBasis: 'Mutual assistance request MLA-2026-118 of 2026-11-30',
      });
      assert.equal(again.status, 409, 'approved once');
      const audit = await tdbA.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'exchange.request.approve')
        .execute();
      assert.equal(audit.length, 1);
      const followUpId = approved.json.referralId as string;
      assert.equal((await drain(ctxA)).sent, 1);
      const followUpB = await tdbB.db
        .selectFrom('action_received_packages')
        .selectAll()
        .where('package_id', '=', followUpId)
        .executeTakeFirstOrThrow();
      assert.equal(followUpB.case_id, caseB, 'the follow-up joins the same case on B');
      const originalsB = await tdbB.db
        .selectFrom('reports')
        .select(['context', 'message_sha256'])
        .where('id', 'in', JSON.parse(followUpB.report_ids))
        .execute();
      assert.equal(originalsB.length, 3);
      assert.ok(
        originalsB.every((r) => JSON.parse(r.context ?? '{}').redactedCopy === false),
        'originals now',
      );
      const shasA = new Set(stored.map((r) => r.sha256));
      assert.ok(
        originalsB.every((r) => shasA.has(r.message_sha256)),
        'byte-exact originals',
      );
      const historyB = await caseHistory(tdbB.db, caseB);
      const replyEvent = historyB.filter((e) => e.kind === 'received-from-partner').at(-1);
      assert.equal((replyEvent?.detail as { inReplyTo?: string } | undefined)?.inReplyTo, more.json.messageId);
      assert.equal((await drain(ctxB)).sent, 1, 'B acknowledges the follow-up');
      assert.equal(await refState(followUpId), 'received');

      // B closes with an outcome; A's referrals and case close, its reporters read the outcome.
      const close = await api(urlB, analystB, 'POST', `/api/v1/actions/cases/${caseB}/partner-status`, {
        status: 'closed',
        outcome: 'prosecution',
        note: 'Passed to the Paris prosecutor, ref. 26/118.',
      });
      assert.equal(close.status, 202, JSON.stringify(close.json));
      assert.equal((await getCase(tdbB.db, caseB)).state, 'closed');
      assert.equal((await drain(ctxB)).sent, 1);
      assert.equal(await refState(referralId), 'closed');
      assert.equal(await refState(followUpId), 'closed');
      assert.equal((await getCase(tdbA.db, c.id)).state, 'closed');
      const historyA = (await caseHistory(tdbA.db, c.id)).map((e) => e.kind);
      for (const k of ['partner-received', 'partner-acknowledged', 'partner-more-requested', 'partner-closed'])
        assert.ok(historyA.includes(k), `${k} in ${historyA.join(',')}`);
      const statuses = await api(urlA, analystA, 'GET', `/api/v1/actions/referrals/${referralId}/statuses`);
      assert.deepEqual(
        statuses.json.statuses.map((s: { status: string }) => s.status),
        ['received', 'acknowledged', 'more-requested'],
      );
      assert.equal(statuses.json.statuses[1].receiver.legalBasis, 'Code de procédure pénale, art. 40');
      assert.equal(statuses.json.statuses[1].caseReference.receiver, caseB);
      const followUpHistory = await referralStatusHistory(tdbA.db, followUpId);
      assert.deepEqual(
        followUpHistory.map((s) => [s.status, s.outcome]),
        [
          ['received', null],
          ['closed', 'prosecution'],
        ],
      );
      const outcome = await reporterExchangeOutcome(tdbA.db, stored[0].id);
      assert.equal(outcome?.key, 'exchange.outcome.prosecution');
      assert.deepEqual(outcome?.params, { partner: 'Instance B', country: 'FR' });

      // Hostile statuses, straight at A's endpoint. Nothing may change.
      const snapshot = async () => ({
        events: (await tdbA.db.selectFrom('action_case_events').select('id').execute()).length,
        messages: (await tdbA.db.selectFrom('action_exchange_messages').select('id').execute()).length,
        requests: (await tdbA.db.selectFrom('action_exchange_requests').select('id').execute()).length,
        referrals: (await tdbA.db.selectFrom('action_referrals').select(['id', 'state']).orderBy('id').execute()).map(
          (r) => `${r.id}:${r.state}`,
        ),
        cases: (await tdbA.db.selectFrom('action_cases').select(['id', 'state']).orderBy('id').execute()).map(
          (r) => `${r.id}:${r.state}`,
        ),
      });
      // A second case referred to B, delivered but not yet received by B's status.
      const c2 = await openReferredCase('Fake parcel fee');
      const second = await referCase(ctxA, c2.id, authB.id, 'test');
      assert.equal((await drain(ctxA)).sent, 1);
      const before = await snapshot();
      const post = (body: Buffer, headers: Record<string, string>) =>
        fetch(`${urlA}/api/v1/exchange/status`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', 'accept-language': 'en' },
          body: new Uint8Array(body),
        }).then(async (r) => ({ status: r.status, json: (await r.json()) as Json }));
      const signed = (key: InstanceKey, msg: Partial<StatusMessage> & Record<string, unknown>) => {
        const body = Buffer.from(
          JSON.stringify({
            type: 'spamdesk.referral-status',
            version: 1,
            messageId: newId(),
            referralId: second.referralId,
            sequence: 1,
            status: 'acknowledged',
            sentAt: nowIso(),
            caseReference: { sender: c2.id, receiver: caseB },
            receiver: { name: 'Instance B', country: 'FR', contactPoint: { name: 'Desk' } },
            ...msg,
          }),
        );
        return {
          body,
          headers: {
            'x-spamdesk-signature': signatureHeader(key, body),
            'x-spamdesk-key-fingerprint': key.fingerprint,
          },
        };
      };
      const rogue = generateInstanceKey();
      const unknown = signed(rogue, { status: 'received' });
      let r = await post(unknown.body, unknown.headers);
      assert.equal(r.status, 401);
      assert.match(String(r.json.message), /not name a registered partner/);
      const forged = signed(rogue, { status: 'received' });
      r = await post(forged.body, { ...forged.headers, 'x-spamdesk-key-fingerprint': keyB.fingerprint });
      assert.equal(r.status, 401, 'B’s fingerprint, another key’s signature');
      assert.match(String(r.json.message), /does not verify/);
      // Replayed: B's own closing message, byte for byte, sent again.
      const closeRow = await tdbB.db
        .selectFrom('action_outbox')
        .selectAll()
        .where('subject_id', '=', close.json.messageId)
        .executeTakeFirstOrThrow();
      const closeHeaders = JSON.parse(closeRow.headers ?? '{}') as Record<string, string>;
      r = await post(closeRow.body, closeHeaders);
      assert.equal(r.status, 200);
      assert.equal(r.json.duplicate, true);
      // The same message id with other content.
      const closeJson = JSON.parse(closeRow.body.toString('utf8'));
      const reused = signed(keyB, { ...closeJson, note: 'changed' });
      r = await post(reused.body, reused.headers);
      assert.equal(r.status, 409);
      assert.match(String(r.json.message), /already received with another content/);
      // For a case never sent.
      const never = signed(keyB, {
        status: 'received',
        referralId: 'never-sent-1',
        caseReference: { sender: 'x', receiver: caseB },
      });
      r = await post(never.body, never.headers);
      assert.equal(r.status, 404);
      assert.match(String(r.json.message), /sent no referral never-sent-1/);
      // A real referral but another case named.
      const otherCase = signed(keyB, { status: 'received', caseReference: { sender: c.id, receiver: caseB } });
      r = await post(otherCase.body, otherCase.headers);
      assert.equal(r.status, 404);
      // Closed before received: too early (a sender's outbox retries it).
      const early = signed(keyB, { status: 'closed', outcome: 'no-action' });
      r = await post(early.body, early.headers);
      assert.equal(r.status, 425);
      assert.match(String(r.json.message), /before the referral was received/);
      // Acknowledged after closed.
      const late = signed(keyB, { referralId, sequence: 4, caseReference: { sender: c.id, receiver: caseB } });
      r = await post(late.body, late.headers);
      assert.equal(r.status, 409);
      assert.match(String(r.json.message), /closed/);
      // Off-schema, validly signed.
      const offSchema = signed(keyB, { status: 'closed' });
      r = await post(offSchema.body, offSchema.headers);
      assert.equal(r.status, 400);
      assert.match(String(r.json.message), /status-v1/);
      // Another registered partner answering for B's referral.
      const keyC = generateInstanceKey();
      const regC = await api(urlA, adminA, 'POST', '/api/v1/actions/partners', {
        name: 'Instance C',
        country: 'de',
        publicKeyPem: keyC.publicKeyPem,
        url: 'https://c.spamdesk.test',
      });
      assert.equal(regC.status, 201);
      const byC = signed(keyC, { status: 'received' });
      r = await post(byC.body, byC.headers);
      assert.equal(r.status, 403);
      assert.match(String(r.json.message), /not sent to Instance C/);
      // Not JSON at all, validly signed.
      const junk = Buffer.from('not json');
      r = await post(junk, {
        'x-spamdesk-signature': signatureHeader(keyB, junk),
        'x-spamdesk-key-fingerprint': keyB.fingerprint,
      });
      assert.equal(r.status, 400);
      assert.deepEqual(await snapshot(), before, 'nothing changed');
      assert.equal(
        await refState(second.referralId),
        'queued',
        'no status recorded: its state is still its delivery’s',
      );
    } finally {
      await appA.close();
      await appB.close();
      closeTransports();
      await closeContext(ctxA, { keepDb: true });
      await closeContext(ctxB, { keepDb: true });
      await tdbA.drop();
      await tdbB.drop();
    }
  });
}
