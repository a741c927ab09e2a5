/**
 * Three Spamdesk nodes, each a `spamdesk serve` (every role) in its own network namespace — its own
 * machine, as far as the network goes — on one real PostgreSQL. HTTP clients (fetch, with an
 * Idempotency-Key) and SMTP clients (nodemailer, and swaks where installed) outside the nodes stream
 * real corpus reports to all three; mid-stream one node is SIGKILLed (every process in its
 * namespace: the machine dies) and started again. A client whose node does not answer tries the next
 * one, as behind a balancer or a second MX. Then every report stored — every acknowledged (202/250)
 * one among them — has been processed exactly once: one analysis per message, one campaign
 * membership, one actions pass, counted once in the statistics; every outbox entry (referrals of
 * the phishing cases) reached the relay (a real SMTP sink); no node logged `deadlock detected` and
 * PostgreSQL counted no deadlock. The topology it stands for: docs/operations.md ("The multi-host
 * test").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import pg from 'pg';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { CORPUS_DIR, REPO_ROOT, hasCommand, needs, needsCorpus } from '../core/test-env.ts';
import { createTestDatabase } from '../db/test-databases.ts';
import { createToken } from '../db/tokens.ts';
import { createAuthority } from '../actions/cases/authorities.ts';
import { startSmtpSink } from '../actions/test-sinks.ts';
import { STAGE_CLASSIFIED } from '../web/indexer.ts';
import { createLab, labUnavailable, type Lab, type LabNode } from './test-netns.ts';

const run = promisify(execFile);
/**
 * The installed command, as an operator runs it: the compiled `dist/` (`npm ci` builds it; when it is
 * older than `src/`, `bin/spamdesk.js` runs the TypeScript through tsx instead and says so).
 */
const CLI = [path.join(REPO_ROOT, 'bin/spamdesk.js')];
/**
 * Starts on the shared 2-core development machine under loads of 25–50: 31 s for one node alone,
 * 106 s for three at once, a restart over 240 s once (load 52).
 */
const READY_MS = 360_000;
/** Distinct corpus messages streamed; a fifth of them are reported a second time by another reporter. */
const MESSAGES = 75;
const CLIENTS = 6;
/** The node is killed once this share of the stream has been acknowledged. */
const KILL_AT = 0.4;
const LEASE_SECONDS = 5;
/**
 * The outbox does not renew its lease while it sends, so a lease shorter than one delivery on a
 * loaded machine sends a mail twice (same Message-ID); 10 s keeps that rare and the take-over quick.
 */
const OUTBOX_LEASE_SECONDS = 10;
/** Longest wait for the pipeline to drain after the stream (it measured 30–60 s on a loaded 2-core machine). */
const DRAIN_MS = 300_000;
const PIPELINE_JOBS = ['analyse-report', 'campaign-report', 'actions-report', 'actions-refer', 'actions-refer-update'];

interface Item {
  /** Corpus file (swaks attaches it from there). */
  file: string;
  raw: Buffer;
  channel: 'http' | 'smtp' | 'swaks';
  reporter: string;
}

/** Every `step`-th file of a labelled corpus folder (its labels.csv order), up to `n`. */
function pick(dir: string, n: number, filter: (p: string) => boolean = () => true): string[] {
  const lines = fs
    .readFileSync(path.join(CORPUS_DIR, dir, 'labels.csv'), 'utf8')
    .split(/\r?\n/)
    .slice(1);
  const files = lines
    .map((l) => (l.startsWith('"') ? l.slice(1, l.indexOf('"', 1)) : l.split(',')[0]))
    .filter((p) => p.length > 0 && filter(p))
    .map((p) => path.join(CORPUS_DIR, dir, p))
    .filter((p) => fs.existsSync(p) && fs.statSync(p).size < 2_000_000);
  const step = Math.max(1, Math.floor(files.length / n));
  return files.filter((_, i) => i % step === 0).slice(0, n);
}

/** A fixed mix of the corpora, interleaved as a real stream: phishing, recent spam, classic spam and ham. */
function sample(swaks: boolean): Item[] {
  const sources = [
    pick('phishing_pot', Math.round(MESSAGES * 0.3)),
    pick('spam_archive_2023_2025', Math.round(MESSAGES * 0.2), (p) => !p.startsWith('Oddballs')),
    pick('spamassassin', Math.round(MESSAGES * 0.25)),
    pick('trec07p', MESSAGES - Math.round(MESSAGES * 0.3) - Math.round(MESSAGES * 0.2) - Math.round(MESSAGES * 0.25)),
  ];
  const files: string[] = [];
  for (let i = 0; files.length < sources.reduce((n, s) => n + s.length, 0); i++)
    for (const s of sources) if (i < s.length) files.push(s[i]);
  // A fifth reported again, later in the stream, by a second reporter: two nodes may hold one message.
  const again = files.filter((_, i) => i % 5 === 2);
  const stream = [...files];
  for (const [k, f] of again.entries()) stream.splice(Math.min(stream.length, 2 * k + 20), 0, f);
  return stream.map((file, i) => {
    const channel = i % 3 !== 0 ? 'http' : swaks && i % 6 === 3 ? 'swaks' : 'smtp';
    return { file, raw: fs.readFileSync(file), channel, reporter: `reporter${i}@reporters.example` };
  });
}

interface Node {
  lab: LabNode;
  name: string;
  proc: ChildProcess | null;
  /** Every log line of every run of this node. */
  log: string[];
  lines: Record<string, unknown>[];
  up: boolean;
  runs: number;
}

function startNode(lab: Lab, node: Node, args: string[], logDir: string): Promise<void> {
  node.runs++;
  const file = fs.createWriteStream(path.join(logDir, `${node.name}-run${node.runs}.log`));
  const proc = lab.spawnIn(node.lab, process.execPath, [...CLI, 'serve', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'test' },
  });
  node.proc = proc;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${node.name} not ready in ${READY_MS} ms:\n${node.log.slice(-30).join('\n')}`)),
      READY_MS,
    );
    for (const stream of [proc.stdout, proc.stderr]) {
      readline.createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (text) => {
        node.log.push(text);
        file.write(`${text}\n`);
        if (!text.startsWith('{')) return;
        try {
          const l = JSON.parse(text) as Record<string, unknown>;
          node.lines.push(l);
          if (l.msg === 'spamdesk ready') {
            node.up = true;
            clearTimeout(timer);
            resolve();
          }
        } catch {
          // Not a log line.
        }
      });
    }
    proc.once('exit', (code, signal) => {
      node.up = false;
      file.end();
      clearTimeout(timer);
      reject(new Error(`${node.name} exited (${code ?? signal}) before ready:\n${node.log.slice(-30).join('\n')}`));
    });
  });
}

/** Sends one report to one node; resolves with the stored report ids, or throws (not acknowledged). */
async function send(item: Item, node: LabNode, token: string, key: string): Promise<string[]> {
  if (item.channel === 'http') {
    const res = await fetch(`http://${node.ip}:8080/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${token}`, 'idempotency-key': key },
      body: new Uint8Array(item.raw),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { reports?: { id: string }[]; error?: unknown };
    if (res.status !== 202) throw Object.assign(new Error(`HTTP ${res.status} ${JSON.stringify(body)}`), { res });
    return (body.reports ?? []).map((r) => r.id);
  }
  if (item.channel === 'swaks') {
    const out = await run(
      'swaks',
      [
        ['--server', `${node.ip}:2525`],
        ['--timeout', '30'],
        ['--from', item.reporter],
        ['--to', 'spam@report.test'],
        ['--header', 'Subject: Fwd: spam'],
        ['--body', 'Reported from the multi-host test.'],
        ['--attach-type', 'message/rfc822'],
        ['--attach', `@${item.file}`],
      ].flat(),
    ).catch((e: { stdout?: string; message: string }) => {
      throw new Error(`swaks: ${(e.stdout ?? '').split('\n').slice(-4).join(' ') || e.message}`);
    });
    const m = /<- {2}250 .*Stored \d+ reports?: ([^\r\n]*)/.exec(out.stdout);
    if (!m) throw new Error(`swaks: no 250: ${out.stdout.split('\n').slice(-4).join(' ')}`);
    return m[1].trim().split(/\s+/);
  }
  const tr = nodemailer.createTransport({
    host: node.ip,
    port: 2525,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 10_000,
    socketTimeout: 30_000,
  });
  try {
    const info = await tr.sendMail({
      from: item.reporter,
      to: 'spam@report.test',
      subject: 'Fwd: spam',
      text: 'Reported from the multi-host test.',
      attachments: [{ contentType: 'message/rfc822', filename: 'spam.eml', content: item.raw }],
    });
    const m = /^250 .*Stored \d+ reports?: (.*)$/.exec(info.response);
    if (!m) throw new Error(`SMTP: ${info.response}`);
    return m[1].trim().split(/\s+/);
  } finally {
    tr.close();
  }
}

async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | null>,
  progress: () => Promise<string>,
): Promise<T> {
  const end = Date.now() + ms;
  let lastSaid = Date.now();
  for (;;) {
    const got = await probe();
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; ${await progress()}`);
    if (Date.now() - lastSaid > 15_000) {
      lastSaid = Date.now();
      process.stderr.write(`multi-host test, waiting for ${what}: ${await progress()}\n`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('three nodes in their own network namespaces on one PostgreSQL, one SIGKILLed mid-stream and restarted: \
every acknowledged report is processed exactly once, every outbox entry delivered, no deadlock', async (t) => {
  const missing = labUnavailable();
  if (!needs(t, missing ?? 'network namespaces', missing === null, 'run as root with iproute2 and socat')) return;
  if (!needsCorpus(t, 'phishing_pot') || !needsCorpus(t, 'spamassassin') || !needsCorpus(t, 'trec07p')) return;
  if (!needsCorpus(t, 'spam_archive_2023_2025')) return;
  const tdb = await createTestDatabase(t, 'postgres');
  if (!tdb) return;
  // Torn down in reverse: the nodes die before their database is dropped (a node that sees its
  // database dropped under it only logs errors until it is killed).
  const cleanups: (() => Promise<void>)[] = [() => tdb.drop()];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => t.diagnostic(`cleanup: ${String(e)}`));
  });
  const dbUrl = tdb.config.database.dialect === 'postgres' ? tdb.config.database.url : '';
  const swaks = hasCommand('swaks');
  if (!swaks)
    process.stderr.write('\n*** multi-host test: swaks not installed; its share goes through nodemailer ***\n');

  const lab = await createLab(3);
  cleanups.push(() => lab.close());
  const sink = await startSmtpSink();
  cleanups.push(() => sink.close());
  const pgUrl = new URL(dbUrl);
  const pgPort = await lab.forward({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  const sinkPort = await lab.forward({ host: '127.0.0.1', port: Number(new URL(sink.url).port) });
  const nodeDbUrl = new URL(pgUrl);
  nodeDbUrl.hostname = lab.hostIp;
  nodeDbUrl.port = String(pgPort);

  // Phishing campaigns open cases at once (default rules) and are referred at once to this
  // authority: the outbox entries whose delivery is checked.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-multihost-'));
  const policy = path.join(work, 'policy.json');
  fs.writeFileSync(policy, JSON.stringify({ cases: { referDelayMinutes: 0 } }));
  await createAuthority(tdb.db, {
    name: 'Cybercrime unit',
    country: 'FR',
    competence: 'cybercrime',
    contactKind: 'email',
    contact: 'referrals@cyber-police.example',
  });
  const token = (await createToken(tdb.db, { role: 'reporter', name: 'multihost' })).secret;
  const deadlocksBefore = await pgDeadlocks(dbUrl);

  const nodes: Node[] = lab.nodes.map((l, i) => ({
    lab: l,
    name: `node${i + 1}`,
    proc: null,
    log: [],
    lines: [],
    up: false,
    runs: 0,
  }));
  const argsOf = (n: Node) => [
    ...['--database-url', nodeDbUrl.toString(), '--data-dir', path.join(work, n.name)],
    ...['--log-level', 'info', '--dns-mode', 'offline', '--background-process', 'false', '--workers', '1'],
    ...['--http-host', n.lab.ip, '--http-port', '8080', '--public-url', `http://${n.lab.ip}:8080`],
    ...['--smtp-host', n.lab.ip, '--smtp-port', '2525', '--smtp-server-name', `mx.${n.name}.test`],
    ...['--smtp-rate-limit', '100000', '--smtp-max-connections-per-client', '100'],
    ...['--job-lease-seconds', String(LEASE_SECONDS), '--outbox-lease-seconds', String(OUTBOX_LEASE_SECONDS)],
    ...['--outbox-smtp-url', `smtp://${lab.hostIp}:${sinkPort}`, '--outbox-from', 'desk@spamdesk.example'],
    ...['--actions-policy', policy, '--web-index-interval-ms', '500'],
    ...['--instance-key-secret', 'multihost-test-shared-secret-0123456789'],
  ];
  t.diagnostic(`logs in ${work}; PostgreSQL through ${lab.hostIp}:${pgPort}`);
  const booting = Date.now();
  await Promise.all(nodes.map((n) => startNode(lab, n, argsOf(n), work)));
  t.diagnostic(`three nodes ready in ${Date.now() - booting} ms`);

  // ---- the stream -------------------------------------------------------------------------------
  const items = sample(swaks);
  const acked = new Map<number, string[]>();
  const refused: string[] = [];
  let retries = 0;
  const latency: Record<Item['channel'], number[]> = { http: [], smtp: [], swaks: [] };
  let next = 0;
  let killed: Node | null = null;
  let ackedAtKill = 0;
  let restarted: Promise<void> | null = null;
  const started = Date.now();

  const killOne = async () => {
    // The node running the web indexer: its singleton moves, its jobs and claims are abandoned.
    const holder = nodes.find((n) =>
      n.lines.some((l) => l.msg === 'singleton taken: this process runs it' && l.singleton === 'web-indexer'),
    );
    const victim = holder ?? nodes[0];
    killed = victim;
    ackedAtKill = acked.size;
    victim.up = false;
    const n = await lab.killNode(victim.lab);
    t.diagnostic(`SIGKILLed ${victim.name} (${n} processes) after ${acked.size} acknowledged`);
    await new Promise((r) => setTimeout(r, 1500));
    const rebooting = Date.now();
    restarted = startNode(lab, victim, argsOf(victim), work);
    await restarted;
    t.diagnostic(`${victim.name} ready again in ${Date.now() - rebooting} ms, after ${acked.size} acknowledged`);
  };

  let killing: Promise<void> | null = null;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < items.length; i = next++) {
        const item = items[i];
        const key = `multihost-${i}`;
        for (let attempt = 0; ; attempt++) {
          const node = nodes[(i + attempt) % nodes.length];
          try {
            const sentAt = Date.now();
            acked.set(i, await send(item, node.lab, token, key));
            latency[item.channel].push(Date.now() - sentAt);
            break;
          } catch (e) {
            const res = (e as { res?: Response }).res;
            if (res && res.status >= 400 && res.status < 500 && res.status !== 429) {
              refused.push(`${item.file}: ${(e as Error).message}`);
              break;
            }
            if (attempt >= 3 * nodes.length) throw new Error(`report ${i} never acknowledged: ${String(e)}`);
            retries++;
            await new Promise((r) => setTimeout(r, 300));
          }
        }
        if (!killing && acked.size >= Math.floor(items.length * KILL_AT)) killing = killOne();
      }
    }),
  );
  await killing;
  await restarted;
  const streamMs = Date.now() - started;
  const ackedIds = new Set([...acked.values()].flat());
  t.diagnostic(
    `${items.length} sends, ${acked.size} acknowledged (${ackedIds.size} reports), ${refused.length} refused, ` +
      `${retries} retried on another node, in ${streamMs} ms; acknowledged in (p50/max ms) ` +
      Object.entries(latency)
        .filter(([, v]) => v.length > 0)
        .map(([k, v]) => {
          const sorted = [...v].sort((a, b) => a - b);
          return `${k} ${sorted[Math.floor(sorted.length / 2)]}/${sorted[sorted.length - 1]}`;
        })
        .join(', '),
  );
  assert.ok(killed, 'a node was killed mid-stream');
  assert.ok(ackedAtKill < items.length, 'the kill came before the stream ended');
  assert.ok(refused.length <= items.length * 0.05, `few corpus messages refused: ${refused.join('; ')}`);

  // ---- the pipeline drains ------------------------------------------------------------------------
  const db = tdb.db;
  await waitFor(
    'every job done and every report indexed and every outbox entry sent',
    DRAIN_MS,
    async () => {
      // Due work only: an updated referral is queued for when the authority may get one again
      // (`referUpdateIntervalHours`, a day later), which is not work left now.
      const now = new Date().toISOString();
      const jobs = await db.selectFrom('jobs').select(['state', 'run_at']).where('kind', 'in', PIPELINE_JOBS).execute();
      if (jobs.some((j) => j.state === 'running' || (j.state === 'queued' && j.run_at <= now))) return null;
      const [r, idx, facts, box] = await Promise.all([
        db
          .selectFrom('reports')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('web_report_index')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('stage', '>=', STAGE_CLASSIFIED)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('action_report_facts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('action_outbox')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('state', 'in', ['queued', 'sending'])
          .executeTakeFirstOrThrow(),
      ]);
      const n = Number(r.n);
      return Number(idx.n) === n && Number(facts.n) === n && Number(box.n) === 0 ? n : null;
    },
    () => pipelineState(db),
  );
  const drainedMs = Date.now() - started;

  // ---- exactly once ------------------------------------------------------------------------------
  const reports = await db.selectFrom('reports').select(['id', 'message_sha256']).execute();
  const reportIds = new Set(reports.map((r) => r.id));
  for (const id of ackedIds) assert.ok(reportIds.has(id), `acknowledged report ${id} is stored`);
  const messages = new Set(reports.map((r) => r.message_sha256));

  const dead = await db.selectFrom('jobs').select(['kind', 'last_error']).where('state', '=', 'dead').execute();
  assert.deepEqual(dead, [], 'no job given up');
  const parked = await db.selectFrom('dead_letters').select(['source', 'reason']).execute();
  assert.deepEqual(
    parked.filter((p) => p.source.startsWith('job:')),
    [],
    'no job parked',
  );

  const analyses = (await db.selectFrom('analyses').select('message_sha256').execute()).map((r) => r.message_sha256);
  assert.equal(analyses.length, messages.size, 'one analysis per message');
  assert.deepEqual(new Set(analyses), messages);

  const members = (await db.selectFrom('campaign_messages').select('sha256').execute()).map((r) => r.sha256);
  assert.equal(members.length, new Set(members).size, 'one campaign membership per message');
  assert.deepEqual(new Set(members), messages, 'every message in a campaign');

  const facts = (await db.selectFrom('action_report_facts').select('report_id').execute()).map((r) => r.report_id);
  assert.equal(facts.length, reports.length, 'one actions pass per report');
  assert.deepEqual(new Set(facts), reportIds);
  const twins = await db
    .selectFrom('action_cases')
    .select(['target_kind', 'target_value', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', 'in', ['open', 'referred'])
    .groupBy(['target_kind', 'target_value'])
    .having((eb) => eb.fn.countAll(), '>', 1)
    .execute();
  assert.deepEqual(twins, [], 'no twin cases for one target');

  // Counted once in the statistics: every roll-up dimension sums to the index, value by value.
  const index = await db
    .selectFrom('web_report_index')
    .select(['report_id', 'category', 'channel', 'campaign_id'])
    .execute();
  assert.equal(index.length, reports.length, 'one index row per report');
  for (const [dim, col] of [
    ['category', 'category'],
    ['channel', 'channel'],
    ['campaign', 'campaign_id'],
  ] as const) {
    const want = new Map<string, number>();
    for (const r of index) want.set(r[col] ?? '', (want.get(r[col] ?? '') ?? 0) + 1);
    const got = new Map<string, number>();
    for (const r of await db.selectFrom('web_rollup_daily').select(['value', 'n']).where('dim', '=', dim).execute())
      got.set(r.value, (got.get(r.value) ?? 0) + Number(r.n));
    for (const [k, v] of [...got]) if (v === 0) got.delete(k);
    assert.deepEqual(Object.fromEntries(got), Object.fromEntries(want), `statistics by ${dim} count each report once`);
  }

  // Every outbox entry delivered; a mail the relay got twice (a node killed between the relay's
  // 250 and its own commit) carries the same Message-ID, so the receiver can drop it.
  const box = await db.selectFrom('action_outbox').select(['state', 'idempotency_key', 'purpose']).execute();
  assert.ok(box.length > 0, 'the phishing cases were referred: there is something to deliver');
  assert.deepEqual(
    box.filter((b) => b.state !== 'sent'),
    [],
    'every outbox entry sent',
  );
  // An entry's key is `mail:<Message-ID>:<recipient>` (`outbox.ts`): one mail to one recipient.
  const sunk = sink.mails.flatMap((m) => m.to.map((to) => `mail:${m.messageId}:${to}`));
  const keys = new Set(box.map((b) => b.idempotency_key));
  for (const k of keys) assert.ok(sunk.includes(k), `outbox entry ${k} reached the relay`);
  for (const m of sunk) assert.ok(keys.has(m), `the relay got only outbox entries (${m})`);
  const twiceSent = sunk.length - new Set(sunk).size;

  // No deadlock anywhere: not in any node's log, not in PostgreSQL's count for this database.
  for (const n of nodes) {
    const hits = n.log.filter((l) => /deadlock detected/i.test(l));
    assert.deepEqual(hits, [], `${n.name} logged no deadlock`);
  }
  assert.equal((await pgDeadlocks(dbUrl)) - deadlocksBefore, 0, 'PostgreSQL counted no deadlock');

  const failedJobs = nodes.flatMap((n) => n.lines.filter((l) => l.msg === 'job failed'));
  const requeued = nodes.flatMap((n) => n.lines.filter((l) => l.msg === 'requeued abandoned jobs'));
  t.diagnostic(
    `${reports.length} reports of ${messages.size} messages, ${box.length} outbox entries (${twiceSent} sent twice), ` +
      `${requeued.length} requeues of abandoned jobs, ${failedJobs.length} job attempts failed ` +
      `(${failedJobs.map((l) => String(l.err)).join(' | ')}); drained ${drainedMs} ms after the first send`,
  );
});

/** What is left: jobs by kind and state, reports, indexed, actions passes, outbox by state. */
async function pipelineState(db: Kysely<Database>): Promise<string> {
  const jobs = await db
    .selectFrom('jobs')
    .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['kind', 'state'])
    .execute();
  const count = async (q: { executeTakeFirstOrThrow(): Promise<{ n: unknown }> }) =>
    Number((await q.executeTakeFirstOrThrow()).n);
  const reports = await count(db.selectFrom('reports').select((eb) => eb.fn.countAll().as('n')));
  const indexed = await count(
    db
      .selectFrom('web_report_index')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('stage', '>=', STAGE_CLASSIFIED),
  );
  const facts = await count(db.selectFrom('action_report_facts').select((eb) => eb.fn.countAll().as('n')));
  const box = await db
    .selectFrom('action_outbox')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return (
    `jobs ${jobs.map((j) => `${j.kind}/${j.state}=${j.n}`).join(' ') || 'none'}; ${reports} reports, ` +
    `${indexed} indexed, ${facts} through actions; outbox ${box.map((b) => `${b.state}=${b.n}`).join(' ') || 'empty'}`
  );
}

/** PostgreSQL's count of deadlocks in the test's database (`pg_stat_database`). */
async function pgDeadlocks(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>(
      'select deadlocks::text as n from pg_stat_database where datname = current_database()',
    );
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}
