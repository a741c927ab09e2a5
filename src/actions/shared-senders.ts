/**
 * AS numbers of shared sending platforms: e-mail service providers and outbound security gateways
 * that relay the mail of many customers from the same addresses. One customer's spam through them
 * says nothing about the others sharing the relay, and listing the relay blocks them all; the
 * platform's abuse desk (the actions area's ISP alerts) is the channel. Only AS numbers a platform
 * uses for itself alone, never a cloud's (Amazon SES shares AS16509 and AS14618 with every EC2
 * customer, Microsoft 365 shares AS8075 with Azure: those go by the trusted-relay table's networks
 * and reverse-DNS names instead). Names as the ip-location-db data shipped here gives them.
 */
export const SHARED_SENDING_ASNS: ReadonlyMap<number, string> = new Map([
  [11377, 'SendGrid'],
  [396479, 'Mailgun'],
  [23528, 'SparkPost'],
  [14782, 'Mailchimp'],
  [200069, 'Mailjet'],
  [200484, 'Sendinblue (Brevo)'],
  [22606, 'Salesforce Marketing Cloud (ExactTarget)'],
  [52129, 'Proofpoint'],
  [26211, 'Proofpoint'],
  [22843, 'Proofpoint'],
  [13916, 'Proofpoint'],
  [30031, 'Mimecast'],
  [33538, 'Mimecast'],
  [37235, 'Mimecast'],
  [39588, 'Mimecast'],
  [42427, 'Mimecast'],
  [60492, 'Mimecast'],
  [136792, 'Mimecast'],
  [208638, 'Mimecast'],
  [397726, 'Mimecast'],
]);

/**
 * Reverse-DNS names (as the receiving host recorded them, never the HELO) of shared sending
 * platforms whose AS they share with others: a name ending in one of these is the platform's relay.
 */
export const SHARED_SENDING_NAMES: readonly [string, string][] = [
  ['amazonses.com', 'Amazon SES'],
  ['sendgrid.net', 'SendGrid'],
  ['mcsv.net', 'Mailchimp'],
  ['mcdlv.net', 'Mailchimp'],
  ['rsgsv.net', 'Mailchimp'],
  ['mandrillapp.com', 'Mailchimp (Mandrill)'],
  ['mailgun.net', 'Mailgun'],
  ['sparkpostmail.com', 'SparkPost'],
  ['exacttarget.com', 'Salesforce Marketing Cloud (ExactTarget)'],
  ['pphosted.com', 'Proofpoint'],
  ['mimecast.com', 'Mimecast'],
];

/**
 * Amazon SES's sending networks, from its SPF record (`dig +short TXT amazonses.com`; re-check):
 * inside AS16509/AS14618, which EC2 customers share, so they go by network.
 */
export const SHARED_SENDING_NETWORKS: readonly [string, string][] = [
  '54.240.0.0/18',
  '54.240.64.0/19',
  '54.240.96.0/19',
  '23.249.208.0/20',
  '23.251.224.0/19',
  '199.255.192.0/22',
  '199.127.232.0/22',
  '69.169.224.0/20',
  '76.223.176.0/20',
].map((n): [string, string] => [n, 'Amazon SES']);
