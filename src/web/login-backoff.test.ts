/**
 * The sign-in backoff on both databases: an attacker's address is slowed, the owner elsewhere is
 * not; waits double and end; spraying and distributed guessing are slowed too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { newId } from '../core/ids.ts';
import { attemptLogin } from '../db/accounts.ts';
import { loginAddressKey, loginWaitSeconds } from '../db/login-backoff.ts';
import { TEST_PASSWORD, anonymousCsrf, createTestApp, userWithSession } from './test-helpers.ts';

const T0 = Date.parse('2026-12-02T10:00:00.000Z');
const at = (secondsAfterT0: number): string => new Date(T0 + secondsAfterT0 * 1000).toISOString();

/** A recorded sign-in attempt (a row factory: the times are chosen by the test, not the clock). */
async function attempt(db: Kysely<Database>, email: string, ip: string, ok: boolean, when: string): Promise<void> {
  await db
    .insertInto('web_login_attempts')
    .values({ id: newId(), at: when, email, ip, ok: ok ? 1 : 0 })
    .execute();
}

for (const dialect of DIALECTS) {
  test(`sign-in backoff (${dialect})`, async (t) => {
    const h = await createTestApp(t, dialect, {
      webLoginMaxFailures: 5,
      webLoginAddressMaxFailures: 20,
      webLoginAccountMaxFailures: 20,
      webLoginBackoffSeconds: 600,
      webLockoutMinutes: 15,
    });
    if (!h) return;
    const { ctx, app } = h;
    const { db, config } = ctx;

    await t.test('five wrong passwords from one address do not keep the admin out from another address', async () => {
      const admin = await userWithSession(db, config, 'admin');
      for (let i = 0; i < 5; i++)
        assert.deepEqual(await attemptLogin(db, config, admin.email, 'wrong password!!', '198.51.100.66'), {
          ok: false,
          reason: 'invalid',
        });
      const attacker = await attemptLogin(db, config, admin.email, TEST_PASSWORD, '198.51.100.66');
      assert.equal(attacker.ok, false);
      assert.ok(
        !attacker.ok && attacker.reason === 'throttled' && attacker.retryAfterSeconds > 0,
        JSON.stringify(attacker),
      );
      const owner = await attemptLogin(db, config, admin.email, TEST_PASSWORD, '203.0.113.10');
      assert.equal(owner.ok, true, JSON.stringify(owner));
    });

    await t.test('IPv6: failures count per /64, so changing addresses inside it does not reset them', async () => {
      const admin = await userWithSession(db, config, 'admin');
      for (let i = 1; i <= 5; i++)
        assert.deepEqual(
          await attemptLogin(db, config, admin.email, 'wrong password!!', `2001:db8:7:9::${i.toString(16)}`),
          {
            ok: false,
            reason: 'invalid',
          },
        );
      const next = await attemptLogin(db, config, admin.email, TEST_PASSWORD, '2001:db8:7:9:abcd:1234:5678:9abc');
      assert.ok(!next.ok && next.reason === 'throttled', `another address of the same /64: ${JSON.stringify(next)}`);
      const owner = await attemptLogin(db, config, admin.email, TEST_PASSWORD, '2001:db8:7:a::1');
      assert.equal(owner.ok, true, `the neighbouring /64 is another subscriber: ${JSON.stringify(owner)}`);
      const rows = await db.selectFrom('web_login_attempts').select('ip').where('email', '=', admin.email).execute();
      assert.deepEqual([...new Set(rows.map((r) => r.ip))].sort(), ['2001:db8:7:9::/64', '2001:db8:7:a::/64']);
    });

    await t.test('a throttled sign-in over HTTP is a 429 with Retry-After, and never checks the password', async () => {
      const u = await userWithSession(db, config, 'analyst');
      const anon = anonymousCsrf();
      const post = (password: string, remoteAddress: string) =>
        app.inject({
          method: 'POST',
          url: '/login',
          remoteAddress,
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: anon.cookie },
          payload: new URLSearchParams({ _csrf: anon.csrf, email: u.email, password }).toString(),
        });
      for (let i = 0; i < 5; i++) assert.equal((await post('wrong password!!', '198.51.100.77')).statusCode, 401);
      const refused = await post(TEST_PASSWORD, '198.51.100.77');
      assert.equal(refused.statusCode, 429);
      const retry = Number(refused.headers['retry-after']);
      assert.ok(retry > 0 && retry <= 600, `Retry-After ${String(refused.headers['retry-after'])}`);
      const failures = await db
        .selectFrom('web_login_attempts')
        .select('id')
        .where('email', '=', u.email)
        .where('ok', '=', 0)
        .execute();
      assert.equal(failures.length, 5, 'a refused try is not recorded, so it cannot prolong the wait');
      const elsewhere = await post(TEST_PASSWORD, '203.0.113.11');
      assert.equal(elsewhere.statusCode, 303);
    });

    await t.test('the wait doubles with each failure past the limit, is capped, and ends', async () => {
      const email = 'doubling@example.org';
      const ip = '192.0.2.1';
      for (let i = 0; i < 5; i++) await attempt(db, email, ip, false, at(i));
      // Limit reached at the 5th failure (t=4s): wait 600 s after it.
      assert.equal(await loginWaitSeconds(db, config, { email, ip }, new Date(T0 + 4_000)), 600);
      assert.equal(await loginWaitSeconds(db, config, { email, ip }, new Date(T0 + 304_000)), 300);
      assert.equal(await loginWaitSeconds(db, config, { email, ip }, new Date(T0 + 604_000)), 0);
      await attempt(db, email, ip, false, at(604));
      // One past the limit: 1,200 s, above the 15-minute cap, so 900 s.
      assert.equal(await loginWaitSeconds(db, config, { email, ip }, new Date(T0 + 604_000)), 900);
      assert.equal(await loginWaitSeconds(db, config, { email, ip }, new Date(T0 + 604_000 + 900_000)), 0);
    });

    await t.test('a success from the same address clears that pair', async () => {
      const email = 'reset@example.org';
      const ip = '192.0.2.2';
      for (let i = 0; i < 5; i++) await attempt(db, email, ip, false, at(i));
      assert.ok((await loginWaitSeconds(db, config, { email, ip }, new Date(T0 + 10_000))) > 0);
      await attempt(db, email, ip, true, at(5));
      assert.equal(await loginWaitSeconds(db, config, { email, ip }, new Date(T0 + 10_000)), 0);
    });

    await t.test('password spraying from one address is slowed for every account it tries', async () => {
      const ip = '192.0.2.3';
      for (let i = 0; i < 20; i++) await attempt(db, `spray-${i}@example.org`, ip, false, at(i));
      assert.ok(
        (await loginWaitSeconds(db, config, { email: 'untouched@example.org', ip }, new Date(T0 + 30_000))) > 0,
      );
      assert.equal(
        await loginWaitSeconds(db, config, { email: 'untouched@example.org', ip: '192.0.2.4' }, new Date(T0 + 30_000)),
        0,
      );
    });

    await t.test(
      'distributed guessing on one account is slowed, except from an address the owner signed in from',
      async () => {
        const email = 'target@example.org';
        await attempt(db, email, '203.0.113.200', true, at(-86_400));
        for (let i = 0; i < 20; i++) await attempt(db, email, `198.18.0.${i + 1}`, false, at(i));
        assert.ok(
          (await loginWaitSeconds(db, config, { email, ip: '198.18.1.1' }, new Date(T0 + 30_000))) > 0,
          'a new address waits',
        );
        assert.equal(
          await loginWaitSeconds(db, config, { email, ip: '203.0.113.200' }, new Date(T0 + 30_000)),
          0,
          "the owner's address does not",
        );
      },
    );
  });
}

test('the sign-in address key: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 as its /64, anything else cut', () => {
  assert.equal(loginAddressKey(null), null);
  assert.equal(loginAddressKey('198.51.100.7'), '198.51.100.7');
  assert.equal(loginAddressKey('::ffff:198.51.100.7'), '198.51.100.7');
  assert.equal(loginAddressKey('2001:DB8:0:1:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64');
  assert.equal(loginAddressKey('2001:db8::1'), '2001:db8::/64');
  assert.equal(loginAddressKey('x'.repeat(100)), 'x'.repeat(64));
});
