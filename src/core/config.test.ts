import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { ConfigError, SETTINGS, defaultAnalysisThreads, loadConfig, publicBaseUrl, type SettingDef } from './config.ts';

test('every problem is reported at once, naming the variable, the flag and the source', () => {
  let err: unknown;
  try {
    loadConfig({
      env: { SPAMDESK_HTTP_PORT: '99999', SPAMDESK_REGION: 'fr', DATABASE_URL: 'mysql://x' },
      flags: { maxMessageBytes: '-1', logLevel: 'loud' },
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  assert.equal(err.problems.length, 5, err.message);
  const text = err.problems.join('\n');
  for (const needle of [
    'SPAMDESK_HTTP_PORT / --http-port (from SPAMDESK_HTTP_PORT',
    'SPAMDESK_REGION',
    'DATABASE_URL',
    '--max-message-bytes (from --max-message-bytes',
    '--log-level',
  ]) {
    assert.ok(text.includes(needle), `${needle} in\n${text}`);
  }
});

test('flags win over the environment, which wins over defaults; empty variables count as unset', () => {
  const c = loadConfig({
    env: { SPAMDESK_HTTP_PORT: '9000', SPAMDESK_SMTP_PORT: '', SPAMDESK_ANON_RATE_LIMIT: '7' },
    flags: { httpPort: '9100' },
  });
  assert.equal(c.httpPort, 9100);
  assert.equal(c.smtpPort, 2525);
  assert.equal(c.anonRateLimit, 7);
  assert.ok(Object.isFrozen(c));
});

test('the database location: SQLite under the data directory, sqlite:PATH, or PostgreSQL', () => {
  const d = loadConfig({ env: { SPAMDESK_DATA_DIR: '/tmp/sd-x' } });
  assert.deepEqual(d.database, { dialect: 'sqlite', path: '/tmp/sd-x/spamdesk.db' });
  assert.deepEqual(loadConfig({ env: { DATABASE_URL: 'sqlite:/tmp/other.db' } }).database, {
    dialect: 'sqlite',
    path: '/tmp/other.db',
  });
  assert.deepEqual(loadConfig({ env: { DATABASE_URL: 'postgres://u@h:5432/db' } }).database, {
    dialect: 'postgres',
    url: 'postgres://u@h:5432/db',
    preparedStatements: true,
  });
  const pooled = loadConfig({
    env: { DATABASE_URL: 'postgres://u@h:6432/db', SPAMDESK_PG_PREPARED_STATEMENTS: 'false' },
  });
  assert.deepEqual(pooled.database, { dialect: 'postgres', url: 'postgres://u@h:6432/db', preparedStatements: false });
});

test('public URL: configured, or derived from the bound port', () => {
  assert.equal(publicBaseUrl(loadConfig({ env: {} }), 4321), 'http://127.0.0.1:4321');
  assert.equal(
    publicBaseUrl(loadConfig({ env: { SPAMDESK_PUBLIC_URL: 'https://spam.example/' } })),
    'https://spam.example',
  );
});

test('every setting has a distinct flag and variable, and its default is itself valid', () => {
  const defs: SettingDef[] = Object.values(SETTINGS);
  assert.equal(new Set(defs.map((d) => d.flag)).size, defs.length);
  assert.equal(new Set(defs.map((d) => d.env)).size, defs.length);
  for (const d of defs) {
    assert.match(d.env, /^(SPAMDESK_[A-Z0-9_]+|DATABASE_URL)$/, d.env);
    assert.match(d.flag, /^[a-z0-9]+(-[a-z0-9]+)*$/, d.flag);
    if (d.default !== undefined) assert.ok(d.schema.safeParse(d.default).success, `default of ${d.env}`);
  }
});

test('serve roles: all by default, a comma list in the canonical order, unknown roles refused by name', () => {
  assert.deepEqual(loadConfig({ env: {} }).roles, ['http', 'smtp', 'workers', 'outbox', 'indexer', 'scheduler']);
  assert.deepEqual(loadConfig({ env: { SPAMDESK_ROLES: ' Scheduler, http ' } }).roles, ['http', 'scheduler']);
  assert.deepEqual(loadConfig({ env: {}, flags: { roles: 'workers,all' } }).roles.length, 6);
  assert.throws(
    () => loadConfig({ env: {}, flags: { roles: 'http,mailer' } }),
    (e: unknown) => e instanceof ConfigError && /--only .*unknown role\(s\) "mailer"/.test(e.message),
  );
  assert.throws(() => loadConfig({ env: {}, flags: { roles: ' , ' } }), ConfigError);
});

test('analysis threads: one per core but one for the main thread, never none, and the setting still overrides', () => {
  assert.equal(defaultAnalysisThreads(1), 1);
  assert.equal(defaultAnalysisThreads(2), 1);
  assert.equal(defaultAnalysisThreads(8), 7);
  assert.equal(loadConfig({ env: {} }).workers, Math.max(1, os.availableParallelism() - 1));
  assert.equal(loadConfig({ env: { SPAMDESK_WORKERS: '2' } }).workers, 2);
  assert.equal(loadConfig({ env: { SPAMDESK_WORKERS: '0' } }).workers, 0);
});
