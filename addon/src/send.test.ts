/**
 * The add-on's sending logic against a running Spamdesk (the real Fastify app on port 0, real
 * fetch, real SQLite), fed with what `messenger.messages.getRaw` returns.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createContext, closeContext, type AppContext } from '../../src/app/context.ts';
import { createTestDatabase } from '../../src/db/test-databases.ts';
import { buildApp } from '../../src/app/build-app.ts';
import { createToken, revokeToken } from '../../src/db/tokens.ts';
import { getMessageRaw } from '../../src/evidence/store.ts';
import { CORPUS_DIR, needsCorpus } from '../../src/core/test-env.ts';
import { reportMessages, settingsProblems, summarise, type AddonSettings, type RawMessage } from './send.ts';

async function server(t: TestContext): Promise<{ ctx: AppContext; app: FastifyInstance; url: string } | null> {
  const tdb = await createTestDatabase(t, 'sqlite', { httpPort: 0 });
  if (!tdb) return null;
  const ctx = await createContext(tdb.config, { db: tdb.db, migrate: false });
  const app = await buildApp(ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    await closeContext(ctx, { keepDb: true });
    await tdb.drop();
  });
  return { ctx, app, url: app.publicUrl() };
}

/** Thunderbird's default getRaw format: a binary string, one char per byte. */
function binaryString(b: Buffer): string {
  return b.toString('latin1');
}

function corpusMessages(n: number): Buffer[] {
  const dir = path.join(CORPUS_DIR, 'spam_archive_2023_2025', '2024');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .slice(0, n)
    .map((f) => fs.readFileSync(path.join(dir, f)));
}

test(
  'reporting a multi-selection sends each exact raw source and stores it byte for byte as an add-on ' + 'report',
  async (t) => {
    if (!needsCorpus(t, 'spam_archive_2023_2025/2024')) return;
    const s = await server(t);
    if (!s) return;
    const token = await createToken(s.ctx.db, { role: 'reporter', name: 'thunderbird' });
    const originals = corpusMessages(3);
    // Thunderbird 117+ hands out a File with { data_format: 'File' }, older versions a binary string.
    const raws = new Map<number, RawMessage>([
      [11, binaryString(originals[0])],
      [12, new Blob([new Uint8Array(originals[1])])],
      [13, binaryString(originals[2])],
    ]);
    const settings: AddonSettings = {
      instanceUrl: `${s.url}/`,
      token: token.secret,
      moveToJunk: true,
      note: 'Reçu ce matin, encore.',
    };
    const outcomes = await reportMessages([11, 12, 13], {
      fetch,
      getRaw: async (id) => {
        const r = raws.get(id);
        if (r === undefined) throw new Error(`no message ${id}`);
        return r;
      },
      settings,
    });
    assert.deepEqual(
      outcomes.map((o) => o.ok),
      [true, true, true],
      JSON.stringify(outcomes),
    );
    for (const [i, o] of outcomes.entries()) {
      assert.ok(o.reportId);
      const row = await s.ctx.db
        .selectFrom('reports')
        .selectAll()
        .where('id', '=', o.reportId)
        .executeTakeFirstOrThrow();
      assert.equal(row.channel, 'addon');
      assert.equal(row.note, 'Reçu ce matin, encore.');
      assert.equal(row.reporter_token_id, token.id);
      const stored = await getMessageRaw(s.ctx.db, row.message_sha256);
      assert.ok(stored?.equals(originals[i]), `message ${i} stored exactly`);
      assert.ok(o.trackingUrl?.startsWith(`${s.url}/track/`));
    }
    assert.deepEqual(summarise(outcomes), { title: 'Spam reported', message: 'Thank you: 3 messages were reported.' });
  },
);

test("the server's error is what the user sees: revoked token, not an e-mail, unreachable instance", async (t) => {
  const s = await server(t);
  if (!s) return;
  const token = await createToken(s.ctx.db, { role: 'reporter', name: 'thunderbird' });
  const settings: AddonSettings = { instanceUrl: s.url, token: token.secret, moveToJunk: false, note: '' };
  const getRaw = async (id: number): Promise<RawMessage> =>
    id === 1 ? 'not a message at all' : 'From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n';

  const [notMail] = await reportMessages([1], { fetch, getRaw, settings, language: 'en-GB' });
  assert.equal(notMail.ok, false);
  assert.equal(notMail.status, 400);
  assert.match(notMail.error ?? '', /not an e-mail message/);
  // The refusal reads in the language Thunderbird speaks.
  const [enFrancais] = await reportMessages([1], { fetch, getRaw, settings, language: 'fr' });
  assert.equal(enFrancais.status, 400);
  assert.match(enFrancais.error ?? '', /ne forment pas un courriel/);

  await revokeToken(s.ctx.db, token.id);
  const [revoked] = await reportMessages([2], { fetch, getRaw, settings, language: 'en' });
  assert.equal(revoked.status, 401);
  assert.equal(revoked.error, 'The API token is unknown or revoked.');

  const [down] = await reportMessages([2], {
    fetch,
    getRaw,
    settings: { ...settings, instanceUrl: 'http://127.0.0.1:9' },
  });
  assert.equal(down.ok, false);
  assert.match(down.error ?? '', /^Cannot reach http:\/\/127\.0\.0\.1:9/);
  const summary = summarise([notMail, revoked]);
  assert.equal(summary.title, 'Report failed');
  assert.match(summary.message, /revoked/);
});

test('the options are checked before anything is sent', () => {
  const ok: AddonSettings = {
    instanceUrl: 'https://spamdesk.example.org',
    token: `sdk_${'a'.repeat(43)}`,
    moveToJunk: false,
    note: '',
  };
  assert.deepEqual(settingsProblems(ok), []);
  assert.deepEqual(settingsProblems({ ...ok, instanceUrl: 'http://localhost:8080' }), []);
  assert.match(settingsProblems({ ...ok, instanceUrl: 'http://spamdesk.example.org' }).join(), /https/);
  assert.match(settingsProblems({ ...ok, instanceUrl: 'not a url' }).join(), /valid URL/);
  assert.match(settingsProblems({ ...ok, token: 'password123' }).join(), /sdk_/);
});
