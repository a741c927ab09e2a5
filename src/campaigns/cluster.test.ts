/**
 * Clustering on both engines: copies of one campaign join it, unrelated messages start their
 * own, a bridging message merges two campaigns with a stable redirect, a repeat report only adds a
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
    `From: "Shop" <promo@sender${n}.example>\r\nTo: someone@example.org\r\nSubject: ${subject}\r\nDate: Mon, 5 Jan 2026 10:00:00 +0000\r\nMessage-ID: <m${n}@sender.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
  );
}

const LOTTERY: BaseMessage = {
  subject: 'Final notice: your unclaimed award',
  from: 'claims@award-office.example',
  text: 'We are pleased to inform you that your e-mail address was selected in our annual international promotion draw. Your award is waiting for you and must be claimed before the end of the month, otherwise it will be returned to the treasury. To start the release of your funds, reply with your full name, address and telephone number to our claims agent who will guide you through the process. Visit https://award-claims-office.com/start for details.',
  urls: ['https://award-claims-office.com/start'],
};
const PHARMA: BaseMessage = {
  subject: 'Cheap meds without prescription',
  from: 'sales@pills.example',
  text: 'Our online pharmacy ships discreetly worldwide, with no prescription needed and the lowest prices you will find anywhere on the internet. Choose from hundreds of brand and generic products, pay securely and receive your order within days. Satisfaction guaranteed or your money back. Order today at http://pills-discount-store.net/shop and save on every purchase.',
  urls: ['http://pills-discount-store.net/shop'],
};

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
          const p = await ingestFingerprint(tdb.db, await fp(personalise(LOTTERY, makeRecipient(rng), rng, i)), { seenAt: day(i), category: 'scam' });
          ids.add(p.campaignId);
          if (i === 0) assert.equal(p.created, true);
          else assert.notEqual(p.via, 'new', `copy ${i} should join, got ${p.via}`);
        }
        assert.equal(ids.size, 1);
        const other = await ingestFingerprint(tdb.db, await fp(personalise(PHARMA, makeRecipient(rng), rng, 99)), { seenAt: day(7), category: 'commercial' });
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

    test('a message that bridges two campaigns merges them; the newer id redirects to the older', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        // A: lottery text advertising domain one; B: pharmacy text advertising domain two.
        const a = await ingestFingerprint(tdb.db, await fp(mail('Award', LOTTERY.text.replace('https://award-claims-office.com/start', 'https://bridge-one.com/a'), 1)), { seenAt: day(0), category: 'scam' });
        const b = await ingestFingerprint(tdb.db, await fp(mail('Meds', PHARMA.text.replace('http://pills-discount-store.net/shop', 'https://bridge-two.com/b'), 2)), { seenAt: day(1), category: 'commercial' });
        assert.notEqual(a.campaignId, b.campaignId);
        // C: the lottery text (joins A by similarity) advertising domain two (links to B).
        const c = await ingestFingerprint(tdb.db, await fp(mail('Award!', LOTTERY.text.replace('https://award-claims-office.com/start', 'https://bridge-two.com/c'), 3)), { seenAt: day(2), category: 'scam' });
        assert.equal(c.campaignId, a.campaignId, 'the oldest campaign survives');
        assert.deepEqual(c.merged, [b.campaignId]);
        const viaOld = await getCampaignStory(tdb.db, b.campaignId);
        assert.equal(viaOld?.id, a.campaignId);
        assert.equal(viaOld?.redirectedFrom, b.campaignId);
        assert.equal(viaOld?.messageCount, 3);
        assert.equal(viaOld?.reportCount, 3);
        assert.equal(viaOld?.firstSeen, day(0));
        const members = await tdb.db.selectFrom('campaign_messages').select('campaign_id').execute();
        assert.deepEqual([...new Set(members.map((m) => m.campaign_id))], [a.campaignId]);
        // A later copy of B's text lands in the survivor, through the redirect.
        const d = await ingestFingerprint(tdb.db, await fp(mail('Meds', PHARMA.text.replace('http://pills-discount-store.net/shop', 'https://elsewhere-three.com/'), 4)), { seenAt: day(3), category: 'commercial' });
        assert.equal(d.campaignId, a.campaignId);
      } finally {
        await tdb.drop();
      }
    });

    test('an SMS and an e-mail advertising the same domain are one campaign', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        const email = await ingestFingerprint(tdb.db, await fp(mail('Your parcel', 'Your parcel is held at the depot. Pay the customs fee at https://parcel-fee-depot.com/pay within 24 hours.', 1)), { seenAt: day(0), category: 'phishing' });
        const smsFp = await fp(serializeSmsEvidence({ sender: 'POSTE', text: 'Colis en attente: reglez les frais sur parcel-fee-depot.com/x7 avant demain.', receivedAt: null }));
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
        const a = await ingestFingerprint(tdb.db, await fp(mail('Award', `${LOTTERY.text} https://www.google.com/maps`, 1)), { seenAt: day(0), category: 'scam' });
        const b = await ingestFingerprint(tdb.db, await fp(mail('Meds', `${PHARMA.text} https://www.google.com/search`, 2)), { seenAt: day(1), category: 'commercial' });
        assert.notEqual(a.campaignId, b.campaignId);
      } finally {
        await tdb.drop();
      }
    });
  });
}
