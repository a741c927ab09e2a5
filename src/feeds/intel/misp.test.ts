/**
 * The MISP feed from real reports, read as a MISP instance reads a feed added by URL: the manifest
 * (fields of the MISP core format's Manifest section, `integrity:sha256` of each event file), one
 * event per campaign (Event fields; every attribute's category valid for its type per the core
 * format's table, vendored in `misp-core-format/`), TLP and RSIT tags, deterministic UUIDs,
 * `hashes.csv`, ETag, per-collection access, nothing of the reporters, and a withdrawn campaign.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DIALECTS } from '../../db/test-databases.ts';
import { buildApp } from '../../app/build-app.ts';
import { createToken } from '../../db/tokens.ts';
import { buildIntel } from './build.ts';
import { grantAccess } from './collections.ts';
import { intelHarness, phish } from './test-support.ts';

/** Valid category → types, parsed from the vendored extract of the MISP core format. */
function categoryTypes(): Map<string, Set<string>> {
  const file = path.join(
    path.dirname(fileURLToPath(import.meta.url)),
    'misp-core-format',
    'attribute-category-types.md',
  );
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out = new Map<string, Set<string>>();
  for (let i = 1; i < lines.length; i++) {
    const m = /^:\s+(.+)$/.exec(lines[i] ?? '');
    const name = lines[i - 1]?.trim();
    if (m?.[1] && name) out.set(name, new Set(m[1].split(',').map((s) => s.trim())));
  }
  return out;
}

type Attr = Record<string, unknown> & { type: string; category: string; value: string; deleted: boolean };
type Ev = Record<string, unknown> & { uuid: string; Attribute: Attr[]; Tag: { name: string }[] };

for (const dialect of DIALECTS) {
  describe(`MISP feed on ${dialect}`, () => {
    test('manifest, events and hashes.csv in the MISP core format, typed and tagged; a withdrawn \
campaign', async (t) => {
      const h = await intelHarness(t, dialect);
      if (!h) return;
      const app = await buildApp(h.ctx);
      try {
        const reporters = ['anne.dupont@mail-users.org', 'marc.leroy@mail-users.org'];
        await h.report(
          reporters.map((r, i) => ({
            raw: phish({ n: 30 + i, ip: '81.2.69.161', to: r, template: 'lottery' }),
            reporter: r,
          })),
        );
        await buildIntel(h.ctx.db, h.ctx.config);
        const admin = (await createToken(h.ctx.db, { role: 'admin' })).secret;
        const partner = await createToken(h.ctx.db, { role: 'partner' });
        const get = (file: string, secret = admin, headers: Record<string, string> = {}) =>
          app.inject({
            method: 'GET',
            url: `/feeds/misp/spam-campaigns/${file}`,
            headers: { authorization: `Bearer ${secret}`, ...headers },
          });

        assert.equal((await get('manifest.json', partner.secret)).statusCode, 404, 'not granted: not there');
        await grantAccess(
          h.ctx.db,
          (await h.ctx.db.selectFrom('intel_collections').select('id').executeTakeFirstOrThrow()).id,
          { tokenId: partner.id },
          'test',
        );
        const m = await get('manifest.json', partner.secret);
        assert.equal(m.statusCode, 200);
        const manifest = JSON.parse(m.body) as Record<string, Record<string, unknown>>;
        const uuids = Object.keys(manifest);
        assert.equal(uuids.length, 1, m.body);
        const uuid = uuids[0] ?? '';
        const entry = manifest[uuid] ?? {};
        for (const f of ['info', 'Orgc', 'timestamp', 'date', 'analysis', 'threat_level_id'])
          assert.ok(entry[f] !== undefined, `manifest entry has ${f}`);

        const e = await get(`${uuid}.json`);
        assert.equal(e.statusCode, 200);
        assert.equal(entry['integrity:sha256'], createHash('sha256').update(e.body).digest('hex'));
        const ev = (JSON.parse(e.body) as { Event: Ev }).Event;
        assert.equal(ev.uuid, uuid);
        assert.match(String(ev.date), /^\d{4}-\d{2}-\d{2}$/);
        assert.match(String(ev.timestamp), /^\d+$/);
        assert.equal(ev.published, true);
        assert.ok(['1', '2', '3', '4'].includes(String(ev.threat_level_id)));
        assert.ok(['0', '1', '2'].includes(String(ev.analysis)));
        assert.equal(ev.distribution, '0', 'TLP:AMBER stays in the subscribing organisation');
        const orgc = ev.Orgc as Record<string, unknown>;
        assert.ok(orgc.uuid && orgc.name && orgc.id);
        const tags = ev.Tag.map((x) => x.name);
        assert.ok(tags.includes('tlp:amber'), String(tags));
        assert.ok(
          tags.some((x) => x.startsWith('rsit:')),
          String(tags),
        );
        const valid = categoryTypes();
        assert.ok(valid.size >= 15, 'the category table was read');
        for (const a of ev.Attribute) {
          assert.ok(valid.get(a.category)?.has(a.type), `${a.category} admits ${a.type}`);
          assert.match(String(a.uuid), /^[0-9a-f-]{36}$/);
          assert.equal(a.event_id, ev.id);
          assert.equal(typeof a.to_ids, 'boolean');
        }
        const byType = new Map(ev.Attribute.map((a) => [a.type, a.value]));
        assert.equal(byType.get('ip-src'), '81.2.69.161');
        assert.equal(byType.get('domain'), 'intl-lottery-board.org');
        assert.equal(byType.get('url'), 'https://intl-lottery-board.org/claim');
        assert.equal(byType.get('btc'), '1BoatSLRHtKNngkdXEeobR76b53LETtpyT');
        assert.equal(byType.get('phone-number'), '+442079460321');
        assert.doesNotMatch(e.body, /anne|dupont|marc\.leroy|mail-users/i, 'nothing of the reporters');

        const hashes = await get('hashes.csv');
        const lines = hashes.body.trim().split('\n');
        assert.equal(lines.length, ev.Attribute.length);
        for (const a of ev.Attribute)
          assert.ok(lines.includes(`${createHash('md5').update(a.value).digest('hex')},${uuid}`), a.value);

        const again = await get('manifest.json', admin, { 'if-none-match': String(m.headers.etag) });
        assert.equal(again.statusCode, 304, 'unchanged: 304 on its ETag');
        await buildIntel(h.ctx.db, h.ctx.config);
        assert.equal((await get('manifest.json')).body, m.body, 'a rebuild changes nothing: same uuids, same stamps');
        assert.equal((await get('nope.json')).statusCode, 404);

        // The campaign is held (a third of it relabelled legitimate): the event stays, withdrawn.
        await h.ctx.db.updateTable('campaigns').set({ legitimate_share: 0.34 }).execute();
        await buildIntel(h.ctx.db, h.ctx.config);
        const w = (JSON.parse((await get(`${uuid}.json`)).body) as { Event: Ev }).Event;
        assert.match(String(w.info), /^\[withdrawn\] /);
        assert.ok(w.Attribute.length > 0 && w.Attribute.every((a) => a.deleted === true));
        assert.ok(Number(w.timestamp) > Number(ev.timestamp), 'a later timestamp, so MISP fetches it again');
        assert.equal((await get('hashes.csv')).body, '', 'no live attribute is left to correlate');
      } finally {
        await app.close();
        await h.close();
      }
    });
  });
}
