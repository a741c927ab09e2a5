/**
 * Analysis throughput: every message of ../shared/corpus through the worker-thread pool on every
 * core (offline DNS: an empty static zone; the real ASN data), then a fair comparison with rspamd
 * (HTTP /checkv2, DNS answered NXDOMAIN at once by dnsmasq `--no-resolv --local=/#/` on loopback,
 * network checks off) and SpamAssassin (`spamd --local`, spamc protocol). Debian packages are
 * installed when missing.
 *
 * The comparison: one seeded sample of the spamassassin corpus (spam and ham mixed) for Spamdesk
 * (a fresh pool, not the one warmed on the whole corpus) and rspamd, and a seeded sample of those
 * same messages for spamd; every tool warmed on the same slice of other messages, then measured in
 * rounds, interleaved with the order rotated each round (A,B,C; B,C,A; C,A,B; …) so a change of
 * load hits every tool alike, with the same number of client connections in flight. Per tool and
 * round: wall rate, CPU-seconds (Spamdesk: this process, all threads; a daemon: its whole process
 * tree from /proc, reaped children included), messages per CPU-second, client-side latency
 * p50/p99, peak memory (Spamdesk: RSS; a daemon: the sum of PSS over its processes) and the load
 * average before and after. Then the ratios Spamdesk/rspamd and Spamdesk/spamd per CPU-second and
 * per wall second, each computed within a round, as the median and min–max over the rounds.
 *
 * Settings (environment):
 * - SPAMDESK_BENCH_CORPUS_LIMIT: cap on the whole-corpus pass (unset: every message; 0 skips it).
 * - SPAMDESK_BENCH_PEER_MESSAGES (3000): the sample Spamdesk and rspamd check each round.
 * - SPAMDESK_BENCH_SA_MESSAGES (300): spamd's seeded sample of those same messages (spamd is ~50×
 *   slower; the rates, not the totals, are compared).
 * - SPAMDESK_BENCH_PEER_ROUNDS (3): measured rounds.
 * - SPAMDESK_BENCH_PEER_WARMUP (200): warm-up messages, the same for every tool.
 * - SPAMDESK_BENCH_PEER_SEED (17): the sampling seed.
 * - SPAMDESK_BENCH_PEER_FRESH=1: each round checks its own disjoint seeded sample (needs rounds ×
 *   PEER_MESSAGES + warm-up ≤ 6,299), so no tool is measured on a message it has seen; otherwise
 *   every round checks the same sample and caches warmed by the previous round help.
 * - SPAMDESK_BENCH_PEER_CONCURRENCY (4 per core): client requests in flight, for every tool.
 * - SPAMDESK_BENCH_PEER_THREADS: Spamdesk's analysis pools compared, by size, comma-separated (default: the
 *   background process's default, one per core but one, and one per core when that differs). Each is a tool of
 *   its own in the rounds; `spamdesk` is the default's, `spamdesk-Nt` the others'.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AnalysisPool } from '../src/analysis/pool.ts';
import { defaultAnalysisSettings } from '../src/analysis/settings.ts';
import { defaultAnalysisThreads } from '../src/core/config.ts';
import { corpusMessages, type CorpusMessage } from '../src/analysis/test-support/corpus-messages.ts';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, ensurePackages, mb, percentile, sampleRss } from './lib.ts';
import { roundOrder, sampleTreeMemory, seededSample, spread, treeCpuSeconds } from './peer-measure.ts';

const CORES = os.availableParallelism();
/** The analysis threads the background process runs by default (SPAMDESK_WORKERS unset). */
const DEFAULT_THREADS = defaultAnalysisThreads(CORES);
const PEER_MESSAGES = Number(process.env.SPAMDESK_BENCH_PEER_MESSAGES ?? 3000);
/** spamd is far slower: a seeded sample of the same messages (rates are compared, not totals). */
const SA_MESSAGES = Number(process.env.SPAMDESK_BENCH_SA_MESSAGES ?? 300);
const PEER_ROUNDS = Number(process.env.SPAMDESK_BENCH_PEER_ROUNDS ?? 3);
const PEER_WARMUP = Number(process.env.SPAMDESK_BENCH_PEER_WARMUP ?? 200);
const PEER_SEED = Number(process.env.SPAMDESK_BENCH_PEER_SEED ?? 17);
/** Each round on its own disjoint sample (no tool sees a message twice), when the corpus is large enough. */
const PEER_FRESH = process.env.SPAMDESK_BENCH_PEER_FRESH === '1';
const PEER_CONCURRENCY = Number(process.env.SPAMDESK_BENCH_PEER_CONCURRENCY ?? CORES * 4);
/** Spamdesk's pool sizes compared (the background default first). */
const PEER_THREADS = [
  ...new Set(
    (process.env.SPAMDESK_BENCH_PEER_THREADS ?? `${DEFAULT_THREADS},${CORES}`)
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0),
  ),
];
/** Cap on the whole-corpus pass (unset: every message). */
const CORPUS_LIMIT = Number(process.env.SPAMDESK_BENCH_CORPUS_LIMIT ?? Number.POSITIVE_INFINITY);

function say(s: string): void {
  process.stdout.write(`${s}\n`);
}

interface SpamdeskRun {
  seconds: number;
  /** CPU seconds of the whole process (main thread and analysis threads) during the run. */
  cpuSeconds: number;
  lat: number[];
  bytes: number;
  notOk: number;
  rss: number;
  /** 1-minute load average at the start and the end of the run. */
  load: [number, number];
}

function loadNow(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

function cpuSecondsNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

async function runSpamdesk(pool: AnalysisPool, msgs: CorpusMessage[]): Promise<SpamdeskRun> {
  const rss = sampleRss();
  const load0 = os.loadavg()[0] ?? 0;
  const cpu0 = cpuSecondsNow();
  const t0 = performance.now();
  const results = await Promise.all(msgs.map((m) => pool.analyse(m.raw)));
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSecondsNow() - cpu0;
  const lat = results.map((r) => r.durationMs).sort((a, b) => a - b);
  return {
    seconds,
    cpuSeconds,
    lat,
    bytes: msgs.reduce((n, m) => n + m.raw.length, 0),
    notOk: results.filter((r) => r.outcome !== 'ok').length,
    rss: rss.stop(),
    load: [load0, os.loadavg()[0] ?? 0],
  };
}

function report(label: string, n: number, r: SpamdeskRun): number {
  const rate = n / r.seconds;
  say(
    `${label}: ${n} messages, ${mb(r.bytes)} in ${r.seconds.toFixed(2)} s → ${rate.toFixed(0)} messages/s, \
${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s; ` +
      `per message p50 ${percentile(r.lat, 50).toFixed(2)} ms, p99 ${percentile(r.lat, 99).toFixed(2)} ms, max \
${r.lat[r.lat.length - 1]?.toFixed(0)} ms; ` +
      `not ok ${r.notOk}; peak RSS ${mb(r.rss)} (${CORES} threads); ` +
      `${(n / r.cpuSeconds).toFixed(0)} messages per CPU-second (${r.cpuSeconds.toFixed(1)} CPU-s, all threads); load \
average ${r.load[0].toFixed(2)} → ${r.load[1].toFixed(2)}`,
  );
  return rate;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Runs `fn` over the messages with `concurrency` in flight; returns seconds and client-side latencies. */
async function drive(
  msgs: CorpusMessage[],
  concurrency: number,
  fn: (raw: Buffer) => Promise<void>,
): Promise<{ seconds: number; lat: number[]; failures: number; firstError: string }> {
  const lat: number[] = [];
  let next = 0;
  let failures = 0;
  let firstError = '';
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < msgs.length) {
        const m = msgs[next++];
        const s = performance.now();
        try {
          await fn(m.raw);
        } catch (e) {
          failures++;
          firstError ||= e instanceof Error ? e.message : String(e);
        }
        lat.push(performance.now() - s);
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, lat: lat.sort((a, b) => a - b), failures, firstError };
}

/** One tool under comparison: how to check a message, how much CPU it has used so far, its memory. */
interface Peer {
  name: string;
  label: string;
  msgs: CorpusMessage[];
  check(raw: Buffer): Promise<void>;
  /** CPU-seconds used so far (the whole process tree of a daemon, children reaped included). */
  cpuSeconds(): number;
  memory(): { stop(): number };
  stop(): Promise<void>;
}

interface PeerRun {
  tool: string;
  round: number;
  n: number;
  seconds: number;
  cpuSeconds: number;
  p50: number;
  p99: number;
  failures: number;
  peakMemory: number;
  load: [number, number];
}

async function measure(peer: Peer, round: number): Promise<PeerRun> {
  const load0 = os.loadavg()[0] ?? 0;
  const mem = peer.memory();
  const cpu0 = peer.cpuSeconds();
  const r = await drive(peer.msgs, PEER_CONCURRENCY, (raw) => peer.check(raw));
  const cpuSeconds = peer.cpuSeconds() - cpu0;
  const run: PeerRun = {
    tool: peer.name,
    round,
    n: peer.msgs.length,
    seconds: r.seconds,
    cpuSeconds,
    p50: percentile(r.lat, 50),
    p99: percentile(r.lat, 99),
    failures: r.failures,
    peakMemory: mem.stop(),
    load: [load0, os.loadavg()[0] ?? 0],
  };
  const rate = (run.n / run.seconds).toFixed(1);
  const error = r.firstError ? ` (${r.firstError})` : '';
  say(
    `  round ${round} ${peer.name}: ${run.n} messages in ${run.seconds.toFixed(2)} s → ${rate}/s; \
${cpuSeconds.toFixed(2)} CPU-s → ${(run.n / cpuSeconds).toFixed(1)} per CPU-second; \
client p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms; peak memory ${mb(run.peakMemory)}; \
failures ${run.failures}${error}; load ${run.load[0].toFixed(2)} → ${run.load[1].toFixed(2)}`,
  );
  return run;
}

/** One SPAMC/1.5 CHECK over TCP (the protocol spamc speaks), reading the reply to its end. */
function spamcCheck(port: number, raw: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let reply = '';
    sock.setTimeout(120_000, () => sock.destroy(new Error('spamd timeout')));
    sock.on('connect', () => {
      sock.write(`CHECK SPAMC/1.5\r\nContent-length: ${raw.length}\r\n\r\n`);
      sock.end(raw);
    });
    sock.on('data', (d) => (reply += d.toString('latin1')));
    sock.on('error', reject);
    // A scored message: `SPAMD/1.x 0 EX_OK` and a `Spam: True|False ; score / threshold` header.
    sock.on('close', () =>
      /^SPAMD\/[\d.]+ 0 EX_OK\r?\n/.test(reply) && /\r?\nSpam: /.test(reply)
        ? resolve()
        : reject(new Error(`bad spamd reply: ${reply.slice(0, 80)}`)),
    );
  });
}

/** `spamd --local` with `CORES` children, started and answering; null when it cannot be installed or started. */
async function startSpamAssassin(msgs: CorpusMessage[]): Promise<Peer | null> {
  if (!ensurePackages({ spamd: 'spamd', spamassassin: 'spamassassin' })) return null;
  const port = await freePort();
  const children = String(CORES);
  const spamd = spawn(
    'spamd',
    [
      '--local',
      '-x',
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '--max-children',
      children,
      '--min-children',
      children,
      '--min-spare',
      children,
      '--syslog=stderr',
      '-u',
      'nobody',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  spamd.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-2000)));
  const up = await waitFor(async () => {
    await spamcCheck(port, Buffer.from('Subject: ping\r\n\r\nping\r\n'));
    return true;
  }, 120_000);
  if (!up || spamd.pid === undefined) {
    say(`spamd did not come up: ${log.slice(-300)}`);
    stop(spamd);
    return null;
  }
  const pid = spamd.pid;
  return {
    name: 'spamd',
    label: `SpamAssassin \`spamd --local\`, ${children} children (spamc protocol)`,
    msgs,
    check: (raw) => spamcCheck(port, raw),
    cpuSeconds: () => treeCpuSeconds(pid),
    memory: () => sampleTreeMemory(pid),
    async stop() {
      stop(spamd);
    },
  };
}

function stop(p: ChildProcess): void {
  if (p.exitCode === null) p.kill('SIGTERM');
}

function rspamdCheck(port: number, raw: Buffer, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/checkv2', agent, headers: { 'content-length': raw.length } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        // A scored message: HTTP 200 with an action in the JSON (an error reply has none).
        res.on('end', () =>
          res.statusCode === 200 && body.includes('"action"')
            ? resolve()
            : reject(new Error(`rspamd HTTP ${res.statusCode}: ${body.slice(0, 80)}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(raw);
  });
}

/** rspamd with `CORES` normal workers, started and answering; null when it cannot be installed or started. */
async function startRspamd(msgs: CorpusMessage[]): Promise<Peer | null> {
  if (!ensurePackages({ rspamd: 'rspamd', dnsmasq: 'dnsmasq' })) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-rspamd-'));
  const dnsPort = await freePort();
  const port = await freePort();
  // Every name answers NXDOMAIN at once: rspamd's CPU is measured, not DNS time-outs.
  // --keep-in-foreground, not --no-daemon: each rspamd worker process opens an idle TCP connection to its
  // nameserver at start, and dnsmasq's debug mode serves TCP in its main loop instead of a forked
  // child, so it sat in read() on that connection (~30 s) while UDP queries queued unanswered: every
  // message needing DNS in that window (DMARC, hfilter) waited timeout × (1 + retransmits) = 2 s.
  // --log-facility=- keeps its few log lines out of the host's syslog (stderr is ignored).
  const dns = spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--log-facility=-',
      '--no-resolv',
      '--no-hosts',
      '--local=/#/',
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--port=${dnsPort}`,
      `--pid-file=${dir}/dnsmasq.pid`,
    ],
    { stdio: 'ignore' },
  );
  const local = path.join(dir, 'local.d');
  fs.mkdirSync(local);
  fs.writeFileSync(
    path.join(local, 'options.inc'),
    `dns { nameserver = ["127.0.0.1:${dnsPort}"]; timeout = 1s; retransmits = 1; }\n`,
  );
  fs.writeFileSync(path.join(local, 'worker-normal.inc'), `bind_socket = "127.0.0.1:${port}";\ncount = ${CORES};\n`);
  fs.writeFileSync(path.join(local, 'worker-controller.inc'), `bind_socket = "127.0.0.1:${await freePort()}";\n`);
  fs.writeFileSync(path.join(local, 'worker-proxy.inc'), `bind_socket = "127.0.0.1:${await freePort()}";\n`);
  fs.writeFileSync(path.join(local, 'worker-fuzzy.inc'), 'count = 0;\n');
  fs.writeFileSync(
    path.join(local, 'logging.inc'),
    `type = "file"; filename = "${dir}/rspamd.log"; level = "error";\n`,
  );
  for (const m of [
    'fuzzy_check',
    'rbl',
    'surbl',
    'url_redirector',
    'phishing',
    'emails',
    'rspamd_update',
    'neural',
    'ratelimit',
    'greylist',
    'replies',
    'history_redis',
    'clickhouse',
    'reputation',
    'ip_score',
    'asn',
  ]) {
    fs.writeFileSync(path.join(local, `${m}.conf`), 'enabled = false;\n');
  }
  // Hyperscan databases take minutes to compile on a busy machine: keep them between runs.
  const dbDir = path.join(os.tmpdir(), 'spamdesk-bench-rspamd-db');
  fs.mkdirSync(dbDir, { recursive: true });
  fs.chmodSync(dbDir, 0o777);
  fs.chmodSync(dir, 0o777);
  const rspamd = spawn(
    'rspamd',
    [
      '-f',
      '-u',
      '_rspamd',
      '-g',
      '_rspamd',
      '-c',
      '/etc/rspamd/rspamd.conf',
      `--var=LOCAL_CONFDIR=${dir}`,
      `--var=DBDIR=${dbDir}`,
      `--var=RUNDIR=${dir}`,
      `--var=LOGDIR=${dir}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  rspamd.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-2000)));
  const agent = new http.Agent({ keepAlive: true, maxSockets: PEER_CONCURRENCY });
  const cleanup = async (): Promise<void> => {
    agent.destroy();
    stop(rspamd);
    stop(dns);
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const up = await waitFor(async () => {
    await rspamdCheck(port, Buffer.from('Subject: ping\r\n\r\nping\r\n'), agent);
    return true;
  }, 600_000);
  if (!up || rspamd.pid === undefined) {
    say(`rspamd did not come up: ${log.slice(-300)}`);
    await cleanup();
    return null;
  }
  const pid = rspamd.pid;
  return {
    name: 'rspamd',
    label: `rspamd, ${CORES} normal workers (HTTP /checkv2, DNS NXDOMAIN from dnsmasq, network modules off)`,
    msgs,
    check: (raw) => rspamdCheck(port, raw, agent),
    cpuSeconds: () => treeCpuSeconds(pid),
    memory: () => sampleTreeMemory(pid),
    stop: cleanup,
  };
}

function spamdeskPeer(pool: AnalysisPool, msgs: CorpusMessage[]): Peer {
  const n = pool.size;
  return {
    name: n === DEFAULT_THREADS ? 'spamdesk' : `spamdesk-${n}t`,
    label: `Spamdesk, AnalysisPool of ${n} thread${n === 1 ? '' : 's'} in this process (offline DNS)${
      n === DEFAULT_THREADS ? ', as the background process runs by default' : ''
    }; its memory is the whole process's, every pool of this comparison included`,
    msgs,
    async check(raw) {
      const r = await pool.analyse(raw);
      if (r.outcome !== 'ok') throw new Error(`analysis outcome ${r.outcome}`);
    },
    // The whole bench process: main thread, analysis threads and the client loop (the peers' clients
    // run here too, but their CPU is not counted for them, so this is the less flattering side).
    cpuSeconds: cpuSecondsNow,
    memory: sampleRss,
    stop: () => pool.close(),
  };
}

function fmtSpread(values: number[], digits: number): string {
  const s = spread(values);
  if (!Number.isFinite(s.median)) return 'n/a';
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

/**
 * Spamdesk, rspamd and spamd on one seeded sample of the spamassassin corpus, each warmed on the
 * same slice, measured interleaved in rounds with the order rotated each round.
 */
async function comparePeers(): Promise<void> {
  const everything = corpusMessages(path.join(CORPUS_DIR, 'spamassassin'));
  const shuffled = seededSample(everything, everything.length, PEER_SEED);
  const fresh = PEER_FRESH && shuffled.length >= PEER_ROUNDS * PEER_MESSAGES + PEER_WARMUP;
  if (PEER_FRESH && !fresh) say(`SPAMDESK_BENCH_PEER_FRESH: corpus too small for ${PEER_ROUNDS} disjoint samples`);
  const measured = fresh ? PEER_ROUNDS * PEER_MESSAGES : PEER_MESSAGES;
  const sample = shuffled.slice(0, PEER_MESSAGES);
  /** Round r's messages: its own slice of the shuffled corpus when fresh, else the one sample. */
  const roundSample = (r: number): CorpusMessage[] =>
    fresh ? shuffled.slice((r - 1) * PEER_MESSAGES, r * PEER_MESSAGES) : sample;
  // Warm-up: messages outside the measured ones when the corpus has them, else the sample's first.
  const warm = (shuffled.length >= measured + PEER_WARMUP ? shuffled.slice(measured) : shuffled).slice(0, PEER_WARMUP);
  const saSample = seededSample(sample, SA_MESSAGES, PEER_SEED + 1);
  const mix = (ms: CorpusMessage[]): string => {
    const spam = ms.filter((m) => /[/\\]spam(_2)?[/\\]/.test(m.origin)).length;
    return `${spam} spam, ${ms.length - spam} ham, ${mb(ms.reduce((n, m) => n + m.raw.length, 0))}`;
  };
  say(
    `peer comparison: seed ${PEER_SEED}; sample ${sample.length} of ${everything.length} spamassassin-corpus messages \
(${mix(sample)})${fresh ? ', a new disjoint one each round' : ''}; spamd on a seeded ${saSample.length} of those \
(${mix(saSample)}); warm-up ${warm.length} messages \
for every tool; ${PEER_ROUNDS} rounds, order rotated each round; ${PEER_CONCURRENCY} client connections in flight for \
every tool; load average ${loadNow()}`,
  );
  const peers: Peer[] = PEER_THREADS.map((size) =>
    spamdeskPeer(new AnalysisPool({ size, settings: defaultAnalysisSettings({ dnsMode: 'offline' }) }), sample),
  );
  try {
    const rs = await startRspamd(sample);
    if (rs) peers.push(rs);
    const sa = await startSpamAssassin(saSample);
    if (sa) peers.push(sa);
    for (const p of peers) {
      say(`  ${p.name}: ${p.label}`);
      const w = await drive(warm, PEER_CONCURRENCY, (raw) => p.check(raw));
      say(`  warm-up ${p.name}: ${warm.length} messages in ${w.seconds.toFixed(1)} s, failures ${w.failures}`);
    }
    const runs: PeerRun[] = [];
    for (let round = 1; round <= PEER_ROUNDS; round++) {
      const order = roundOrder(peers, round - 1);
      if (fresh) {
        const msgs = roundSample(round);
        for (const p of peers) p.msgs = p.name === 'spamd' ? seededSample(msgs, SA_MESSAGES, PEER_SEED + round) : msgs;
        say(`round ${round} sample: ${mix(msgs)}; spamd's: ${mix(peers.find((p) => p.name === 'spamd')?.msgs ?? [])}`);
      }
      say(`round ${round}: ${order.map((p) => p.name).join(', ')}; load average ${loadNow()}`);
      for (const p of order) runs.push(await measure(p, round));
      say(`round ${round} done; load average ${loadNow()}`);
    }
    say('per tool, median (min–max) over rounds:');
    for (const p of peers) {
      const mine = runs.filter((r) => r.tool === p.name);
      say(
        `  ${p.name}: ${fmtSpread(
          mine.map((r) => r.n / r.seconds),
          1,
        )} messages/s; ${fmtSpread(
          mine.map((r) => r.n / r.cpuSeconds),
          1,
        )} per CPU-second; CPU-s ${fmtSpread(
          mine.map((r) => r.cpuSeconds),
          2,
        )}; client p50 ${fmtSpread(
          mine.map((r) => r.p50),
          1,
        )} ms, p99 ${fmtSpread(
          mine.map((r) => r.p99),
          1,
        )} ms; peak memory ${fmtSpread(
          mine.map((r) => r.peakMemory / 1024 / 1024),
          0,
        )} MB; failures ${mine.reduce((n, r) => n + r.failures, 0)}`,
      );
    }
    for (const mine of peers.filter((p) => p.name.startsWith('spamdesk')))
      for (const other of ['rspamd', 'spamd']) {
        const wall: number[] = [];
        const cpu: number[] = [];
        for (let round = 1; round <= PEER_ROUNDS; round++) {
          const a = runs.find((r) => r.round === round && r.tool === mine.name);
          const b = runs.find((r) => r.round === round && r.tool === other);
          if (!a || !b) continue;
          wall.push(a.n / a.seconds / (b.n / b.seconds));
          cpu.push(a.n / a.cpuSeconds / (b.n / b.cpuSeconds));
        }
        if (cpu.length === 0) continue;
        say(
          `ratio ${mine.name}/${other} (same round): per CPU-second ${fmtSpread(cpu, 2)}×, per wall second \
${fmtSpread(wall, 2)}× (median, min–max over ${cpu.length} rounds)${other === 'rspamd' ? '; goal ≥ 2× per CPU-s' : ''}`,
        );
      }
  } finally {
    for (const p of peers.reverse()) await p.stop();
  }
}

export const analysisBench: Bench = {
  name: 'analysis',
  description:
    'analysis throughput on the shared corpus (all cores), then Spamdesk, rspamd and spamd interleaved on one sample',
  async run() {
    if (!corpusAvailable()) {
      say(`SKIP: corpus ${CORPUS_DIR} absent`);
      return;
    }
    if (CORPUS_LIMIT > 0) {
      const all = corpusMessages(CORPUS_DIR, CORPUS_LIMIT);
      const pool = new AnalysisPool({ size: CORES, settings: defaultAnalysisSettings({ dnsMode: 'offline' }) });
      try {
        await Promise.all(all.slice(0, 400).map((m) => pool.analyse(m.raw)));
        report('spamdesk, whole corpus', all.length, await runSpamdesk(pool, all));
      } finally {
        await pool.close();
      }
    }
    await comparePeers();
  },
};
