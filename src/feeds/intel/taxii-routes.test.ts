/**
 * The TAXII 2.1 server spoken to as the specification describes it (no TAXII client exists on
 * npm): media type and 406, error messages, discovery, API root, collections, per-collection
 * access for partner and network-operator tokens, objects with `added_after`, `limit`, `next`,
 * `match[type]`, `match[id]`, `match[version]`, manifest and versions, the date-added headers,
 * and paging through everything exactly once while new objects and versions arrive.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { DIALECTS } from '../../db/test-databases.ts';
import { createTestContext } from '../../app/test-context.ts';
import { buildApp } from '../../app/build-app.ts';
import { createToken } from '../../db/tokens.ts';
import type { DialectName } from '../../db/dialect.ts';
import { DEFAULT_COLLECTION_ID } from '../../db/migrations/0131_feeds-intel.ts';
import { publishCollection } from './store.ts';
import { grantAccess, revokeGrant } from './collections.ts';
import { identityObject, type StixObject } from './stix.ts';
import { instanceNamespace, stixId, tlpMarkingObject } from './stix-ids.ts';
import { TAXII_MEDIA_TYPE } from './taxii-routes.ts';
import { stixProblems } from './stix-validate.ts';

const NS = instanceNamespace('taxii.test');
const PRODUCER = { namespace: NS, org: 'Test desk', contact: 'desk@taxii.test', originValidDays: 7 };
const COLLECTION = `/taxii2/spamdesk/collections/${DEFAULT_COLLECTION_ID}`;

function indicator(n: number, label = 'phishing'): StixObject {
  const identity = identityObject(PRODUCER);
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: stixId('indicator', NS, `amber|ip|${n}`),
    created_by_ref: identity.id,
    object_marking_refs: [String(tlpMarkingObject('amber').id)],
    name: 'Origin address of abusive mail',
    indicator_types: ['malicious-activity'],
    pattern: `[ipv4-addr:value = '45.77.${Math.floor(n / 250)}.${(n % 250) + 1}']`,
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: '2026-11-30T10:00:00.000Z',
    labels: [label],
  };
}

function base(): StixObject[] {
  return [identityObject(PRODUCER), tlpMarkingObject('amber') as StixObject];
}

async function setup(t: TestContext, dialect: DialectName) {
  const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
  if (!h) return null;
  const app = await buildApp(h.ctx);
  const tokens: Record<string, { id: string; secret: string }> = {};
  for (const role of ['admin', 'partner', 'network_operator', 'reporter', 'authority'] as const) {
    const tk = await createToken(h.ctx.db, { role, name: `t-${role}` });
    tokens[role] = { id: tk.id, secret: tk.secret };
  }
  const get = (url: string, who: string | null = 'admin', accept: string | null = TAXII_MEDIA_TYPE) =>
    app.inject({
      method: 'GET',
      url,
      headers: {
        ...(accept !== null ? { accept } : {}),
        ...(who ? { authorization: `Bearer ${tokens[who]?.secret}` } : {}),
      },
    });
  return {
    h,
    app,
    tokens,
    get,
    async close() {
      await app.close();
      await h.close();
    },
  };
}

function json(r: LightMyRequestResponse): Record<string, unknown> {
  return JSON.parse(r.body) as Record<string, unknown>;
}

function taxiiError(r: LightMyRequestResponse, status: number): void {
  assert.equal(r.statusCode, status, r.body);
  assert.equal(r.headers['content-type'], TAXII_MEDIA_TYPE);
  const e = json(r);
  assert.equal(typeof e.title, 'string');
  assert.equal(e.http_status, String(status));
}

for (const dialect of DIALECTS) {
  describe(`TAXII 2.1 on ${dialect}`, () => {
    test('media type: 406 for another or no Accept; errors are TAXII error messages; 401 without a \
token', async (t) => {
      const s = await setup(t, dialect);
      if (!s) return;
      try {
        taxiiError(await s.get('/taxii2/', 'admin', 'application/json'), 406);
        taxiiError(await s.get('/taxii2/', 'admin', null), 406);
        taxiiError(await s.get('/taxii2/', 'admin', 'application/taxii+json;version=2.0'), 406);
        const ok = await s.get('/taxii2/', 'admin', 'application/taxii+json');
        assert.equal(ok.statusCode, 200, 'no version parameter means the latest');
        const anon = await s.get('/taxii2/', null);
        taxiiError(anon, 401);
        assert.match(String(anon.headers['www-authenticate']), /^Bearer/);
        taxiiError(await s.get('/taxii2/', 'reporter'), 403);
        taxiiError(await s.get('/taxii2/spamdesk/nothing-here/'), 404);
        taxiiError(await s.get(`${COLLECTION}/objects/?limit=0`), 400);
        taxiiError(await s.get(`${COLLECTION}/objects/?added_after=yesterday`), 400);
        taxiiError(await s.get(`${COLLECTION}/objects/?next=bm9wZQ`), 400);
        taxiiError(await s.get(`${COLLECTION}/objects/?match[id]=not-an-id`), 400);
      } finally {
        await s.close();
      }
    });

    test('discovery, API root, collections; a partner sees only what it is granted', async (t) => {
      const s = await setup(t, dialect);
      if (!s) return;
      try {
        const d = await s.get('/taxii2/');
        assert.equal(d.statusCode, 200);
        assert.equal(d.headers['content-type'], TAXII_MEDIA_TYPE);
        const disc = json(d);
        assert.ok(Array.isArray(disc.api_roots) && String(disc.api_roots[0]).endsWith('/taxii2/spamdesk/'));
        assert.equal(disc.default, (disc.api_roots as string[])[0]);
        const root = json(await s.get('/taxii2/spamdesk/'));
        assert.deepEqual(root.versions, [TAXII_MEDIA_TYPE]);
        assert.equal(typeof root.max_content_length, 'number');
        const cols = json(await s.get('/taxii2/spamdesk/collections/'));
        const list = cols.collections as Record<string, unknown>[];
        assert.equal(list.length, 1);
        assert.equal(list[0]?.id, DEFAULT_COLLECTION_ID);
        assert.equal(list[0]?.can_read, true);
        assert.equal(list[0]?.can_write, false);
        assert.deepEqual(list[0]?.media_types, ['application/stix+json;version=2.1']);

        for (const who of ['partner', 'network_operator']) {
          assert.deepEqual(
            json(await s.get('/taxii2/spamdesk/collections/', who)),
            {},
            `${who} sees nothing ungranted`,
          );
          taxiiError(await s.get(`${COLLECTION}/`, who), 404);
          taxiiError(await s.get(`${COLLECTION}/objects/`, who), 404);
        }
        const g = await grantAccess(s.h.ctx.db, DEFAULT_COLLECTION_ID, { tokenId: s.tokens.partner?.id }, 'test');
        assert.equal(json(await s.get(`${COLLECTION}/`, 'partner')).id, DEFAULT_COLLECTION_ID);
        assert.equal(
          (json(await s.get('/taxii2/spamdesk/collections/', 'partner')).collections as unknown[]).length,
          1,
        );
        taxiiError(await s.get(`${COLLECTION}/`, 'network_operator'), 404);
        await revokeGrant(s.h.ctx.db, g.id);
        taxiiError(await s.get(`${COLLECTION}/`, 'partner'), 404);
        // The alias names the collection too.
        assert.equal(json(await s.get('/taxii2/spamdesk/collections/spam-campaigns/')).id, DEFAULT_COLLECTION_ID);
      } finally {
        await s.close();
      }
    });

    test('paging with next yields every object exactly once while objects and versions arrive', async (t) => {
      const s = await setup(t, dialect);
      if (!s) return;
      try {
        const db = s.h.ctx.db;
        let live = [...base(), ...Array.from({ length: 10 }, (_, i) => indicator(i))];
        await publishCollection(db, DEFAULT_COLLECTION_ID, live, []);
        const seen: string[] = [];
        let url = `${COLLECTION}/objects/?limit=3`;
        let lastAdded = '';
        let round = 0;
        for (;;) {
          const r = await s.get(url);
          assert.equal(r.statusCode, 200, r.body);
          assert.equal(r.headers['content-type'], TAXII_MEDIA_TYPE);
          const env = json(r);
          const objs = (env.objects ?? []) as StixObject[];
          assert.ok(objs.length <= 3);
          if (objs.length > 0) {
            assert.equal(typeof r.headers['x-taxii-date-added-first'], 'string');
            lastAdded = String(r.headers['x-taxii-date-added-last']);
          }
          seen.push(...objs.map((o) => o.id));
          round++;
          // Between pages: new objects arrive, and an object already served gets a new version.
          live = [...live, indicator(100 + round)];
          live = live.map((o) => (o.id === indicator(0).id ? indicator(0, `phishing-${round}`) : o));
          await publishCollection(db, DEFAULT_COLLECTION_ID, live, []);
          if (!env.more) break;
          assert.equal(typeof env.next, 'string');
          url = `${COLLECTION}/objects/?limit=3&next=${encodeURIComponent(String(env.next))}`;
        }
        assert.equal(seen.length, 12, 'the two fixed objects and ten indicators');
        assert.equal(new Set(seen).size, seen.length, 'no object twice');

        // The next poll, added_after the last date seen, gets what arrived meanwhile (new objects, new versions).
        const poll = json(await s.get(`${COLLECTION}/objects/?added_after=${encodeURIComponent(lastAdded)}`));
        const polled = (poll.objects as StixObject[]).map((o) => o.id);
        for (let r = 1; r <= round; r++) assert.ok(polled.includes(indicator(100 + r).id));
        assert.ok(polled.includes(indicator(0).id), 'the changed object comes again, at its latest version');
        assert.equal(new Set(polled).size, polled.length);
        assert.deepEqual(
          stixProblems({ type: 'bundle', id: `bundle--${DEFAULT_COLLECTION_ID}`, objects: poll.objects }),
          [],
        );
      } finally {
        await s.close();
      }
    });

    test('match[type], match[id], match[version], one object, its versions, the manifest', async (t) => {
      const s = await setup(t, dialect);
      if (!s) return;
      try {
        const db = s.h.ctx.db;
        await publishCollection(db, DEFAULT_COLLECTION_ID, [...base(), indicator(1), indicator(2)], []);
        await publishCollection(db, DEFAULT_COLLECTION_ID, [...base(), indicator(1, 'scam'), indicator(2)], []);
        await publishCollection(db, DEFAULT_COLLECTION_ID, [...base(), indicator(1, 'malware')], []);
        const id1 = indicator(1).id;
        const id2 = indicator(2).id;

        const types = json(await s.get(`${COLLECTION}/objects/?match[type]=indicator`));
        const got = types.objects as StixObject[];
        assert.deepEqual(got.map((o) => o.id).sort(), [id1, id2].sort());
        assert.equal(got.find((o) => o.id === id1)?.labels?.toString(), 'malware', 'the latest version by default');
        assert.equal(got.find((o) => o.id === id2)?.revoked, true, 'a withdrawn object is served revoked');

        const all = json(await s.get(`${COLLECTION}/objects/?match[id]=${id1}&match[version]=all`));
        assert.deepEqual(
          (all.objects as StixObject[]).map((o) => (o.labels as string[])[0]),
          ['phishing', 'scam', 'malware'],
        );
        const first = json(await s.get(`${COLLECTION}/objects/?match[id]=${id1}&match[version]=first`));
        assert.deepEqual(
          (first.objects as StixObject[]).map((o) => (o.labels as string[])[0]),
          ['phishing'],
        );
        const versions = json(await s.get(`${COLLECTION}/objects/${id1}/versions/`));
        const vs = versions.versions as string[];
        assert.equal(vs.length, 3);
        assert.deepEqual([...vs].sort(), vs, 'oldest first');
        const at = json(await s.get(`${COLLECTION}/objects/${id1}/?match[version]=${vs[1]}`));
        assert.deepEqual(
          (at.objects as StixObject[]).map((o) => (o.labels as string[])[0]),
          ['scam'],
        );
        const one = json(await s.get(`${COLLECTION}/objects/${id1}/`));
        assert.equal((one.objects as StixObject[]).length, 1);
        taxiiError(await s.get(`${COLLECTION}/objects/indicator--00000000-0000-4000-8000-000000000000/`), 404);

        const manifest = await s.get(`${COLLECTION}/manifest/?match[type]=indicator`);
        const records = json(manifest).objects as Record<string, unknown>[];
        assert.deepEqual(records.map((r) => r.id).sort(), [id1, id2].sort());
        for (const r of records) {
          assert.equal(r.media_type, 'application/stix+json;version=2.1');
          assert.match(String(r.date_added), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
          assert.equal(typeof r.version, 'string');
        }
        const none = json(await s.get(`${COLLECTION}/objects/?match[spec_version]=2.0`));
        assert.deepEqual(none, { more: false });
      } finally {
        await s.close();
      }
    });

    test('every fetch is counted in /metrics by account', async (t) => {
      const s = await setup(t, dialect);
      if (!s) return;
      try {
        await grantAccess(s.h.ctx.db, DEFAULT_COLLECTION_ID, { tokenId: s.tokens.partner?.id }, 'test');
        await s.get(`${COLLECTION}/objects/`, 'partner');
        await s.get(`${COLLECTION}/objects/`, 'partner');
        const m = await s.app.inject({ method: 'GET', url: '/metrics' });
        const line = m.body
          .split('\n')
          .find((l) => l.startsWith('spamdesk_feed_fetches_total{') && l.includes(`token:${s.tokens.partner?.id}`));
        assert.ok(line, m.body.slice(0, 2000));
        assert.match(line, /feed="taxii"/);
        assert.match(line, /collection="spam-campaigns"/);
        assert.match(line, / 2$/);
      } finally {
        await s.close();
      }
    });
  });
}
