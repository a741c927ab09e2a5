/**
 * Acknowledgement mails to people who forwarded a report by mail, with their private tracking
 * link. Sending sits behind {@link AckSender} so the actions area can route acknowledgements
 * through its durable outbox; the default sends directly through a configured relay with
 * nodemailer, best effort (a lost acknowledgement never loses a report).
 */
import nodemailer from 'nodemailer';
import type { Config } from '../../core/config.ts';

/** One acknowledgement: who gets it and which reports it confirms. */
export interface Ack {
  to: string;
  reports: { id: string; trackingUrl: string; quality: 'full' | 'inline' }[];
  /** Message-ID of the forwarded mail, to thread the acknowledgement under it. */
  inReplyTo: string | null;
  /** Subject of the forwarded mail. */
  subject: string | null;
}

/** Delivers acknowledgements. */
export interface AckSender {
  send(ack: Ack): Promise<void>;
  close?(): void;
}

/** The plain-text acknowledgement (no HTML, no remote content). */
export function renderAck(ack: Ack): { subject: string; text: string } {
  const lines = [
    ack.reports.length === 1
      ? 'Thank you: your report was received and stored as evidence.'
      : `Thank you: your ${ack.reports.length} reports were received and stored as evidence.`,
    '',
    'Follow what becomes of it with your private link (do not share it):',
    ...ack.reports.map(
      (r) =>
        `  ${r.trackingUrl}${
          r.quality === 'inline'
            ? '  (forwarded inline: the original headers were partly lost; ' + 'next time please forward as attachment)'
            : ''
        }`,
    ),
    '',
    'This is an automatic message; replies are not read.',
  ];
  const subject = `Report received${ack.subject ? `: ${ack.subject.replace(/[\r\n]+/g, ' ').slice(0, 120)}` : ''}`;
  return { subject, text: lines.join('\n') };
}

/** Sends through the configured relay (`smtpAckRelayUrl`) with nodemailer. */
export function relayAckSender(config: Config): AckSender {
  if (!config.smtpAckRelayUrl)
    throw new Error('SPAMDESK_SMTP_ACK_RELAY_URL must be set when SPAMDESK_SMTP_ACK_ENABLED is on');
  const transport = nodemailer.createTransport(config.smtpAckRelayUrl);
  return {
    async send(ack) {
      const { subject, text } = renderAck(ack);
      await transport.sendMail({
        from: config.smtpAckFrom,
        to: ack.to,
        subject,
        text,
        // RFC 3834: automatic responses say so, so that other robots do not answer them.
        headers: { 'Auto-Submitted': 'auto-replied' },
        ...(ack.inReplyTo ? { inReplyTo: ack.inReplyTo, references: ack.inReplyTo } : {}),
      });
    },
    close() {
      transport.close();
    },
  };
}

/**
 * Whether an address should get an acknowledgement: never the null sender, mailer daemons or
 * no-reply robots (RFC 3834 §2: do not respond to automatic mail), so we never cause backscatter.
 */
export function shouldAcknowledge(address: string | null, autoSubmitted: string | null): address is string {
  if (!address?.includes('@')) return false;
  if (autoSubmitted && autoSubmitted.trim().toLowerCase() !== 'no') return false;
  const local = address.split('@')[0].toLowerCase();
  return !/^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|fbl|feedback-?loop)([+.-]|$)/.test(local);
}
