/**
 * The intel build from real reports: what is published (origin addresses, advertised domains and
 * URLs, campaigns, `indicates` relationships, sightings, the identity and the TLP marking), that
 * it validates against the OASIS STIX 2.1 schemas, that ids are deterministic and a rebuild adds
 * nothing, that a change adds a version with a later `modified` and the same `created`, and what is
 * never published (private addresses, one-message URLs, gated and historical-only campaigns).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../db/test-databases.ts';
import { buildIntel, sourceSignature } from './build.ts';
import { intelHarness, phish } from './test-support.ts';
import { stixProblems } from './stix-validate.ts';
import { currentObjects } from './bundle.ts';
import { DEFAULT_COLLECTION_ID } from '../../db/migrations/0131_feeds-intel.ts';
import { TLP_MARKINGS } from './stix-ids.ts';

type Obj = Record<string, unknown> & { id: string; type: string };

async function current(db: Parameters<typeof currentObjects>[0]): Promise<Obj[]> {
  const { body } = await currentObjects(db, DEFAULT_COLLECTION_ID);
  return ((JSON.parse(body) as { objects?: Obj[] }).objects ?? []) as Obj[];
}

const ORIGIN = '45.77.10.20';

for (const dialect of DIALECTS) {
  describe(`intel build on ${dialect}`, () => {
    test('publishes a phishing campaign as valid STIX 2.1: indicators, campaign, relationships, sightings, \
TLP:AMBER', async (t) => {
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        await h.report(
          [1, 2, 3].map((n) => ({
            raw: phish({ n, ip: ORIGIN, to: `victim${n}@mail-users.org` }),
            reporter: `victim${n}@mail-users.org`,
          })),
        );
        const first = await buildIntel(h.ctx.db, h.ctx.config);
        assert.equal(first.campaigns, 1, JSON.stringify(first));
        const objects = await current(h.ctx.db);
        const problems = stixProblems({ type: 'bundle', id: 'bundle--6c2a3e1f-1b2c-4d5e-8f90-a1b2c3d4e5f6', objects });
        assert.deepEqual(problems, []);
        const patterns = objects.filter((o) => o.type === 'indicator').map((o) => o.pattern);
        assert.ok(patterns.includes(`[ipv4-addr:value = '${ORIGIN}']`), String(patterns));
        assert.ok(patterns.includes("[domain-name:value = 'secure-bank-verify-login.com']"), String(patterns));
        assert.ok(
          patterns.includes("[url:value = 'https://secure-bank-verify-login.com/verify/account']"),
          String(patterns),
        );
        const campaign = objects.find((o) => o.type === 'campaign');
        assert.ok(campaign?.first_seen && campaign.last_seen);
        const identity = objects.find((o) => o.type === 'identity');
        assert.ok(identity);
        for (const o of objects.filter((x) => x.type !== 'marking-definition' && x.type !== 'identity')) {
          assert.deepEqual(o.object_marking_refs, [TLP_MARKINGS.amber.id], `${o.id} is marked TLP:AMBER`);
          assert.equal(o.created_by_ref, identity.id);
        }
        assert.ok(objects.some((o) => o.id === TLP_MARKINGS.amber.id));
        const ipIndicator = objects.find((o) => o.pattern === `[ipv4-addr:value = '${ORIGIN}']`);
        const rel = objects.find((o) => o.type === 'relationship' && o.source_ref === ipIndicator?.id);
        assert.equal(rel?.relationship_type, 'indicates');
        assert.equal(rel?.target_ref, campaign.id);
        const sighting = objects.find((o) => o.type === 'sighting' && o.sighting_of_ref === ipIndicator?.id);
        assert.equal(sighting?.count, 3);
        assert.deepEqual(sighting?.where_sighted_refs, [identity.id]);
        // Nothing of the reporters leaves.
        assert.doesNotMatch(JSON.stringify(objects), /victim\d|mail-users\.org/);

        const signature = await sourceSignature(h.ctx.db);
        const again = await buildIntel(h.ctx.db, h.ctx.config);
        assert.equal(await sourceSignature(h.ctx.db), signature, 'a build moves nothing the signature reads');
        const c = again.collections['spam-campaigns'];
        assert.deepEqual([c?.added, c?.updated, c?.revoked], [0, 0, 0], 'a rebuild of unchanged data adds nothing');
        assert.deepEqual(
          (await current(h.ctx.db)).map((o) => o.id),
          objects.map((o) => o.id),
          'the same ids',
        );

        await h.report([{ raw: phish({ n: 4, ip: ORIGIN, to: 'victim4@mail-users.org' }) }]);
        assert.notEqual(await sourceSignature(h.ctx.db), signature, 'a new report moves the signature');
        const third = await buildIntel(h.ctx.db, h.ctx.config);
        assert.ok((third.collections['spam-campaigns']?.updated ?? 0) > 0);
        const after = await current(h.ctx.db);
        const s2 = after.find((o) => o.id === sighting?.id);
        assert.equal(s2?.count, 4, 'the sighting counts the new message');
        assert.equal(s2?.created, sighting?.created, 'created is kept');
        assert.ok(String(s2?.modified) > String(sighting?.modified), 'modified moves on');
        const domain = objects.find((o) => o.pattern === "[domain-name:value = 'secure-bank-verify-login.com']");
        assert.equal(
          after.find((o) => o.id === domain?.id)?.modified,
          domain?.modified,
          'an unchanged indicator keeps its version',
        );
        const ip2 = after.find((o) => o.id === ipIndicator?.id);
        assert.ok(String(ip2?.valid_until) > String(ip2?.valid_from), 'an origin address is valid for a while only');
      } finally {
        await h.close();
      }
    });

    test('never publishes private origins, one-message URLs, historical-only or gated campaigns', async (t) => {
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        await h.report([
          {
            raw: phish({
              n: 11,
              ip: '10.1.2.3',
              to: 'a@mail-users.org',
              url: 'https://parcel-customs-fee.net/p?id=9f3a',
            }),
          },
          {
            raw: phish({
              n: 12,
              ip: '10.1.2.3',
              to: 'b@mail-users.org',
              template: 'parcel',
              url: 'https://parcel-customs-fee.net/p?id=77aa',
            }),
          },
        ]);
        await h.report([
          {
            raw: phish({
              n: 21,
              ip: '81.2.69.160',
              to: 'c@mail-users.org',
              template: 'parcel',
              url: 'https://old-scam-shop.com/x',
            }),
            historical: true,
          },
        ]);
        // A spam that links to its reporter's own mail domain: the domain is the reporter's identity.
        await h.report([
          {
            raw: phish({ n: 31, ip: '81.2.69.170', to: 'claire@mail-users.org', url: 'https://mail-users.org/' }),
            reporter: 'claire@mail-users.org',
          },
        ]);
        const s = await buildIntel(h.ctx.db, h.ctx.config);
        const objects = await current(h.ctx.db);
        const text = JSON.stringify(objects);
        assert.match(text, /81\.2\.69\.170/, 'that campaign is published');
        assert.doesNotMatch(text, /mail-users/, 'but not its reporter’s domain');
        assert.ok((s.refused['carries a reporter’s identity'] ?? 0) >= 1, JSON.stringify(s.refused));
        assert.doesNotMatch(text, /10\.1\.2\.3/, 'a private origin is never published');
        assert.doesNotMatch(text, /id=9f3a|id=77aa/, 'a URL seen in one message only is not published');
        assert.match(text, /parcel-customs-fee\.net/, 'its domain is');
        assert.doesNotMatch(text, /81\.2\.69\.160|old-scam-shop/, 'a historical-only campaign is not published');
        assert.ok(s.held >= 1, JSON.stringify(s));
        assert.equal(s.heldCampaigns.length, s.held, 'each held campaign is named');
        assert.ok(
          s.heldCampaigns.some((c) => c.reasons.includes('only historical reports')),
          JSON.stringify(s.heldCampaigns),
        );

        // Relabel every message of the published campaign legitimate: the gates hold it, its objects are revoked.
        const published = await h.ctx.db
          .selectFrom('campaigns')
          .select('id')
          .where('merged_into', 'is', null)
          .execute();
        for (const c of published)
          await h.ctx.db.updateTable('campaigns').set({ legitimate_share: 0.5 }).where('id', '=', c.id).execute();
        const r = await buildIntel(h.ctx.db, h.ctx.config);
        assert.ok((r.collections['spam-campaigns']?.revoked ?? 0) > 0, JSON.stringify(r));
        assert.ok(
          r.heldCampaigns.some((c) => c.reasons.some((why) => /classified legitimate/.test(why))),
          JSON.stringify(r.heldCampaigns),
        );
        const left = (await current(h.ctx.db)).filter((o) => o.type !== 'identity' && o.type !== 'marking-definition');
        assert.deepEqual(left, [], 'nothing of a held campaign stays published');
        const revoked = await h.ctx.db.selectFrom('intel_objects').select('json').where('revoked', '=', 1).execute();
        for (const row of revoked)
          assert.deepEqual(
            stixProblems({
              type: 'bundle',
              id: 'bundle--6c2a3e1f-1b2c-4d5e-8f90-a1b2c3d4e5f6',
              objects: [JSON.parse(row.json)],
            }),
            [],
          );
      } finally {
        await h.close();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`intel URLs one reporter alone received (${dialect})`, () => {
    test('a URL with a path that only one reporter’s messages carried is not published (it may hold that \
recipient’s token); the same URL from two reporters is', async (t) => {
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        const url = "[url:value = 'https://secure-bank-verify-login.com/verify/account']";
        const patterns = async () =>
          (await current(h.ctx.db)).filter((o) => o.type === 'indicator').map((o) => String(o.pattern));
        // Three copies to one recipient, who reports them all: the domain is published, the full URL is not.
        await h.report(
          [1, 2, 3].map((n) => ({
            raw: phish({ n, ip: ORIGIN, to: 'jo@mail-users.org' }),
            reporter: 'jo@mail-users.org',
          })),
        );
        const first = await buildIntel(h.ctx.db, h.ctx.config);
        assert.equal(first.campaigns, 1, JSON.stringify(first));
        assert.ok((await patterns()).includes("[domain-name:value = 'secure-bank-verify-login.com']"));
        assert.ok(!(await patterns()).includes(url), String(await patterns()));
        assert.ok((first.refused['URL reported by a single reporter (may be per-recipient)'] ?? 0) >= 1);
        // A second reporter's copy of the same campaign: now it is.
        await h.report([{ raw: phish({ n: 4, ip: ORIGIN, to: 'ann@other-isp.org' }), reporter: 'ann@other-isp.org' }]);
        await buildIntel(h.ctx.db, h.ctx.config);
        assert.ok((await patterns()).includes(url), String(await patterns()));
      } finally {
        await h.close();
      }
    });
  });
}
