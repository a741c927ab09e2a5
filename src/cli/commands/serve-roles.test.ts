/**
 * `spamdesk serve --only …` as real processes: singletons held by one process at a time and taken
 * over when the holder is killed with SIGKILL (PostgreSQL advisory lock; SQLite lock file), and the
 * default all-roles serve supervising its background child (restarted when it dies, stopped with it).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../../core/test-env.ts';
import { createTestDatabase, DIALECTS } from '../../db/test-databases.ts';
import type { Config } from '../../core/config.ts';
import { childHeapArgs } from '../background-child.ts';
import { LOWERED_MSG, MAX_NICE, threadNiceValues } from '../lower-priority.ts';

const CLI = ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts')];

interface Proc {
  proc: ChildProcess;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  exited: Promise<void>;
  /** Resolves with the first line that matches (already seen or to come). */
  waitFor(match: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
}

function dbArgs(config: Config): string[] {
  return config.database.dialect === 'postgres'
    ? ['--database-url', config.database.url, '--data-dir', config.dataDir]
    : ['--data-dir', config.dataDir];
}

function serve(t: TestContext, args: string[]): Proc {
  const proc = spawn(process.execPath, [...CLI, 'serve', '--log-level', 'info', '--dns-mode', 'offline', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  readline.createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    let l: Record<string, unknown>;
    try {
      l = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(l);
    for (const w of [...waiters])
      if (w.match(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return {
    proc,
    lines,
    exited,
    waitFor(match, ms = 60_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no such line in ${ms} ms; stderr:\n${err}`)), ms);
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

const taken = (name: string, pid?: number) => (l: Record<string, unknown>) =>
  l.msg === 'singleton taken: this process runs it' && l.singleton === name && (pid === undefined || l.pid === pid);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const dialect of DIALECTS) {
  test(`${dialect}: two serve --only indexer,scheduler processes hold each singleton once; SIGKILL the holder and the \
other takes every one over within seconds`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    t.after(() => tdb.drop());
    const args = [
      ...dbArgs(tdb.config),
      '--only',
      'indexer,scheduler',
      '--workers',
      '1',
      '--web-index-interval-ms',
      '500',
    ];
    const a = serve(t, args);
    await a.waitFor((l) => l.msg === 'spamdesk ready');
    for (const name of ['web-indexer', 'isp-digests', 'retention']) await a.waitFor(taken(name));
    const b = serve(t, args);
    const ready = await b.waitFor((l) => l.msg === 'spamdesk ready');
    assert.equal(ready.url, null, 'no http role, no URL');
    assert.deepEqual(ready.roles, ['indexer', 'scheduler']);
    // b asks every second; give it a few rounds to show it does not take a held lock.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(b.lines.filter((l) => l.msg === 'singleton taken: this process runs it').length, 0);
    const killedAt = Date.now();
    a.proc.kill('SIGKILL');
    await a.exited;
    for (const name of ['web-indexer', 'isp-digests', 'retention']) await b.waitFor(taken(name), 15_000);
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < 15_000, `took over in ${tookMs} ms`);
    b.proc.kill('SIGTERM');
    await b.exited;
    assert.equal(b.proc.exitCode, 0);
  });
}

test('sqlite: serve with every role supervises a background child: its roles, its restart after SIGKILL, and its \
stop with the parent', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  t.after(() => tdb.drop());
  const parent = serve(t, [...dbArgs(tdb.config), '--http-port', '0', '--smtp-enabled', 'false', '--workers', '1']);
  const ready = await parent.waitFor((l) => l.msg === 'spamdesk ready');
  assert.deepEqual(ready.roles, ['http', 'smtp']);
  const first = Number(ready.backgroundPid);
  assert.ok(first > 0 && alive(first));
  t.after(() => {
    if (alive(first)) process.kill(first, 'SIGKILL');
  });
  // glibc arenas bounded in the child (background-child.ts), unless the operator chose.
  const environ = fs.readFileSync(`/proc/${first}/environ`, 'utf8').split('\0');
  assert.ok(environ.includes(`MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX || '2'}`));
  // And a V8 heap limit (SPAMDESK_BACKGROUND_HEAP_MB, 1536 MiB by default) unless NODE_OPTIONS sets one or the
  // machine's default is lower.
  const cmdline = fs.readFileSync(`/proc/${first}/cmdline`, 'utf8').split('\0');
  const expected = childHeapArgs([], { mb: 1536, env: process.env });
  for (const a of expected) assert.ok(cmdline.includes(a), `${a} in the child's command line: ${cmdline.join(' ')}`);
  if (expected.length === 0) assert.ok(!cmdline.some((a) => a.startsWith('--max-old-space-size')));
  // The child says what limit it got (V8's heap_size_limit adds the young generation to the old one's).
  const limit = await parent.waitFor((l) => l.msg === 'background process heap limit' && l.pid === first);
  if (expected.length > 0) {
    const mb = Number(limit.heapLimitMb);
    assert.ok(mb >= 1536 && mb < 1536 + 128, `the child's heap limit ${mb} MiB`);
  }
  // The child yields the CPU to the web process (SPAMDESK_BACKGROUND_NICE, 10 by default): every thread of it,
  // those it started after its first line included; the web process keeps its own priority.
  const lowered = await parent.waitFor((l) => l.pid === first && l.msg === LOWERED_MSG);
  const base = os.getPriority(Number(ready.pid));
  assert.equal(lowered.nice, Math.min(MAX_NICE, base + 10));
  // The child's log lines come out of the parent's stdout.
  await parent.waitFor((l) => l.pid === first && taken('web-indexer')(l));
  assert.deepEqual(new Set(threadNiceValues(first)), new Set([lowered.nice]));
  assert.deepEqual(new Set(threadNiceValues(Number(ready.pid))), new Set([base]));
  const res = await fetch(`${String(ready.url)}/healthz`);
  assert.equal(res.status, 200);

  process.kill(first, 'SIGKILL');
  const started = await parent.waitFor(
    (l) => l.msg === 'background process started' && l.child !== first && typeof l.child === 'number',
    20_000,
  );
  const second = Number(started.child);
  t.after(() => {
    if (alive(second)) process.kill(second, 'SIGKILL');
  });
  assert.ok(parent.lines.some((l) => l.msg === 'background process died; restarting it'));
  // The restarted child has the same command line, heap limit included.
  assert.deepEqual(fs.readFileSync(`/proc/${second}/cmdline`, 'utf8').split('\0'), cmdline);
  await parent.waitFor((l) => l.pid === second && taken('web-indexer')(l), 30_000);
  assert.deepEqual(new Set(threadNiceValues(second)), new Set([lowered.nice]), 'the restarted child yields too');

  parent.proc.kill('SIGTERM');
  await parent.exited;
  assert.equal(parent.proc.exitCode, 0);
  for (let i = 0; i < 100 && alive(second); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(second), false, 'the child stopped with its parent');
});

test("sqlite: serve's /metrics serves the background child's series (the analyses it timed), labelled by process; a \
stopped child leaves them out and its up gauge at 0 without stalling the scrape", async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  t.after(() => tdb.drop());
  const parent = serve(t, [...dbArgs(tdb.config), '--http-port', '0', '--smtp-enabled', 'false', '--workers', '1']);
  const ready = await parent.waitFor((l) => l.msg === 'spamdesk ready');
  const url = String(ready.url);
  const childPid = Number(ready.backgroundPid);
  t.after(() => {
    if (alive(childPid)) {
      process.kill(childPid, 'SIGCONT');
      process.kill(childPid, 'SIGKILL');
    }
  });
  const raw = Buffer.from(
    'From: Prize Desk <win@prize.example>\r\nTo: you@example.org\r\nSubject: You won\r\n' +
      'Message-ID: <m1@prize.example>\r\nDate: Fri, 4 Dec 2026 10:00:00 +0000\r\n\r\n' +
      'Claim at https://prize.example/claim\r\n',
  );
  const posted = await fetch(`${url}/api/v1/reports`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822' },
    body: raw,
  });
  assert.equal(posted.status, 202);
  // The analysis runs, and is timed, in the child: its histogram reaches the parent's /metrics.
  const scrape = async (): Promise<string> =>
    (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
  let text = '';
  for (let i = 0; i < 120 && !/spamdesk_analysis_duration_seconds_count\{process="background"/.test(text); i++) {
    await new Promise((r) => setTimeout(r, 250));
    text = await scrape();
  }
  assert.match(text, /^spamdesk_analysis_duration_seconds_count\{process="background",outcome="ok"\} 1$/m);
  assert.match(text, /^spamdesk_reports_received_total\{process="web",channel="api"\} 1$/m);
  assert.match(text, /^spamdesk_process_metrics_up\{process="background"\} 1$/m);
  assert.match(text, /^spamdesk_process_resident_memory_bytes\{process="background"\} \d+$/m);
  // Scrapes at once share one request to the child, and each gets the child's series.
  for (const t of await Promise.all(Array.from({ length: 20 }, scrape)))
    assert.match(t, /^spamdesk_analysis_duration_seconds_count\{process="background",outcome="ok"\} 1$/m);

  // A child that cannot answer (stopped): the scrape goes on without its series.
  process.kill(childPid, 'SIGSTOP');
  text = await scrape();
  process.kill(childPid, 'SIGCONT');
  assert.match(text, /^spamdesk_process_metrics_up\{process="background"\} 0$/m);
  assert.match(text, /^spamdesk_reports_received_total\{process="web",channel="api"\} 1$/m);
  assert.doesNotMatch(text, /process="background",outcome=/);
  // Answering again afterwards.
  assert.match(await scrape(), /^spamdesk_process_metrics_up\{process="background"\} 1$/m);

  parent.proc.kill('SIGTERM');
  await parent.exited;
  assert.equal(parent.proc.exitCode, 0);
});
