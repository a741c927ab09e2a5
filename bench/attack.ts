/**
 * Hostile input against a real `spamdesk serve` (SQLite, synchronous=FULL, analysis workers as
 * configured, SMTP on): the attack of src/web/attack.ts at real sizes — mutated corpus messages
 * plus a 10 MB message with CR-only line ends and one padded with 300,000 short lines — to every
 * intake route, 8 at a time, while a probe client (a thread of its own, attack-probe.ts) asks for
 * /healthz one request after another.
 * Prints the attack's throughput, the probe's latency percentiles (goal: p99 < 500 ms), the
 * server's peak RSS, and its RSS after 30 s of quiet against RSS_BOUND_MB.
 *
 *   npm run bench -- attack
 *   SPAMDESK_BENCH_ATTACK_MESSAGES=8 SPAMDESK_BENCH_ATTACK_CONCURRENCY=16 npm run bench -- attack
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, mb, percentile } from './lib.ts';
import { processTree, procStatusBytes, startBenchServer, treeStatusBytes } from './server.ts';
import { startProbeThread } from './attack-probe.ts';
import { testConfig } from '../src/core/config.ts';
import { openDatabase } from '../src/db/dialect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createToken } from '../src/db/tokens.ts';
import { newId, nowIso } from '../src/core/ids.ts';
import {
  corpusSample,
  intakeRoutes,
  isServerFailure,
  mutate,
  runAttack,
  type MutationSizes,
  type Payload,
} from '../src/web/attack.ts';

/** What the server's RSS must come back under once the attack has been over for 30 s. */
export const RSS_BOUND_MB = 512;
const QUIET_MS = 30_000;

/** `pid: RssAnon …, RssFile …, threads N` from /proc (empty fields when the process is gone). */
function memoryBreakdown(pid: number): string {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? '?';
    const kb = (name: string) => `${(Number(field(name)) / 1024).toFixed(1)} MB`;
    const parts = `anonymous ${kb('RssAnon')}, file ${kb('RssFile')}`;
    return `process ${pid}: RSS ${kb('VmRSS')} (${parts}), threads ${field('Threads')}`;
  } catch {
    return `process ${pid}: gone`;
  }
}

const BENCH_SIZES: MutationSizes = {
  hugeHeaderBytes: 1024 * 1024,
  mimeDepth: 2000,
  longLineBytes: 8 * 1024 * 1024,
  base64GarbageBytes: 4 * 1024 * 1024,
};

/** How long the bench waits, after the 30 s, for the background child to finish the attack's jobs. */
const BACKLOG_MAX_MS = 600_000;
/** Once they are done: the analysis pool ends a thread idle 10 s (src/analysis/pool.ts). */
const BACKLOG_SETTLE_MS = 15_000;

/** Waits until no job is queued or running (or `maxMs` passed): how long it took and how many are left. */
async function waitForBacklog(dataDir: string, maxMs: number): Promise<{ ms: number; left: number }> {
  const db = openDatabase(testConfig({ dataDir }).database);
  const started = performance.now();
  try {
    for (;;) {
      const row = await db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', 'in', ['queued', 'running'])
        .where('run_at', '<=', nowIso())
        .executeTakeFirst();
      const left = Number(row?.n ?? 0);
      const ms = performance.now() - started;
      if (left === 0 || ms >= maxMs) return { ms, left };
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await db.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The two messages of the issue's probe: 10 MB with CR-only line ends, and 300,000 short lines after a phish. */
function heavyPayloads(spam: Buffer): Payload[] {
  const crOnly = Buffer.from(
    `${spam.toString('latin1')}\r${'pad line of text\r'.repeat(Math.ceil((10 * 1024 * 1024) / 17))}`.replace(
      /\r?\n/g,
      '\r',
    ),
    'latin1',
  );
  const padded = Buffer.concat([spam, Buffer.from('a\r\n'.repeat(300_000), 'latin1')]);
  return [
    { name: 'cr-only-10mb', bytes: crOnly },
    { name: 'padded-300k-lines', bytes: padded },
  ];
}

export const attackBench: Bench = {
  name: 'attack',
  description: 'mutated corpus messages to every intake route of a real server while a probe asks for /healthz',
  async run() {
    if (!corpusAvailable()) {
      process.stdout.write(`SKIP attack bench: corpus not found at ${CORPUS_DIR}\n`);
      return;
    }
    const nMessages = Number(process.env.SPAMDESK_BENCH_ATTACK_MESSAGES ?? 4);
    const concurrency = Number(process.env.SPAMDESK_BENCH_ATTACK_CONCURRENCY ?? 8);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-attack-'));
    const db = openDatabase(testConfig({ dataDir }).database);
    await migrateToLatest(db);
    const userId = newId();
    await db
      .insertInto('users')
      .values({
        id: userId,
        email: 'attacker@example.org',
        name: null,
        role: 'reporter',
        password_hash: null,
        created_at: nowIso(),
        disabled_at: null,
      })
      .execute();
    const reporterToken = (await createToken(db, { role: 'reporter', userId })).secret;
    const lookupToken = (await createToken(db, { role: 'partner' })).secret;
    await db.destroy();

    const { spam, arf } = corpusSample(CORPUS_DIR, nMessages);
    const payloads: Payload[] = [
      ...heavyPayloads(spam[0]),
      ...[...spam, ...arf].flatMap((raw, i) =>
        mutate(raw, 1000 + i, BENCH_SIZES).map((p) => ({ ...p, name: `${i}:${p.name}` })),
      ),
    ];
    const payloadBytes = payloads.reduce((n, p) => n + p.bytes.length, 0);

    const smtpPort = await freePort();
    const server = await startBenchServer([
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--smtp-enabled',
      'true',
      '--smtp-port',
      String(smtpPort),
      '--sqlite-synchronous',
      'FULL',
      '--log-level',
      'warn',
      '--dns-mode',
      'offline',
      '--anon-rate-limit',
      '100000',
      '--smtp-rate-limit',
      '100000',
      '--smtp-max-connections-per-client',
      '100',
    ]);
    const { proc, url } = server;
    // The server's error log lines, to say why a request failed on its side.
    const errors = new Map<string, number>();
    let partial = '';
    proc.stdout?.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"level":50') && !line.includes('"level":60')) continue;
        try {
          const l = JSON.parse(line) as { msg?: string; err?: { message?: string } };
          const key = `${l.msg ?? ''}: ${l.err?.message ?? ''}`.slice(0, 200);
          errors.set(key, (errors.get(key) ?? 0) + 1);
        } catch {
          // Not a log line.
        }
      }
    });
    try {
      const pid = proc.pid ?? 0;
      const rssIdle = procStatusBytes(pid, 'VmRSS');
      const groupIdle = treeStatusBytes(pid, 'VmRSS');
      const routes = intakeRoutes({
        baseUrl: url,
        smtpPort,
        reporterToken,
        lookupToken,
        forwarderAddress: 'attacker@example.org',
      });
      // A baseline of the probe before the attack.
      const before = await startProbeThread(`${url}/healthz`);
      await new Promise((r) => setTimeout(r, 2000));
      const base = await before.stop();

      // The probe is another client: its own thread (attack-probe.ts). The attacker's event loop
      // delay is printed too, to show what a probe sharing it would have counted.
      const probe = await startProbeThread(`${url}/healthz`);
      const clientDelay = monitorEventLoopDelay({ resolution: 10 });
      clientDelay.enable();
      const started = performance.now();
      const outcomes = await runAttack(routes, payloads, concurrency);
      const seconds = (performance.now() - started) / 1000;
      clientDelay.disable();
      const seen = await probe.stop();
      const peak = procStatusBytes(pid, 'VmHWM');
      // Each process's own peak, summed: an upper bound of the group's peak (they need not peak together).
      const groupPeak = treeStatusBytes(pid, 'VmHWM');
      await new Promise((r) => setTimeout(r, QUIET_MS));
      const rssAfter = procStatusBytes(pid, 'VmRSS');
      const groupAfter = treeStatusBytes(pid, 'VmRSS');
      const groupSize = processTree(pid).length;
      // The child keeps analysing what the attack queued long after the 30 s: the group's RSS is
      // measured again once that backlog is done and the analysis threads had time to be recycled.
      const drained = await waitForBacklog(dataDir, BACKLOG_MAX_MS);
      await new Promise((r) => setTimeout(r, drained.left === 0 ? BACKLOG_SETTLE_MS : 0));
      const groupDone = treeStatusBytes(pid, 'VmRSS');
      const rssDone = procStatusBytes(pid, 'VmRSS');
      // Where each process's memory is: anonymous (heaps, malloc) or file-backed (code, SQLite's
      // mapped pages), and how many threads it runs (the analysis and mail threads each hold a heap).
      for (const p of processTree(pid)) process.stdout.write(`  ${memoryBreakdown(p)}\n`);
      const alive =
        proc.exitCode === null &&
        (await fetch(`${url}/healthz`)
          .then((r) => r.status)
          .catch(() => 0)) === 200;

      const byStatus = new Map<string, number>();
      for (const o of outcomes) {
        const key = `${o.route.startsWith('smtp') ? 'smtp' : 'http'} ${o.status}`;
        byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
      }
      const failures = outcomes.filter((o) => isServerFailure(o, o.route.startsWith('smtp')));
      const answered = outcomes.filter((o) => o.status !== 0).length;
      const lat = [...seen.latencies].sort((a, b) => a - b);
      const baseLat = [...base.latencies].sort((a, b) => a - b);
      process.stdout.write(
        `${[
          `attack: ${outcomes.length} requests (${payloads.length} payloads × ${Object.keys(routes).length} routes, \
${mb(payloadBytes)} of payloads per route) in ${seconds.toFixed(1)} s: ${(outcomes.length / seconds).toFixed(1)} \
requests/s, ${concurrency} in flight; ${answered} answered`,
          `outcomes (route kind, status × count): ${[...byStatus.entries()]
            .sort()
            .map(([k, n]) => `${k}×${n}`)
            .join(', ')}`,
          `server-side failures: ${failures.length}${
            failures.length > 0
              ? ` (${failures
                  .slice(0, 5)
                  .map((o) => `${o.route} ${o.payload} ${o.status} ${o.detail.slice(0, 160)}`)
                  .join('; ')})`
              : ''
          }`,
          `HTTP 422 (route, payload, reason): ${
            outcomes
              .filter((o) => o.status === 422 && !o.route.startsWith('smtp'))
              .map((o) => `${o.route} ${o.payload} ${o.detail.slice(0, 90)}`)
              .sort()
              .join(', ') || 'none'
          }`,
          `server errors logged: ${
            errors.size === 0
              ? 'none'
              : [...errors]
                  .slice(0, 5)
                  .map(([k, n]) => `${n}× ${k}`)
                  .join('; ')
          }`,
          `probe before: ${base.answered}/${base.sent} answered, p50 ${percentile(baseLat, 50).toFixed(1)} ms, p99 \
${percentile(baseLat, 99).toFixed(1)} ms`,
          `probe during: ${seen.answered}/${seen.sent} answered, p50 ${percentile(lat, 50).toFixed(1)} ms, p99 \
${percentile(lat, 99).toFixed(1)} ms (goal < 500 ms), max ${percentile(lat, 100).toFixed(0)} \
ms${seen.failures.length > 0 ? `; unanswered: ${seen.failures.slice(0, 3).join('; ')}` : ''}`,
          `attacking client's own event loop (not the probe's): delay p99 \
${(clientDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(clientDelay.max / 1e6).toFixed(0)} ms`,
          `server RSS: idle ${mb(rssIdle)}, peak ${mb(peak)}, ${QUIET_MS / 1000} s after the attack ${mb(rssAfter)} \
(bound ${RSS_BOUND_MB} MB: ${rssAfter <= RSS_BOUND_MB * 1024 * 1024 ? 'under' : 'OVER'}); alive after: ${alive}`,
          `server process group (${groupSize} processes: serve and its background child): RSS idle ${mb(groupIdle)}, \
sum of peaks ${mb(groupPeak)}, ${QUIET_MS / 1000} s after the attack ${mb(groupAfter)} (bound ${RSS_BOUND_MB} MB: \
${groupAfter <= RSS_BOUND_MB * 1024 * 1024 ? 'under' : 'OVER'})`,
          drained.left === 0
            ? `background backlog done ${(drained.ms / 1000).toFixed(0)} s after those 30 s; \
${BACKLOG_SETTLE_MS / 1000} s later: web process ${mb(rssDone)}, group ${mb(groupDone)} (bound ${RSS_BOUND_MB} MB: \
${groupDone <= RSS_BOUND_MB * 1024 * 1024 ? 'under' : 'OVER'})`
            : `background backlog not done after ${(drained.ms / 1000).toFixed(0)} s more (${drained.left} jobs left): \
web process ${mb(rssDone)}, group ${mb(groupDone)}`,
          `load average (1, 5, 15 min) at the end: ${os
            .loadavg()
            .map((l) => l.toFixed(2))
            .join(', ')}`,
        ].join('\n')}\n`,
      );
    } finally {
      proc.kill('SIGTERM');
      await new Promise((resolve) => proc.once('exit', resolve));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
