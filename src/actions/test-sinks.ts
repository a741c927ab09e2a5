/**
 * Real receivers for the actions area's tests: an SMTP sink (smtp-server on port 0) and a webhook
 * receiver (node:http on port 0). They record what arrives; nothing is mocked.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SunkMail {
  from: string;
  to: string[];
  raw: Buffer;
  messageId: string | null;
}

export interface SmtpSink {
  url: string;
  mails: SunkMail[];
  /** Recipients answered `550 mailbox unavailable` at RCPT TO (a permanent failure). */
  rejectRecipients: Set<string>;
  close(): Promise<void>;
  /** Resolves once `n` mails have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

function messageIdOf(raw: Buffer): string | null {
  const head = raw.subarray(0, Math.max(0, raw.indexOf('\r\n\r\n')) || raw.length).toString('latin1');
  return /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(head)?.[1] ?? null;
}

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An SMTP server that accepts everything; `delayMs` holds each DATA reply (to catch a crash mid-send). */
export async function startSmtpSink(opts: { delayMs?: number } = {}): Promise<SmtpSink> {
  const mails: SunkMail[] = [];
  const rejectRecipients = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!rejectRecipients.has(address.address.toLowerCase())) return callback();
      const err = Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 });
      callback(err);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        mails.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw, messageId: messageIdOf(raw) });
        setTimeout(() => callback(), opts.delayMs ?? 0);
      });
    },
  });
  // A client killed mid-transaction resets its connection; that is expected here, not a failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    rejectRecipients,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    waitFor: (n, timeoutMs = 20_000) => waitUntil(() => mails.length >= n, timeoutMs, `${n} mails`),
  };
}

export interface WebhookCall {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface WebhookSink {
  url: string;
  calls: WebhookCall[];
  /** Status to answer with, by call number (default 200). */
  statusFor: (n: number) => number;
  close(): Promise<void>;
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

export async function startWebhookSink(statusFor: (n: number) => number = () => 200): Promise<WebhookSink> {
  const calls: WebhookCall[] = [];
  const sink: WebhookSink = {
    url: '',
    calls,
    statusFor,
    close: async () => undefined,
    waitFor: (n, timeoutMs = 20_000) => waitUntil(() => calls.length >= n, timeoutMs, `${n} webhook calls`),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.statusCode = sink.statusFor(calls.length);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  sink.url = `http://127.0.0.1:${port}/hook`;
  sink.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return sink;
}
