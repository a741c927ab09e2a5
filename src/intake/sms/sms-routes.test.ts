import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { AppContext } from '../../app/context.ts';
import { DIALECTS } from '../../db/test-databases.ts';
import { createTestApp } from '../../web/test-helpers.ts';
import { createToken } from '../../db/tokens.ts';
import { getMessageMeta, getMessageRaw } from '../../evidence/store.ts';
import { parseSmsEvidence } from '../../evidence/sms-format.ts';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import type { DialectName } from '../../db/dialect.ts';
import { SMS_REPLIES } from './sms-intake.ts';

/** The subscriber's number is French (+33): the gateway answers in French. */
const REPLIES = SMS_REPLIES.fr;

async function setup(
  t: TestContext,
  dialect: DialectName = 'sqlite',
): Promise<{ ctx: AppContext; app: FastifyInstance } | null> {
  return createTestApp(t, dialect, { region: 'FR' });
}

async function evidenceOf(ctx: AppContext, reportId: string) {
  const r = await ctx.db.selectFrom('reports').selectAll().where('id', '=', reportId).executeTakeFirstOrThrow();
  const raw = await getMessageRaw(ctx.db, r.message_sha256);
  assert.ok(raw);
  return { report: r, sms: parseSmsEvidence(raw), meta: await getMessageMeta(ctx.db, r.message_sha256) };
}

for (const dialect of DIALECTS) {
  test(`an SMS reported through the API is stored as SMS evidence with the sender in E.164 (${dialect})`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sms-reports',
      payload: {
        sender: '06 12 34 56 78',
        text: 'Votre colis est bloqué: https://colis-suivi.example/x',
        receivedAt: '2026-11-23T10:00:00+01:00',
        reporterNumber: '07 98 76 54 32',
      },
    });
    assert.equal(res.statusCode, 202, res.body);
    const [rep] = res.json().reports;
    const { report, sms, meta } = await evidenceOf(s.ctx, rep.id);
    assert.equal(report.channel, 'sms');
    assert.equal(meta?.kind, 'sms');
    assert.equal(report.reporter_address, '+33798765432');
    assert.deepEqual(sms, {
      type: 'sms',
      v: 1,
      sender: '+33612345678',
      text: 'Votre colis est bloqué: https://colis-suivi.example/x',
      receivedAt: '2026-11-23T09:00:00.000Z',
    });
    const jobs = await s.ctx.db.selectFrom('jobs').select('kind').execute();
    assert.deepEqual(
      jobs.map((j) => j.kind),
      ['analyse-report'],
    );
  });
}

test('the same SMS reported twice is one piece of evidence and two reports', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const payload = { sender: 'AMAZON', text: 'Your account is locked', receivedAt: '2026-11-23T10:00:00Z' };
  const a = (await s.app.inject({ method: 'POST', url: '/api/v1/sms-reports', payload })).json().reports[0];
  const b = (await s.app.inject({ method: 'POST', url: '/api/v1/sms-reports', payload })).json().reports[0];
  assert.equal(a.sha256, b.sha256);
  assert.notEqual(a.id, b.id);
});

test('bad SMS reports are refused with the reason', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ sender: '', text: 'x' }, /sender/],
    [{ sender: '+33612345678', text: '' }, /text/],
    [{ sender: '+33612345678', text: 'x', receivedAt: 'yesterday-ish' }, /receivedAt/],
    [{ sender: '+33612345678', text: 'x', reporterNumber: 'my phone' }, /reporterNumber/],
    [{ sender: 'x'.repeat(65), text: 'x' }, /sender/],
  ];
  for (const [payload, reason] of cases) {
    const res: LightMyRequestResponse = await s.app.inject({ method: 'POST', url: '/api/v1/sms-reports', payload });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.match(res.json().message, reason);
  }
  assert.equal((await s.ctx.db.selectFrom('reports').select('id').execute()).length, 0);
});

test('the gateway webhook needs a token and runs the 33700 conversation: spam first, then its sender', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const anon = await s.app.inject({
    method: 'POST',
    url: '/api/v1/sms-gateway',
    payload: { from: '+33798765432', text: 'spam' },
  });
  assert.equal(anon.statusCode, 401);
  const gw = await createToken(s.ctx.db, { role: 'partner', name: 'sms-gateway' });
  // Twilio-style form post to a fixed URL carrying the token.
  const form = (fields: Record<string, string>) => ({
    method: 'POST' as const,
    url: `/api/v1/sms-gateway?token=${encodeURIComponent(gw.secret)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });
  const first = await s.app.inject(
    form({
      From: '+33798765432',
      To: '33700',
      Body: 'URGENT: votre CPF expire, appelez le 0899 00 00 00',
      MessageSid: 'SM1',
    }),
  );
  assert.equal(first.statusCode, 200, first.body);
  assert.deepEqual(first.json(), { status: 'awaiting-sender', reply: REPLIES.askSender, reports: [] });
  const retry = await s.app.inject(
    form({
      From: '+33798765432',
      To: '33700',
      Body: 'URGENT: votre CPF expire, appelez le 0899 00 00 00',
      MessageSid: 'SM1',
    }),
  );
  assert.equal(retry.json().status, 'awaiting-sender');
  const second = await s.app.inject(
    form({ From: '+33798765432', To: '33700', Body: '06 11 22 33 44', MessageSid: 'SM2' }),
  );
  const body = second.json();
  assert.equal(body.status, 'reported');
  assert.equal(body.reports.length, 1);
  const { report, sms } = await evidenceOf(s.ctx, body.reports[0].id);
  assert.equal(sms?.sender, '+33611223344');
  assert.equal(sms?.text, 'URGENT: votre CPF expire, appelez le 0899 00 00 00');
  assert.equal(report.reporter_address, '+33798765432');
  assert.equal(report.reporter_token_id, gw.id);
  assert.equal((await s.ctx.db.selectFrom('sms_pending').select('id').execute()).length, 0);
  // The gateway did not see our answer and retries the completing message: it gets the same
  // answer, and no second conversation starts (whose spam text would be the sender's number).
  const again = await s.app.inject(
    form({ From: '+33798765432', To: '33700', Body: '06 11 22 33 44', MessageSid: 'SM2' }),
  );
  assert.equal(again.statusCode, 200, again.body);
  const replay = again.json() as { status: string; reply: string; reports: { id: string; duplicate: boolean }[] };
  assert.deepEqual(
    [replay.status, replay.reply, replay.reports.map((r) => [r.id, r.duplicate])],
    ['reported', REPLIES.reported, [[body.reports[0].id, true]]],
  );
  assert.equal((await s.ctx.db.selectFrom('sms_pending').select('id').execute()).length, 0, 'nothing pending');
  assert.equal((await s.ctx.db.selectFrom('reports').select('id').execute()).length, 1, 'one report, stored once');
  // Another gateway's message that happens to carry the same provider id is its own message.
  const gw2 = await createToken(s.ctx.db, { role: 'partner', name: 'other-gateway' });
  const other = await s.app.inject({
    method: 'POST',
    url: '/api/v1/sms-gateway',
    headers: { authorization: `Bearer ${gw2.secret}` },
    payload: { from: '+33798765433', text: 'Colis bloque, payez ici', sender: 'COLIS', messageId: 'SM2' },
  });
  assert.equal(other.json().reports[0].duplicate, false);
});

test('the gateway stores at once when it knows the sender, and never drops a forward left without one', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const gw = await createToken(s.ctx.db, { role: 'partner', name: 'sms-gateway' });
  const post = (payload: Record<string, unknown>) =>
    s.app.inject({
      method: 'POST',
      url: '/api/v1/sms-gateway',
      headers: { authorization: `Bearer ${gw.secret}` },
      payload,
    });
  const direct = (
    await post({ from: '+33700000001', text: 'Gagnez un iPhone', sender: 'PROMO', messageId: 'a1' })
  ).json();
  assert.equal(direct.status, 'reported');
  const again = (
    await post({ from: '+33700000001', text: 'Gagnez un iPhone', sender: 'PROMO', messageId: 'a1' })
  ).json();
  assert.equal(again.reports[0].id, direct.reports[0].id, 'a retried message id is idempotent');

  await post({ from: '+33700000002', text: 'first spam, sender never given' });
  const next = (await post({ from: '+33700000002', text: 'second spam arrives before the answer' })).json();
  assert.equal(next.status, 'awaiting-sender');
  assert.equal(next.reports.length, 1, 'the first forward is stored without its sender');
  assert.equal((await evidenceOf(s.ctx, next.reports[0].id)).sms?.sender, 'unknown');

  // A conversation older than a day is closed by the next call, whoever makes it.
  await s.ctx.db.updateTable('sms_pending').set({ created_at: '2000-01-01T00:00:00.000Z' }).execute();
  const other = (await post({ from: '+33700000003', text: 'Livraison', sender: '+33611111111' })).json();
  assert.equal(other.reports.length, 2);
  assert.equal((await s.ctx.db.selectFrom('sms_pending').select('id').execute()).length, 0);
});

test('UCI SMS Spam Collection messages round-trip through the API exactly', async (t) => {
  if (!needsCorpus(t, 'sms_spam_collection')) return;
  const s = await setup(t);
  if (!s) return;
  // A token holder is not limited per minute (anonymous callers are: 30/min by default).
  const app = await createToken(s.ctx.db, { role: 'reporter', name: 'phone app' });
  const lines = fs
    .readFileSync(path.join(CORPUS_DIR, 'sms_spam_collection', 'SMSSpamCollection'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('spam\t'))
    .slice(0, 40);
  for (const line of lines) {
    const text = line.slice('spam\t'.length);
    const res: LightMyRequestResponse = await s.app.inject({
      method: 'POST',
      url: '/api/v1/sms-reports',
      headers: { authorization: `Bearer ${app.secret}` },
      payload: { sender: '81010', text },
    });
    assert.equal(res.statusCode, 202, res.body);
    const { sms } = await evidenceOf(s.ctx, res.json().reports[0].id);
    assert.equal(sms?.text, text);
    assert.equal(sms?.sender, '81010', 'a short code stays a short code');
  }
});
