import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, DIALECTS } from '../../db/test-databases.ts';
import { newId } from '../../core/ids.ts';
import { openCase } from '../cases/cases.ts';
import { declineExchangeRequest, listExchangeRequests } from './requests.ts';

for (const dialect of DIALECTS) {
  test(`[${dialect}] partners' requests page through every one (same timestamps included); a decline is audited, \
recorded in the case and final`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      const c = await openCase(tdb.db, {
        targetKind: 'advertised_domain',
        targetValue: 'requests.example',
        title: 'Requests',
        category: 'phishing',
        openedBy: 'test',
      });
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const id = newId();
        ids.push(id);
        await tdb.db
          .insertInto('action_exchange_requests')
          .values({
            id,
            referral_id: 'ref-1',
            case_id: c.id,
            partner_id: 'p1',
            message_id: `m-${i}`,
            kind: i % 2 ? 'originals' : 'further-reports',
            question: `question ${i}`,
            state: 'pending',
            decided_by: null,
            decided_at: null,
            decision_note: null,
            follow_up_referral_id: null,
            // Three share a timestamp: the id breaks the tie.
            created_at: `2026-12-0${i < 3 ? 1 : i}T10:00:00.000Z`,
          })
          .execute();
      }
      const seen: string[] = [];
      let before: string | undefined;
      let pages = 0;
      do {
        const page = await listExchangeRequests(tdb.db, { state: 'pending', before, limit: 2 });
        seen.push(...page.requests.map((r) => r.id));
        before = page.next ?? undefined;
        pages++;
      } while (before && pages < 10);
      assert.equal(pages, 4);
      assert.deepEqual([...seen].sort(), [...ids].sort(), 'every request once');
      await assert.rejects(listExchangeRequests(tdb.db, { before: 'garbage' }), /cursor/);

      await declineExchangeRequest(tdb.db, ids[0], 'analyst:test', { note: 'Originals are not ours to give.' });
      await assert.rejects(declineExchangeRequest(tdb.db, ids[0], 'analyst:test', {}), /already declined/);
      await assert.rejects(declineExchangeRequest(tdb.db, 'nope', 'analyst:test', {}), /No exchange request/);
      const pending = await listExchangeRequests(tdb.db, { state: 'pending', limit: 200 });
      assert.equal(pending.requests.length, 6);
      const audit = await tdb.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'exchange.request.decline')
        .execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0].subject, `exchange-request:${ids[0]}`);
      const events = await tdb.db.selectFrom('action_case_events').select('kind').where('case_id', '=', c.id).execute();
      assert.ok(events.some((e) => e.kind === 'partner-request-declined'));
    } finally {
      await tdb.drop();
    }
  });
}
