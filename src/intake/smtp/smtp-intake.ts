/**
 * The reporting mailbox: an SMTP server (smtp-server) that takes forwarded spam, ARF feedback
 * reports and redirects, and answers `250` only once the reports are durably committed.
 *
 * - SIZE (RFC 1870) is announced in EHLO with the configured limit; a larger mail gets 552.
 * - STARTTLS (RFC 3207) is offered only when a certificate and key are configured.
 * - Connection limits (RFC 5321 §3.8, 421 with the reason): per client address and in all, where
 *   a newcomer displaces the oldest idle connection of the address holding the most
 *   (connection-table.ts); a client idle `smtpIdleTimeoutMs`, or not at DATA within
 *   `smtpPreDataTimeoutMs` of its greeting or last mail, is disconnected, so idle connections
 *   cannot hold the mailbox (slowloris).
 * - Mails per minute per client (451, retry later).
 * - Refusals carry the reason: 550 not an e-mail, 554 no attached message, 552 too large.
 * It never relays: every accepted mail ends in the report writer, whatever the recipient.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { AppContext } from '../../evidence/context.ts';
import type { RunningService, ServiceFactory } from '../../evidence/context.ts';
import { isAppError } from '../../core/errors.ts';
import { acceptMail, trackingUrl, type AcceptedMail } from './accept-mail.ts';
import { relayAckSender, shouldAcknowledge, type AckSender } from './ack.ts';
import { WindowLimiter } from './rate-limiter.ts';
import { ConnectionTable } from './connection-table.ts';
import type { Reservation } from '../../core/inflight-budget.ts';
import { MailThreads } from './mail-threads.ts';

const BUDGET_REPLY = 'Too many messages are being received at once; nothing was stored, try again later.';
import type { DnsResolver } from '../../analysis/stage.ts';
import { StaticZoneResolver } from '../../analysis/ports/dns-static-zone.ts';
import { liveDnsResolver } from '../../analysis/ports/dns-live.ts';
import { BudgetedResolver } from '../../analysis/ports/dns-budget.ts';

/** Most recipients per mail (a reporting mailbox needs one). */
export const MAX_RECIPIENTS = 20;
/** How long `stop()` waits for sessions in flight before closing them. */
const CLOSE_TIMEOUT_MS = 5000;

export interface SmtpIntakeOptions {
  /** Overrides the acknowledgement sender (the actions area's outbox, tests). */
  ackSender?: AckSender | null;
  /** Overrides `smtpHost`/`smtpPort` (tests). */
  host?: string;
  /** Where large mails are taken apart (default: threads of their own, mail-threads.ts). */
  mailThreads?: MailThreads;
  port?: number;
  /** DNS for authenticating forwarders (default: live, or empty when `dnsMode` is offline). */
  dns?: DnsResolver;
}

/** An SMTP error reply for smtp-server: `responseCode` is what the client sees. */
class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message.replace(/[\r\n]+/g, ' '));
  }
}

function replyFor(e: unknown): SmtpReply {
  if (isAppError(e)) return new SmtpReply(e.smtp, e.message);
  return new SmtpReply(451, 'Local error while storing the report; please retry later.');
}

/** The running SMTP intake. */
export class SmtpIntake implements RunningService {
  private server: SMTPServer | null = null;
  private readonly mailLimiter: WindowLimiter;
  private readonly connections: ConnectionTable;
  /** Per session: the deadline by which it must reach DATA (see `smtpPreDataTimeoutMs`). */
  private readonly preDataTimers = new Map<string, NodeJS.Timeout>();
  private readonly ack: AckSender | null;
  /** Per session: its share of the in-flight memory budget, from MAIL FROM to the answer. */
  private readonly reservations = new Map<string, Reservation>();
  /** Acknowledgements in flight, awaited on stop. */
  private readonly pendingAcks = new Set<Promise<void>>();
  /** Large mails are taken apart there, off the thread that answers HTTP and SMTP. */
  readonly mailThreads: MailThreads;

  constructor(
    private readonly ctx: AppContext,
    private readonly opts: SmtpIntakeOptions = {},
  ) {
    this.mailLimiter = new WindowLimiter(ctx.config.smtpRateLimit, 60_000);
    this.connections = new ConnectionTable(ctx.config.smtpMaxConnections, ctx.config.smtpMaxConnectionsPerClient);
    this.mailThreads = opts.mailThreads ?? new MailThreads();
    this.ack =
      opts.ackSender !== undefined ? opts.ackSender : ctx.config.smtpAckEnabled ? relayAckSender(ctx.config) : null;
    this.dns =
      opts.dns ??
      (ctx.config.dnsMode === 'offline'
        ? new StaticZoneResolver()
        : liveDnsResolver({ timeoutMs: ctx.config.dnsTimeoutMs }));
  }

  private readonly dns: DnsResolver;

  async start(): Promise<this> {
    const { config } = this.ctx;
    const tls =
      config.smtpTlsCert && config.smtpTlsKey
        ? { cert: fs.readFileSync(config.smtpTlsCert), key: fs.readFileSync(config.smtpTlsKey) }
        : null;
    const server = new SMTPServer({
      name: config.smtpServerName,
      banner: 'Spamdesk reporting mailbox: forward spam as attachment',
      size: config.maxMessageBytes,
      secure: false,
      ...(tls ? { key: tls.key, cert: tls.cert } : {}),
      // Hiding STARTTLS from EHLO is not enough: smtp-server still answers the command with the
      // expired self-signed certificate it bundles, and the report would say `tls: true`.
      hideSTARTTLS: tls === null,
      disabledCommands: tls === null ? ['AUTH', 'STARTTLS'] : ['AUTH'],
      authOptional: true,
      // Our own admission (onConnect) keeps the count at smtpMaxConnections; this hard cap of
      // smtp-server also counts connections being closed, hence the margin.
      maxClients: 2 * config.smtpMaxConnections,
      socketTimeout: config.smtpIdleTimeoutMs,
      // A reverse lookup per connection before the greeting costs a DNS round trip to anyone and
      // is not used: forwarders are authenticated by SPF/DKIM.
      disableReverseLookup: true,
      closeTimeout: CLOSE_TIMEOUT_MS,
      logger: false,
      onConnect: (session, cb) => this.onConnect(session, cb),
      // smtp-server calls onClose for refused connections too: releasing an unknown id is a no-op.
      onClose: (session) => {
        this.connections.release(session.id);
        this.clearPreData(session.id);
        this.releaseBudget(session.id);
      },
      onMailFrom: (address, session, cb) => this.onMailFrom(address.args, session, cb),
      onRcptTo: (_address, session, cb) => {
        if (session.envelope.rcptTo.length >= MAX_RECIPIENTS)
          return cb(new SmtpReply(452, `Too many recipients (at most ${MAX_RECIPIENTS}).`));
        cb();
      },
      onData: (stream, session, cb) => this.onData(stream, session, cb),
    });
    server.on('error', (err) => this.ctx.logger.warn({ err, component: 'smtp' }, 'SMTP connection error'));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.opts.port ?? config.smtpPort, this.opts.host ?? config.smtpHost, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return this;
  }

  /** The bound address (port 0 resolved). */
  address(): { host: string; port: number } {
    const a = this.server?.server.address();
    if (!a || typeof a === 'string') throw new Error('SMTP intake is not listening');
    return { host: (a as AddressInfo).address, port: (a as AddressInfo).port };
  }

  describe(): string {
    const { host, port } = this.address();
    const tls = this.ctx.config.smtpTlsCert && this.ctx.config.smtpTlsKey ? 'STARTTLS' : 'no TLS';
    return `SMTP intake on ${host}:${port} (${tls}, max ${this.ctx.config.maxMessageBytes} bytes)`;
  }

  /** Connections currently admitted (for tests and the status line). */
  openConnections(): number {
    return this.connections.size;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.allSettled([...this.pendingAcks]);
    await this.mailThreads.close();
    this.ack?.close?.();
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const a = this.connections.admit(session.id, session.remoteAddress);
    if (!a.ok) {
      this.ctx.metrics.errors.inc({ kind: 'smtp_connection_refused' });
      cb(new SmtpReply(421, a.reason));
      return;
    }
    if (a.evict !== null) {
      this.ctx.metrics.errors.inc({ kind: 'smtp_connection_evicted' });
      this.disconnect(
        a.evict,
        'Too many connections from your address while others wait; closing this idle one, try again later.',
      );
    }
    this.armPreData(session.id);
    cb();
  }

  /** (Re)starts the time a session has to reach DATA. */
  private armPreData(id: string): void {
    this.clearPreData(id);
    const timer = setTimeout(() => {
      this.preDataTimers.delete(id);
      this.ctx.metrics.errors.inc({ kind: 'smtp_pre_data_timeout' });
      this.disconnect(
        id,
        `No mail within ${Math.round(this.ctx.config.smtpPreDataTimeoutMs / 1000)} s; closing connection.`,
      );
    }, this.ctx.config.smtpPreDataTimeoutMs);
    timer.unref();
    this.preDataTimers.set(id, timer);
  }

  private clearPreData(id: string): void {
    const t = this.preDataTimers.get(id);
    if (t) clearTimeout(t);
    this.preDataTimers.delete(id);
  }

  /** Answers 421 with the reason and closes one session (RFC 5321 §3.8). */
  private disconnect(id: string, reason: string): void {
    this.connections.release(id);
    this.clearPreData(id);
    for (const conn of this.server?.connections ?? []) {
      if (conn.id !== id) continue;
      conn.send(421, `${conn.name} ${reason}`);
      conn.close();
      return;
    }
  }

  private releaseBudget(id: string): void {
    this.reservations.get(id)?.release();
    this.reservations.delete(id);
  }

  private onMailFrom(args: unknown, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    // A new transaction (after RSET or a previous mail) gives back what the last one held.
    this.releaseBudget(session.id);
    const key = session.remoteAddress;
    if (!this.mailLimiter.tryTake(key)) {
      this.ctx.metrics.errors.inc({ kind: 'smtp_rate_limited' });
      const retry = this.mailLimiter.retryAfterSeconds(key);
      cb(
        new SmtpReply(
          451,
          `Rate limit: at most ${this.mailLimiter.max} mails per minute from ${key}; retry in ${retry} s.`,
        ),
      );
      return;
    }
    // Refuse at once when the declared SIZE (RFC 1870) cannot fit beside the mails being received:
    // 452 asks the client to come back later (RFC 5321 §4.2.3) before it sends a byte. Nothing is
    // held until DATA, so a client idling after MAIL FROM holds no memory.
    const declared = Number((args as { SIZE?: unknown } | null | undefined)?.SIZE);
    if (
      !this.ctx.intakeBudget.fits(
        Number.isFinite(declared) && declared > 0 ? Math.min(declared, this.ctx.config.maxMessageBytes) : 1,
      )
    ) {
      this.ctx.metrics.errors.inc({ kind: 'smtp_memory_budget' });
      cb(new SmtpReply(452, BUDGET_REPLY));
      return;
    }
    cb();
  }

  private onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    done: (err?: Error | null, message?: string) => void,
  ): void {
    // In the middle of a mail: neither the DATA deadline nor eviction applies until it is answered.
    this.clearPreData(session.id);
    this.connections.setBusy(session.id, true);
    const cb = (err?: Error | null, message?: string) => {
      // Answered: the evidence is committed (or refused) and the buffers are dropped below.
      this.releaseBudget(session.id);
      this.connections.setBusy(session.id, false);
      if (this.connections.has(session.id)) this.armPreData(session.id);
      done(err, message);
    };
    let chunks: Buffer[] = [];
    // Every byte kept is counted in the memory budget shared with HTTP; past it the rest is only
    // drained and the mail answered 452 (retry later).
    const held = this.ctx.intakeBudget.tryReserve(0);
    let overBudget = held === null;
    if (held) this.reservations.set(session.id, held);
    stream.on('data', (chunk: Buffer) => {
      // Past the size limit or the budget we only drain the stream, keeping nothing.
      if (stream.sizeExceeded || overBudget) return;
      if (held?.tryGrow(chunk.length)) {
        chunks.push(chunk);
        return;
      }
      overBudget = true;
      chunks = [];
      held?.release();
    });
    stream.on('error', (err) => cb(replyFor(err)));
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        const limit = this.ctx.config.maxMessageBytes;
        cb(new SmtpReply(552, `Message too large: the limit is ${limit} bytes.`));
        return;
      }
      if (overBudget) {
        this.ctx.metrics.errors.inc({ kind: 'smtp_memory_budget' });
        cb(new SmtpReply(452, BUDGET_REPLY));
        return;
      }
      const raw = Buffer.concat(chunks);
      const env = {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
        clientIp: session.remoteAddress ?? null,
        heloName: session.hostNameAppearsAs ?? null,
        tls: session.secure === true,
      };
      chunks = [];
      // Each mail gets its own lookup budget (SPF alone may cost 10). A large mail's bytes move to
      // a mail thread: `raw` is not read after this call.
      const dns = new BudgetedResolver(this.dns, this.ctx.config.dnsMaxLookups);
      acceptMail(this.ctx, raw, env, dns, this.mailThreads).then(
        (accepted) => {
          const ids = accepted.reports.map((r) => r.id).join(' ');
          cb(null, `Stored ${accepted.reports.length} report${accepted.reports.length === 1 ? '' : 's'}: ${ids}`);
          this.acknowledge(accepted);
        },
        (e: unknown) => {
          if (!isAppError(e)) this.ctx.logger.error({ err: e, component: 'smtp' }, 'storing a mail failed');
          else this.ctx.metrics.errors.inc({ kind: `smtp_${e.code.toLowerCase()}` });
          cb(replyFor(e));
        },
      );
    });
  }

  private acknowledge(accepted: AcceptedMail): void {
    if (!this.ack || accepted.extraction.arf) return;
    // Never write to an address the mail did not prove: that would be backscatter.
    if (!accepted.reporterAuth.verified) return;
    if (!shouldAcknowledge(accepted.reporterAddress, accepted.autoSubmitted)) return;
    const fresh = accepted.reports.map((r, i) => ({ r, quality: accepted.qualities[i] })).filter((x) => !x.r.duplicate);
    if (fresh.length === 0) return;
    const p = this.ack
      .send({
        to: accepted.reporterAddress,
        reports: fresh.map((x) => ({
          id: x.r.id,
          trackingUrl: trackingUrl(this.ctx, x.r.trackingToken),
          quality: x.quality,
        })),
        inReplyTo: accepted.extraction.wrapper.messageId,
        subject: accepted.extraction.wrapper.subject,
      })
      .catch((err: unknown) => this.ctx.logger.warn({ err, component: 'smtp' }, 'acknowledgement mail failed'))
      .finally(() => this.pendingAcks.delete(p));
    this.pendingAcks.add(p);
  }
}

/** Listed in `intake/area.ts`: `serve` runs the SMTP intake unless `smtpEnabled` is off. */
export const smtpIntakeService: ServiceFactory = {
  name: 'smtp-intake',
  role: 'smtp',
  enabled: (ctx) => ctx.config.smtpEnabled,
  start: (ctx) => new SmtpIntake(ctx).start(),
};
