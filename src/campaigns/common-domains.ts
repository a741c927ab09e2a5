/**
 * Registrable domains that unrelated senders all link to: big platforms, e-mail service providers'
 * click-tracking and image hosts, standards bodies. A shared link to one of these says nothing
 * about who is behind two messages, so they never form a strong campaign link (they still count
 * in a campaign's story). Hosting platforms whose customers get their own sub-domain are handled
 * by tldts' private suffixes (`*.github.io`, `*.web.app`, …), which make the customer's name the
 * registrable domain.
 */
import { BRANDS } from '../analysis/data/brands.ts';

export const COMMON_DOMAINS: ReadonlySet<string> = new Set([
  // platforms and their CDNs
  'google.com',
  'googleapis.com',
  'gstatic.com',
  'googleusercontent.com',
  'youtube.com',
  'youtu.be',
  'gmail.com',
  'microsoft.com',
  'office.com',
  'office365.com',
  'outlook.com',
  'live.com',
  'hotmail.com',
  'msn.com',
  'bing.com',
  'aka.ms',
  'microsoftonline.com',
  'sharepoint.com',
  'onedrive.com',
  'windows.net',
  'azureedge.net',
  'azurewebsites.net',
  'akamaihd.net',
  'apple.com',
  'icloud.com',
  'facebook.com',
  'fb.com',
  'instagram.com',
  'twitter.com',
  'x.com',
  'linkedin.com',
  'pinterest.com',
  'whatsapp.com',
  'tiktok.com',
  'yahoo.com',
  'aol.com',
  'amazon.com',
  'amazonaws.com',
  'cloudfront.net',
  'cloudflare.com',
  'akamai.net',
  'fastly.net',
  'wikipedia.org',
  'github.com',
  'mozilla.org',
  'adobe.com',
  'dropbox.com',
  'paypal.com',
  // free hosting where customers get a path or a sub-domain outside the public suffix list
  'geocities.com',
  'tripod.com',
  'angelfire.com',
  'freewebs.com',
  'webs.com',
  'bravenet.com',
  'homestead.com',
  'fc2.com',
  // standards and markup boilerplate
  'w3.org',
  'schema.org',
  'ietf.org',
  'xmlns.com',
  'purl.org',
  'openxmlformats.org',
  // e-mail service providers: tracking, unsubscribe and image hosts shared by all their customers
  'sendgrid.net',
  'sendgrid.com',
  'list-manage.com',
  'mailchimp.com',
  'mcusercontent.com',
  'mcsv.net',
  'mcdlv.net',
  'mailgun.org',
  'mailgun.net',
  'sparkpostmail.com',
  'amazonses.com',
  'exacttarget.com',
  'exct.net',
  'hubspot.com',
  'hubspotemail.net',
  'hs-sites.com',
  'constantcontact.com',
  'rs6.net',
  'sendinblue.com',
  'brevo.com',
  'sibforms.com',
  'klaviyo.com',
  'klclick.com',
  'mailjet.com',
  'mjt.lu',
  'campaign-archive.com',
  'createsend.com',
  'cmail19.com',
  'cmail20.com',
  'mandrillapp.com',
  'postmarkapp.com',
  'salesforce.com',
  'marketo.com',
  'mktoweb.com',
  'emarsys.net',
  // More e-mail service providers' link, image and form hosts (2026-12-06: aweber.com and responsys.net
  // had been published as domain indicators of the one spam each carried).
  'rsgsv.net',
  'hubspotlinks.com',
  'hsforms.com',
  'pardot.com',
  'aweber.com',
  'getresponse.com',
  'mailerlite.com',
  'convertkit.com',
  'ck.page',
  'icontact.com',
  'ymlp.com',
  'sailthru.com',
  'responsys.net',
  'bronto.com',
  'msgfocus.com',
  'returnpath.net',
  'email-od.com',
  'doubleclick.net',
  'google-analytics.com',
  'imgur.com',
  'gravatar.com',
  'wp.com',
  'wordpress.com',
  'blogger.com',
  'typeform.com',
  'forms.gle',
]);

/**
 * The impersonated brands' own domains: phishing links to the real brand for its logo, its
 * privacy page and its help centre, so every campaign against a brand shares them.
 */
const BRAND_DOMAINS: ReadonlySet<string> = new Set(BRANDS.flatMap((b) => b.domains.map((d) => d.toLowerCase())));

/** True when a strong link on this registrable domain would join unrelated senders. */
export function isCommonDomain(domain: string): boolean {
  const d = domain.toLowerCase();
  return COMMON_DOMAINS.has(d) || BRAND_DOMAINS.has(d);
}
