/**
 * The real `spamdesk serve` process: configuration errors, durability across SIGKILL, graceful
 * shutdown on SIGTERM. Spawned through tsx exactly as `npm start` runs it; ports chosen by the OS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { REPO_ROOT } from '../../core/test-env.ts';
import { testConfig } from '../../core/config.ts';
import { openDatabase } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { createToken } from '../../db/tokens.ts';
import { sampleEmail } from '../../app/test-context.ts';
import { sha256Hex } from '../../core/ids.ts';
import { getMessageRaw, verifyEvidence } from '../../evidence/store.ts';
import { phish } from '../../feeds/intel/test-messages.ts';
import { DEFAULT_COLLECTION_ID } from '../../db/migrations/0131_feeds-intel.ts';

const CLI = ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts')];

interface Server {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  stderr(): string;
  stdout(): string;
}

/** `spamdesk serve` on a free port, without workers or SMTP, with its data in `dataDir`. */
function serveArgs(dataDir: string, extra: string[]): string[] {
  return [
    ...CLI,
    'serve',
    '--data-dir',
    dataDir,
    '--http-port',
    '0',
    '--workers',
    '0',
    '--smtp-enabled',
    'false',
    ...extra,
  ];
}

/** Starts `spamdesk serve` on a free port and resolves once it prints its ready line. */
function startServer(t: TestContext, dataDir: string, extra: string[] = []): Promise<Server> {
  const proc = spawn(process.execPath, serveArgs(dataDir, ['--log-level', 'warn', ...extra]), {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), 60_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready) return;
      for (const line of out.split('\n')) {
        if (!line.includes('"spamdesk ready"')) continue;
        const { url } = JSON.parse(line) as { url: string };
        clearTimeout(timer);
        ready = true;
        resolve({ proc, url, exited, stderr: () => err, stdout: () => out });
        return;
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready:\n${err}`));
    });
  });
}

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-serve-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function reporterToken(dataDir: string): Promise<string> {
  const db = openDatabase(testConfig({ dataDir }).database);
  try {
    await migrateToLatest(db);
    return (await createToken(db, { role: 'reporter', name: 'durability' })).secret;
  } finally {
    await db.destroy();
  }
}

interface Ack {
  id: string;
  sha256: string;
  duplicate: boolean;
}

/** One POST over a fresh connection; resolves with the status and body, rejects on a broken connection. */
function post(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/api/v1/reports`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'message/rfc822', 'content-length': String(body.length), ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('invalid settings: every problem is listed and the exit code is 2', async () => {
  const proc = spawn(
    process.execPath,
    [
      ...CLI,
      'serve',
      '--http-port',
      'eighty',
      '--max-message-bytes',
      '-5',
      '--region',
      'france',
      '--sqlite-synchronous',
      'SOMETIMES',
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, SPAMDESK_LOG_LEVEL: 'chatty', SPAMDESK_WORKERS: 'many' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  assert.equal(code, 2, err);
  for (const needle of [
    '--http-port',
    '--max-message-bytes',
    '--region',
    '--sqlite-synchronous',
    'SPAMDESK_LOG_LEVEL',
    'SPAMDESK_WORKERS',
  ]) {
    assert.ok(err.includes(needle), `${needle} missing from:\n${err}`);
  }
  assert.equal(err.match(/^ {2}- /gm)?.length, 6, err);
});

test('serve --actions-policy FILE: the operator file is read at start (its instance shown), a broken one stops the ' +
  'start with 2', {
  timeout: 120_000,
}, async (t) => {
  const dataDir = tempDir(t);
  const good = path.join(dataDir, 'actions.json');
  fs.writeFileSync(good, JSON.stringify({ instance: { org: 'Acme Abuse Desk' } }));
  const server = await startServer(t, dataDir, ['--actions-policy', good]);
  // stderr and stdout are separate pipes: wait for the end of the start-up text.
  while (!server.stderr().includes('Press Ctrl+C')) await new Promise((r) => setTimeout(r, 20));
  assert.match(server.stderr(), /Actions policy: +\S*actions\.json \(instance Acme Abuse Desk\)/);
  server.proc.kill('SIGKILL');
  await server.exited;

  const bad = path.join(dataDir, 'broken.json');
  fs.writeFileSync(bad, '{"cases": ');
  const proc = spawn(process.execPath, serveArgs(dataDir, ['--actions-policy', bad]), {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  assert.equal(code, 2, err);
  assert.match(err, /broken\.json: not JSON/);
});

test('SIGKILL mid-stream: every acknowledged report survives intact, retries with the same key add nothing', {
  timeout: 300_000,
}, async (t) => {
  const dataDir = tempDir(t);
  const token = await reporterToken(dataDir);
  const first = await startServer(t, dataDir);
  const CLIENTS = 8;
  const PER_CLIENT = 200;
  const KILL_AFTER = 120;
  const acked = new Map<string, Ack>();
  const sent = new Set<string>();
  const submission = (c: number, i: number) => ({
    key: `client${c}-msg${i}`,
    raw: sampleEmail(`c${c}-${i}`, { body: `durability ${c}/${i} `.repeat(40) }),
  });
  const headers = (key: string) => ({ authorization: `Bearer ${token}`, 'idempotency-key': key });

  let killed = false;
  const clients = Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = 0; i < PER_CLIENT && !killed; i++) {
      const { key, raw } = submission(c, i);
      sent.add(key);
      try {
        const r = await post(first.url, raw, headers(key));
        if (r.status === 202) {
          const [ack] = (JSON.parse(r.body) as { reports: Ack[] }).reports;
          acked.set(key, ack);
          if (acked.size >= KILL_AFTER && !killed) {
            killed = true;
            first.proc.kill('SIGKILL');
          }
        }
      } catch {
        // The connection broke: the server is gone. The client will retry after the restart.
      }
    }
  });
  await Promise.all(clients);
  assert.equal(await first.exited, null, 'killed by a signal');
  assert.ok(acked.size >= KILL_AFTER);
  t.diagnostic(`${sent.size} submissions sent before the kill, ${acked.size} acknowledged`);

  const second = await startServer(t, dataDir);
  try {
    // Every acknowledged report is there, with its evidence.
    const db = openDatabase(testConfig({ dataDir }).database);
    try {
      for (const [key, ack] of acked) {
        const row = await db
          .selectFrom('reports')
          .select(['id', 'message_sha256', 'dedup_key'])
          .where('id', '=', ack.id)
          .executeTakeFirst();
        assert.ok(row, `acknowledged report ${key} is missing`);
        assert.equal(row.message_sha256, ack.sha256);
        assert.ok(
          (await getMessageRaw(db, ack.sha256))?.equals(
            submission(Number(/client(\d+)/.exec(key)?.[1]), Number(/msg(\d+)/.exec(key)?.[1])).raw,
          ),
        );
      }
      const v = await verifyEvidence(db);
      assert.deepEqual(v.mismatches, []);
    } finally {
      await db.destroy();
    }

    // Clients retry everything they sent before the crash (answered or not) with the same keys.
    for (let c = 0; c < CLIENTS; c++) {
      for (let i = 0; i < PER_CLIENT; i++) {
        const { key, raw } = submission(c, i);
        if (!sent.has(key)) continue;
        const r = await post(second.url, raw, headers(key));
        assert.equal(r.status, 202, r.body);
        const [ack] = (JSON.parse(r.body) as { reports: Ack[] }).reports;
        const before = acked.get(key);
        if (before) {
          assert.equal(ack.id, before.id, `retry of ${key} returns the stored report`);
          assert.equal(ack.duplicate, true);
        }
        assert.equal(ack.sha256, sha256Hex(raw));
      }
    }
    const db2 = openDatabase(testConfig({ dataDir }).database);
    try {
      const rows = await db2.selectFrom('reports').select('dedup_key').execute();
      const keys = rows.map((r) => r.dedup_key ?? '');
      assert.equal(new Set(keys).size, keys.length, 'no key stored twice');
      assert.equal(rows.length, sent.size, 'exactly one report per client submission');
    } finally {
      await db2.destroy();
    }
  } finally {
    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.stderr());
  }
});

test('SIGTERM while a slow upload is in flight: the upload gets its 202 and the process exits 0', {
  timeout: 120_000,
}, async (t) => {
  const dataDir = tempDir(t);
  const server = await startServer(t, dataDir);
  const raw = sampleEmail('slow', { body: 'slowly '.repeat(2000) });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      `${server.url}/api/v1/reports`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'message/rfc822', 'content-length': String(raw.length) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    // First half now, SIGTERM, the rest a while later.
    req.write(raw.subarray(0, 1000));
    setTimeout(() => {
      server.proc.kill('SIGTERM');
      setTimeout(() => {
        req.write(raw.subarray(1000, 5000));
        setTimeout(() => req.end(raw.subarray(5000)), 300);
      }, 500);
    }, 300);
  });
  const r = await response;
  assert.equal(r.status, 202, r.body);
  const [ack] = (JSON.parse(r.body) as { reports: Ack[] }).reports;
  assert.equal(ack.sha256, sha256Hex(raw));
  assert.equal(await server.exited, 0, server.stderr());
  const db = openDatabase(testConfig({ dataDir }).database);
  try {
    assert.ok((await getMessageRaw(db, ack.sha256))?.equals(raw), 'committed before the process exited');
  } finally {
    await db.destroy();
  }
});

test('spamdesk import beside a running server on the same SQLite file: every message is stored once, nothing is ' +
  'locked out', {
  timeout: 300_000,
}, async (t) => {
  const dataDir = tempDir(t);
  const token = await reporterToken(dataDir);
  // The server does its background work meanwhile (analysis, campaigns, actions, indexing), so
  // both processes write to the file all the time.
  const server = await startServer(t, dataDir, ['--workers', '1', '--dns-mode', 'offline']);
  const folder = path.join(dataDir, 'archive');
  fs.mkdirSync(folder);
  const imported: Buffer[] = [];
  for (let i = 0; i < 1500; i++) {
    const raw = sampleEmail(`archive-${i}`, {
      body: `Old offer number ${i}: ${'cheap watches and pills '.repeat(1 + (i % 40))}`,
    });
    imported.push(raw);
    fs.writeFileSync(path.join(folder, `${i}.eml`), raw);
  }
  const importer = spawn(process.execPath, [...CLI, 'import', '--data-dir', dataDir, folder], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let importOut = '';
  importer.stdout?.on('data', (d: Buffer) => (importOut += d.toString()));
  importer.stderr?.on('data', (d: Buffer) => (importOut += d.toString()));
  const importDone = new Promise<number | null>((resolve) => importer.on('exit', (code) => resolve(code)));
  // Reports keep arriving over HTTP while the import runs.
  const posted: string[] = [];
  let importing = true;
  void importDone.then(() => (importing = false));
  for (let i = 0; importing || i < 40; i++) {
    const r = await post(server.url, sampleEmail(`live-${i}`), { authorization: `Bearer ${token}` });
    assert.equal(r.status, 202, r.body);
    posted.push((JSON.parse(r.body) as { reports: Ack[] }).reports[0].sha256);
    if (i > 2000) break;
  }
  assert.equal(await importDone, 0, importOut);
  assert.match(importOut, /imported 1500 new historical report\(s\), 0 already present/);
  assert.doesNotMatch(importOut + server.stderr(), /database is locked|SQLITE_BUSY/);
  server.proc.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.stderr());
  const db = openDatabase(testConfig({ dataDir }).database);
  try {
    const rows = await db.selectFrom('reports').select(['message_sha256', 'channel']).execute();
    assert.equal(rows.filter((r) => r.channel === 'import').length, 1500);
    assert.equal(rows.length, 1500 + posted.length, 'every message once, nothing lost');
    assert.equal(new Set(rows.map((r) => r.message_sha256)).size, rows.length, 'no message stored twice');
    for (const i of [0, 777, 1499]) assert.ok((await getMessageRaw(db, sha256Hex(imported[i])))?.equals(imported[i]));
  } finally {
    await db.destroy();
  }
});

test("serve builds the intel collections on its main thread below the campaign threshold, in their own thread from it: \
reports' origins reach TAXII either way", {
  timeout: 240_000,
}, async (t) => {
  const dataDir = tempDir(t);
  const reporter = await reporterToken(dataDir);
  const db = openDatabase(testConfig({ dataDir }).database);
  const analyst = (await createToken(db, { role: 'analyst', name: 'taxii' })).secret;
  await db.destroy();
  const server = await startServer(t, dataDir, [
    '--workers',
    '1',
    '--dns-mode',
    'offline',
    '--intel-build-interval-ms',
    '500',
    // One campaign is built on the calling thread, two in the build thread.
    '--intel-build-thread-from',
    '2',
    '--log-level',
    'info',
  ]);
  const published = async (origin: string): Promise<unknown[]> => {
    const pattern = `[ipv4-addr:value = '${origin}']`;
    let patterns: unknown[] = [];
    for (let i = 0; i < 240 && !patterns.includes(pattern); i++) {
      await new Promise((r) => setTimeout(r, 500));
      const res = await fetch(
        `${server.url}/taxii2/spamdesk/collections/${DEFAULT_COLLECTION_ID}/objects/?match[type]=indicator`,
        { headers: { authorization: `Bearer ${analyst}`, accept: 'application/taxii+json;version=2.1' } },
      );
      assert.equal(res.status, 200);
      const body = (await res.json()) as { objects?: { pattern?: string }[] };
      patterns = (body.objects ?? []).map((o) => o.pattern);
    }
    assert.ok(patterns.includes(pattern), `${pattern} in TAXII; got ${JSON.stringify(patterns)}\n${server.stderr()}`);
    return patterns;
  };
  const report = async (template: 'bank' | 'parcel', origin: string, from: number) => {
    for (const n of [from, from + 1, from + 2]) {
      const res = await post(server.url, phish({ n, ip: origin, template, to: `victim${n}@mail-users.org` }), {
        authorization: `Bearer ${reporter}`,
      });
      assert.equal(res.status, 202, res.body);
    }
  };
  const threadStarted = /"msg":"intel build thread started"/;
  // One campaign: built on the background process's main thread.
  await report('bank', '45.77.10.30', 1);
  await published('45.77.10.30');
  assert.doesNotMatch(server.stdout(), threadStarted);
  // A second campaign reaches the threshold: built in the build thread. (A build counting while the second
  // campaign is being formed may still run on the main thread; the next, as its facts land, does not.)
  await report('parcel', '45.77.10.31', 4);
  await published('45.77.10.31');
  for (let i = 0; i < 240 && !threadStarted.test(server.stdout()); i++) await new Promise((r) => setTimeout(r, 250));
  assert.match(server.stdout(), threadStarted);
  server.proc.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.stderr());
});
