/**
 * Acknowledgement mails to people who forwarded a report by mail, with their private tracking
 * link. Sending sits behind {@link AckSender} so the actions area can route acknowledgements
 * through its durable outbox; the default sends directly through a configured relay with
 * nodemailer, best effort (a lost acknowledgement never loses a report).
 */
import nodemailer from 'nodemailer';
import type { Config } from '../../core/config.ts';
import { regionLanguage, type AppLanguage } from '../../core/languages.ts';

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

const NB = '\u00a0';
const NNB = '\u202f';

/** The words of the acknowledgement in each language the application speaks. */
const ACK_TEXT = {
  en: {
    one: 'Thank you: your report was received and stored as evidence.',
    many: (n: number) => `Thank you: your ${n} reports were received and stored as evidence.`,
    follow: 'Follow what becomes of it with your private link (do not share it):',
    inline: '(forwarded inline: the original headers were partly lost; next time please forward as attachment)',
    robot: 'This is an automatic message; replies are not read.',
    subject: 'Report received',
    colon: ': ',
  },
  fr: {
    one: `Merci${NB}: votre signalement a été reçu et conservé comme preuve.`,
    many: (n: number) =>
      `Merci${NB}: vos ${new Intl.NumberFormat('fr-FR').format(n)}${NB}signalements ont été reçus et conservés ` +
      'comme preuves.',
    follow: `Suivez ce qu’il devient grâce à votre lien privé (ne le partagez pas)${NB}:`,
    inline:
      `(transféré dans le corps du message${NB}: les en-têtes d’origine ont été en partie perdus${NNB}; la ` +
      'prochaine fois, transférez-le en pièce jointe)',
    robot: `Ceci est un message automatique${NNB}; les réponses ne sont pas lues.`,
    subject: 'Signalement reçu',
    colon: `${NB}: `,
  },
} as const satisfies Record<AppLanguage, Record<string, unknown>>;

/**
 * The plain-text acknowledgement (no HTML, no remote content), in the instance's language (the
 * reporter forwarded a mail and chose none; see `core/languages.ts`).
 */
export function renderAck(ack: Ack, lang: AppLanguage = 'en'): { subject: string; text: string } {
  const w = ACK_TEXT[lang];
  const lines = [
    ack.reports.length === 1 ? w.one : w.many(ack.reports.length),
    '',
    w.follow,
    ...ack.reports.map((r) => `  ${r.trackingUrl}${r.quality === 'inline' ? `  ${w.inline}` : ''}`),
    '',
    w.robot,
  ];
  const subject = `${w.subject}${ack.subject ? `${w.colon}${ack.subject.replace(/[\r\n]+/g, ' ').slice(0, 120)}` : ''}`;
  return { subject, text: lines.join('\n') };
}

/** Sends through the configured relay (`smtpAckRelayUrl`) with nodemailer. */
export function relayAckSender(config: Config): AckSender {
  if (!config.smtpAckRelayUrl)
    throw new Error('SPAMDESK_SMTP_ACK_RELAY_URL must be set when SPAMDESK_SMTP_ACK_ENABLED is on');
  const transport = nodemailer.createTransport(config.smtpAckRelayUrl);
  return {
    async send(ack) {
      const lang = regionLanguage(config.region);
      const { subject, text } = renderAck(ack, lang);
      await transport.sendMail({
        from: config.smtpAckFrom,
        to: ack.to,
        subject,
        text,
        // RFC 3834: automatic responses say so, so that other robots do not answer them.
        // RFC 3282: the language of the text.
        headers: { 'Auto-Submitted': 'auto-replied', 'Content-Language': lang },
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
