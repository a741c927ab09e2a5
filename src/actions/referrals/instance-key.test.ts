import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { openDatabase } from '../../db/dialect.ts';
import { testConfig, type Config } from '../../core/config.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { REPO_ROOT } from '../../core/test-env.ts';
import { sha256Hex } from '../../core/ids.ts';
import { buildApp } from '../../app/build-app.ts';
import { buildEvidencePackage, verifyEvidencePackage } from './evidence-package.ts';
import {
  legacyKeyPath,
  loadInstanceKey,
  publishedKeys,
  rotateInstanceKey,
  rotationStatement,
  verifyBytes,
  type InstanceKey,
} from './instance-key.ts';

const SECRET = 'a shared secret of this instance, 2026';

function databaseUrlOf(config: Config): string {
  return config.database.dialect === 'sqlite' ? `sqlite:${config.database.path}` : config.database.url;
}

async function packageSignedBy(key: InstanceKey) {
  const raw = Buffer.from('From: a@spam.example\r\nSubject: x\r\n\r\nhello\r\n');
  return buildEvidencePackage({
    packageId: `P-${key.fingerprint.slice(0, 6)}`,
    createdAt: new Date().toISOString(),
    caseId: 'C',
    authority: { id: 'A', name: 'Police', country: 'FR', competence: 'cybercrime' },
    instance: { org: 'Test', url: 'https://spamdesk.test' },
    evidenceMode: 'redacted-only',
    messages: [
      { sha256: sha256Hex(raw), raw, redacted: null, reportCount: 1, firstReportedAt: '', lastReportedAt: '' },
    ],
    summary: {},
    html: '<p>x</p>',
    key,
  });
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] two app instances on one database, each with its own data directory, publish the same key and \
sign with it`, async (t) => {
    const tdb = await createTestDatabase(t, dialect, { instanceKeySecret: SECRET });
    if (!tdb) return;
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-key-'));
    const config2 = testConfig({
      dataDir: otherDir,
      databaseUrl: databaseUrlOf(tdb.config),
      instanceKeySecret: SECRET,
    });
    const db2 = openDatabase(config2.database);
    const ctx1 = await createContext(tdb.config, { db: tdb.db, migrate: false });
    const ctx2 = await createContext(config2, { db: db2, migrate: false });
    const app1 = await buildApp(ctx1);
    const app2 = await buildApp(ctx2);
    try {
      // Both ask at once on a fresh database: one key is created, the other process reads it.
      const [k1, k2] = await Promise.all([loadInstanceKey(tdb.db, tdb.config), loadInstanceKey(db2, config2)]);
      assert.equal(k1.fingerprint, k2.fingerprint);
      assert.equal((await publishedKeys(tdb.db)).length, 1);
      const [r1, r2] = await Promise.all([
        app1.inject({ method: 'GET', url: '/api/v1/actions/public-key' }),
        app2.inject({ method: 'GET', url: '/api/v1/actions/public-key' }),
      ]);
      assert.equal(r1.json().fingerprint, k1.fingerprint);
      assert.deepEqual(r1.json(), r2.json(), 'every process answers the same keys');
      // Each signs; the published key verifies both packages.
      for (const k of [k1, k2]) {
        const pkg = await packageSignedBy(k);
        assert.deepEqual((await verifyEvidencePackage(pkg.zip, r1.json().publicKeyPem)).problems, []);
      }
      // No key file in either data directory: the key lives in the database, encrypted.
      assert.ok(!fs.existsSync(legacyKeyPath(tdb.config.dataDir)) && !fs.existsSync(legacyKeyPath(otherDir)));
      const row = await tdb.db.selectFrom('action_instance_keys').select('private_key_enc').executeTakeFirstOrThrow();
      assert.doesNotMatch(row.private_key_enc, /PRIVATE KEY/);
      // A process with another secret can publish the key but never sign with it.
      const config3 = testConfig({
        dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'sd-key-')),
        databaseUrl: databaseUrlOf(tdb.config),
        instanceKeySecret: 'a different secret entirely',
      });
      await assert.rejects(loadInstanceKey(db2, config3), /same SPAMDESK_INSTANCE_KEY_SECRET/);
    } finally {
      await app1.close();
      await app2.close();
      await closeContext(ctx2);
      await closeContext(ctx1, { keepDb: true });
      await tdb.drop();
    }
  });

  test(`[${dialect}] two processes racing to create the key agree on one`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      const run = () =>
        new Promise<string>((resolve, reject) => {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-key-'));
          const p = spawn(
            process.execPath,
            [
              '--import',
              'tsx',
              path.join(REPO_ROOT, 'src/cli/main.ts'),
              'keys',
              'list',
              '--database-url',
              databaseUrlOf(tdb.config),
              '--data-dir',
              dir,
              '--instance-key-secret',
              SECRET,
              '--log-level',
              'silent',
            ],
            { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
          );
          let out = '';
          let err = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.stderr.on('data', (d: Buffer) => (err += d.toString()));
          p.on('exit', (code) =>
            code === 0 ? resolve(out.trim()) : reject(new Error(`keys list exited ${code}: ${err}`)),
          );
        });
      const [a, b] = await Promise.all([run(), run()]);
      assert.match(a, /^[0-9a-f]{64} {2}current/);
      assert.equal(a, b);
      assert.equal((await publishedKeys(tdb.db)).length, 1);
    } finally {
      await tdb.drop();
    }
  });

  test(`[${dialect}] rotation: a new key signs, the retired one stays published with its validity, older packages \
still verify`, async (t) => {
    const tdb = await createTestDatabase(t, dialect, { instanceKeySecret: SECRET });
    if (!tdb) return;
    try {
      const old = await loadInstanceKey(tdb.db, tdb.config);
      const before = await packageSignedBy(old);
      const r = await rotateInstanceKey(tdb.db, tdb.config);
      assert.equal(r.retired, old.fingerprint);
      const current = await loadInstanceKey(tdb.db, tdb.config);
      assert.equal(current.fingerprint, r.current);
      assert.notEqual(current.fingerprint, old.fingerprint);
      const keys = await publishedKeys(tdb.db);
      assert.deepEqual(
        keys.map((k) => [k.fingerprint, k.state]),
        [
          [r.current, 'current'],
          [r.retired, 'retired'],
        ],
      );
      const retired = keys[1];
      assert.equal(retired.validUntil, r.at);
      // The package signed before the rotation verifies with the retired key, as published.
      const v = await verifyEvidencePackage(before.zip, retired.publicKeyPem);
      assert.deepEqual(v.problems, []);
      assert.ok(before.manifest.createdAt <= (retired.validUntil ?? ''), 'signed within the retired key’s validity');
      // The retired key endorsed its successor.
      const e = keys[0].endorsement;
      assert.ok(e);
      assert.equal(e.statement, rotationStatement(r.retired, r.current, r.at));
      assert.ok(verifyBytes(retired.publicKeyPem, Buffer.from(e.statement), e.signature));
      // New packages are signed with the new key only.
      const after = await packageSignedBy(current);
      assert.deepEqual((await verifyEvidencePackage(after.zip, keys[0].publicKeyPem)).problems, []);
      assert.ok(
        (await verifyEvidencePackage(after.zip, retired.publicKeyPem)).problems.includes(
          'manifest.sig does not verify',
        ),
      );
      // `spamdesk cases verify-package --public-key keys.json` picks the key a package names.
      if (dialect === 'sqlite') {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-key-'));
        fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ keys }));
        for (const [name, zip] of [
          ['before.zip', before.zip],
          ['after.zip', after.zip],
        ] as const) {
          fs.writeFileSync(path.join(dir, name), zip);
          const code = await new Promise<number | null>((resolve) =>
            spawn(
              process.execPath,
              [
                '--import',
                'tsx',
                path.join(REPO_ROOT, 'src/cli/main.ts'),
                'cases',
                'verify-package',
                path.join(dir, name),
                '--public-key',
                path.join(dir, 'keys.json'),
              ],
              { cwd: REPO_ROOT, stdio: 'ignore' },
            ).on('exit', resolve),
          );
          assert.equal(code, 0, `${name} verifies against the published key list`);
        }
      }
      // A second rotation keeps every retired key.
      await rotateInstanceKey(tdb.db, tdb.config);
      assert.equal((await publishedKeys(tdb.db)).filter((k) => k.state === 'retired').length, 2);
    } finally {
      await tdb.drop();
    }
  });
}

test('an instance upgraded from the key file keeps its identity: the file key is imported once', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    fs.mkdirSync(path.dirname(legacyKeyPath(tdb.config.dataDir)), { recursive: true });
    fs.writeFileSync(
      legacyKeyPath(tdb.config.dataDir),
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      { mode: 0o600 },
    );
    const k = await loadInstanceKey(tdb.db, tdb.config);
    assert.equal(
      k.publicKeyPem,
      (await import('node:crypto')).createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
    );
    assert.equal((await publishedKeys(tdb.db))[0].fingerprint, k.fingerprint);
  } finally {
    await tdb.drop();
  }
});
