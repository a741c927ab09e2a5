import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { createToken } from '../../db/tokens.ts';
import { buildApp } from '../../app/build-app.ts';
import { parseArf } from '../../intake/arf/parse-arf.ts';
import { StaticZoneResolver } from '../../analysis/ports/dns-static-zone.ts';
import { useSenderDnsResolver } from '../actions-routes.ts';
import { processReport } from '../actions-jobs.ts';
import { ACTIONS_NEXT } from '../../app/pipeline.ts';
import { drainOutbox } from '../outbox/delivery.ts';
import { closeTransports } from '../outbox/transports.ts';
import { startSmtpSink } from '../test-sinks.ts';
import { analysisFor, spamMessage } from '../test-factories.ts';
import { proofName } from './sender-feedback.ts';

const VICTIM = 'claire.fontaine@victim-mail.example';

test('TXT proofs live at _spamdesk.<domain> and under the reverse zone of an IP', () => {
  assert.equal(proofName('domain', 'newsletter.example'), '_spamdesk.newsletter.example');
  assert.equal(proofName('ip', '198.51.100.7'), '_spamdesk.7.100.51.198.in-addr.arpa');
  assert.match(proofName('ip', '2001:db8::1'), /^_spamdesk\.1(\.0){23}\.8\.b\.d\.0\.1\.0\.0\.2\.ip6\.arpa$/);
});

for (const dialect of DIALECTS) {
  test(`[${dialect}] a sender proves its domain by DNS TXT and receives redacted ARF for complaints about its \
authenticated mail only`, async (t) => {
    const tdb = await createTestDatabase(t, dialect, { outboxFrom: 'fbl@spamdesk.example' });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const app = await buildApp(ctx);
    const sink = await startSmtpSink();
    try {
      const userId = newId();
      await tdb.db
        .insertInto('users')
        .values({
          id: userId,
          email: 'ops@newsletter.example',
          name: 'Newsletter Ops',
          role: 'sender',
          password_hash: null,
          created_at: nowIso(),
          disabled_at: null,
        })
        .execute();
      const token = await createToken(tdb.db, { role: 'sender', userId, name: 'esp' });
      const headers = { authorization: `Bearer ${token.secret}` };
      const reg = await app.inject({
        method: 'POST',
        url: '/api/v1/actions/senders',
        headers,
        payload: { name: 'Newsletter Inc', feedbackAddress: 'fbl@newsletter.example' },
      });
      assert.equal(reg.statusCode, 201, reg.body);
      const senderId: string = reg.json().sender.id;
      const bad = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/senders/${senderId}/identities`,
        headers,
        payload: { kind: 'domain', value: 'com' },
      });
      assert.equal(bad.statusCode, 400, 'a public suffix cannot be claimed');
      const claim = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/senders/${senderId}/identities`,
        headers,
        payload: { kind: 'domain', value: 'Newsletter.example' },
      });
      assert.equal(claim.statusCode, 201, claim.body);
      const identity: { id: string; txtName: string; txtValue: string } = claim.json().identity;
      assert.equal(identity.txtName, '_spamdesk.newsletter.example');

      useSenderDnsResolver(new StaticZoneResolver({}));
      const before = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/senders/identities/${identity.id}/verify`,
        headers,
      });
      assert.equal(before.json().verified, false);
      assert.match(before.json().reason, /no TXT record/);
      useSenderDnsResolver(
        new StaticZoneResolver({
          [identity.txtName]: { TXT: [['v=spf1 -all'], [identity.txtValue.slice(0, 20), identity.txtValue.slice(20)]] },
        }),
      );
      const after = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/senders/identities/${identity.id}/verify`,
        headers,
      });
      assert.equal(after.json().verified, true, after.body);

      // Another account cannot read or verify this sender's identities.
      const other = await createToken(tdb.db, { role: 'sender', userId: null, name: 'stranger' });
      const peek = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/senders/identities/${identity.id}/verify`,
        headers: { authorization: `Bearer ${other.secret}` },
      });
      assert.equal(peek.statusCode, 404);

      // A complaint about authenticated mail from the domain → ARF; a forgery from a botnet → nothing.
      const genuine = spamMessage({
        n: 1,
        ip: '198.51.100.7',
        to: VICTIM,
        from: 'news@newsletter.example',
        subject: 'Our weekly deals',
      });
      const forged = spamMessage({
        n: 2,
        ip: '203.0.113.66',
        to: VICTIM,
        from: 'news@newsletter.example',
        subject: 'Your prize',
      });
      for (const [raw, authenticated] of [
        [genuine, true],
        [forged, false],
      ] as const) {
        const stored = await ctx.writer.submitOne({ raw, channel: 'api', reporterAddress: VICTIM });
        const analysis = await analysisFor(raw, {
          ip: authenticated ? '198.51.100.7' : '203.0.113.66',
          asn: 64500,
          rdns: null,
          abuse: [],
          authenticated,
        });
        const out = await processReport(
          ctx,
          { reportId: stored.id, sha256: stored.sha256, campaignId: null },
          analysis,
          ACTIONS_NEXT,
        );
        assert.equal(out.feedback, authenticated ? 1 : 0);
        // Processing the same report again (a re-run) never sends a second report.
        assert.equal(
          (
            await processReport(
              ctx,
              { reportId: stored.id, sha256: stored.sha256, campaignId: null },
              analysis,
              ACTIONS_NEXT,
            )
          ).feedback,
          0,
        );
      }
      await drainOutbox({ db: tdb.db, logger: ctx.logger, relayUrl: sink.url, retryBaseMs: 1, leaseMs: 60_000 });
      assert.equal(sink.mails.length, 1);
      assert.deepEqual(sink.mails[0].to, ['fbl@newsletter.example']);
      const arf = parseArf(sink.mails[0].raw);
      assert.ok(arf);
      assert.equal(arf.feedbackType, 'abuse');
      assert.deepEqual(arf.reportedDomain, ['newsletter.example']);
      assert.equal(arf.sourceIp, '198.51.100.7');
      assert.ok(arf.original);
      const text = arf.original.toString('latin1');
      assert.ok(text.includes('Our weekly deals'));
      assert.ok(!text.includes('claire.fontaine'), 'the complainant is redacted');
      assert.ok(!sink.mails[0].raw.toString('latin1').includes('claire.fontaine'));
    } finally {
      useSenderDnsResolver(new StaticZoneResolver({}));
      closeTransports();
      await sink.close();
      await app.close();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    }
  });
}
