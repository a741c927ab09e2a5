/**
 * The campaigns the gates hold, on both engines: only survivors whose standing fails the policy and
 * that hold abusive mail (an abusive majority, or an abusive category among their messages), newest
 * activity first, a keyset cursor through them, a size filter, each with its reasons (the words the
 * case histories use) and its messages by category; one campaign's hold answers for a merged id with
 * its survivor's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { policyFor } from './action-policy.ts';
import { campaignGateReasons } from './gates.ts';
import { campaignHold, decodeHeldCursor, listHeldCampaigns } from './held-campaigns.ts';
import { campaignRow } from './test-factories.ts';

const at = (day: number) => `2026-11-${String(day).padStart(2, '0')}T10:00:00.000Z`;

for (const dialect of DIALECTS) {
  test(`[${dialect}] the held list names the abusive campaigns the gates stop, newest first, page by \
page`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      const { db } = tdb;
      const policy = policyFor(tdb.config);
      const campaign = (
        id: string,
        category: string,
        purity: number,
        legitimateShare: number,
        messages: number,
        lastDay: number,
        mergedInto: string | null = null,
      ) =>
        campaignRow({
          id,
          category,
          purity,
          legitimateShare,
          messages,
          firstSeenAt: at(1),
          lastSeenAt: at(lastDay),
          mergedInto,
        });
      await db
        .insertInto('campaigns')
        .values([
          campaign('CMIXED', 'phishing', 0.6, 0, 5, 20), // mixes phishing and commercial: held
          campaign('CLEGIT', 'commercial', 1, 0.2, 10, 18), // a fifth legitimate: held
          campaign('CCLEAN', 'scam', 1, 0, 4, 19), // sound: not held
          campaign('CHAM', 'legitimate', 0.5, 0.5, 6, 21), // legitimate majority, no abusive message counted
          campaign('CPHISHINHAM', 'legitimate', 0.75, 0.75, 4, 16), // a phish clustered with a newsletter: held
          campaign('CMERGED', 'phishing', 0.5, 0, 2, 22, 'CMIXED'), // merged: its survivor answers
          campaign('CSMALL', 'malware', 0.5, 0, 2, 17), // mixed, two messages
          campaign('CSAMEDAY', 'scam', 0.5, 0, 2, 17), // same last sighting as CSMALL: the id orders them
        ])
        .execute();
      const fact = (campaignId: string, value: string, count: number) => ({
        campaign_id: campaignId,
        kind: 'category',
        value,
        count,
        first_seen_at: at(1),
        last_seen_at: at(20),
      });
      await db
        .insertInto('campaign_facts')
        .values([
          fact('CMIXED', 'commercial', 2),
          fact('CMIXED', 'phishing', 3),
          fact('CMIXED', 'scam', 0),
          fact('CHAM', 'legitimate', 3),
          fact('CHAM', 'other', 3),
          fact('CPHISHINHAM', 'legitimate', 3),
          fact('CPHISHINHAM', 'phishing', 1),
        ])
        .execute();

      const all = await listHeldCampaigns(db, policy);
      assert.deepEqual(
        all.rows.map((c) => c.id),
        ['CMIXED', 'CLEGIT', 'CSMALL', 'CSAMEDAY', 'CPHISHINHAM'],
      );
      assert.equal(all.total, 5);
      assert.equal(all.next, null);
      const mixed = all.rows[0];
      assert.deepEqual(mixed?.reasons, [{ kind: 'mixed', category: 'phishing', purity: 0.6, min: 1 }]);
      assert.deepEqual(mixed?.categories, [
        { category: 'phishing', messages: 3 },
        { category: 'commercial', messages: 2 },
      ]);
      assert.deepEqual(all.rows[1]?.reasons, [{ kind: 'legitimate-share', share: 0.2, max: 0.05 }]);
      // The reasons in words are the gates' own, as a case history records them.
      assert.deepEqual(
        all.rows[1]?.reasonTexts,
        campaignGateReasons(
          { root: 'CLEGIT', category: 'commercial', purity: 1, legitimateShare: 0.2, messages: 10 },
          policy,
        ),
      );
      assert.match(all.rows[1]?.reasonTexts[0] ?? '', /^20 % of campaign CLEGIT's messages are classified legitimate/);

      // Page by page: every held campaign once, in the same order.
      const seen: string[] = [];
      let before: string | null = null;
      for (let i = 0; i < 10; i++) {
        const page = await listHeldCampaigns(db, policy, { limit: 1, before });
        assert.equal(page.total, 5);
        seen.push(...page.rows.map((c) => c.id));
        before = page.next;
        if (before === null) break;
      }
      assert.deepEqual(seen, ['CMIXED', 'CLEGIT', 'CSMALL', 'CSAMEDAY', 'CPHISHINHAM']);

      const big = await listHeldCampaigns(db, policy, { minMessages: 5 });
      assert.deepEqual(
        big.rows.map((c) => c.id),
        ['CMIXED', 'CLEGIT'],
      );
      assert.equal(big.total, 2);
      // A cursor that is not one of ours starts at the top; it is never read as SQL.
      assert.equal(decodeHeldCursor("x' OR 1=1 --"), null);
      const bad = await listHeldCampaigns(db, policy, {
        before: Buffer.from("2026|x' OR '1'='1").toString('base64url'),
      });
      assert.deepEqual(
        bad.rows.map((c) => c.id),
        ['CMIXED', 'CLEGIT', 'CSMALL', 'CSAMEDAY', 'CPHISHINHAM'],
      );

      assert.deepEqual(await campaignHold(db, policy, 'CMERGED'), {
        id: 'CMIXED',
        reasons: [{ kind: 'mixed', category: 'phishing', purity: 0.6, min: 1 }],
      });
      assert.equal(await campaignHold(db, policy, 'CCLEAN'), null);
      assert.equal(await campaignHold(db, policy, 'CHAM'), null);
      assert.deepEqual(
        (await campaignHold(db, policy, 'CPHISHINHAM'))?.reasons.map((r) => r.kind),
        ['legitimate-share', 'mixed'],
      );
      assert.equal(await campaignHold(db, policy, 'NOSUCH'), null);
    } finally {
      await tdb.drop();
    }
  });
}
