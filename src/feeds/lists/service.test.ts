/**
 * The listing service as `serve` runs it, on both databases: one process holds the lease and
 * writes the zones, another waits; a tick writes only the files whose text changed; the lease
 * passes on when its holder releases it or lets it lapse. And the policy file's `listing` section
 * is validated with the other operator files (every problem at its path).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestContext } from '../../app/test-context.ts';
import { DIALECTS } from '../../db/test-databases.ts';
import { newId } from '../../core/ids.ts';
import { actionPolicyProblems } from '../../actions/action-policy.ts';
import { listingService, listingTick } from './service.ts';
import { releaseLease } from './store.ts';

for (const dialect of DIALECTS) {
  describe(`listing service (${dialect})`, () => {
    test('one process holds the lease and writes the zones, only when they change', async (t) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-zones-'));
      t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
      const h = await createTestContext(t, dialect, { feedsZonesDir: dir });
      if (!h) return;
      t.after(() => h.close());
      const now = new Date();
      const a = await listingTick(h.ctx, 'process-a', 60_000, now);
      assert.equal(a.held, true);
      assert.deepEqual(a.written.sort(), ['domains.zone', 'ip4.zone', 'ip6.zone', 'rbldnsd.zones']);
      const b = await listingTick(h.ctx, 'process-b', 60_000, now);
      assert.equal(b.held, false, 'another process waits while the lease runs');

      const at = new Date(Date.now() - 60_000).toISOString();
      await h.ctx.db
        .insertInto('action_report_facts')
        .values(
          [1, 2].map(() => ({
            report_id: newId(),
            message_sha256: newId().padEnd(64, '0'),
            campaign_id: null,
            category: 'scam',
            received_at: at,
            origin_ip: '2a01:4f8:c0c:1234::2',
            origin_asn: null,
            origin_as_name: 'Example Broadband', // a subscriber line
            origin_country: null,
            origin_rdns: null,
            origin_abuse: null,
            origin_port: null,
            sender_domain: null,
            advertised_domains: '[]',
            consent_denied: 0,
            unauthenticated: 1,
            bot_signals: JSON.stringify(['no-rdns', 'unauthenticated']),
            created_at: at,
            message_category: 'scam',
            authenticated: 0,
            historical: 0,
            arrived_at: null,
            origin_sent_at: null,
          })),
        )
        .execute();
      const seen = new Map<string, string>();
      const again = await listingTick(h.ctx, 'process-a', 60_000, new Date(), seen);
      assert.equal(again.pass?.changed, 1);
      assert.deepEqual(again.written, ['ip6.zone'], 'only the changed zone is rewritten');
      assert.match(fs.readFileSync(path.join(dir, 'ip6.zone'), 'utf8'), /^2a01:4f8:c0c:1234::2\/128 :127\.0\.0\.2:/m);
      const quiet = await listingTick(h.ctx, 'process-a', 60_000, new Date(), seen);
      assert.deepEqual(quiet.written, []);
      assert.equal(quiet.pass?.facts, 2, 'the cursor overlap re-reads the facts…');
      assert.equal(quiet.pass?.judged, 0, '…but values already judged from them are not judged again');

      await releaseLease(h.ctx.db, 'process-a');
      assert.equal((await listingTick(h.ctx, 'process-b', 60_000, new Date())).held, true, 'released: b takes over');
      const lapsed = new Date(Date.now() + 120_000);
      assert.equal((await listingTick(h.ctx, 'process-a', 60_000, lapsed)).held, true, 'lapsed: a takes it back');
    });
  });
}

test('the service runs a pass on start, releases its lease on stop and shows the lists in /metrics', async (t) => {
  const h = await createTestContext(t, 'sqlite');
  if (!h) return;
  t.after(() => h.close());
  const at = new Date(Date.now() - 60_000).toISOString();
  await h.ctx.db
    .insertInto('feed_listings')
    .values({
      id: newId(),
      kind: 'ip',
      value: '91.121.11.1',
      list: 'infrastructure',
      state: 'held',
      return_code: null,
      category: 'scam',
      report_count: 5,
      campaign_count: 1,
      signals: '[]',
      evidence: '{}',
      first_seen: at,
      last_seen: at,
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      listed_at: null,
      delisted_at: null,
      delisted_by: null,
      updated_at: at,
    })
    .execute();
  assert.equal(listingService.enabled(h.ctx), true);
  const running = await listingService.start(h.ctx);
  assert.match(running.describe(), /every 10 s, no zone directory/);
  await running.stop();
  const state = await h.ctx.db.selectFrom('feed_state').selectAll().executeTakeFirstOrThrow();
  assert.ok(state.full_pass_at, 'a pass ran');
  assert.equal(state.lease_owner, null, 'the lease was released');
  const metrics = await h.ctx.metrics.registry.metrics();
  assert.match(metrics, /^spamdesk_listings\{list="infrastructure",state="held"\} 1$/m);
});

test('check-config reports the listing section’s problems at their paths', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-policy-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'policy.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      listing: {
        zones: { ip: 'bl.example.org', domain: 'not a zone' },
        infected: { minReports: 0 },
        neverList: { networks: ['10.0.0.0/8', '300.1.2.3'] },
      },
    }),
  );
  const where = actionPolicyProblems(file).map((p) => p.where);
  assert.deepEqual(where.sort(), ['listing.infected.minReports', 'listing.zones.domain']);
  fs.writeFileSync(file, JSON.stringify({ listing: { neverList: { networks: ['10.0.0.0/8', '300.1.2.3'] } } }));
  assert.deepEqual(
    actionPolicyProblems(file).map((p) => `${p.where}: ${p.message}`),
    ['listing.neverList.networks.1: "300.1.2.3" is not an IP address or CIDR network'],
  );
});
