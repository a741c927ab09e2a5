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
