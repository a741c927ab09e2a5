/**
 * HTTP intake throughput: a real `spamdesk serve` process (SQLite, synchronous=FULL, no workers),
 * 16 concurrent keep-alive clients POSTing corpus messages over loopback with a reporter token.
 * Prints reports/s, p50/p99 latency and the server's peak RSS. With
 * SPAMDESK_BENCH_HTTP_READERS=N, N more clients meanwhile read reports already stored through
 * `GET /api/v1/reports/:id` with an analyst token (each read is an audited access to evidence):
 * the intake rate beside them shows what audit writes cost intake.
 *
 *   npm run bench -- http
 *   SPAMDESK_BENCH_HTTP_REQUESTS=8000 SPAMDESK_BENCH_HTTP_CLIENTS=32 npm run bench -- http
 *   SPAMDESK_BENCH_HTTP_READERS=4 npm run bench -- http
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, mb, percentile, REPO_ROOT } from './lib.ts';
import {
  cpuSecondsBetween,
  cpuSecondsOf,
  prepareServerDatabase,
  procStatusBytes,
  SERVER_ROOT,
  codeLabel,
  startBenchServer,
  treeCpuSeconds,
  treeStatusBytes,
} from './server.ts';
import { listSourceFiles, readAllEntries } from '../src/intake/import/sources.ts';
import { assertEmailMessage } from '../src/evidence/message-check.ts';

async function loadMessages(limit: number): Promise<Buffer[]> {
  const files = await listSourceFiles(
    [path.join(CORPUS_DIR, 'spamassassin'), path.join(CORPUS_DIR, 'phishing_pot')],
    () => undefined,
  );
  const out: Buffer[] = [];
  for await (const e of readAllEntries(files, { maxMessageBytes: 1024 * 1024, mboxFormat: 'mboxrd' })) {
    if (!e.raw) continue;
    try {
      assertEmailMessage(e.raw);
    } catch {
      continue;
    }
    out.push(e.raw);
    if (out.length >= limit) break;
  }
  return out;
}

export const httpBench: Bench = {
  name: 'http',
  description: 'POST /api/v1/reports from 16 concurrent clients to a real server (SQLite, synchronous=FULL)',
  async run() {
    if (!corpusAvailable()) {
      process.stdout.write(`SKIP http bench: corpus not found at ${CORPUS_DIR}\n`);
      return;
    }
    const clients = Number(process.env.SPAMDESK_BENCH_HTTP_CLIENTS ?? 16);
    const total = Number(process.env.SPAMDESK_BENCH_HTTP_REQUESTS ?? 6000);
    const messages = await loadMessages(4000);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-http-'));
    const [token, analystToken] = await prepareServerDatabase(dataDir, [
      { role: 'reporter', name: 'bench' },
      { role: 'analyst', name: 'bench-reader' },
    ]);
    const readers = Number(process.env.SPAMDESK_BENCH_HTTP_READERS ?? 0);

    const server = await startBenchServer([
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--workers',
      '0',
      '--smtp-enabled',
      'false',
      '--sqlite-synchronous',
      'FULL',
      '--log-level',
      'warn',
    ]);
    const { proc, url } = server;
    const code = codeLabel(server);
    const where = SERVER_ROOT === REPO_ROOT ? 'this checkout' : SERVER_ROOT;
    const load = os.loadavg().map((l) => l.toFixed(1));
    process.stdout.write(`server: ${where} (${code}), load average ${load.join(' ')}\n`);
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
      const latencies: number[] = [];
      let next = 0;
      let failures = 0;
      const ids: string[] = [];
      const postOne = (body: Buffer) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request(
            `${url}/api/v1/reports`,
            {
              method: 'POST',
              agent,
              headers: {
                'content-type': 'message/rfc822',
                'content-length': String(body.length),
                authorization: `Bearer ${token}`,
              },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => {
                if (readers > 0 && res.statusCode === 202) {
                  const m = /"id":"([0-9A-Z]+)"/.exec(Buffer.concat(chunks).toString());
                  if (m) ids.push(m[1]);
                }
                resolve(res.statusCode ?? 0);
              });
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      const readerAgent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, readers) });
      const getOne = (id: string) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request(
            `${url}/api/v1/reports/${id}`,
            { method: 'GET', agent: readerAgent, headers: { authorization: `Bearer ${analystToken}` } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end();
        });
      let writing = true;
      let reads = 0;
      let readFailures = 0;
      const readerLoops = Array.from({ length: readers }, async () => {
        while (writing) {
          if (ids.length === 0) {
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          const status = await getOne(ids[Math.floor(Math.random() * ids.length)]);
          if (status === 200) reads++;
          else readFailures++;
        }
      });
      const started = performance.now();
      const pid = proc.pid ?? 0;
      const cpuBefore = cpuSecondsOf(pid);
      const groupCpuBefore = treeCpuSeconds(pid);
      let bytes = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          for (;;) {
            const i = next++;
            if (i >= total) return;
            const body = messages[i % messages.length];
            const t0 = performance.now();
            const status = await postOne(body);
            latencies.push(performance.now() - t0);
            if (status === 202) bytes += body.length;
            else failures++;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const serverCpu = cpuSecondsOf(pid) - cpuBefore;
      // The background child (web indexer, workers) runs beside intake on the same cores: its CPU
      // during the run is part of what a report costs, and the group's memory what the host needs.
      const groupCpu = cpuSecondsBetween(groupCpuBefore, treeCpuSeconds(pid));
      const groupPeak = treeStatusBytes(pid, 'VmHWM');
      writing = false;
      await Promise.all(readerLoops);
      agent.destroy();
      readerAgent.destroy();
      latencies.sort((a, b) => a - b);
      process.stdout.write(
        `${clients} clients, ${total} reports (${failures} failed): ${(total / seconds).toFixed(0)} reports/s, \
${(bytes / 1e6 / seconds).toFixed(1)} MB/s, ` +
          `latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
          `server ${(total / serverCpu).toFixed(0)} reports/CPU-s, ` +
          `server peak RSS ${mb(procStatusBytes(pid, 'VmHWM'))}; ` +
          `with its background child ${(total / groupCpu).toFixed(0)} reports/CPU-s, sum of peak RSS ${mb(groupPeak)}` +
          (readers > 0
            ? `; meanwhile ${readers} readers: ${reads} audited report reads (${(reads / seconds).toFixed(0)}/s, \
${readFailures} failed)`
            : '') +
          '\n',
      );
    } finally {
      proc.kill('SIGTERM');
      await new Promise((resolve) => proc.once('exit', resolve));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
