/**
 * Test support of the intel feeds: reports stored through the real writer and carried through the
 * real pipeline (analysis in its worker threads, classification and clustering, actions facts),
 * so what the feeds publish is what they would publish in production.
 */
import type { TestContext } from 'node:test';
import { createTestContext, type TestAppContext } from '../../app/test-context.ts';
import { jobHandlers } from '../../app/pipeline.ts';
import { runIsolated } from '../../workers/runner.ts';
import { claimJobs, completeJob, failJob } from '../../workers/jobs.ts';
import type { DialectName } from '../../db/dialect.ts';
import type { StoredReport } from '../../evidence/report-input.ts';

export interface PhishOptions {
  n: number;
  /** Origin address (the first untrusted relay). */
  ip: string;
  to: string;
  url?: string;
  subject?: string;
  /** The operation: messages of one template share it. */
  template?: 'bank' | 'parcel' | 'lottery';
}

const TEMPLATES = {
  bank: {
    subject: 'Your account will be suspended',
    from: '"Secure Banking" <alerts@secure-bank-verify-login.com>',
    text: (url: string, n: number) =>
      `We detected unusual sign-in activity on your online banking account. To avoid the suspension of your ` +
      `account, verify your identity within 24 hours by following the secure link ${url} and confirming your card ` +
      `details. Failure to do so will result in the permanent closure of your account and the loss of your funds. ` +
      `Reference ${n}.`,
    url: 'https://secure-bank-verify-login.com/verify/account',
  },
  parcel: {
    subject: 'Your parcel is waiting: customs fee unpaid',
    from: '"Parcel Delivery" <notice@parcel-customs-fee.net>',
    text: (url: string, n: number) =>
      `Your parcel could not be delivered because a customs fee of 1.99 EUR is unpaid. Pay the fee at ${url} ` +
      `within 48 hours or the parcel will be returned to its sender. Enter your card number to release the ` +
      `shipment today. Tracking ${n}.`,
    url: 'https://parcel-customs-fee.net/pay',
  },
  lottery: {
    subject: 'Congratulations, you won the international lottery',
    from: '"Lottery Board" <claims@intl-lottery-board.org>',
    text: (url: string, n: number) =>
      `Your e-mail address was selected in the international lottery draw and you won 850,000 USD. To claim the ` +
      `prize send your full name, address and bank details to the claims agent at ${url} and pay the transfer ` +
      `fee in bitcoin to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT, or call our agent on +44 20 7946 0321. Winning ` +
      `number ${n}.`,
    url: 'https://intl-lottery-board.org/claim',
  },
} as const;

/** A phishing message as the victim received it. */
export function phish(o: PhishOptions): Buffer {
  const t = TEMPLATES[o.template ?? 'bank'];
  const date = new Date(Date.now() - 3_600_000).toUTCString().replace('GMT', '+0000');
  return Buffer.from(
    [
      `Received: from unknown (host-${o.n}.example-broadband.net [${o.ip}]) by mx.victim-mail.org with ESMTP id \
${o.n}; ${date}`,
      `From: ${t.from}`,
      `To: ${o.to}`,
      `Subject: ${o.subject ?? t.subject}`,
      `Date: ${date}`,
      `Message-ID: <phish-${o.n}@mailer.invalid>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Dear customer,',
      t.text(o.url ?? t.url, o.n),
      '',
    ].join('\r\n'),
  );
}

export interface IntelHarness extends TestAppContext {
  /** Stores reports and runs every job they cause. */
  report(messages: { raw: Buffer; reporter?: string; historical?: boolean }[]): Promise<StoredReport[]>;
}

export async function intelHarness(t: TestContext, dialect: DialectName): Promise<IntelHarness | null> {
  const h = await createTestContext(t, dialect, { dnsMode: 'offline', intelBuildIntervalMs: 0 });
  if (!h) return null;
  const handlers = jobHandlers();
  /** Runs every queued job (and those they enqueue) to the end, in this process. */
  const drain = async (): Promise<void> => {
    for (;;) {
      let n = 0;
      for (const handler of handlers) {
        const jobs = await claimJobs(h.ctx.db, 'intel-test', [handler.kind], handler.batchSize ?? 50);
        n += jobs.length;
        if (jobs.length === 0) continue;
        const errors = await runIsolated(handler, jobs, h.ctx);
        for (const j of jobs) {
          const err = errors.get(j.id);
          if (err) await failJob(h.ctx.db, j, err.message);
          else await completeJob(h.ctx.db, j.id);
        }
      }
      if (n === 0) return;
    }
  };
  return {
    ...h,
    async report(messages) {
      const stored = await h.ctx.writer.submit(
        messages.map((m) => ({
          raw: m.raw,
          channel: 'api' as const,
          reporterAddress: m.reporter ?? null,
          historical: m.historical ?? false,
        })),
      );
      await drain();
      return stored;
    },
    async close() {
      for (const handler of handlers) await handler.close?.();
      await h.close();
    },
  };
}
