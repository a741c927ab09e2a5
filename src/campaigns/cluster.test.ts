/**
 * Clustering on both engines: copies of one campaign join it, unrelated messages start their
 * own, nothing chains (a look-alike of a member that has left the core, a bridging message, a
 * value shared by unrelated campaigns, a resource or brand host), cores that agree merge with a
 * stable redirect, legitimate mail stays out of abusive campaigns, a repeat report only adds a
 * report, and an SMS and an e-mail advertising the same domain end up in one campaign.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { serializeSmsEvidence } from '../evidence/sms-format.ts';
import { fingerprintOf, type Fingerprint } from './fingerprint.ts';
import { findMatches, ingestFingerprint } from './cluster.ts';
import { getCampaignStory } from './story.ts';
import { makeRecipient, personalise, seededRng, type BaseMessage } from './personalise.ts';

const ports = offlinePorts(new Date('2026-01-01T00:00:00Z'));
const settings = defaultAnalysisSettings();

async function fp(raw: Buffer): Promise<Fingerprint> {
  return fingerprintOf(await analyse(raw, { ports, settings }));
}

function mail(subject: string, body: string, n: number): Buffer {
  return Buffer.from(
    `From: "Shop" <promo@sender${n}.example>\r\nTo: someone@example.org\r\nSubject: ${subject}\r\nDate: Mon, 5 Jan \
2026 10:00:00 +0000\r\nMessage-ID: <m${n}@sender.example>\r\nContent-Type: text/plain; \
charset=utf-8\r\n\r\n${body}\r\n`,
  );
}

const LOTTERY: BaseMessage = {
  subject: 'Final notice: your unclaimed award',
  from: 'claims@award-office.example',
  text:
    'We are pleased to inform you that your e-mail address was selected in our annual international promotion ' +
    'draw. Your award is waiting for you and must be claimed before the end of the month, otherwise it will be ' +
    'returned to the treasury. To start the release of your funds, reply with your full name, address and telephone ' +
    'number to our claims agent who will guide you through the process. Visit https://award-claims-office.com/start ' +
    'for details.',
  urls: ['https://award-claims-office.com/start'],
};
const PHARMA: BaseMessage = {
  subject: 'Cheap meds without prescription',
  from: 'sales@pills.example',
  text:
    'Our online pharmacy ships discreetly worldwide, with no prescription needed and the lowest prices you will ' +
    'find anywhere on the internet. Choose from hundreds of brand and generic products, pay securely and receive ' +
    'your order within days. Satisfaction guaranteed or your money back. Order today at ' +
    'http://pills-discount-store.net/shop and save on every purchase.',
  urls: ['http://pills-discount-store.net/shop'],
};

/** Unrelated newsletter text (legitimate mail in the tests). */
const NEWS =
  'This week in the village: the library extends its opening hours on Saturdays, the football club looks for ' +
  'volunteers to coach the under twelve team, and the market moves to the church square while the road works last. ' +
  'Our next council meeting discusses the new cycling lane.';

/** Distinct pronounceable words from a seed (letters only: digits are normalised away). */
function pseudoWords(n: number, seed: number): string[] {
  const rng = seededRng(seed);
  const c = 'bcdfghklmnprstvz';
  const v = 'aeiou';
  const out = new Set<string>();
  while (out.size < n) {
    let w = '';
    for (let k = 0; k < 3; k++) w += c[Math.floor(rng() * c.length)] + v[Math.floor(rng() * v.length)];
    out.add(w);
  }
  return [...out];
}

const day = (i: number) => new Date(Date.UTC(2026, 0, 1 + i, 12)).toISOString();

for (const dialect of DIALECTS) {
  describe(`campaign clustering on ${dialect}`, () => {
    test('personalised copies join one campaign and an unrelated spam starts another', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        const rng = seededRng(7);
        const ids = new Set<string>();
        for (let i = 0; i < 6; i++) {
          const p = await ingestFingerprint(tdb.db, await fp(personalise(LOTTERY, makeRecipient(rng), rng, i)), {
            seenAt: day(i),
            category: 'scam',
          });
          ids.add(p.campaignId);
          if (i === 0) assert.equal(p.created, true);
          else assert.notEqual(p.via, 'new', `copy ${i} should join, got ${p.via}`);
        }
        assert.equal(ids.size, 1);
        const other = await ingestFingerprint(tdb.db, await fp(personalise(PHARMA, makeRecipient(rng), rng, 99)), {
          seenAt: day(7),
          category: 'commercial',
        });
        assert.equal(other.created, true);
        assert.ok(!ids.has(other.campaignId));
        const story = await getCampaignStory(tdb.db, [...ids][0]);
        assert.ok(story);
        assert.equal(story.messageCount, 6);
        assert.equal(story.reportsByDay.length, 6);
        assert.equal(story.category, 'scam');
        assert.ok(story.domains.some((d) => d.value === 'award-claims-office.com'));
      } finally {
        await tdb.drop();
      }
    });

    test('a repeat report of the same message adds a report, not a message', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        const f = await fp(mail('Big sale this weekend only', PHARMA.text, 1));
        const first = await ingestFingerprint(tdb.db, f, { seenAt: day(0), category: 'commercial' });
        const again = await ingestFingerprint(tdb.db, f, { seenAt: day(3), category: 'commercial' });
        assert.equal(again.via, 'repeat');
        assert.equal(again.campaignId, first.campaignId);
        const story = await getCampaignStory(tdb.db, first.campaignId);
        assert.equal(story?.messageCount, 1);
        assert.equal(story?.reportCount, 2);
        assert.equal(story?.lastSeen, day(3));
      } finally {
        await tdb.drop();
      }
    });

    test('a message that bridges two campaigns joins the one it resembles and merges nothing', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        // A: lottery text advertising domain one; B: pharmacy text advertising domain two.
        const a = await ingestFingerprint(
          tdb.db,
          await fp(
            mail('Award', LOTTERY.text.replace('https://award-claims-office.com/start', 'https://bridge-one.com/a'), 1),
          ),
          { seenAt: day(0), category: 'scam' },
        );
        const b = await ingestFingerprint(
          tdb.db,
          await fp(
            mail('Meds', PHARMA.text.replace('http://pills-discount-store.net/shop', 'https://bridge-two.com/b'), 2),
          ),
          { seenAt: day(1), category: 'commercial' },
        );
        assert.notEqual(a.campaignId, b.campaignId);
        // C: the lottery text (joins A by similarity) advertising domain two (B's link). One message
        // is no evidence that two operations are one: their cores differ, so nothing merges.
        const c = await ingestFingerprint(
          tdb.db,
          await fp(
            mail(
              'Award!',
              LOTTERY.text.replace('https://award-claims-office.com/start', 'https://bridge-two.com/c'),
              3,
            ),
          ),
          { seenAt: day(2), category: 'scam' },
        );
        assert.equal(c.campaignId, a.campaignId);
        assert.equal(c.via, 'lsh');
        assert.deepEqual(c.merged, []);
        const stories = await Promise.all([
          getCampaignStory(tdb.db, a.campaignId),
          getCampaignStory(tdb.db, b.campaignId),
        ]);
        assert.deepEqual(
          stories.map((x) => [x?.id, x?.messageCount]),
          [
            [a.campaignId, 2],
            [b.campaignId, 1],
          ],
        );
        // bridge-two.com is now carried by two unrelated campaigns: it links nothing any more.
        const link = await tdb.db
          .selectFrom('campaign_links')
          .select(['spread'])
          .where('kind', '=', 'domain')
          .where('value', '=', 'bridge-two.com')
          .executeTakeFirstOrThrow();
        assert.equal(Number(link.spread), 2);
        const d = await ingestFingerprint(tdb.db, await fp(mail('Hello', `${NEWS} https://bridge-two.com/x`, 4)), {
          seenAt: day(3),
          category: 'commercial',
        });
        assert.equal(d.created, true, 'a value shared by two campaigns is not a link');
      } finally {
        await tdb.drop();
      }
    });

    test('a chain of look-alikes stops where it leaves the core: no campaign drifts', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        // Five texts of 100 words, each sharing 80 consecutive words with the next (estimated Jaccard
        // 0.59–0.64): every neighbour looks alike, but the fourth keeps only 0.20 of the first.
        const words = pseudoWords(200, 12);
        const placed = [];
        for (let i = 0; i < 5; i++)
          placed.push(
            await ingestFingerprint(
              tdb.db,
              await fp(mail('Notice', words.slice(i * 20, i * 20 + 100).join(' '), 10 + i)),
              { seenAt: day(i), category: 'scam' },
            ),
          );
        assert.equal(placed[1].campaignId, placed[0].campaignId);
        assert.equal(placed[2].campaignId, placed[0].campaignId, 'still within the core');
        assert.notEqual(placed[3].campaignId, placed[0].campaignId, 'resembles a member, not the campaign');
        assert.equal(placed[3].created, true);
        assert.deepEqual(
          placed.flatMap((p) => p.merged),
          [],
        );
      } finally {
        await tdb.drop();
      }
    });

    test(
      'two campaigns whose cores resemble each other merge when a message matches both; the newer id ' + 'redirects',
      async (t) => {
        const tdb = await createTestDatabase(t, dialect);
        if (!tdb) return;
        try {
          const words = pseudoWords(100, 23);
          const a = await ingestFingerprint(tdb.db, await fp(mail('Offer', words.slice(0, 60).join(' '), 1)), {
            seenAt: day(0),
            category: 'commercial',
          });
          // B's founder resembles A's core, but the band index missed it (as LSH does, by chance, at
          // this similarity): B starts a campaign of its own.
          const hidden = await tdb.db.selectFrom('campaign_bands').selectAll().execute();
          await tdb.db.deleteFrom('campaign_bands').execute();
          const b = await ingestFingerprint(tdb.db, await fp(mail('Offer', words.slice(8, 68).join(' '), 2)), {
            seenAt: day(1),
            category: 'commercial',
          });
          await tdb.db.insertInto('campaign_bands').values(hidden).execute();
          assert.equal(b.created, true);
          const c = await ingestFingerprint(tdb.db, await fp(mail('Offer', words.slice(4, 64).join(' '), 3)), {
            seenAt: day(2),
            category: 'commercial',
          });
          assert.equal(c.campaignId, a.campaignId, 'the oldest campaign survives');
          assert.deepEqual(c.merged, [b.campaignId]);
          const viaOld = await getCampaignStory(tdb.db, b.campaignId);
          assert.equal(viaOld?.id, a.campaignId);
          assert.equal(viaOld?.redirectedFrom, b.campaignId);
          assert.equal(viaOld?.messageCount, 3);
          assert.equal(viaOld?.firstSeen, day(0));
        } finally {
          await tdb.drop();
        }
      },
    );

    test(
      'a legitimate message does not join an abusive campaign through a shared link or a loose ' + 'resemblance',
      async (t) => {
        const tdb = await createTestDatabase(t, dialect);
        if (!tdb) return;
        try {
          const spam = await ingestFingerprint(tdb.db, await fp(mail('Award', LOTTERY.text, 1)), {
            seenAt: day(0),
            category: 'scam',
          });
          // A newsletter that happens to link the same site, and one that quotes half the spam.
          const linked = await ingestFingerprint(
            tdb.db,
            await fp(mail('Our weekly news', `${NEWS} Read about scams like https://award-claims-office.com/start`, 2)),
            { seenAt: day(1), category: 'legitimate' },
          );
          assert.notEqual(linked.campaignId, spam.campaignId);
          const half = LOTTERY.text.split(' ');
          const quoted = await ingestFingerprint(
            tdb.db,
            await fp(mail('Beware', `${half.slice(0, Math.floor(half.length * 0.75)).join(' ')} ${NEWS}`, 3)),
            { seenAt: day(2), category: 'legitimate' },
          );
          assert.notEqual(quoted.campaignId, spam.campaignId);
          const row = await tdb.db
            .selectFrom('campaigns')
            .select(['category', 'purity', 'legitimate_share'])
            .where('id', '=', spam.campaignId)
            .executeTakeFirstOrThrow();
          assert.deepEqual([row.category, Number(row.purity), Number(row.legitimate_share)], ['scam', 1, 0]);
        } finally {
          await tdb.drop();
        }
      },
    );

    test('a campaign stores its majority category, purity and legitimate share', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        const rng = seededRng(5);
        const cats = ['phishing', 'phishing', 'phishing', 'scam'];
        let id = '';
        for (let i = 0; i < cats.length; i++)
          id = (
            await ingestFingerprint(tdb.db, await fp(personalise(LOTTERY, makeRecipient(rng), rng, i)), {
              seenAt: day(i),
              category: cats[i],
            })
          ).campaignId;
        const row = await tdb.db
          .selectFrom('campaigns')
          .select(['category', 'purity', 'legitimate_share'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        assert.deepEqual([row.category, Number(row.purity), Number(row.legitimate_share)], ['phishing', 0.75, 0]);
      } finally {
        await tdb.drop();
      }
    });

    test("hosts the reader's client fetches (images) and impersonated brands' own domains link nothing", async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        const html = (n: number, text: string) =>
          Buffer.from(
            `From: "PayPal" <service@sender${n}.example>\r\nTo: someone@example.org\r\nSubject: Notice \
${n}\r\nMessage-ID: <h${n}@x.example>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${text}</p><img \
src="https://img.shared-cdn-host.com/logo.png"><a href="https://www.paypal.com/privacy">Privacy</a>\r\n`,
          );
        const a = await fp(html(1, LOTTERY.text));
        assert.deepEqual(
          a.links.map((l) => l.value),
          ['award-claims-office.com'],
        );
        const first = await ingestFingerprint(tdb.db, a, { seenAt: day(0), category: 'phishing' });
        const other = await ingestFingerprint(tdb.db, await fp(html(2, PHARMA.text)), {
          seenAt: day(1),
          category: 'phishing',
        });
        assert.notEqual(other.campaignId, first.campaignId);
      } finally {
        await tdb.drop();
      }
    });

    test('an SMS and an e-mail advertising the same domain are one campaign', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        const email = await ingestFingerprint(
          tdb.db,
          await fp(
            mail(
              'Your parcel',
              'Your parcel is held at the depot. Pay the customs fee at https://parcel-fee-depot.com/pay within 24 ' +
                'hours.',
              1,
            ),
          ),
          { seenAt: day(0), category: 'phishing' },
        );
        const smsFp = await fp(
          serializeSmsEvidence({
            sender: 'POSTE',
            text: 'Colis en attente: reglez les frais sur parcel-fee-depot.com/x7 avant demain.',
            receivedAt: null,
          }),
        );
        assert.equal(smsFp.kind, 'sms');
        const matches = await findMatches(tdb.db, smsFp);
        assert.equal(matches[0]?.campaignId, email.campaignId);
        assert.deepEqual(matches[0]?.matchedBy, ['domain']);
        const sms = await ingestFingerprint(tdb.db, smsFp, { seenAt: day(1), category: 'phishing' });
        assert.equal(sms.campaignId, email.campaignId);
        const story = await getCampaignStory(tdb.db, email.campaignId);
        assert.deepEqual(story?.kinds.map((k) => k.value).sort(), ['email', 'sms']);
      } finally {
        await tdb.drop();
      }
    });

    test('a common platform domain is not a strong link', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        const a = await ingestFingerprint(
          tdb.db,
          await fp(mail('Award', `${LOTTERY.text} https://www.google.com/maps`, 1)),
          { seenAt: day(0), category: 'scam' },
        );
        const b = await ingestFingerprint(
          tdb.db,
          await fp(mail('Meds', `${PHARMA.text} https://www.google.com/search`, 2)),
          { seenAt: day(1), category: 'commercial' },
        );
        assert.notEqual(a.campaignId, b.campaignId);
      } finally {
        await tdb.drop();
      }
    });
  });
}
