/**
 * Intake channels: (1) the SMTP reporting mailbox — corpus spam forwarded as attachment by
 * concurrent nodemailer clients, each mail answered 250 only after its durable commit (SQLite,
 * synchronous=FULL); (2) reporter redaction over corpus messages wrapped as forwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, mb, percentile, row, sampleRss } from './lib.ts';
import { testConfig } from '../src/core/config.ts';
import { createContext, closeContext } from '../src/app/context.ts';
import { SmtpIntake } from '../src/intake/smtp/smtp-intake.ts';
import { redactReporter } from '../src/evidence/redact.ts';

const MAILS = Number(process.env.SPAMDESK_BENCH_SMTP_MAILS ?? 600);
const CLIENTS = 8;

function corpusSpam(n: number): Buffer[] {
  const dirs = ['spam', 'spam_2'].map((d) => path.join(CORPUS_DIR, 'spamassassin', d));
  const files = dirs
    .flatMap((d) =>
      fs
        .readdirSync(d)
        .filter((f) => /^\d{5}\./.test(f))
        .map((f) => path.join(d, f)),
    )
    .sort();
  return files.slice(0, n).map((f) => fs.readFileSync(f));
}

async function smtpPart(originals: Buffer[]): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-smtp-'));
  const config = testConfig({ dataDir: dir, smtpPort: 0, smtpRateLimit: 1_000_000, sqliteSynchronous: 'FULL' });
  const ctx = await createContext(config);
  const intake = await new SmtpIntake(ctx, { ackSender: null }).start();
  const { port } = intake.address();
  const transports = Array.from({ length: CLIENTS }, () =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
    }),
  );
  const rss = sampleRss();
  const latencies: number[] = [];
  let bytes = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    transports.map(async (tr, c) => {
      for (;;) {
        const i = next++;
        if (i >= MAILS) return;
        const original = originals[i % originals.length];
        bytes += original.length;
        const t0 = performance.now();
        await tr.sendMail({
          from: `reporter${c}@example.org`,
          to: 'spam@report.test',
          subject: `Fwd: ${i}`,
          text: `report ${i}`,
          attachments: [{ content: original, contentType: 'message/rfc822', filename: `${i}.eml` }],
        });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const peak = rss.stop();
  for (const tr of transports) tr.close();
  await intake.stop();
  const stored = await ctx.db
    .selectFrom('reports')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  await closeContext(ctx);
  fs.rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const w = [26, 12, 12, 12, 12, 12];
  console.log(row(['smtp intake (sqlite FULL)', 'mails/s', 'MB/s', 'p50 ms', 'p99 ms', 'peak RSS'], w));
  console.log(
    row(
      [
        `${MAILS} mails, ${CLIENTS} clients`,
        (MAILS / seconds).toFixed(0),
        (bytes / 1024 / 1024 / seconds).toFixed(2),
        percentile(latencies, 50).toFixed(1),
        percentile(latencies, 99).toFixed(1),
        mb(peak),
      ],
      w,
    ),
  );
  console.log(`  reports stored: ${Number(stored.n)} (expected ${MAILS})`);
}

function redactPart(originals: Buffer[]): void {
  const identity = {
    addresses: ['zoe.reportertest@example-isp.fr'],
    names: ['Zoé Duclos-Marchetti'],
    numbers: ['+33612345678'],
  };
  const forwarded = originals.map((o) =>
    Buffer.concat([
      Buffer.from(
        `From: Zoé <${identity.addresses[0]}>\r\nTo: spam@report.test\r\nSubject: Fwd\r\nMIME-Version: \
1.0\r\nContent-Type: message/rfc822\r\n\r\n`,
      ),
      o,
    ]),
  );
  const rss = sampleRss();
  const times: number[] = [];
  let bytes = 0;
  const started = performance.now();
  for (const f of forwarded) {
    const t0 = performance.now();
    redactReporter(f, identity);
    times.push(performance.now() - t0);
    bytes += f.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const peak = rss.stop();
  times.sort((a, b) => a - b);
  const w = [26, 12, 12, 12, 12, 12];
  console.log(row(['redaction', 'msgs/s', 'MB/s', 'p50 ms', 'p99 ms', 'peak RSS'], w));
  console.log(
    row(
      [
        `${forwarded.length} forwards`,
        (forwarded.length / seconds).toFixed(0),
        (bytes / 1024 / 1024 / seconds).toFixed(2),
        percentile(times, 50).toFixed(2),
        percentile(times, 99).toFixed(2),
        mb(peak),
      ],
      w,
    ),
  );
}

export const channelsBench: Bench = {
  name: 'channels',
  description:
    'SMTP reporting mailbox (forwards with concurrent clients, 250 after durable commit) and reporter redaction',
  async run() {
    if (!corpusAvailable()) {
      console.log(`SKIP channels: corpus not found at ${CORPUS_DIR}`);
      return;
    }
    const originals = corpusSpam(1000);
    await smtpPart(originals);
    redactPart(originals);
  },
};
