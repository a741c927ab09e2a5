/**
 * The intel build in its own thread (`build-thread.ts`, started by `buildThread` of the service):
 * on each engine it publishes exactly what a build on the calling thread publishes (a build here
 * afterwards finds nothing to change), an idle thread ends and the next build starts another, and a
 * thread that runs out of its heap fails that build with a reason naming the setting, leaving the
 * process, its database and the next build unharmed.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { policyFor } from '../../actions/action-policy.ts';
import { DIALECTS } from '../../db/test-databases.ts';
import { buildIntel, publishableCampaigns } from './build.ts';
import { buildThread, type BuildThread } from './build-service.ts';
import { intelHarness, phish, type IntelHarness } from './test-support.ts';
import { currentObjects } from './bundle.ts';
import { DEFAULT_COLLECTION_ID } from '../../db/migrations/0131_feeds-intel.ts';

for (const dialect of DIALECTS) {
  describe(`intel build thread on ${dialect}`, () => {
    test('publishes what a build on the calling thread would: one here afterwards changes nothing', async (t) => {
      const h = await intelHarness(t, dialect);
      if (!h) return;
      const thread = buildThread(h.ctx.config);
      try {
        await h.report(
          [1, 2, 3].map((n) => ({
            raw: phish({ n, ip: '45.77.10.20', to: `victim${n}@mail-users.org` }),
            reporter: `victim${n}@mail-users.org`,
          })),
        );
        assert.equal(await publishableCampaigns(h.ctx.db), 1);
        const built = await thread.build();
        assert.equal(built.campaigns, 1, JSON.stringify(built));
        const published = Object.values(built.collections).reduce((n, c) => n + c.added, 0);
        assert.ok(published >= 5, `the thread published ${published} objects`);
        const { body } = await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID);
        const objects = (JSON.parse(body) as { objects: { type: string }[] }).objects;
        assert.ok(objects.some((o) => o.type === 'indicator'));
        const again = await buildIntel(h.ctx.db, h.ctx.config);
        for (const [alias, c] of Object.entries(again.collections))
          assert.deepEqual(
            [c.added, c.updated, c.revoked, c.mispChanged, c.mispWithdrawn],
            [0, 0, 0, 0, 0],
            `collection ${alias} after the thread's build`,
          );
        // And the other way round: a new report, built here, then the thread finds nothing to change.
        await h.report([{ raw: phish({ n: 4, ip: '45.77.10.20', to: 'victim4@mail-users.org' }) }]);
        await buildIntel(h.ctx.db, h.ctx.config);
        const third = await thread.build();
        for (const c of Object.values(third.collections))
          assert.equal(c.added + c.updated + c.revoked + c.mispChanged + c.mispWithdrawn, 0);
      } finally {
        await thread.close();
        await h.close();
      }
    });
  });
}

/**
 * Runs `fn` on a SQLite harness holding one reported phishing campaign (origin `ip`); the build threads
 * `fn` makes with `open` are closed after it, whatever happened.
 */
async function withOneCampaign(
  t: TestContext,
  ip: string,
  fn: (h: IntelHarness, open: (opts?: Parameters<typeof buildThread>[1]) => BuildThread) => Promise<void>,
): Promise<void> {
  const h = await intelHarness(t, 'sqlite');
  if (!h) return;
  const threads: BuildThread[] = [];
  const open = (opts: Parameters<typeof buildThread>[1] = {}) => {
    const thread = buildThread(h.ctx.config, opts);
    threads.push(thread);
    return thread;
  };
  try {
    await h.report([{ raw: phish({ n: 1, ip, to: 'victim1@mail-users.org' }) }]);
    await fn(h, open);
  } finally {
    for (const thread of threads) await thread.close();
    await h.close();
  }
}

test(
  'an idle build thread ends and the next build starts another; a thread retiring as the next build starts \
does not fail that build',
  { timeout: 120_000 },
  (t) =>
    withOneCampaign(t, '45.77.10.21', async (_h, open) => {
      const idleMs = 20;
      const thread = open({ idleMs });
      const first = await thread.build();
      assert.equal(thread.started, 1);
      await new Promise((r) => setTimeout(r, 500));
      const second = await thread.build();
      assert.equal(second.campaigns, first.campaigns);
      assert.equal(thread.started, 2, 'the idle thread ended and a new one built');
      // Builds asked for around the moment the last thread retires: whichever thread takes each, the end of the
      // retiring one must not fail it (it did, when any thread's exit failed the build in hand).
      for (let wait = idleMs - 4; wait <= idleMs + 12; wait += 2) {
        await new Promise((r) => setTimeout(r, wait));
        const s = await thread.build();
        assert.equal(s.campaigns, first.campaigns, `after ${wait} ms`);
      }
    }),
);

test(
  'closing the build thread cuts a build in hand short: it rejects, and the database takes writes at once',
  {
    timeout: 120_000,
  },
  (t) =>
    withOneCampaign(t, '45.77.10.23', async (h, open) => {
      const thread = open();
      const building = assert.rejects(thread.build(), /the intel build was stopped/);
      await thread.close();
      await building;
      assert.equal(thread.live, 0);
      // Closed for good: a build asked for afterwards (a tick racing the stop) starts no thread.
      await assert.rejects(thread.build(), /closed/);
      assert.equal(thread.started, 1);
      // Nothing of the thread's holds the write lock.
      await h.ctx.db.transaction().execute(async (trx) => {
        await trx.updateTable('intel_collections').set({ updated_at: new Date().toISOString() }).execute();
      });
      assert.equal((await open().build()).campaigns, 1);
    }),
);

test(
  'a build that runs past its time limit is ended with its thread; the next build starts a new one',
  {
    timeout: 120_000,
  },
  (t) =>
    withOneCampaign(t, '45.77.10.24', async (_h, open) => {
      const hasty = open({ timeoutMs: 1 });
      await assert.rejects(hasty.build(), /took longer than 1 ms and was ended with its thread/);
      // The thread itself ended, not only the wait for it.
      for (let i = 0; i < 200 && hasty.live > 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(hasty.live, 0, 'the timed-out thread ended');
      await assert.rejects(hasty.build(), /took longer than 1 ms/);
      assert.equal(hasty.started, 2, 'each build in a new thread');
    }),
);

test(
  'a build thread that runs out of heap fails that build, naming the setting; the next build with room succeeds',
  {
    timeout: 120_000,
  },
  (t) =>
    withOneCampaign(t, '45.77.10.22', async (_h, open) => {
      // 4 MiB of old generation: the thread cannot even load the build's modules.
      const starved = open({ heapMb: 4 });
      await assert.rejects(starved.build(), /ran out of its heap \(4 MiB\): raise SPAMDESK_INTEL_BUILD_HEAP_MB/);
      // The process and its database are unharmed, and the same starved handle starts a new thread next time.
      await assert.rejects(starved.build(), /ran out of its heap/);
      assert.equal((await open().build()).campaigns, 1);
    }),
);

test('the build thread builds with the actions policy the process read, not the file as changed since', async (t) => {
  await withOneCampaign(t, '45.77.10.24', async (h) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-policy-'));
    const file = path.join(dir, 'actions-policy.json');
    const config = { ...h.ctx.config, actionsPolicyFile: file };
    const thread = buildThread(config);
    try {
      fs.writeFileSync(file, JSON.stringify({ instance: { org: 'Desk as read at start' } }));
      assert.equal(policyFor(config).instance.org, 'Desk as read at start');
      fs.writeFileSync(file, JSON.stringify({ instance: { org: 'Desk as edited since' } }));
      const built = await thread.build();
      assert.equal(built.campaigns, 1, JSON.stringify(built));
      const { body } = await currentObjects(h.ctx.db, DEFAULT_COLLECTION_ID);
      const identity = (JSON.parse(body) as { objects: { type: string; name?: string }[] }).objects.find(
        (o) => o.type === 'identity',
      );
      assert.equal(identity?.name, 'Desk as read at start');
    } finally {
      await thread.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
