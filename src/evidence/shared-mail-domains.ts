/**
 * Mailbox providers whose domains millions of people share: a recipient's address at one of these
 * says nothing about who they are beyond the address itself, so only the address is redacted.
 * Any other domain of the reporter (a family domain, a small firm, a school) identifies them or
 * their employer, so its host names are redacted too (`mx.lea-martin.fr` → `redacted.invalid`).
 *
 * The list is registrable domains (tldts), lower case: the large webmail services, the French and
 * European consumer ISPs (this platform's first users), and privacy providers. A domain missing
 * here is redacted: the safe error.
 */
export const SHARED_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  // webmail and large providers
  'gmail.com', 'googlemail.com', 'outlook.com', 'outlook.fr', 'hotmail.com', 'hotmail.fr', 'hotmail.co.uk', 'hotmail.de', 'hotmail.it',
  'hotmail.es', 'hotmail.be', 'live.com', 'live.fr', 'live.be', 'live.co.uk', 'msn.com', 'passport.com', 'yahoo.com', 'yahoo.fr',
  'yahoo.co.uk', 'yahoo.de', 'yahoo.es', 'yahoo.it', 'ymail.com', 'rocketmail.com', 'aol.com', 'aol.fr', 'icloud.com', 'me.com',
  'mac.com', 'gmx.com', 'gmx.fr', 'gmx.de', 'gmx.net', 'gmx.at', 'gmx.ch', 'web.de', 'mail.com', 'zoho.com', 'yandex.com', 'yandex.ru',
  'mail.ru', 'inbox.ru', 'list.ru', 'bk.ru', 'qq.com', '163.com', '126.com', 'naver.com', 'hanmail.net', 'rediffmail.com',
  'fastmail.com', 'fastmail.fm', 'hey.com', 'mailbox.org', 'posteo.de', 'posteo.net', 'tutanota.com', 'tutanota.de', 'tuta.io',
  'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me', 'disroot.org', 'riseup.net',
  // French ISPs and mailbox services
  'orange.fr', 'wanadoo.fr', 'free.fr', 'sfr.fr', 'neuf.fr', 'cegetel.net', 'club-internet.fr', 'noos.fr', 'numericable.fr',
  'bbox.fr', 'laposte.net', 'aliceadsl.fr', 'alice.fr', 'tele2.fr', 'nordnet.fr', '9online.fr', 'voila.fr', 'net-c.com', 'netcourrier.com',
  // Belgian, Swiss, Luxembourg, German, Italian, Spanish, Dutch, British consumer ISPs
  'skynet.be', 'telenet.be', 'proximus.be', 'voo.be', 'scarlet.be', 'bluewin.ch', 'sunrise.ch', 'hispeed.ch', 'pt.lu', 'internet.lu',
  't-online.de', 'freenet.de', 'arcor.de', 'vodafone.de', 'libero.it', 'virgilio.it', 'tiscali.it', 'alice.it', 'tim.it', 'fastwebnet.it',
  'telefonica.net', 'movistar.es', 'terra.es', 'ziggo.nl', 'kpnmail.nl', 'planet.nl', 'home.nl', 'hetnet.nl', 'xs4all.nl',
  'btinternet.com', 'sky.com', 'virginmedia.com', 'talktalk.net', 'ntlworld.com', 'blueyonder.co.uk', 'comcast.net', 'verizon.net',
  'att.net', 'sbcglobal.net', 'cox.net', 'charter.net', 'shaw.ca', 'rogers.com', 'sympatico.ca', 'bigpond.com', 'optusnet.com.au',
]);

/** True when addresses at `domain` (a registrable domain, any case) are shared by many people. */
export function isSharedMailDomain(domain: string): boolean {
  return SHARED_MAIL_DOMAINS.has(domain.toLowerCase().replace(/\.$/, ''));
}
