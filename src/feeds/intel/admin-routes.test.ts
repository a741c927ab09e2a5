/**
 * Managing collections and grants over the API: admin only, bad input is a 400 with its reason,
 * every change is in the audit log, grants page through everything, a granted partner reads the
 * collection's STIX bundle (a valid one) and, once revoked, no longer does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../db/test-databases.ts';
import { createTestContext } from '../../app/test-context.ts';
import { buildApp } from '../../app/build-app.ts';
import { createToken } from '../../db/tokens.ts';
import { stixProblems } from './stix-validate.ts';
import { buildIntel } from './build.ts';
import { TLP_MARKINGS } from './stix-ids.ts';

for (const dialect of DIALECTS) {
  describe(`intel administration API on ${dialect}`, () => {
    test('collections and grants: admin only, validated, audited, paged; the bundle follows the grants', async (t) => {
      const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
      if (!h) return;
      const app = await buildApp(h.ctx);
      try {
        const admin = (await createToken(h.ctx.db, { role: 'admin' })).secret;
        const analyst = (await createToken(h.ctx.db, { role: 'analyst' })).secret;
        const partner = await createToken(h.ctx.db, { role: 'partner', name: 'CERT-X' });
        const call = (method: 'GET' | 'POST', url: string, secret: string, payload?: unknown) =>
          app.inject({ method, url, headers: { authorization: `Bearer ${secret}` }, payload: payload as object });

        assert.equal((await call('GET', '/api/v1/intel/collections', analyst)).statusCode, 403);
        const bad = await call('POST', '/api/v1/intel/collections', admin, { alias: 'Bad Alias', title: 'x' });
        assert.equal(bad.statusCode, 400);
        assert.match(bad.json().message, /alias/);
        const badTlp = await call('POST', '/api/v1/intel/collections', admin, {
          alias: 'phish',
          title: 'Phishing',
          tlp: 'purple',
        });
        assert.equal(badTlp.statusCode, 400);
        const made = await call('POST', '/api/v1/intel/collections', admin, {
          alias: 'phish-green',
          title: 'Phishing for partners',
          tlp: 'green',
          categories: ['phishing'],
          kinds: ['domain', 'url'],
        });
        assert.equal(made.statusCode, 201, made.body);
        const c = made.json();
        assert.equal(c.tlp, 'green');
        assert.equal(
          (await call('POST', '/api/v1/intel/collections', admin, { alias: 'phish-green', title: 'again' })).statusCode,
          409,
        );
        const upd = await call('POST', `/api/v1/intel/collections/${c.alias}`, admin, { tlp: 'amber', minReports: 2 });
        assert.equal(upd.statusCode, 200, upd.body);
        assert.equal(upd.json().minReports, 2);
        assert.equal((await call('POST', '/api/v1/intel/collections/none', admin, { tlp: 'red' })).statusCode, 404);

        const listed = (await call('GET', '/api/v1/intel/collections', admin)).json().collections;
        assert.deepEqual(
          listed.map((x: { alias: string }) => x.alias),
          ['phish-green', 'spam-campaigns'],
        );

        // Grants: to the partner's token, then many to page through.
        const g = await call('POST', `/api/v1/intel/collections/${c.id}/grants`, admin, { tokenId: partner.id });
        assert.equal(g.statusCode, 201, g.body);
        assert.equal((await call('POST', `/api/v1/intel/collections/${c.id}/grants`, admin, {})).statusCode, 400);
        assert.equal(
          (await call('POST', `/api/v1/intel/collections/${c.id}/grants`, admin, { tokenId: 'nope' })).statusCode,
          404,
        );
        const staff = await createToken(h.ctx.db, { role: 'reporter' });
        const refused = await call('POST', `/api/v1/intel/collections/${c.id}/grants`, admin, { tokenId: staff.id });
        assert.equal(refused.statusCode, 400, 'a role that cannot read feeds is not granted');
        const more = [];
        for (let i = 0; i < 4; i++) more.push((await createToken(h.ctx.db, { role: 'network_operator' })).id);
        for (const id of more) await call('POST', `/api/v1/intel/collections/${c.id}/grants`, admin, { tokenId: id });
        const seen: string[] = [];
        let url = `/api/v1/intel/collections/${c.id}/grants?limit=2`;
        for (;;) {
          const page = (await call('GET', url, admin)).json();
          seen.push(...page.grants.map((x: { id: string }) => x.id));
          if (!page.next) break;
          url = `/api/v1/intel/collections/${c.id}/grants?limit=2&after=${page.next}`;
        }
        assert.equal(seen.length, 5);
        assert.equal(new Set(seen).size, 5);

        await buildIntel(h.ctx.db, h.ctx.config);
        const bundle = await call('GET', `/api/v1/intel/collections/${c.alias}/bundle`, partner.secret);
        assert.equal(bundle.statusCode, 200, bundle.body);
        assert.match(String(bundle.headers['content-type']), /^application\/stix\+json/);
        const b = JSON.parse(bundle.body);
        assert.deepEqual(stixProblems(b), []);
        assert.ok(b.objects.some((o: { id: string }) => o.id === TLP_MARKINGS.amber.id));
        assert.equal(
          (await call('GET', '/api/v1/intel/collections/spam-campaigns/bundle', partner.secret)).statusCode,
          404,
        );

        const revoked = await call('POST', `/api/v1/intel/grants/${g.json().id}/revoke`, admin);
        assert.equal(revoked.statusCode, 200);
        assert.ok(revoked.json().revokedAt);
        assert.equal(
          (await call('GET', `/api/v1/intel/collections/${c.alias}/bundle`, partner.secret)).statusCode,
          404,
        );

        const audit = await h.ctx.db.selectFrom('audit_log').select(['action', 'subject']).execute();
        const actions = audit.map((a) => a.action);
        for (const a of ['intel.collection.create', 'intel.collection.update', 'intel.grant', 'intel.grant.revoke'])
          assert.ok(actions.includes(a), `${a} is audited`);
      } finally {
        await app.close();
        await h.close();
      }
    });
  });
}
