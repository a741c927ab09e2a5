/**
 * The intel feeds refuse the origin addresses the lists refuse: by their network, a shared sending
 * platform's relay (SendGrid: one customer's phishing says nothing of the others on the same relay)
 * and a brand's own mail server (eBay's real offers, which the classifier takes for phishing); a
 * relay of many senders' mail; a mail server of legitimate mail too; an address no report names any
 * more; and a domain legitimate mail advertises too. Real corpus messages
 * through the real pipeline, the shipped ASN data.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { DIALECTS } from '../../db/test-databases.ts';
import { splitMbox } from '../../analysis/test-support/corpus-messages.ts';
import { buildIntel } from './build.ts';
import { currentObjects } from './bundle.ts';
import { intelHarness } from './test-support.ts';
import { DEFAULT_COLLECTION_ID } from '../../db/migrations/0131_feeds-intel.ts';

const RELAY = 'relay of many senders’ mail (forwarder, list server or smarthost): spam of many unrelated campaigns';
import { runListingPass } from '../lists/pass.ts';
import { policyFor } from '../../actions/action-policy.ts';

for (const dialect of DIALECTS) {
  describe(`intel origins refused by their network (${dialect})`, () => {
    test('a SendGrid relay and eBay’s own mail server are never published; the phishing domain is', async (t) => {
      if (!needsCorpus(t, 'phishing_pot') || !needsCorpus(t, 'nazario_phishing/phishing1.mbox')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        // phishing_pot sample-118: credential phishing sent through SendGrid, traced to its relay
        // 149.72.218.220 (AS11377 SendGrid); Nazario phishing1 #106: eBay's real "Summer Dollar Days"
        // offer from smfcamppool10.emailebay.com 66.135.215.239 (AS11643 eBay), classified phishing.
        const sendgrid = fs.readFileSync(path.join(CORPUS_DIR, 'phishing_pot/email/sample-118.eml'));
        const mbox = splitMbox(fs.readFileSync(path.join(CORPUS_DIR, 'nazario_phishing/phishing1.mbox')));
        const ebay = mbox[106];
        assert.ok(ebay);
        await h.report([{ raw: sendgrid }, { raw: ebay }]);
        const facts = await h.ctx.db
          .selectFrom('action_report_facts')
          .select(['origin_ip', 'origin_asn', 'category'])
          .orderBy('origin_ip')
          .execute();
        assert.deepEqual(
          facts.map((f) => [f.origin_ip, f.origin_asn]),
          [
            ['149.72.218.220', 11377],
            ['66.135.215.239', 11643],
          ],
        );
        const s = await buildIntel(h.ctx.db, h.ctx.config);
        const { body } = await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID);
        assert.doesNotMatch(body, /149\.72\.218\.220/, 'a SendGrid relay is not the phisher’s');
        assert.doesNotMatch(body, /66\.135\.215\.239/, 'eBay’s own server is not a phisher’s');
        const refused = Object.entries(s.refused)
          .map(([why, n]) => `${n} ${why}`)
          .join('; ');
        assert.match(refused, /shared sending platform \(SendGrid/, refused);
        assert.match(refused, /eBay’s own network/, refused);
      } finally {
        await h.close();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`intel origins that relay many senders' mail (${dialect})`, () => {
    test('a forwarder that passed on spam of many unrelated campaigns is in none of their indicators', async (t) => {
      if (!needsCorpus(t, 'spamassassin/spam_2') || !needsCorpus(t, 'spamassassin/easy_ham_2')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        // The SpamAssassin donor's ISP relay 213.105.180.140 (Virgin Media, no PTR record). 40 spams (the
        // pipeline clusters them into fewer campaigns) and one ham through it; the lists refuse it as a relay
        // (listing-network.test.ts).
        const dir = path.join(CORPUS_DIR, 'spamassassin/spam_2');
        const spams = fs
          .readdirSync(dir)
          .sort()
          .map((f) => fs.readFileSync(path.join(dir, f)))
          .filter((raw) => raw.toString('latin1').includes('213.105.180.140'))
          .slice(0, 40);
        assert.equal(spams.length, 40);
        const ham = fs.readFileSync(
          path.join(CORPUS_DIR, 'spamassassin/easy_ham_2/00487.4c0487a128123e92602005535955e7a1'),
        );
        // The donor reports his own mail: his key learns the forwarder as his mail host after the batch and traces
        // the batch again past it, so no report names it and no indicator can. (An intake's key alone would not
        // learn it: it has no reverse name, and an intake learns only machines under a checked one.)
        const stored = await h.report([...spams, ham].map((raw) => ({ raw, reporter: 'jm@jmason.example' })));
        const named = () =>
          h.ctx.db
            .selectFrom('action_report_facts')
            .select(['origin_ip', 'campaign_id'])
            .where('origin_ip', '=', '213.105.180.140')
            .execute();
        assert.deepEqual(await named(), [], 'traced again past the learned forwarder');
        await buildIntel(h.ctx.db, h.ctx.config);
        assert.doesNotMatch((await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID)).body, /213\.105\.180\.140/);
        // Reports through many intakes teach none of them the forwarder: they stay traced to it, as these were
        // before the learning pass, in their facts and in their campaigns' values. The relay rule then keeps it
        // out of the indicators.
        const firstTrace = await h.ctx.db
          .selectFrom('action_report_facts')
          .select(['report_id', 'campaign_id', 'received_at'])
          .where(
            'report_id',
            'in',
            stored.map((r) => r.id),
          )
          .execute();
        for (const f of firstTrace) {
          await h.ctx.db
            .updateTable('action_report_facts')
            .set({
              origin_ip: '213.105.180.140',
              origin_rdns: null,
              origin_asn: 5089,
              origin_as_name: 'Virgin Media Limited',
            })
            .where('report_id', '=', f.report_id)
            .execute();
          if (f.campaign_id === null) continue;
          await h.ctx.db
            .deleteFrom('campaign_facts')
            .where('campaign_id', '=', f.campaign_id)
            .where('kind', '=', 'ip')
            .execute();
          await h.ctx.db
            .insertInto('campaign_facts')
            .values({
              campaign_id: f.campaign_id,
              kind: 'ip',
              value: '213.105.180.140',
              count: 1,
              first_seen_at: f.received_at,
              last_seen_at: f.received_at,
            })
            .execute();
        }
        const origins = await named();
        const campaigns = new Set(origins.map((o) => o.campaign_id)).size;
        assert.ok(campaigns >= 20, `${origins.length} reports of ${campaigns} campaigns traced to the forwarder`);
        const s = await buildIntel(h.ctx.db, h.ctx.config);
        const { body } = await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID);
        assert.match(body, /"type":"indicator"/, 'the campaigns are published');
        assert.doesNotMatch(body, /213\.105\.180\.140/, 'their forwarder is not');
        const refused = Object.entries(s.refused)
          .map(([why, n]) => `${n} ${why}`)
          .join('; ');
        assert.match(refused, /\d+ relay of many senders’ mail/, refused);

        // Spam reports never classified count as spam, as the lists' judge counts them (SQL's
        // `not (null = 'legitimate')` is null, which a campaign count would skip).
        await h.ctx.db
          .updateTable('action_report_facts')
          .set({ message_category: null })
          .where('message_category', '<>', 'legitimate')
          .execute();
        await buildIntel(h.ctx.db, h.ctx.config);
        assert.doesNotMatch((await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID)).body, /213\.105\.180\.140/);

        // Forty days on, no new report: the campaigns stay published, and the forwarder stays out of
        // them. The refusal judges each address in the window that ends at its last sighting, not now:
        // judged from now, its window would hold no report and it would come back.
        const back = (iso: string) => new Date(Date.parse(iso) - 40 * 86_400_000).toISOString();
        for (const f of await h.ctx.db.selectFrom('action_report_facts').select(['report_id', 'received_at']).execute())
          await h.ctx.db
            .updateTable('action_report_facts')
            .set({ received_at: back(f.received_at) })
            .where('report_id', '=', f.report_id)
            .execute();
        for (const f of await h.ctx.db
          .selectFrom('campaign_facts')
          .select(['campaign_id', 'kind', 'value', 'first_seen_at', 'last_seen_at'])
          .execute())
          await h.ctx.db
            .updateTable('campaign_facts')
            .set({ first_seen_at: back(f.first_seen_at), last_seen_at: back(f.last_seen_at) })
            .where('campaign_id', '=', f.campaign_id)
            .where('kind', '=', f.kind)
            .where('value', '=', f.value)
            .execute();
        const later = await buildIntel(h.ctx.db, h.ctx.config);
        const after = (await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID)).body;
        assert.match(after, /"type":"indicator"/, 'the campaigns are still published');
        assert.doesNotMatch(after, /213\.105\.180\.140/, 'the forwarder does not come back');
        assert.ok((later.refused[RELAY] ?? 0) >= 1, JSON.stringify(later.refused));
      } finally {
        await h.close();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`intel origins no report names any more (${dialect})`, () => {
    test('an origin its reports no longer name (traced again or erased) leaves the feed', async (t) => {
      if (!needsCorpus(t, 'phishing_pot')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        // phishing_pot sample-1070: a phishing run from an M247 server 80.96.157.86.
        await h.report([{ raw: fs.readFileSync(path.join(CORPUS_DIR, 'phishing_pot/email/sample-1070.eml')) }]);
        await buildIntel(h.ctx.db, h.ctx.config);
        assert.match((await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID)).body, /80\.96\.157\.86/);
        // The report traced again names another origin, as `spamdesk reanalyze` rewrites its facts after
        // its reporter declared the first machine theirs (refresh-facts.test.ts); the campaign keeps the
        // value it stored when the message joined it.
        await h.ctx.db.updateTable('action_report_facts').set({ origin_ip: '81.2.69.170' }).execute();
        const s = await buildIntel(h.ctx.db, h.ctx.config);
        const { body } = await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID);
        assert.doesNotMatch(body, /80\.96\.157\.86/, 'the old origin is withdrawn');
        assert.equal(s.refused['no report names it as an origin any more (traced again or erased)'], 1);
        // Erased with its report (retention, a reporter's erasure): the same.
        await h.ctx.db.deleteFrom('action_report_facts').execute();
        await buildIntel(h.ctx.db, h.ctx.config);
        assert.doesNotMatch((await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID)).body, /81\.2\.69\.170|80\.96/);
      } finally {
        await h.close();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`intel origins that send legitimate mail too (${dialect})`, () => {
    test('a mail server whose reports are legitimate mail as well is not published for its spam', async (t) => {
      if (!needsCorpus(t, 'spamassassin/spam') || !needsCorpus(t, 'spamassassin/easy_ham_2')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        // 193.120.211.219, an Irish relay the SpamAssassin corpus's mail came through: a spam
        // (spam/00202) and a legitimate message (easy_ham_2/00319), both traced to it here. The lists
        // refuse an address more than `maxLegitimateShare` of whose reports are legitimate; the feeds now too.
        const read = (f: string) => fs.readFileSync(path.join(CORPUS_DIR, 'spamassassin', f));
        await h.report([
          { raw: read('spam/00202.d5b52386f66bd36cd1508319c82cf671') },
          { raw: read('easy_ham_2/00319.9fdb50d80e1f34e30b93dd401c644f3d') },
        ]);
        const facts = await h.ctx.db
          .selectFrom('action_report_facts')
          .select(['origin_ip', 'message_category'])
          .orderBy('message_category')
          .execute();
        assert.deepEqual(
          facts.map((f) => [f.origin_ip, f.message_category]),
          [
            ['193.120.211.219', 'commercial'],
            ['193.120.211.219', 'legitimate'],
          ],
        );
        const s = await buildIntel(h.ctx.db, h.ctx.config);
        const { body } = await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID);
        assert.match(body, /"type":"campaign"/, 'the spam’s campaign is published');
        assert.doesNotMatch(body, /193\.120\.211\.219/, 'its mail server is not');
        assert.equal(
          s.refused['a mail server of legitimate mail too (more of its recent reports than the lists allow)'],
          1,
        );
      } finally {
        await h.close();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`intel domains legitimate mail advertises too (${dialect})`, () => {
    test('a news site a scam links to, which legitimate mail links to as well, is not published', async (t) => {
      if (!needsCorpus(t, 'trec07p')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        // TREC 2007: a scam (inmail.806) and a legitimate message (inmail.2161), both linking cnn.com.
        const read = (f: string) => fs.readFileSync(path.join(CORPUS_DIR, 'trec07p/data', f));
        await h.report([{ raw: read('inmail.806') }, { raw: read('inmail.2161') }]);
        await buildIntel(h.ctx.db, h.ctx.config);
        const published = async () => (await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID)).body;
        assert.match(await published(), /domain-name:value = 'cnn\.com'/, 'without the lists’ domain index');
        // The listing service indexes each report's advertised domains; the build reads that index.
        await runListingPass(h.ctx.db, h.ctx.config, policyFor(h.ctx.config), new Date(), { full: true });
        const s = await buildIntel(h.ctx.db, h.ctx.config);
        const body = await published();
        assert.doesNotMatch(body, /cnn\.com/, 'a site legitimate mail links to as well');
        assert.match(body, /"type":"campaign"/, 'the scam’s campaign is still published');
        assert.ok(
          (s.refused['advertised in legitimate mail too (more of the reports advertising it than the lists allow)'] ??
            0) >= 1,
          JSON.stringify(s.refused),
        );
      } finally {
        await h.close();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`intel bare URLs of sites legitimate mail advertises too (${dialect})`, () => {
    test('a spam’s bare link to a site a legitimate message links to as well is refused as the site’s domain \
is', async (t) => {
      if (!needsCorpus(t, 'spamassassin/spam_2') || !needsCorpus(t, 'spamassassin/easy_ham_2')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        // SpamAssassin: a spam (spam_2/01001) whose footer sends the reader to http://www.spamlaws.com, and a
        // legitimate list message (easy_ham_2/00677) that links the same site. A bare URL stands for the whole
        // site: before, it was published while its domain was refused.
        const read = (f: string) => fs.readFileSync(path.join(CORPUS_DIR, 'spamassassin', f));
        await h.report([
          { raw: read('spam_2/01001.742869a142437dc82db21228edcaff32') },
          { raw: read('easy_ham_2/00677.691e4626992039c8ae0c24dd2b93d8a3') },
        ]);
        await runListingPass(h.ctx.db, h.ctx.config, policyFor(h.ctx.config), new Date(), { full: true });
        const s = await buildIntel(h.ctx.db, h.ctx.config);
        const body = (await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID)).body;
        assert.match(body, /"type":"campaign"/, 'the spam’s campaign is published');
        assert.doesNotMatch(body, /spamlaws\.com/, 'neither the site’s domain nor its bare URL');
        // The domain for its advertisers; the bare URL for its site, or for being that very URL in the list message.
        const refusedFor = (prefix: string) =>
          Object.entries(s.refused).reduce((n, [why, k]) => n + (why.startsWith(prefix) ? k : 0), 0);
        assert.ok(refusedFor('advertised in legitimate mail too') >= 1, JSON.stringify(s.refused));
        assert.ok(
          refusedFor('advertised in legitimate mail too') + refusedFor('a URL legitimate mail carries too') >= 2,
          JSON.stringify(s.refused),
        );
      } finally {
        await h.close();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`intel URLs legitimate mail carries too (${dialect})`, () => {
    test('a mailing list’s footer link in its spam is not published: its posts carry it too', async (t) => {
      if (!needsCorpus(t, 'spamassassin/spam_2') || !needsCorpus(t, 'spamassassin/easy_ham')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      try {
        // Two copies of one spam that went through a SourceForge list (spam_2/00861, 00864) and two posts of
        // SourceForge lists (easy_ham/00050, 00058): the list server appends its footer, with ThinkGeek's
        // http://thinkgeek.com/sf, to every one of them.
        const read = (f: string) => fs.readFileSync(path.join(CORPUS_DIR, 'spamassassin', f));
        await h.report([
          // Two recipients report them, so the rule about one reporter's URLs does not decide.
          { raw: read('spam_2/00861.e8b94fc9514d2d2cbb541b01e2dda726'), reporter: 'members@ds1.pro-ns.net' },
          { raw: read('spam_2/00864.26b74488b46463e16a5fa0f521786a48'), reporter: 'hellow@user2.pro-ns.net' },
          { raw: read('easy_ham/00050.74d3103c5691914a530dcae2f656a1f5') },
          { raw: read('easy_ham/00058.ecfc3a7f406355a82abe9d16d3d5733a') },
        ]);
        const s = await buildIntel(h.ctx.db, h.ctx.config);
        const body = (await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID)).body;
        assert.match(body, /"type":"campaign"/, 'the spam’s campaign is published');
        assert.doesNotMatch(body, /thinkgeek\.com\/sf/, 'the list footer’s link is not');
        const why = Object.keys(s.refused).find((k) => k.startsWith('a URL legitimate mail carries too'));
        assert.ok(why && (s.refused[why] ?? 0) >= 1, JSON.stringify(s.refused));
      } finally {
        await h.close();
      }
    });
  });
}
