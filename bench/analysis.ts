/**
 * Analysis throughput: every message of ../shared/corpus through the worker-thread pool on every
 * core (offline DNS: an empty static zone; the real ASN data), then the same 3,000 spamassassin-
 * corpus messages through Spamdesk, SpamAssassin (`spamd --local`, spamc protocol) and rspamd
 * (HTTP /checkv2, DNS answered NXDOMAIN at once by dnsmasq `--no-resolv --local=/#/` on loopback,
 * network checks off), with the ratios. Debian packages are installed when missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AnalysisPool } from '../src/analysis/pool.ts';
import { defaultAnalysisSettings } from '../src/analysis/settings.ts';
import { corpusMessages, type CorpusMessage } from '../src/analysis/test-support/corpus-messages.ts';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, mb, percentile, sampleRss } from './lib.ts';

const PEER_MESSAGES = Number(process.env.SPAMDESK_BENCH_PEER_MESSAGES ?? 3000);
/** spamd is ~100× slower: by default it gets a smaller slice of the same messages (rate is what is compared). */
const SA_MESSAGES = Number(process.env.SPAMDESK_BENCH_SA_MESSAGES ?? 600);
const CORES = os.availableParallelism();
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

function ensurePackages(cmds: Record<string, string>): boolean {
  const missing = Object.entries(cmds).filter(([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
  if (missing.length === 0) return true;
  const pkgs = [...new Set(missing.map(([, p]) => p))];
  say(`installing from Debian: ${pkgs.join(' ')}`);
  const r = spawnSync(
    'sh',
    ['-c', `apt-get install -y ${pkgs.join(' ')} || (apt-get update && apt-get install -y ${pkgs.join(' ')})`],
    { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
  );
  return r.status === 0;
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

/** Runs `fn` over the messages with `concurrency` in flight; returns seconds and latencies. */
async function drive(
  msgs: CorpusMessage[],
  concurrency: number,
  fn: (raw: Buffer) => Promise<void>,
): Promise<{ seconds: number; lat: number[]; failures: number }> {
  const lat: number[] = [];
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < msgs.length) {
        const m = msgs[next++];
        const s = performance.now();
        try {
          await fn(m.raw);
        } catch {
          failures++;
        }
        lat.push(performance.now() - s);
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, lat: lat.sort((a, b) => a - b), failures };
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
    sock.on('close', () =>
      reply.startsWith('SPAMD/') ? resolve() : reject(new Error(`bad spamd reply: ${reply.slice(0, 80)}`)),
    );
  });
}

async function runSpamAssassin(msgs: CorpusMessage[]): Promise<number | null> {
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
  try {
    const up = await waitFor(async () => {
      await spamcCheck(port, Buffer.from('Subject: ping\r\n\r\nping\r\n'));
      return true;
    }, 120_000);
    if (!up) {
      say(`spamd did not come up: ${log.slice(-300)}`);
      return null;
    }
    const r = await drive(msgs, Number(children) * 2, (raw) => spamcCheck(port, raw));
    const rate = msgs.length / r.seconds;
    say(
      `SpamAssassin (spamd --local, ${children} children): ${msgs.length} messages in ${r.seconds.toFixed(1)} s → \
${rate.toFixed(1)} messages/s; p50 ${percentile(r.lat, 50).toFixed(0)} ms, p99 ${percentile(r.lat, 99).toFixed(0)} ms; \
failures ${r.failures}; load average ${loadNow()}`,
    );
    return rate;
  } finally {
    stop(spamd);
  }
}

function stop(p: ChildProcess): void {
  if (p.exitCode === null) p.kill('SIGTERM');
}

function rspamdCheck(port: number, raw: Buffer, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/checkv2', agent, headers: { 'content-length': raw.length } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`rspamd HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(raw);
  });
}

async function runRspamd(msgs: CorpusMessage[]): Promise<number | null> {
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
  const agent = new http.Agent({ keepAlive: true, maxSockets: CORES * 4 });
  try {
    const up = await waitFor(async () => {
      await rspamdCheck(port, Buffer.from('Subject: ping\r\n\r\nping\r\n'), agent);
      return true;
    }, 600_000);
    if (!up) {
      say(`rspamd did not come up: ${log.slice(-300)}`);
      return null;
    }
    const r = await drive(msgs, CORES * 4, (raw) => rspamdCheck(port, raw, agent));
    const rate = msgs.length / r.seconds;
    say(
      `rspamd (${CORES} normal workers, DNS NXDOMAIN from dnsmasq, network modules off): ${msgs.length} messages in \
${r.seconds.toFixed(1)} s → ${rate.toFixed(0)} messages/s; p50 ${percentile(r.lat, 50).toFixed(1)} ms, p99 \
${percentile(r.lat, 99).toFixed(1)} ms; failures ${r.failures}; load average ${loadNow()}`,
    );
    return rate;
  } finally {
    agent.destroy();
    stop(rspamd);
    stop(dns);
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const analysisBench: Bench = {
  name: 'analysis',
  description:
    'analysis throughput on the shared corpus (all cores), and against SpamAssassin and rspamd on the same messages',
  async run() {
    if (!corpusAvailable()) {
      say(`SKIP: corpus ${CORPUS_DIR} absent`);
      return;
    }
    const all = corpusMessages(CORPUS_DIR, CORPUS_LIMIT);
    const peers = corpusMessages(path.join(CORPUS_DIR, 'spamassassin'), PEER_MESSAGES);
    const pool = new AnalysisPool({ size: CORES, settings: defaultAnalysisSettings({ dnsMode: 'offline' }) });
    let ours = 0;
    try {
      await Promise.all(all.slice(0, 400).map((m) => pool.analyse(m.raw)));
      report('spamdesk, whole corpus', all.length, await runSpamdesk(pool, all));
      ours = report(
        `spamdesk, ${peers.length} spamassassin-corpus messages`,
        peers.length,
        await runSpamdesk(pool, peers),
      );
    } finally {
      await pool.close();
    }
    const sa = await runSpamAssassin(peers.slice(0, SA_MESSAGES));
    const rs = await runRspamd(peers);
    say(
      `ratios on the same messages: spamdesk/SpamAssassin ${sa ? `${(ours / sa).toFixed(1)}×` : 'n/a'} (target ≥ 50×), \
spamdesk/rspamd ${rs ? `${(ours / rs).toFixed(2)}×` : 'n/a'} (target ≥ 2×); target ≥ 1,500 messages/s`,
    );
  },
};
