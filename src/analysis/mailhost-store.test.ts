/**
 * Learned mail hosts on both engines: a reporter's stored reports teach the trace-back their
 * secondary MX (the SpamAssassin author's mail.webnote.net, from his real corpus messages), the
 * learning pass runs after RELEARN_EVERY reports, and the next analysis looks past that host.
 * Corpus messages are read in place from ../shared/corpus (skipped loudly when absent). Declared mail
 * hosts: the reporter's before the intake's, each change audited.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createTestContext } from '../app/test-context.ts';
import { needsCorpus } from '../core/test-env.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { analyse } from './analyse.ts';
import {
  keptHeadersSayList,
  keysOfReports,
  mailhostsOf,
  FIRST_LEARNING_AFTER,
  noteReportsAndRelearn,
  RELEARN_EVERY,
  relearn,
  reporterFactsOf,
  reporterKeys,
  replaceDeclaredMailhosts,
} from './mailhost-store.ts';
import { MAX_HEADERS_KEPT } from './analysis-schema.ts';
import { MAX_DECLARED, splitMailhosts } from './stages/traceback/declared.ts';
import { mailhostRelay } from './stages/traceback/mailhosts.ts';
import { newId, nowIso } from '../core/ids.ts';
import { staticPorts } from './ports/index.ts';
import { storeAnalysis } from './repository.ts';
import { defaultAnalysisSettings } from './settings.ts';
import { webnoteCorpus } from './test-webnote.ts';

test('reporter keys: the user, else the token, else a hash of the address; and the intake channel', () => {
  assert.deepEqual(
    reporterKeys({ reporter_user_id: 'u1', reporter_token_id: 't1', reporter_address: 'a@b.example', channel: 'smtp' }),
    ['user:u1', 'intake:smtp'],
  );
  const [k] = reporterKeys({
    reporter_user_id: null,
    reporter_token_id: null,
    reporter_address: ' A@B.example ',
    channel: 'smtp',
  });
  assert.match(k ?? '', /^address:[0-9a-f]{40}$/);
  assert.ok(!(k ?? '').includes('b.example'), 'the address itself is not kept');
});

for (const dialect of DIALECTS) {
  describe(`learned mail hosts (${dialect})`, () => {
    test('each report’s reporter mail domain: the address it came from, else the user’s account address', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      const userId = newId();
      await h.ctx.db
        .insertInto('users')
        .values({
          id: userId,
          email: 'zoe@Corp.Example',
          name: 'Zoe',
          role: 'reporter',
          password_hash: null,
          created_at: nowIso(),
          disabled_at: null,
        })
        .execute();
      const raw = Buffer.from('From: a@spam.example\r\nSubject: x\r\n\r\nbody\r\n');
      const [byAddress, byUser, nobody] = await h.ctx.writer.submit([
        { raw, channel: 'smtp', reporterAddress: ' Jm@JMason.Example ' },
        { raw, channel: 'web', reporterUserId: userId },
        { raw, channel: 'api' },
      ]);
      const [redirect] = await h.ctx.writer.submit([
        { raw, channel: 'smtp', reporterAddress: 'Lea@Gmail.example', context: { how: 'resent', wholeMail: true } },
      ]);
      const d = await reporterFactsOf(
        h.ctx.db,
        [byAddress, byUser, nobody, redirect].map((r) => r?.id ?? ''),
      );
      assert.deepEqual(d.get(byAddress?.id ?? ''), { domains: ['jmason.example'] });
      assert.deepEqual(d.get(byUser?.id ?? ''), { domains: ['corp.example'] });
      assert.deepEqual(d.get(nobody?.id ?? ''), { domains: [] });
      // A redirect's reporter is named for the trace-back, which leaves the redirect's own hops out.
      assert.deepEqual(d.get(redirect?.id ?? ''), { domains: ['gmail.example'], resentBy: ['lea@gmail.example'] });
    });

    test('a new reporter is learned after their fifth report, then at the 25th and every 25 after', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      const raw = Buffer.from('From: a@spam.example\r\nSubject: x\r\n\r\nbody\r\n');
      const at = new Date('2026-01-01T00:00:00Z');
      const note = async (n: number) => {
        const reports = await h.ctx.writer.submit(
          Array.from({ length: n }, () => ({ raw, channel: 'smtp', reporterAddress: 'new@reporter.example' })),
        );
        const keys = await keysOfReports(
          h.ctx.db,
          reports.map((r) => r.id),
        );
        return (await noteReportsAndRelearn(h.ctx.db, keys.values(), at)).filter((k) => k.startsWith('address:'));
      };
      assert.equal(FIRST_LEARNING_AFTER, 5);
      assert.deepEqual(await note(4), [], 'four reports: not yet');
      assert.equal((await note(1)).length, 1, 'the fifth: learned for the first time');
      assert.deepEqual(await note(RELEARN_EVERY - FIRST_LEARNING_AFTER - 1), [], 'then not before the 25th');
      assert.equal((await note(1)).length, 1, 'the 25th');
      assert.deepEqual(await note(RELEARN_EVERY - 1), [], 'then every 25');
      assert.equal((await note(1)).length, 1);
    });

    test('a reporter’s reports teach their secondary MX; the next analysis looks past it', async (t) => {
      if (!needsCorpus(t, 'spamassassin/spam_2')) return;
      const h = await createTestContext(t, dialect);
      if (!h) return;
      const { files, probe } = webnoteCorpus();
      assert.ok(files.length >= RELEARN_EVERY, `${files.length} webnote.net messages`);
      const ports = staticPorts();
      const settings = defaultAnalysisSettings({ dnsMode: 'offline' });
      const reports = await h.ctx.writer.submit(
        files.map((f) => ({ raw: fs.readFileSync(f), channel: 'smtp', reporterAddress: 'jm@jmason.example' })),
      );
      for (const r of reports) {
        const raw = fs.readFileSync(files[reports.indexOf(r)] ?? '');
        await storeAnalysis(h.ctx.db, await analyse(raw, { ports, settings }), 1);
      }
      const keys = await keysOfReports(
        h.ctx.db,
        reports.map((r) => r.id),
      );
      const relearned = await noteReportsAndRelearn(h.ctx.db, keys.values(), new Date('2026-01-01T00:00:00Z'));
      const reporterKey = keys.get(reports[0]?.id ?? '')?.[0] ?? '';
      assert.ok(relearned.includes(reporterKey), `relearned ${relearned.join(', ')}`);
      // For the reporter's key, the hosts that delivered their mail, as whole names: webnote.net greets
      // as one of them from an address whose checked name is in its domain, so its address is no longer
      // where the walk stops and need not be learned. An intake's reports are delivered by every
      // reporter's provider, strangers to each other: its key learns the address, never such names.
      const hosts = await mailhostsOf(h.ctx.db, [reporterKey]);
      assert.ok(hosts.includes('=webnote.net'), `learned ${hosts.join(', ')}`);
      const intakeKey = keys.get(reports[0]?.id ?? '')?.[1] ?? '';
      assert.equal(intakeKey, 'intake:smtp');
      assert.ok(relearned.includes(intakeKey), `relearned ${relearned.join(', ')}`);
      const intakeHosts = await mailhostsOf(h.ctx.db, [intakeKey]);
      assert.ok(intakeHosts.includes('193.120.211.219'), `intake learned ${intakeHosts.join(', ')}`);
      assert.deepEqual(
        intakeHosts.filter((e) => e.startsWith('=')),
        [],
      );

      // Analyses stored again (same version, new time) are read again by the next pass, not
      // taken from the chains parsed before: with their hops gone, nothing is learned.
      for (const r of reports) {
        const a = await analyse(fs.readFileSync(files[reports.indexOf(r)] ?? ''), { ports, settings });
        const later = { ...a, analysedAt: '2026-01-02T00:00:00.000Z', traceback: { ...a.traceback, hops: [] } };
        await storeAnalysis(h.ctx.db, later, 1);
      }
      assert.deepEqual(await relearn(h.ctx.db, reporterKey, new Date('2026-01-02T00:00:00Z')), []);
      assert.deepEqual(await mailhostsOf(h.ctx.db, [reporterKey]), []);

      const raw = fs.readFileSync(probe);
      const before = await analyse(raw, { ports, settings });
      const after = await analyse(raw, { ports, settings, mailhosts: hosts });
      const byIntake = await analyse(raw, { ports, settings, mailhosts: intakeHosts });
      assert.equal(before.traceback.origin?.ip, '193.120.211.219');
      assert.equal(after.traceback.origin?.ip, '194.125.145.45', 'the ILUG list server behind the secondary MX');
      assert.equal(byIntake.traceback.origin?.ip, '194.125.145.45', 'the same, by the learned address');
    });
  });
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] a reporter's declarations come before their intake's, so a full intake list never crowds them \
out; a change is audited with the note`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    try {
      const { db } = h.ctx;
      const now = new Date();
      const intake = Array.from({ length: MAX_DECLARED }, (_, i) => ({
        entry: `=mx${i}.feed-forwarder.net`,
        note: null,
      }));
      await replaceDeclaredMailhosts(db, 'intake:smtp', intake, 'admin', now);
      await replaceDeclaredMailhosts(db, 'user:u1', [{ entry: 'vineyard.net', note: null }], 'user:u1', now);
      const list = await mailhostsOf(db, ['user:u1', 'intake:smtp']);
      assert.equal(list[0], '+vineyard.net');
      assert.equal(list.filter((e) => e.startsWith('+')).length, MAX_DECLARED + 1);
      const relay = mailhostRelay(splitMailhosts(list).declared, 'declared');
      assert.deepEqual(relay?.names, ['vineyard.net']);
      assert.equal(relay?.hosts?.length, MAX_DECLARED, 'every intake entry kept beside the reporter’s');

      // A note-only change is a change: audited, in the same transaction as the rows.
      const change = await replaceDeclaredMailhosts(
        db,
        'user:u1',
        [{ entry: 'vineyard.net', note: 'the gazette forward' }],
        'user:u1',
        now,
      );
      assert.deepEqual(change, { added: [], removed: [], noted: ['vineyard.net'] });
      const audit = await db
        .selectFrom('audit_log')
        .select(['subject', 'detail'])
        .where('action', '=', 'traceback.mailhosts.declare')
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        audit.map((a) => a.subject),
        ['intake:smtp', 'user:u1', 'user:u1'],
      );
      assert.match(String(audit[2]?.detail), /"noted":\["\*\.vineyard\.net"\]/);
      // Nothing changed, nothing audited.
      await replaceDeclaredMailhosts(db, 'user:u1', [{ entry: 'vineyard.net', note: 'the gazette forward' }], 'u', now);
      assert.equal(
        (await db.selectFrom('audit_log').select('seq').where('action', '=', 'traceback.mailhosts.declare').execute())
          .length,
        3,
      );
    } finally {
      await h.close();
    }
  });
}

test('a stored analysis teaches a forwarder only when its kept header is whole and says no list', () => {
  const f = (name: string, value: string) => ({ name, value });
  const plain = [f('Received', 'from ns1.timhunt.net by dogma.slashnull.org'), f('Subject', 'ZDNet Shopper')];
  assert.equal(keptHeadersSayList({ parse: { headers: plain } }), false);
  assert.equal(keptHeadersSayList({ parse: { headers: [...plain, f('Precedence', 'bulk')] } }), true);
  assert.equal(
    keptHeadersSayList({ parse: { headers: [...plain, f('List-Id', '<zzzzteana.yahoogroups.com>')] } }),
    true,
  );
  // Cut off at the cap: the fields past it are unknown, and a list's may be among them.
  const full = Array.from({ length: MAX_HEADERS_KEPT }, (_, i) => f('X-Filler', String(i)));
  assert.equal(keptHeadersSayList({ parse: { headers: full } }), true);
  assert.equal(keptHeadersSayList({ parse: { headers: full.slice(1) } }), false);
  // Nothing kept, or kept in a shape this version does not read: unknown, so held back.
  assert.equal(keptHeadersSayList({}), true);
  assert.equal(keptHeadersSayList({ parse: {} }), true);
  assert.equal(keptHeadersSayList({ parse: { headers: [...plain, { name: 'Sender' }] } }), true);
});
