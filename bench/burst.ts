/**
 * A burst of large SMTP messages against a real `spamdesk serve` (SQLite, no workers): N clients
 * from N loopback addresses each send one ~24 MB forward at once and, like an MTA, come back 1 s
 * after a 4xx until it is taken. Meanwhile a probe asks `GET /healthz` every 50 ms. Prints the
 * answers (250 / 452), the probe's worst and p99 latency, the server's peak RSS, and its RSS
 * after 15 s idle (does memory come back once the burst is over?).
 *
 *   npm run bench -- burst
 *   SPAMDESK_BENCH_BURST_CLIENTS=30 SPAMDESK_BENCH_BURST_MB=24 npm run bench -- burst
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Bench } from './registry.ts';
import { mb, percentile } from './lib.ts';
import { procStatusBytes, startBenchServer } from './server.ts';

function get(url: string): Promise<number> {
  const t = performance.now();
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(performance.now() - t));
      })
      .on('error', () => resolve(performance.now() - t));
  });
}

function bigForward(i: number, bytes: number): Buffer {
  const line = `${'spam '.repeat(15)}${i}\r\n`;
  const inner = `From: a@spam.example\r\nTo: b@example.org\r\nSubject: burst ${i}\r\nMessage-ID: \
<burst-${i}-${Date.now()}@spam.example>\r\n\r\n${line.repeat(Math.floor(bytes / line.length))}`;
  return Buffer.from(
    `From: f${i}@example.org\r\nTo: spam@report.test\r\nSubject: fw ${i}\r\nMIME-Version: 1.0\r\nContent-Type: \
message/rfc822\r\n\r\n${inner}`,
  );
}

export const burstBench: Bench = {
  name: 'burst',
  description: 'N × ~24 MB SMTP messages at once: refusals, stalls of other requests, peak and idle RSS',
  async run() {
    const clients = Number(process.env.SPAMDESK_BENCH_BURST_CLIENTS ?? 30);
    const size = Number(process.env.SPAMDESK_BENCH_BURST_MB ?? 24) * 1024 * 1024;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-burst-'));
    const server = await startBenchServer([
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--smtp-port',
      '0',
      '--workers',
      '0',
      '--log-level',
      'warn',
      '--dns-mode',
      'offline',
      '--smtp-rate-limit',
      '1000',
    ]);
    const { proc, url } = server;
    try {
      const err = server.stderr();
      const smtpPort = Number(/SMTP intake on [^:]+:(\d+)/.exec(err)?.[1]);
      const pid = proc.pid ?? 0;
      const rssStart = procStatusBytes(pid, 'VmRSS');
      const messages = Array.from({ length: clients }, (_, i) => bigForward(i, size));
      const probes: number[] = [];
      let probing = true;
      const probe = (async () => {
        while (probing) {
          probes.push(await get(`${url}/healthz`));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      let refusals = 0;
      const started = performance.now();
      await Promise.all(
        messages.map(async (raw, i) => {
          const tr = nodemailer.createTransport({
            host: '127.0.0.1',
            port: smtpPort,
            secure: false,
            ignoreTLS: true,
            localAddress: `127.0.1.${i + 1}`,
            socketTimeout: 300_000,
          });
          try {
            for (;;) {
              try {
                await tr.sendMail({ envelope: { from: `f${i}@example.org`, to: ['spam@report.test'] }, raw });
                return;
              } catch (e) {
                const code = (e as { responseCode?: number }).responseCode ?? 0;
                if (code < 400 || code >= 500) throw e;
                refusals++;
                await new Promise((r) => setTimeout(r, 1000));
              }
            }
          } finally {
            tr.close();
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      probing = false;
      await probe;
      const peak = procStatusBytes(pid, 'VmHWM');
      await new Promise((r) => setTimeout(r, 15_000));
      const idle = procStatusBytes(pid, 'VmRSS');
      probes.sort((a, b) => a - b);
      process.stdout.write(
        `${clients} × ${mb(size)} over SMTP in ${seconds.toFixed(1)} s, all stored; ${refusals} temporary refusal(s) \
(4xx, retried after 1 s)\n` +
          `GET /healthz meanwhile: ${probes.length} probes, p50 ${percentile(probes, 50).toFixed(0)} ms, p99 \
${percentile(probes, 99).toFixed(0)} ms, worst ${(probes.at(-1) ?? 0).toFixed(0)} ms\n` +
          `server RSS: ${mb(rssStart)} at start, peak ${mb(peak)}, ${mb(idle)} after 15 s idle\n`,
      );
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
