/**
 * The admin registries through HTTP on both databases: accounts and tokens, authorities,
 * network operators (AS numbers with their names), partners (keys and fingerprints) and senders
 * (identities and their DNS proof). Each list pages through everything by keyset; forms refuse bad
 * input with a 4xx and the reason, keeping what was typed; changes are audited; only admins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DIALECTS } from '../../db/test-databases.ts';
import { accountsDb } from '../../db/accounts.ts';
import { createAuthority } from '../../actions/cases/authorities.ts';
import { fingerprintOf } from '../../actions/referrals/instance-key.ts';
import { listAudit } from '../../evidence/audit.ts';
import { createTestApp, postForm, userWithSession, type TestUser } from '../test-helpers.ts';

const get = (app: FastifyInstance, url: string, u: TestUser) =>
  app.inject({ method: 'GET', url, headers: { cookie: u.cookie } });
const post = (app: FastifyInstance, url: string, u: TestUser, fields: Record<string, string> = {}) =>
  postForm(app, url, { _csrf: u.csrf, ...fields }, u.cookie);

async function auditActions(db: Parameters<typeof listAudit>[0]): Promise<string[]> {
  // Audit entries are group-committed a few milliseconds later.
  await new Promise((r) => setTimeout(r, 60));
  return (await listAudit(db, { limit: 500 })).map((a) => a.action);
}

for (const dialect of DIALECTS) {
  test(`${dialect}: accounts and tokens — create, reset, change role, disable, tokens shown once`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { app, ctx } = h;
    const { db, config } = ctx;
    const admin = await userWithSession(db, config, 'admin');
    const analyst = await userWithSession(db, config, 'analyst');
    assert.equal((await get(app, '/admin/users', analyst)).statusCode, 403);
    assert.equal((await post(app, '/admin/tokens', analyst, { name: 'x', role: 'admin' })).statusCode, 403);

    const bad = await post(app, '/admin/users', admin, { email: 'not an address', role: 'analyst' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /not a valid e-mail address/);
    assert.match(bad.body, /value="not an address"/, 'what was typed is kept');
    const noScope = await post(app, '/admin/users', admin, { email: 'cert@police.example', role: 'authority' });
    assert.equal(noScope.statusCode, 400);
    const created = await post(app, '/admin/users', admin, { email: 'Bob@Example.org', role: 'analyst' });
    assert.equal(created.statusCode, 201, created.body);
    const secret = /data-testid="secret">([^<]+)</.exec(created.body)?.[1];
    assert.ok(secret && secret.length >= 20, 'the one-time password is shown once');
    const bob = await accountsDb(db)
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'bob@example.org')
      .executeTakeFirstOrThrow();
    assert.equal(bob.must_change_password, 1);
    assert.ok(!(await get(app, `/admin/users/${bob.id}`, admin)).body.includes(secret), 'never shown again');
    assert.equal(
      (await post(app, '/admin/users', admin, { email: 'bob@example.org', role: 'analyst' })).statusCode,
      409,
    );

    const role = await post(app, `/admin/users/${bob.id}/role`, admin, {
      role: 'network_operator',
      networks: 'AS3215 5410',
    });
    assert.equal(role.statusCode, 303);
    const bob2 = await accountsDb(db)
      .selectFrom('users')
      .selectAll()
      .where('id', '=', bob.id)
      .executeTakeFirstOrThrow();
    assert.equal(bob2.role, 'network_operator');
    assert.equal(bob2.networks, '[3215,5410]');
    assert.equal((await post(app, `/admin/users/${bob.id}/role`, admin, { role: 'boss' })).statusCode, 400);
    assert.equal(
      (await post(app, `/admin/users/${bob.id}/role`, admin, { role: 'analyst', networks: 'ASx' })).statusCode,
      400,
    );

    const reset = await post(app, `/admin/users/${bob.id}/reset`, admin);
    assert.equal(reset.statusCode, 200);
    assert.match(reset.body, /data-testid="secret">[A-Za-z0-9_-]{20,}</);
    assert.equal((await post(app, `/admin/users/${bob.id}/disable`, admin)).statusCode, 303);
    assert.match((await get(app, `/admin/users/${bob.id}`, admin)).body, /disabled/);
    assert.equal((await post(app, `/admin/users/${bob.id}/enable`, admin)).statusCode, 303);
    // The last active administrator cannot be disabled or demoted.
    const last = await post(app, `/admin/users/${admin.id}/disable`, admin);
    assert.equal(last.statusCode, 409);
    assert.match(last.body, /last active administrator/);
    assert.equal((await post(app, `/admin/users/${admin.id}/role`, admin, { role: 'analyst' })).statusCode, 409);
    assert.equal((await get(app, '/admin/users/NOT-AN-ID', admin)).statusCode, 404);

    // Tokens: a token acting for an account has that account's role; the secret is shown once.
    const wrongRole = await post(app, '/admin/tokens', admin, { name: 'feed', role: 'admin', owner: analyst.email });
    assert.equal(wrongRole.statusCode, 400);
    const tk = await post(app, '/admin/tokens', admin, { name: 'feed reader', role: 'analyst', owner: analyst.email });
    assert.equal(tk.statusCode, 201, tk.body);
    const tokenSecret = /data-testid="secret">(sdk_[^<]+)</.exec(tk.body)?.[1] ?? '';
    const api = { authorization: `Bearer ${tokenSecret}` };
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/actions/cases', headers: api })).statusCode, 200);
    const row = await db
      .selectFrom('api_tokens')
      .select('id')
      .where('name', '=', 'feed reader')
      .executeTakeFirstOrThrow();
    assert.equal((await post(app, `/admin/tokens/${row.id}/revoke`, admin)).statusCode, 303);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/actions/cases', headers: api })).statusCode, 401);
    assert.equal((await post(app, `/admin/tokens/${row.id}/revoke`, admin)).statusCode, 404);

    const actions = await auditActions(db);
    for (const a of ['account.create', 'account.role', 'account.reset-password', 'account.disable', 'account.enable']) {
      assert.ok(actions.includes(a), a);
    }
    assert.ok(actions.includes('token.create') && actions.includes('token.revoke'));
  });

  test(`${dialect}: authorities — validated form, keyset paging through all, monthly-report flag`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { app, ctx } = h;
    const { db, config } = ctx;
    const admin = await userWithSession(db, config, 'admin');
    const analyst = await userWithSession(db, config, 'analyst');
    assert.equal((await get(app, '/admin/authorities', analyst)).statusCode, 403);
    const form = {
      name: 'CNIL',
      country: 'fr',
      competence: 'data_protection',
      contactKind: 'email',
      contact: 'not-an-address',
    };
    const bad = await post(app, '/admin/authorities', admin, form);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /must be an e-mail address/);
    assert.match(bad.body, /value="CNIL"/);
    const ok = await post(app, '/admin/authorities', admin, {
      ...form,
      contact: 'plaintes@cnil.example',
      monthlyReport: '1',
    });
    assert.equal(ok.statusCode, 201, ok.body);
    const cnil = await db
      .selectFrom('action_authorities')
      .selectAll()
      .where('name', '=', 'CNIL')
      .executeTakeFirstOrThrow();
    assert.equal(cnil.country, 'FR');
    assert.equal(cnil.monthly_report, 1);
    assert.equal((await post(app, `/admin/authorities/${cnil.id}/monthly-report`, admin, {})).statusCode, 303);
    assert.equal(
      (
        await db
          .selectFrom('action_authorities')
          .select('monthly_report')
          .where('id', '=', cnil.id)
          .executeTakeFirstOrThrow()
      ).monthly_report,
      0,
    );
    assert.equal((await post(app, `/admin/authorities/${cnil.id}/active`, admin, {})).statusCode, 303);
    const hook = await post(app, '/admin/authorities', admin, {
      ...form,
      name: 'Webhook authority',
      contactKind: 'webhook',
      contact: 'https://hooks.example/spamdesk',
      monthlyReport: '1',
    });
    assert.equal(hook.statusCode, 400, 'the monthly report goes by e-mail only');
    assert.match(hook.body, /e-mail only/);
    assert.match((await get(app, `/admin/authorities/${cnil.id}`, admin)).body, /data-testid="state">inactive/);

    // 60 more: the list shows 50, then the rest, and never the same row twice.
    for (let i = 0; i < 60; i++)
      await createAuthority(db, {
        name: `Authority ${String(i).padStart(2, '0')}`,
        country: 'BE',
        competence: 'cybercrime',
        contactKind: 'email',
        contact: `a${i}@police.example`,
      });
    const seen: string[] = [];
    let url: string | null = '/admin/authorities';
    while (url) {
      const res = await get(app, url, admin);
      assert.equal(res.statusCode, 200);
      seen.push(...[...res.body.matchAll(/href="\/admin\/authorities\/([0-9A-Z]{26})"/g)].map((m) => m[1]));
      const next = /rel="next" href="([^"]+)"/.exec(res.body)?.[1]?.replace(/&amp;/g, '&');
      url = next ?? null;
    }
    assert.equal(seen.length, 61);
    assert.equal(new Set(seen).size, 61);
    assert.equal((await get(app, '/admin/authorities?after=../../etc', admin)).statusCode, 400);
    const actions = await auditActions(db);
    assert.ok(actions.includes('authority.create'));
    assert.ok(actions.includes('authority.monthly-report'));
    assert.ok(actions.includes('authority.deactivate'));
  });

  test(`${dialect}: network operators with named ASes, partners by key, senders with DNS proofs`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { app, ctx } = h;
    const { db, config } = ctx;
    const admin = await userWithSession(db, config, 'admin');
    const op = await post(app, '/admin/operators', admin, {
      name: 'Orange',
      abuse: 'abuse@orange.example',
      asns: 'AS3215, 5511',
      format: 'xarf',
    });
    assert.equal(op.statusCode, 201, op.body);
    // The AS names come from the shipped @ip-location-db/asn data.
    assert.match(op.body, /AS3215 [A-Za-z]/);
    const orange = await db
      .selectFrom('action_operators')
      .select('id')
      .where('name', '=', 'Orange')
      .executeTakeFirstOrThrow();
    const taken = await post(app, '/admin/operators', admin, {
      name: 'Other',
      abuse: 'abuse@o.example',
      asns: '3215',
      format: 'arf',
    });
    assert.equal(taken.statusCode, 409);
    assert.equal(
      (await post(app, '/admin/operators', admin, { name: 'X', abuse: 'abuse@x.example', asns: 'AS-1', format: 'arf' }))
        .statusCode,
      400,
    );
    assert.equal((await post(app, `/admin/operators/${orange.id}/asns`, admin, { asns: '64500' })).statusCode, 303);
    assert.equal((await post(app, `/admin/operators/${orange.id}/asns/5511/remove`, admin)).statusCode, 303);
    const asns = await db
      .selectFrom('action_operator_asns')
      .select('asn')
      .where('operator_id', '=', orange.id)
      .orderBy('asn')
      .execute();
    assert.deepEqual(
      asns.map((a) => Number(a.asn)),
      [3215, 64500],
    );
    const upd = await post(app, `/admin/operators/${orange.id}`, admin, { abuse: 'nope', format: 'arf' });
    assert.equal(upd.statusCode, 400);
    assert.equal(
      (
        await post(app, `/admin/operators/${orange.id}`, admin, {
          abuse: 'noc@orange.example',
          format: 'arf',
          optedOut: '1',
        })
      ).statusCode,
      303,
    );
    const o = await db.selectFrom('action_operators').selectAll().where('id', '=', orange.id).executeTakeFirstOrThrow();
    assert.deepEqual([o.abuse_address, o.format, o.opted_out], ['noc@orange.example', 'arf', 1]);

    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const badKey = await post(app, '/admin/partners', admin, { name: 'Spamdesk BE', country: 'BE', publicKeyPem: rsa });
    assert.equal(badKey.statusCode, 400);
    assert.match(badKey.body, /Ed25519/);
    const partner = await post(app, '/admin/partners', admin, {
      name: 'Spamdesk BE',
      country: 'be',
      publicKeyPem: pem,
    });
    assert.equal(partner.statusCode, 201, partner.body);
    const fp = fingerprintOf(pem);
    assert.match(partner.body, new RegExp(fp.slice(0, 4)));
    assert.ok(partner.body.includes(fp.replace(/(.{4})(?=.)/g, '$1 ')), 'the whole fingerprint, grouped');
    assert.equal(
      (await post(app, '/admin/partners', admin, { name: 'Again', country: 'BE', publicKeyPem: pem })).statusCode,
      409,
    );

    const sender = await post(app, '/admin/senders', admin, { name: 'Newsletters Inc', feedback: 'fbl@news.example' });
    assert.equal(sender.statusCode, 201, sender.body);
    const s = await db
      .selectFrom('action_senders')
      .select('id')
      .where('name', '=', 'Newsletters Inc')
      .executeTakeFirstOrThrow();
    const claim = await post(app, `/admin/senders/${s.id}/identities`, admin, {
      kind: 'domain',
      value: 'news.example',
    });
    assert.equal(claim.statusCode, 201);
    assert.match(claim.body, /_spamdesk\.news\.example TXT &quot;spamdesk-verification=/);
    assert.equal(
      (await post(app, `/admin/senders/${s.id}/identities`, admin, { kind: 'domain', value: 'co.uk' })).statusCode,
      400,
    );
    const ident = await db
      .selectFrom('action_sender_identities')
      .select('id')
      .where('sender_id', '=', s.id)
      .executeTakeFirstOrThrow();
    // The test instance's DNS is offline (an empty zone): the proof is not found, and the page says so.
    const verify = await post(app, `/admin/senders/identities/${ident.id}/verify`, admin);
    assert.equal(verify.statusCode, 200);
    assert.match(verify.body, /no TXT record at _spamdesk\.news\.example/);

    const actions = await auditActions(db);
    for (const a of [
      'operator.create',
      'operator.asn-add',
      'operator.asn-remove',
      'operator.update',
      'partner.create',
    ]) {
      assert.ok(actions.includes(a), a);
    }
    assert.ok(actions.includes('sender.create') && actions.includes('sender.identity-verify'));
  });
}

for (const dialect of DIALECTS)
  test(`${dialect}: authorities, operators and senders each take the language of their mails in the web forms, \
validated and audited`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { app, ctx } = h;
    const { db, config } = ctx;
    const admin = await userWithSession(db, config, 'admin');
    const languageOf = async (table: 'action_operators' | 'action_senders' | 'action_authorities', id: string) =>
      (await db.selectFrom(table).select('language').where('id', '=', id).executeTakeFirstOrThrow()).language;

    // Operators: on the create form and the settings form.
    const bad = await post(app, '/admin/operators', admin, {
      name: 'Telco',
      abuse: 'abuse@telco.example',
      format: 'arf',
      language: 'de',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /language: one of en, fr/);
    const op = await post(app, '/admin/operators', admin, {
      name: 'Telco',
      abuse: 'abuse@telco.example',
      format: 'arf',
      language: 'fr',
    });
    assert.equal(op.statusCode, 201, op.body);
    assert.match(op.body, /<dd data-testid="language">French<\/dd>/);
    const opId = (await db.selectFrom('action_operators').select('id').executeTakeFirstOrThrow()).id;
    assert.equal(await languageOf('action_operators', opId), 'fr');
    const back = await post(app, `/admin/operators/${opId}`, admin, { abuse: 'abuse@telco.example', format: 'arf' });
    assert.equal(back.statusCode, 303);
    assert.equal(await languageOf('action_operators', opId), null, 'empty: the region’s');

    // Senders: on the create form and their own form.
    const sender = await post(app, '/admin/senders', admin, {
      name: 'News',
      feedback: 'fbl@news.example',
      language: 'en',
    });
    assert.equal(sender.statusCode, 201, sender.body);
    const senderId = (await db.selectFrom('action_senders').select('id').executeTakeFirstOrThrow()).id;
    assert.equal(await languageOf('action_senders', senderId), 'en');
    assert.equal((await post(app, `/admin/senders/${senderId}/language`, admin, { language: 'xx' })).statusCode, 400);
    assert.equal((await post(app, `/admin/senders/${senderId}/language`, admin, { language: 'fr' })).statusCode, 303);
    assert.equal(await languageOf('action_senders', senderId), 'fr');

    // Authorities: their own form.
    const a = await createAuthority(db, {
      name: 'CNIL',
      country: 'FR',
      competence: 'data_protection',
      contactKind: 'email',
      contact: 'plaintes@cnil.example',
    });
    assert.equal((await post(app, `/admin/authorities/${a.id}/language`, admin, { language: 'en' })).statusCode, 303);
    assert.equal(await languageOf('action_authorities', a.id), 'en');
    const page = await app.inject({
      method: 'GET',
      url: `/admin/authorities/${a.id}`,
      headers: { cookie: admin.cookie, 'accept-language': 'fr' },
    });
    assert.match(page.body, /<dd data-testid="language">Anglais<\/dd>/, 'shown in the reader’s language');

    await new Promise((r) => setTimeout(r, 60)); // audit entries are group-committed a moment later
    const audit = (await listAudit(db, { limit: 100 })).map((e) => `${e.action} ${e.subject}`);
    for (const want of [
      `operator.create operator:${opId}`,
      `operator.update operator:${opId}`,
      `sender.create sender:${senderId}`,
      `sender.language sender:${senderId}`,
      `authority.language authority:${a.id}`,
    ])
      assert.ok(audit.includes(want), `${want} audited`);
  });
