/**
 * URL shorteners and open redirectors: a link through one of these hides where it really goes.
 * Maintained by hand (analysis core); registrable domains or exact hosts, lower case. Sources:
 * the shorteners seen in the corpora, the well-known public services, and redirectors abused in
 * phishing campaigns (Google/Bing click trackers, Mailchimp-style links stay out: they are the
 * sender's own tracking, not concealment).
 */
export const SHORTENER_DOMAINS: ReadonlySet<string> = new Set([
  'bit.ly', 'bitly.com', 'j.mp', 'tinyurl.com', 'tiny.cc', 'goo.gl', 'ow.ly', 'is.gd', 'v.gd', 'buff.ly', 't.co',
  'rebrand.ly', 'cutt.ly', 'shorturl.at', 'rb.gy', 't.ly', 'tr.im', 'x.co', 'lnkd.in', 'db.tt', 'qr.ae', 'adf.ly',
  'bl.ink', 'short.io', 'shorte.st', 'soo.gd', 's.id', 'clck.ru', 'u.to', 'urlz.fr', 'snip.ly', 'tny.im', 'ur1.ca',
  'yourls.org', 'po.st', 'mcaf.ee', 'su.pr', 'fb.me', 'youtu.be', 'amzn.to', 'linktr.ee', 'shorturl.com', 'qrco.de',
  'gg.gg', 'ouo.io', 'zpr.io', 'hyperurl.co', 'lnk.to', 'tinu.be', 'shrtco.de', '1url.com', 'url.ie', 'tiny.one',
  'kutt.it', 'bitly.ws', '2u.pw', 'rlu.ru', 'vk.cc', 'surl.li', 'dub.sh', 'chilp.it', 'cli.gs', 'dlvr.it', 'ift.tt',
  'go2l.ink', 'wp.me', 'smarturl.it', 'trib.al', 'shorl.com', 'tinyurl.hu', 'v.ht', 'l.ead.me', 'urlr.me',
  'href.li', 'cutt.us', 'rotf.lol', 'n9.cl', '0rz.tw', 'xurl.es', 'ity.im', 'q.gs', 'bc.vc', 'sh.st', 'zzb.bz',
]);

/** Redirectors: a host and path prefix whose query carries the real destination. */
export const REDIRECTORS: readonly { host: string; pathPrefix: string }[] = [
  { host: 'www.google.com', pathPrefix: '/url' },
  { host: 'google.com', pathPrefix: '/url' },
  { host: 'www.bing.com', pathPrefix: '/ck/a' },
  { host: 'l.facebook.com', pathPrefix: '/l.php' },
  { host: 'lm.facebook.com', pathPrefix: '/l.php' },
  { host: 'l.instagram.com', pathPrefix: '/' },
  { host: 'www.youtube.com', pathPrefix: '/redirect' },
  { host: 'slack-redir.net', pathPrefix: '/link' },
  { host: 'href.li', pathPrefix: '/' },
  { host: 'away.vk.com', pathPrefix: '/away.php' },
  { host: 'www.linkedin.com', pathPrefix: '/redir' },
  { host: 'safelinks.protection.outlook.com', pathPrefix: '/' },
  { host: 'urldefense.com', pathPrefix: '/v3/' },
  { host: 'urldefense.proofpoint.com', pathPrefix: '/v2/' },
];

/** True when the URL goes through a shortener or a known open redirector. */
export function isShortenerOrRedirector(host: string, registrableDomain: string | null, pathname: string): boolean {
  if (SHORTENER_DOMAINS.has(host) || (registrableDomain !== null && SHORTENER_DOMAINS.has(registrableDomain))) return true;
  if (host.endsWith('.safelinks.protection.outlook.com')) return true;
  return REDIRECTORS.some((r) => r.host === host && pathname.startsWith(r.pathPrefix));
}
