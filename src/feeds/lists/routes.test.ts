/**
 * The lists' HTTP routes through `app.inject()` on both databases: the plain lists by token with
 * `ETag`/`Last-Modified` and 304s, every fetch counted in /metrics by feed, status and role; the
 * public look-up; delisting requests (validated, 4xx with a JSON reason) and an analyst's decision
 * taking the value off the lists.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { buildApp } from '../../app/build-app.ts';
import { createTestContext } from '../../app/test-context.ts';
import { createToken } from '../../db/tokens.ts';
import { DIALECTS } from '../../db/test-databases.ts';
import { newId } from '../../core/ids.ts';
import type { Role } from '../../core/roles.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { runListingPass } from './pass.ts';

const HOUR = 3_600_000;

function facts(ip: string, domain: string, n: number) {
  return Array.from({ length: n }, (_, i) => {
    const at = new Date(Date.now() - (i + 1) * HOUR).toISOString();
    return {
      report_id: newId(),
      message_sha256: `${String(i).padStart(8, '0')}${ip.replace(/\D/g, '').padEnd(56, '0').slice(0, 56)}`,
      campaign_id: null,
      category: 'phishing',
      received_at: at,
      origin_ip: ip,
      origin_asn: 64500,
      origin_as_name: 'Example Broadband', // a subscriber line
      origin_country: 'FR',
      origin_rdns: null,
      origin_abuse: '[]',
      origin_port: null,
      sender_domain: null,
      advertised_domains: JSON.stringify([domain]),
      consent_denied: 0,
      unauthenticated: 1,
      bot_signals: JSON.stringify(['no-rdns', 'unauthenticated']),
      created_at: at,
      message_category: 'phishing',
      authenticated: 0,
      historical: 0,
      arrived_at: null,
      origin_sent_at: null,
    };
  });
}

for (const dialect of DIALECTS) {
  describe(`lists routes (${dialect})`, () => {
    async function setup(t: TestContext) {
      const h = await createTestContext(t, dialect, { publicUrl: 'https://spamdesk.example.org' });
      if (!h) return null;
      const app = await buildApp(h.ctx);
      t.after(async () => {
        await app.close();
        await h.close();
      });
      const tokens = new Map<Role, string>();
      for (const role of ['admin', 'analyst', 'partner', 'network_operator', 'reporter'] as const)
        tokens.set(role, (await createToken(h.ctx.db, { role, name: `t-${role}` })).secret);
      const auth = (role: Role) => ({ authorization: `Bearer ${tokens.get(role)}` });
      const list = async (ip: string, domain: string) => {
        await h.ctx.db
          .insertInto('action_report_facts')
          .values(facts(ip, domain, 3))
          .execute();
        await runListingPass(h.ctx.db, h.ctx.config, policyFor(h.ctx.config), new Date(), { full: true });
      };
      return { h, app, auth, list };
    }

    test('plain lists need a feeds:read token and answer 304 while nothing changed', async (t) => {
      const s = await setup(t);
      if (!s) return;
      await s.list('91.121.7.1', 'phish-bank-login.com');
      assert.equal((await s.app.inject({ url: '/feeds/ips.txt' })).statusCode, 401);
      assert.equal((await s.app.inject({ url: '/feeds/ips.txt', headers: s.auth('reporter') })).statusCode, 403);
      const ok = await s.app.inject({ url: '/feeds/ips.txt', headers: s.auth('partner') });
      assert.equal(ok.statusCode, 200);
      assert.match(ok.headers['content-type'] as string, /^text\/plain/);
      assert.match(ok.body, /^91\.121\.7\.1$/m);
      const etag = ok.headers.etag as string;
      const lastModified = ok.headers['last-modified'] as string;
      assert.match(etag, /^"\d+-[0-9a-f]{12}"$/);
      const again = await s.app.inject({
        url: '/feeds/ips.txt',
        headers: { ...s.auth('partner'), 'if-none-match': etag },
      });
      assert.equal(again.statusCode, 304);
      assert.equal(again.body, '');
      const since = await s.app.inject({
        url: '/feeds/ips.txt',
        headers: { ...s.auth('network_operator'), 'if-modified-since': lastModified },
      });
      assert.equal(since.statusCode, 304);

      const domains = await s.app.inject({ url: '/feeds/domains.txt?category=phishing', headers: s.auth('partner') });
      assert.match(domains.body, /^phish-bank-login\.com$/m);
      const csv = await s.app.inject({ url: '/feeds/listings.csv', headers: s.auth('partner') });
      assert.match(csv.headers['content-type'] as string, /^text\/csv/);
      assert.match(csv.body, /^kind,value,list,return_code,category,/);
      assert.match(csv.body, /^ip,91\.121\.7\.1,infected,127\.0\.0\.2,phishing,/m);
      assert.match(csv.body, /https:\/\/spamdesk\.example\.org\/listings\/phish-bank-login\.com/);

      const bad = await s.app.inject({ url: '/feeds/ips.txt?list=everything', headers: s.auth('partner') });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().message, /list/);

      // A new listing changes the entity tag: the old copy is no longer current.
      await s.list('91.121.7.2', 'other-phish.com');
      const changed = await s.app.inject({
        url: '/feeds/ips.txt',
        headers: { ...s.auth('partner'), 'if-none-match': etag },
      });
      assert.equal(changed.statusCode, 200);
      assert.notEqual(changed.headers.etag, etag);
      assert.match(changed.body, /^91\.121\.7\.2$/m);

      const metrics = (await s.app.inject({ url: '/metrics' })).body;
      const line = (feed: string, status: number, role: string) =>
        new RegExp(
          `^spamdesk_feed_fetches_total\\{[^}]*feed="${feed.replace('.', '\\.')}"[^}]*status="${status}"\
[^}]*role="${role}"[^}]*\\} (\\d+)`,
          'm',
        );
      assert.equal(line('ips.txt', 304, 'partner').exec(metrics)?.[1], '1');
      assert.equal(line('ips.txt', 200, 'partner').exec(metrics)?.[1], '2');
      assert.equal(line('ips.txt', 401, 'anonymous').exec(metrics)?.[1], '1');
      assert.equal(line('ips.txt', 403, 'reporter').exec(metrics)?.[1], '1');
      assert.equal(line('ips.txt', 400, 'partner').exec(metrics)?.[1], '1');
    });

    test('the look-up explains a listing; a delisting request an analyst grants takes it off the lists', async (t) => {
      const s = await setup(t);
      if (!s) return;
      await s.list('91.121.8.1', 'fake-parcel-fee.com');
      const view = await s.app.inject({ url: '/api/v1/feeds/listings/www.fake-parcel-fee.com' });
      assert.equal(view.statusCode, 200);
      const v = view.json();
      assert.equal(v.value, 'fake-parcel-fee.com');
      assert.equal(v.listed, true);
      assert.equal(v.returnCode, '127.0.1.3');
      assert.equal(v.reports.length, 3);
      assert.deepEqual(Object.keys(v.reports[0]).sort(), ['campaignId', 'category', 'id', 'receivedAt']);
      assert.equal((await s.app.inject({ url: '/api/v1/feeds/listings/not%20a%20value' })).statusCode, 400);

      const post = (payload: unknown) =>
        s.app.inject({ method: 'POST', url: '/api/v1/feeds/delist-requests', payload: payload as object });
      const bad = await post({ value: '91.121.8.1', reason: 'short' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().message, /reason/);
      assert.equal((await post({ value: '91.121.99.99', reason: 'Please remove this address.' })).statusCode, 404);
      const created = await post({
        value: '91.121.8.1',
        reason: 'Our customer was infected; the machine is cleaned.',
        contact: 'abuse@isp.example',
      });
      assert.equal(created.statusCode, 201);
      const id = created.json().id as string;
      assert.equal(created.json().state, 'pending', 'reported an hour ago: no rule grants it, an analyst decides');

      assert.equal((await s.app.inject({ url: '/api/v1/feeds/delist-requests' })).statusCode, 401);
      const pending = await s.app.inject({
        url: '/api/v1/feeds/delist-requests?state=pending',
        headers: s.auth('analyst'),
      });
      assert.equal(pending.json().requests[0].id, id);
      assert.equal(pending.json().requests[0].contact, 'abuse@isp.example');
      assert.equal(
        (await s.app.inject({ url: '/api/v1/feeds/delist-requests?before=xyz', headers: s.auth('analyst') }))
          .statusCode,
        400,
      );
      const decide = (payload: unknown, role: Role = 'analyst') =>
        s.app.inject({
          method: 'POST',
          url: `/api/v1/feeds/delist-requests/${id}/decision`,
          headers: s.auth(role),
          payload: payload as object,
        });
      assert.equal((await decide({ decision: 'grant' }, 'partner')).statusCode, 403);
      assert.equal((await decide({ decision: 'maybe' })).statusCode, 400);
      const granted = await decide({ decision: 'grant', note: 'cleaned, confirmed by the ISP' });
      assert.equal(granted.statusCode, 200);
      assert.equal(granted.json().state, 'granted');
      assert.equal((await decide({ decision: 'refuse' })).statusCode, 409);

      const ips = await s.app.inject({ url: '/feeds/ips.txt', headers: s.auth('partner') });
      assert.doesNotMatch(ips.body, /^91\.121\.8\.1$/m);
      const after = (await s.app.inject({ url: '/api/v1/feeds/listings/91.121.8.1' })).json();
      assert.equal(after.listed, false);
      assert.equal(after.state, 'delisted');
      const listings = await s.app.inject({ url: '/api/v1/feeds/listings?state=delisted', headers: s.auth('admin') });
      assert.equal(listings.json().listings[0].delistedBy.startsWith('token:'), true);
    });
  });
}
