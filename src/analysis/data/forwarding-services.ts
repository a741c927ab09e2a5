/**
 * Forwarding services a recipient sets up for their own mail: an alias or disposable-address
 * service, a domain's forward-only MX. Registered domains (public suffix list) of the machines that
 * forward the mail; matched only against a reverse name the believed receiver looked up and found to
 * resolve back (not a HELO, not "may be forged", not a qmail name): the service's operator, not the
 * sender, writes those names. The trace-back treats such a hop as the receiving side (SpamCop's
 * declared mail hosts; an ISP alert must never blame the forwarder's network) and names the machine
 * that handed the message to the forwarder.
 *
 * Kept to services whose inbound forwarding hosts carry their own domain; a hosting company that
 * also forwards is listed only when its mail hosts are named in it (`mailwizards.com`).
 */
export const FORWARDING_SERVICES: readonly string[] = [
  'improvmx.com', // ImprovMX: forward-only MX for custom domains (mx1/mx2.improvmx.com, *.infra.improvmx.com)
  'sneakemail.com', // disposable addresses forwarded to the user's mailbox
  'mailwizards.com', // Mail Wizards: domain hosting whose mail hosts forward to the owner's mailbox
  'pobox.com', // Pobox: lifetime addresses forwarded to the user's mailbox
  'forwardemail.net', // Forward Email: forward-only MX for custom domains
  'simplelogin.co', // SimpleLogin aliases
  'anonaddy.me', // addy.io (AnonAddy) aliases
  'addy.io',
  'duck.com', // DuckDuckGo Email Protection
  '33mail.com',
  'spamgourmet.com',
  'mailhop.org', // Dyn/Oracle mail forwarding
];
