/**
 * Phishing messages for the intel feeds' tests and bench: three operations (bank credentials,
 * parcel fee, lottery advance fee), each message with its own origin address, addressed to its
 * reporter. Their links, phone number and wallet are what the feeds publish.
 */
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
