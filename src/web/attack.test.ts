/**
 * The attack regression test, on both databases: mutated corpus messages (byte flips,
 * truncations, CR-only, NULs, huge headers, deep MIME, base64 garbage, long lines) to every intake
 * route — HTTP upload (raw, multipart, JSON), SMS, look-up, SMTP direct, forwarded and ARF — while
 * a probe keeps asking for /healthz. No server-side failure (5xx other than 503, SMTP "local
 * error", dropped connection), every probe answered, the server alive afterwards, and every
 * accepted report stored exactly once. Sizes are small here; `npm run bench -- attack` measures
 * latency and memory at real sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { DIALECTS } from '../db/test-databases.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { createTestContext } from '../app/test-context.ts';
import { createToken } from '../db/tokens.ts';
import { newId, nowIso } from '../core/ids.ts';
import { StaticZoneResolver } from '../analysis/ports/dns-static-zone.ts';
import { SmtpIntake } from '../intake/smtp/smtp-intake.ts';
import { buildApp } from '../app/build-app.ts';
import {
  corpusSample,
  forwardAsAttachment,
  intakeRoutes,
  isServerFailure,
  mutate,
  runAttack,
  smtpSend,
  startProbe,
  type Payload,
} from './attack.ts';

for (const dialect of DIALECTS) {
  test(`mutated corpus messages on every intake route break nothing and lose nothing (${dialect})`, async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam') || !needsCorpus(t, 'sisimai/maildir/bsd')) return;
    const h = await createTestContext(t, dialect, {
      anonRateLimit: 100_000,
      smtpRateLimit: 100_000,
      smtpMaxConnectionsPerClient: 100,
      dnsMode: 'offline',
      maxMessageBytes: 4 * 1024 * 1024,
    });
    if (!h) return;
    const { ctx } = h;
    const app = await buildApp(ctx);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const smtp = await new SmtpIntake(ctx, {
      ackSender: null,
      host: '127.0.0.1',
      port: 0,
      dns: new StaticZoneResolver({ 'example.org': { TXT: [['v=spf1 ip4:127.0.0.1 ip6:::1 -all']] } }),
    }).start();
    t.after(async () => {
      await smtp.stop();
      await app.close();
      await h.close();
    });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const userId = newId();
    await ctx.db
      .insertInto('users')
      .values({
        id: userId,
        email: 'fuzz@example.org',
        name: null,
        role: 'reporter',
        password_hash: null,
        created_at: nowIso(),
        disabled_at: null,
      })
      .execute();
    const target = {
      baseUrl,
      smtpPort: smtp.address().port,
      reporterToken: (await createToken(ctx.db, { role: 'reporter', userId })).secret,
      lookupToken: (await createToken(ctx.db, { role: 'partner' })).secret,
      forwarderAddress: 'fuzz@example.org',
    };

    const { spam, arf } = corpusSample(CORPUS_DIR, 4);
    const payloads: Payload[] = [...spam, ...arf].flatMap((raw, i) =>
      mutate(raw, 1000 + i).map((p) => ({ ...p, name: `${i}:${p.name}` })),
    );
    const routes = intakeRoutes(target);
    const probe = startProbe(`${baseUrl}/healthz`);
    const outcomes = await runAttack(routes, payloads, 6);
    const seen = await probe.stop();

    assert.equal(outcomes.length, payloads.length * Object.keys(routes).length);
    const failures = outcomes
      .filter((o) => isServerFailure(o, o.route.startsWith('smtp')))
      .map((o) => `${o.route} ${o.payload}: ${o.status} ${o.detail}`);
    assert.deepEqual(failures, [], failures.join('\n'));
    assert.ok(seen.sent > 0);
    assert.deepEqual(seen.failures, [], 'every probe was answered with 200');
    assert.equal(seen.answered, seen.sent);

    // Something got through on every route that stores (the attack was not refused wholesale).
    for (const route of ['http-raw', 'http-multipart', 'http-json', 'sms', 'smtp-direct', 'smtp-attached']) {
      assert.ok(
        outcomes.some((o) => o.route === route && o.reportIds.length > 0),
        `${route} accepted nothing`,
      );
    }
    assert.ok(
      outcomes.some((o) => o.route === 'lookup' && o.status === 200),
      'the look-up answered',
    );

    // Alive afterwards, on both protocols.
    assert.equal((await fetch(`${baseUrl}/healthz`)).status, 200);
    const after = await smtpSend(
      target.smtpPort,
      target.forwarderAddress,
      'spam@report.test',
      forwardAsAttachment(target.forwarderAddress, spam[0]),
    );
    assert.equal(after.code, 250, after.text);
    const afterIds = [...after.text.matchAll(/\b[0-9A-Z]{26}\b/g)].map((m) => m[0]);

    // Every accepted report is stored, once; nothing refused was stored.
    const accepted = new Set([...outcomes.flatMap((o) => o.reportIds), ...afterIds]);
    const rows = await ctx.db.selectFrom('reports').select('id').execute();
    const stored = new Set(rows.map((r) => r.id));
    assert.equal(rows.length, stored.size);
    const lost = [...accepted].filter((id) => !stored.has(id));
    const unexplained = [...stored].filter((id) => !accepted.has(id));
    assert.deepEqual(lost, [], 'accepted reports missing from the database');
    assert.deepEqual(unexplained, [], 'reports stored without being acknowledged to any client');
  });
}
