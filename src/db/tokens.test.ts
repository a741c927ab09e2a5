import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from './test-databases.ts';
import { createAccount, setAccountDisabled } from './accounts.ts';
import { TOKEN_CACHE_MS, createToken, findToken, revokeToken, touchToken } from './tokens.ts';
import { nowIso } from '../core/ids.ts';

test('a token revoked in this process, or with its account disabled, is refused at once though cached', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  try {
    const { db } = tdb;
    const tok = await createToken(db, { role: 'partner' });
    assert.equal((await findToken(db, tok.secret))?.id, tok.id);
    assert.equal(await revokeToken(db, tok.id), true);
    assert.equal(await findToken(db, tok.secret), null);

    const user = await createAccount(db, {
      email: 'filter@example.org',
      role: 'analyst',
      password: 'long enough pw 42!',
    });
    const mine = await createToken(db, { role: 'analyst', userId: user.id });
    assert.equal((await findToken(db, mine.secret))?.id, mine.id);
    assert.equal(await setAccountDisabled(db, user.id, true), true);
    assert.equal(await findToken(db, mine.secret), null);
  } finally {
    await tdb.drop();
  }
});

test('a revocation written by another process takes effect once the cached token has expired', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  try {
    const { db } = tdb;
    const tok = await createToken(db, { role: 'partner' });
    const t0 = Date.now();
    assert.equal((await findToken(db, tok.secret, t0))?.id, tok.id);
    // What `spamdesk token revoke` in another process does: a write this process does not see.
    await db.updateTable('api_tokens').set({ revoked_at: nowIso() }).where('id', '=', tok.id).execute();
    assert.equal((await findToken(db, tok.secret, t0 + 1))?.id, tok.id, 'cached: the database is not read');
    assert.equal(await findToken(db, tok.secret, t0 + TOKEN_CACHE_MS + 1), null);
  } finally {
    await tdb.drop();
  }
});

test('a cached token records its use once per interval, not once per request', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  try {
    const { db } = tdb;
    const tok = await createToken(db, { role: 'partner' });
    const now = Date.now();
    const found = await findToken(db, tok.secret, now);
    assert.ok(found);
    await touchToken(db, found, now);
    const stored = async () =>
      (await db.selectFrom('api_tokens').select('last_used_at').where('id', '=', tok.id).executeTakeFirstOrThrow())
        .last_used_at;
    const first = await stored();
    assert.equal(first, new Date(now).toISOString());
    const again = await findToken(db, tok.secret, now + 10);
    assert.equal(again?.last_used_at, first, 'the cached row carries the refresh');
    if (again) await touchToken(db, again, now + 10);
    assert.equal(await stored(), first);
  } finally {
    await tdb.drop();
  }
});
