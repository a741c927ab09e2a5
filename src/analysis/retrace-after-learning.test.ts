/**
 * A new reporter's first reports are traced before their side's mail hosts are learned, so they name the
 * reporter's own forwarder as the origin; once the learning pass learns it, those messages are traced
 * again and their reports' facts follow, so no output (lists, ISP alerts, intel feeds, cases) goes on
 * naming it. The SpamAssassin donor's real spam_2 messages through his ISP's relay 213.105.180.140
 * (Virgin Media, no PTR record), reported by one address through the real pipeline, on both engines.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { intelHarness } from '../feeds/intel/test-support.ts';
import { mailhostsOf, keysOfReports } from './mailhost-store.ts';
import { ANALYSER_VERSION } from './analysis-schema.ts';
import { webnoteCorpus } from './test-webnote.ts';
import { indexAll } from '../web/indexer.ts';
import { originStoryDrift } from '../campaigns/test-story.ts';
import { TIMHUNT, TIMHUNT_FEED, withoutListTraces } from './test-support/timhunt-feed.ts';

const FORWARDER = '213.105.180.140';

/** The first `n` spam_2 messages (name order) that passed through the forwarder. */
function forwarded(n: number): Buffer[] {
  const dir = path.join(CORPUS_DIR, 'spamassassin/spam_2');
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f)))
    .filter((raw) => raw.toString('latin1').includes(FORWARDER))
    .slice(0, n);
}

for (const dialect of DIALECTS) {
  describe(`messages traced again when their reporter's mail host is learned (${dialect})`, () => {
    test('the reports traced to the reporter’s forwarder before it was learned name it no more', async (t) => {
      if (!needsCorpus(t, 'spamassassin/spam_2')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        const reporter = 'jm@jmason.example';
        // Three reports: below the first learning pass, so traced to the forwarder, as they were before.
        const messages = forwarded(30);
        assert.equal(messages.length, 30);
        const first = await h.report(messages.slice(0, 3).map((raw) => ({ raw, reporter })));
        const origins = async () =>
          (
            await h.ctx.db
              .selectFrom('action_report_facts')
              .select('origin_ip')
              .where(
                'report_id',
                'in',
                first.map((r) => r.id),
              )
              .execute()
          ).map((r) => r.origin_ip);
        assert.deepEqual(await origins(), [FORWARDER, FORWARDER, FORWARDER], 'traced before any learning');
        // Their campaigns' stories and the workbench index name it too, as first traced.
        await indexAll(h.ctx.db);
        const told = async () => ({
          story: await h.ctx.db
            .selectFrom('campaign_facts')
            .select(['campaign_id', 'kind', 'value'])
            .where('value', '=', FORWARDER)
            .execute(),
          index: await h.ctx.db
            .selectFrom('web_report_index')
            .select('report_id')
            .where('origin_ip', '=', FORWARDER)
            .execute(),
        });
        const early = await told();
        assert.ok(early.story.length >= 1, 'a campaign story names the forwarder as first traced');
        assert.equal(early.index.length, 3, 'the index names it as first traced');
        assert.deepEqual(await originStoryDrift(h.ctx.db), [], 'the stories are their members’ origins');

        // The rest: the learning pass after them learns the forwarder as the reporter's own host.
        await h.report(messages.slice(3).map((raw) => ({ raw, reporter })));
        const keys = await keysOfReports(
          h.ctx.db,
          first.map((r) => r.id),
        );
        const own = await mailhostsOf(h.ctx.db, keys.get(first[0].id)?.slice(0, 1) ?? []);
        assert.ok(own.includes(FORWARDER), `learned: ${own.join(' ')}`);

        // The first three were traced again past it; their facts and their stored analyses follow.
        const after = await origins();
        assert.equal(after.length, 3);
        assert.ok(!after.includes(FORWARDER), `origins now: ${after.join(', ')}`);
        const analyses = await h.ctx.db
          .selectFrom('analyses')
          .select('origin_ip')
          .where('version', '=', ANALYSER_VERSION)
          .where(
            'message_sha256',
            'in',
            first.map((r) => r.sha256),
          )
          .execute();
        assert.ok(!analyses.some((a) => a.origin_ip === FORWARDER));
        const anywhere = await h.ctx.db
          .selectFrom('action_report_facts')
          .select('report_id')
          .where('origin_ip', '=', FORWARDER)
          .execute();
        assert.deepEqual(anywhere, [], 'no report of the reporter names their forwarder');
        // Nor any campaign's story (its origin addresses, networks and countries are its members'
        // current ones), nor the workbench index and its roll-ups.
        const late = await told();
        assert.deepEqual(late.story, [], 'no campaign story names the forwarder');
        assert.deepEqual(await originStoryDrift(h.ctx.db), [], 'the stories are their members’ current origins');
        assert.deepEqual(late.index, [], 'no index row names the forwarder');
      } finally {
        await h.close();
      }
    });

    test('a mailbox elsewhere that forwards into the reporter’s is learned, a list’s server is not', async (t) => {
      if (!needsCorpus(t, 'spamassassin/hard_ham')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        // Three of the seven carry a list's traces (`Precedence: bulk`, a list owner's `Errors-To`, a LISTSERV
        // `Sender`), which hold a forwarder back; without them, as a personal mailbox's forward would arrive.
        const feed = TIMHUNT_FEED.map((p) => withoutListTraces(CORPUS_DIR, p));
        const originsOf = async (ids: string[]) =>
          (
            await h.ctx.db.selectFrom('action_report_facts').select('origin_ip').where('report_id', 'in', ids).execute()
          ).map((r) => r.origin_ip);
        const reporter = 'jm@jmason.example';
        const first = await h.report(feed.slice(0, 3).map((raw) => ({ raw, reporter })));
        assert.deepEqual(
          await originsOf(first.map((r) => r.id)),
          [TIMHUNT, TIMHUNT, TIMHUNT],
          'traced before any learning',
        );
        await h.report(feed.slice(3).map((raw) => ({ raw, reporter })));
        const keys = await keysOfReports(
          h.ctx.db,
          first.map((r) => r.id),
        );
        const own = await mailhostsOf(h.ctx.db, keys.get(first[0].id)?.slice(0, 1) ?? []);
        assert.ok(own.includes(TIMHUNT) && !own.includes('timhunt.net'), `learned: ${own.join(' ')}`);
        const after = await originsOf(first.map((r) => r.id));
        assert.equal(after.length, 3);
        assert.ok(!after.includes(TIMHUNT), `origins now: ${after.join(', ')}`);

        // The same messages as a list would pass them on (a List-Id on each): the header below names another
        // recipient just the same, but a list's server is the origin of what it sends, never a subscriber's host.
        const listed = feed.map((raw) => Buffer.concat([Buffer.from('List-Id: <fsg.lists.example>\r\n'), raw]));
        const other = 'subscriber@lists-reporter.example';
        const reports = await h.report(listed.map((raw) => ({ raw, reporter: other })));
        const listKeys = await keysOfReports(
          h.ctx.db,
          reports.map((r) => r.id),
        );
        const theirs = await mailhostsOf(h.ctx.db, listKeys.get(reports[0].id)?.slice(0, 1) ?? []);
        assert.ok(!theirs.includes(TIMHUNT) && !theirs.includes('timhunt.net'), `learned: ${theirs.join(' ')}`);
        assert.deepEqual(
          await originsOf(reports.map((r) => r.id)),
          reports.map(() => TIMHUNT),
        );
      } finally {
        await h.close();
      }
    });

    test('the reports traced to the reporter’s secondary MX before it was learned are traced past it', async (t) => {
      if (!needsCorpus(t, 'spamassassin/spam_2')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        // The SpamAssassin author's secondary MX, mail.webnote.net (193.120.211.219).
        const { files } = webnoteCorpus();
        const reporter = 'jm@jmason.example';
        const first = await h.report(files.slice(0, 3).map((f) => ({ raw: fs.readFileSync(f), reporter })));
        const origins = async () =>
          (
            await h.ctx.db
              .selectFrom('action_report_facts')
              .select(['origin_ip', 'origin_rdns'])
              .where(
                'report_id',
                'in',
                first.map((r) => r.id),
              )
              .orderBy('report_id')
              .execute()
          ).map((r) => `${r.origin_ip} ${r.origin_rdns ?? '-'}`);
        const before = await origins();
        const named = before.flatMap((o, i) => (/webnote\.net/.test(o) ? [i] : []));
        assert.ok(named.length >= 1, `one traced to the secondary MX before any learning: ${before.join(', ')}`);
        await h.report(files.slice(3).map((f) => ({ raw: fs.readFileSync(f), reporter })));
        const after = await origins();
        for (const i of named) assert.doesNotMatch(after[i], /webnote\.net/, `origins now: ${after.join(', ')}`);
      } finally {
        await h.close();
      }
    });
  });
}
