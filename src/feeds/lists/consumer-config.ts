/**
 * Configuration snippets for the filters that use the blocklist, generated from the policy so the
 * zone names and return codes are the instance's own: SpamAssassin (a header DNSBL rule per IP
 * list and a URI rule per domain category) and Postfix (`reject_rbl_client`, `reject_rhsbl_*`).
 * `spamdesk feeds dnsbl --out DIR` writes them beside the zones; the SpamAssassin snippet is the
 * one the tests load into a real SpamAssassin.
 */
import type { ActionPolicy } from '../../actions/action-policy.ts';
import { RETURN_CODES } from '../../actions/listing-policy.ts';

export const SPAMASSASSIN_FILE = 'spamassassin.cf';
export const POSTFIX_FILE = 'postfix-main.cf.sample';

/** SpamAssassin rules: `RCVD_IN_<ORG>_INFECTED`, `…_INFRA` on relays, `URIBL_<ORG>_*` on body URIs. */
export function spamAssassinConfig(policy: ActionPolicy): string {
  const tag =
    policy.instance.org
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, '_')
      .replace(/^_|_$/g, '') || 'SPAMDESK';
  const ipZone = `${policy.listing.zones.ip}.`;
  const domZone = `${policy.listing.zones.domain}.`;
  const set = tag.toLowerCase();
  const lines = [
    `# ${policy.instance.org} DNS blocklist for SpamAssassin (generated; return codes in docs/feeds.md).`,
    '# Needs the DNSEval and URIDNSBL plugins (loaded by the stock init.pre and v310.pre).',
    '',
    `header   __RCVD_IN_${tag} eval:check_rbl('${set}', '${ipZone}')`,
    `tflags   __RCVD_IN_${tag} net`,
    `header   RCVD_IN_${tag}_INFECTED eval:check_rbl_sub('${set}', '${RETURN_CODES.infected}')`,
    `describe RCVD_IN_${tag}_INFECTED Relayed by a machine ${policy.instance.org} lists as infected`,
    `tflags   RCVD_IN_${tag}_INFECTED net`,
    `score    RCVD_IN_${tag}_INFECTED 3.0`,
    `header   RCVD_IN_${tag}_INFRA eval:check_rbl_sub('${set}', '${RETURN_CODES.infrastructure}')`,
    `describe RCVD_IN_${tag}_INFRA Relayed by a spam operation's server ${policy.instance.org} lists`,
    `tflags   RCVD_IN_${tag}_INFRA net`,
    `score    RCVD_IN_${tag}_INFRA 3.0`,
    '',
  ];
  const uri: [string, string, string][] = [
    ['SPAM', RETURN_CODES['domain:spam'], 'a domain advertised in spam'],
    ['PHISH', RETURN_CODES['domain:phishing'], 'a phishing domain'],
    ['MALWARE', RETURN_CODES['domain:malware'], 'a malware domain'],
    ['SCAM', RETURN_CODES['domain:scam'], 'a scam domain'],
  ];
  for (const [name, code, what] of uri) {
    const rule = `URIBL_${tag}_${name}`;
    lines.push(
      `urirhssub ${rule} ${domZone} A ${code}`,
      `body      ${rule} eval:check_uridnsbl('${rule}')`,
      `describe  ${rule} Links to ${what} ${policy.instance.org} lists`,
      `tflags    ${rule} net domains_only`,
      `score     ${rule} ${name === 'SPAM' ? '3.0' : '4.0'}`,
      '',
    );
  }
  return lines.join('\n');
}

/** Postfix `smtpd_recipient_restrictions` using both zones (rejects at RCPT with the TXT as reason). */
export function postfixConfig(policy: ActionPolicy): string {
  const { ip, domain } = policy.listing.zones;
  return [
    `# ${policy.instance.org} DNS blocklist for Postfix (generated; return codes in docs/feeds.md).`,
    '# Merge into main.cf. 127.0.0.[2..3]: infected machines and spam infrastructure;',
    '# 127.0.1.[2..5]: domains advertised in spam, phishing, malware, scams.',
    'smtpd_recipient_restrictions =',
    '    permit_mynetworks,',
    '    reject_unauth_destination,',
    `    reject_rbl_client ${ip}=127.0.0.[2..3],`,
    `    reject_rhsbl_sender ${domain}=127.0.1.[2..5],`,
    `    reject_rhsbl_helo ${domain}=127.0.1.[2..5],`,
    '    permit',
    '',
  ].join('\n');
}
