/**
 * The fuzzy look-up as a mail filter uses it: many clients asking at once, against a real
 * `spamdesk serve` (its own process, its default roles) over a campaign database that already
 * holds the stored messages. Part of `npm run bench -- campaigns`.
 *
 * 16 keep-alive clients (`SPAMDESK_BENCH_LOOKUP_CLIENTS`) post the look-up bodies round-robin for
 * a warm-up, then for a fixed number of requests (`SPAMDESK_BENCH_LOOKUP_REQUESTS`, default 20,000).
 * Printed: look-ups/s (wall), p50/p99/max latency seen by the clients, the answers by HTTP status,
 * the server's CPU-seconds per look-up (/proc: the process with all its threads and its children,
 * live and reaped), the seconds its threads waited for a CPU (what the machine's other load cost
 * it), its peak RSS and the load average around the run.
 *
 * Then the same server answers the same bodies from `wrk` (Debian's C load generator, installed by the
 * bench as root where it is missing; skipped with a line saying so otherwise): 16 keep-alive
 * connections on 2 threads for {@link WRK_SECONDS} s. The bench's own Node clients take ≈ 0.14–0.17 ms
 * of CPU per request on the same two cores the server has (a sixth of the machine at 2,000/s); wrk takes
 * a fraction of that, so its figure is nearer what the server answers when its clients are other
 * machines, as a mail filter's are. Both figures are printed; neither replaces the other.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { descendants, treeCpuSeconds, treeRss, treeRunQueueSeconds } from './e2e.ts';
import { ensurePackages, mb, percentile } from './lib.ts';
import { procStatusBytes, startBenchServer } from './server.ts';
import { testConfig } from '../src/core/config.ts';
import { openDatabase } from '../src/db/dialect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createToken } from '../src/db/tokens.ts';

const CLIENTS = Number(process.env.SPAMDESK_BENCH_LOOKUP_CLIENTS ?? 16);
const REQUESTS = Number(process.env.SPAMDESK_BENCH_LOOKUP_REQUESTS ?? 20_000);
const WARM_UP = Number(process.env.SPAMDESK_BENCH_LOOKUP_WARMUP ?? 1_000);
const IDLE_SECONDS = 5;
const WRK_SECONDS = Number(process.env.SPAMDESK_BENCH_LOOKUP_WRK_SECONDS ?? 10);
const WRK_THREADS = 2;

/** `pid` and its live descendants. */
function tree(pid: number): number[] {
  return [pid, ...descendants(pid)];
}

const cpuSeconds = (pids: readonly number[]) => treeCpuSeconds(pids[0], pids.slice(1));

/** On-CPU seconds of each live thread of `pid` (`/proc/PID/task/TID/schedstat`, first field, ns). */
function threadSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      out.set(t, Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e9);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** CPU seconds of the HTTP (main) thread of `pid` and of its other threads between two readings. */
function threadSplit(pid: number, before: Map<string, number>, after: Map<string, number>): [number, number] {
  let main = 0;
  let rest = 0;
  for (const [tid, s] of after) {
    const d = s - (before.get(tid) ?? 0);
    if (tid === String(pid)) main += d;
    else rest += d;
  }
  return [main, rest];
}
const rssOf = (pids: readonly number[]) => treeRss(pids[0], pids.slice(1));

function post(url: URL, agent: http.Agent, token: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/api/v1/lookup',
        method: 'POST',
        agent,
        headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${token}`, 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface LoadResult {
  rate: number;
  p50: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  matched: number;
  cpuMsPerLookup: number;
  /** Cores the server used while nobody asked, measured just before. */
  idleCores: number;
  waitedSeconds: number;
  peakRss: number;
}

/** CPU seconds of this process's reaped children (`/proc/self/stat` cutime + cstime). */
function reapedChildrenSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

/**
 * wrk's script: each thread builds every request once (the bodies read from `dir`), sends them
 * round-robin from its own offset, and counts the answers that matched a campaign; `done` prints one
 * JSON line with the totals and wrk's latency percentiles (µs).
 */
const WRK_SCRIPT = `
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads * 97)
end
function init(args)
  reqs = {}
  local n = tonumber(args[1])
  for i = 1, n do
    local f = assert(io.open(args[2] .. "/" .. (i - 1) .. ".eml", "rb"))
    local body = f:read("*a")
    f:close()
    reqs[i] = wrk.format("POST", "/api/v1/lookup",
      { ["Content-Type"] = "message/rfc822", ["Authorization"] = "Bearer " .. args[3] }, body)
  end
  i = offset
  matched = 0
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
function response(status, headers, body)
  if status == 200 and string.find(body, '"matches":[{', 1, true) then matched = matched + 1 end
end
function done(summary, latency, requests)
  local m = 0
  for _, t in ipairs(threads) do m = m + t:get("matched") end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"us":%d,"p50":%d,"p99":%d,"max":%d,"non2xx":%d,"errors":%d,"matched":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout, m))
end
`;

interface WrkSummary {
  requests: number;
  us: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  matched: number;
}

/** The look-ups from wrk against the running server `pid` at `url` (see the module comment), or null without wrk. */
async function wrkRun(
  url: URL,
  token: string,
  bodies: readonly Buffer[],
  pid: number,
  say: (s: string) => void,
): Promise<void> {
  if (!ensurePackages({ wrk: 'wrk' })) {
    say('SKIP the look-up from wrk: `wrk` is not installed and could not be (apt-get install wrk, as root)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-wrk-'));
  try {
    for (const [i, b] of bodies.entries()) fs.writeFileSync(path.join(dir, `${i}.eml`), b);
    fs.writeFileSync(path.join(dir, 'lookup.lua'), WRK_SCRIPT);
    const pids = tree(pid);
    const cpu0 = cpuSeconds(pids);
    const wait0 = treeRunQueueSeconds(pids[0], pids.slice(1));
    const threads0 = threadSeconds(pid);
    const wrkCpu0 = reapedChildrenSeconds();
    const loadBefore = load();
    const wrk = spawn(
      'wrk',
      [
        `-t${WRK_THREADS}`,
        `-c${CLIENTS}`,
        `-d${WRK_SECONDS}s`,
        '--timeout',
        '10s',
        '-s',
        path.join(dir, 'lookup.lua'),
        `${url.origin}/api/v1/lookup`,
        '--',
        String(bodies.length),
        dir,
        token,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    wrk.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => wrk.on('exit', resolve));
    const [httpThread, otherThreads] = threadSplit(pid, threads0, threadSeconds(pid));
    const after = tree(pid);
    const cpu = cpuSeconds(after) - cpu0;
    const waited = treeRunQueueSeconds(after[0], after.slice(1)) - wait0;
    const wrkCpu = reapedChildrenSeconds() - wrkCpu0;
    const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
    if (code !== 0 || !line) {
      say(`the look-up from wrk failed (exit ${code}): ${out.trim().slice(0, 500)}`);
      return;
    }
    const w = JSON.parse(line) as WrkSummary;
    const seconds = w.us / 1e6;
    const per = (x: number) => ((x / w.requests) * 1000).toFixed(3);
    const ms = (us: number, digits: number) => (us / 1000).toFixed(digits);
    const rate = (w.requests / seconds).toFixed(0);
    say(
      `lookup, the same bodies from wrk (${CLIENTS} keep-alive connections on ${WRK_THREADS} threads, \
${WRK_SECONDS} s) to the same server: ${w.requests.toLocaleString('en')} requests = ${rate} look-ups/s; \
p50 ${ms(w.p50, 2)} ms, p99 ${ms(w.p99, 2)} ms, max ${ms(w.max, 1)} ms; ${w.non2xx} answers not 2xx, \
${w.errors} socket errors, ${w.matched.toLocaleString('en')} matched a campaign; server CPU ${cpu.toFixed(1)} s = \
${per(cpu)} ms per look-up (${(cpu / seconds).toFixed(2)} cores busy; HTTP thread ${per(httpThread)} ms, its other \
threads ${per(otherThreads)} ms), its threads waited ${waited.toFixed(1)} s for a CPU; wrk took ${per(wrkCpu)} ms \
of CPU per request; load average ${loadBefore} before, ${load()} after (goal: ≥ 2,000 look-ups/s, p99 < 20 ms, \
< 1 ms CPU each)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/**
 * Starts `spamdesk serve` on the SQLite database at `dbPath`, posts `bodies` from {@link CLIENTS}
 * concurrent clients and prints what it measured. `serveArgs` are added to the server's arguments.
 */
export async function measureConcurrentLookups(
  dbPath: string,
  bodies: readonly Buffer[],
  what: string,
  serveArgs: readonly string[] = [],
): Promise<LoadResult> {
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const dataDir = path.dirname(dbPath);
  const config = testConfig({ dataDir, databaseUrl: `sqlite:${dbPath}` });
  const setup = openDatabase(config.database);
  await migrateToLatest(setup);
  const token = (await createToken(setup, { role: 'partner', name: 'bench-lookup-load' })).secret;
  await setup.destroy();
  const server = await startBenchServer([
    '--data-dir',
    dataDir,
    '--database-url',
    `sqlite:${dbPath}`,
    '--http-port',
    '0',
    '--smtp-enabled',
    'false',
    '--dns-mode',
    'offline',
    '--log-level',
    'warn',
    ...serveArgs,
  ]);
  const pid = server.proc.pid ?? 0;
  const url = new URL(server.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    const statuses: Record<string, number> = {};
    const latencies: number[] = [];
    let matched = 0;
    const run = async (count: number, measure: boolean): Promise<void> => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (let i = next++; i < count; i = next++) {
            const t0 = performance.now();
            const r = await post(url, agent, token, bodies[i % bodies.length]).catch((e: Error) => ({
              status: 0,
              body: e.message,
            }));
            if (!measure) continue;
            latencies.push(performance.now() - t0);
            statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
            if (r.status === 200 && (JSON.parse(r.body) as { matches: unknown[] }).matches.length > 0) matched++;
          }
        }),
      );
    };
    await run(WARM_UP, false);
    // What the server spends when nobody asks (its background roles polling): not the look-ups' cost.
    const idle0 = cpuSeconds(tree(pid));
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleCores = (cpuSeconds(tree(pid)) - idle0) / IDLE_SECONDS;
    const loadBefore = load();
    const pids = tree(pid);
    const cpu0 = cpuSeconds(pids);
    const wait0 = treeRunQueueSeconds(pids[0], pids.slice(1));
    const threads0 = threadSeconds(pid);
    const client0 = process.cpuUsage();
    let peakRss = rssOf(pids);
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssOf(tree(pid)));
    }, 100);
    const t0 = performance.now();
    await run(REQUESTS, true);
    const seconds = (performance.now() - t0) / 1000;
    const clientCpu = process.cpuUsage(client0);
    const [httpThread, otherThreads] = threadSplit(pid, threads0, threadSeconds(pid));
    clearInterval(sampler);
    const after = tree(pid);
    const cpu = cpuSeconds(after) - cpu0;
    const waited = treeRunQueueSeconds(after[0], after.slice(1)) - wait0;
    peakRss = Math.max(peakRss, rssOf(after), procStatusBytes(pid, 'VmHWM'));
    latencies.sort((a, b) => a - b);
    const result: LoadResult = {
      rate: REQUESTS / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1],
      statuses,
      matched,
      cpuMsPerLookup: (cpu / REQUESTS) * 1000,
      idleCores,
      waitedSeconds: waited,
      peakRss,
    };
    const settings = serveArgs.join(' ') || 'default settings';
    say(
      `lookup, ${CLIENTS} concurrent clients over loopback HTTP to a real serve (${settings}) with ${what}: \
${REQUESTS.toLocaleString('en')} requests in ${seconds.toFixed(1)} s = \
${result.rate.toFixed(0)} look-ups/s; p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, max \
${result.max.toFixed(1)} ms; statuses ${JSON.stringify(statuses)}, ${matched.toLocaleString('en')} matched a \
campaign; server CPU ${cpu.toFixed(1)} s = ${result.cpuMsPerLookup.toFixed(3)} ms per look-up \
(${(cpu / seconds).toFixed(2)} cores busy; ${idleCores.toFixed(2)} cores when idle; HTTP thread \
${((httpThread / REQUESTS) * 1000).toFixed(3)} ms, its other threads \
${((otherThreads / REQUESTS) * 1000).toFixed(3)} ms per look-up; the ${CLIENTS} clients took \
${((clientCpu.user + clientCpu.system) / 1e3 / REQUESTS).toFixed(3)} ms each in this process), its threads waited \
${waited.toFixed(1)} s for a CPU; server peak RSS ${mb(peakRss)}; load average \
${loadBefore} before, ${load()} after, on ${os.availableParallelism()} cores (goal: ≥ 2,000 look-ups/s, p99 < 20 ms, \
< 1 ms CPU each)`,
    );
    await wrkRun(url, token, bodies, pid, say);
    return result;
  } finally {
    agent.destroy();
    server.proc.kill('SIGTERM');
    await new Promise((resolve) => {
      if (server.proc.exitCode !== null) resolve(null);
      else server.proc.once('exit', resolve);
    });
  }
}
