/**
 * Brands phishing impersonates in display names ("PayPal Service <x@evil.example>"), each with the
 * registrable domains that legitimately send for it. A display name naming a brand while the
 * address is outside its domains is flagged `BRAND_IMPERSONATION`. Maintained by hand (analysis
 * core); names are matched as whole words, case-insensitively.
 */
export interface Brand {
  name: string;
  /** Words that name the brand in a display name (lower case). */
  keywords: readonly string[];
  /** Registrable domains that legitimately send for it. */
  domains: readonly string[];
  /**
   * The brand is also an access provider: its networks carry its subscribers' machines (SFR's
   * `*.rev.gaoland.net` lines), so its AS does not stand for the brand's own servers.
   */
  accessProvider?: true;
}

export const BRANDS: readonly Brand[] = [
  {
    name: 'PayPal',
    keywords: ['paypal'],
    domains: ['paypal.com', 'paypal.fr', 'paypal.de', 'paypal.co.uk', 'paypal-communication.com', 'e.paypal.com'],
  },
  {
    name: 'Microsoft',
    keywords: ['microsoft', 'outlook', 'office 365', 'office365', 'microsoft 365', 'onedrive', 'sharepoint', 'hotmail'],
    domains: [
      'microsoft.com',
      'office.com',
      'office365.com',
      'outlook.com',
      'live.com',
      'hotmail.com',
      'sharepoint.com',
      'onmicrosoft.com',
      'microsoftonline.com',
    ],
  },
  {
    name: 'Apple',
    keywords: ['apple', 'icloud', 'itunes', 'apple id', 'app store'],
    domains: ['apple.com', 'icloud.com', 'me.com', 'insideapple.apple.com'],
  },
  {
    name: 'Amazon',
    keywords: ['amazon', 'prime video', 'amazon prime'],
    domains: [
      'amazon.com',
      'amazon.fr',
      'amazon.de',
      'amazon.co.uk',
      'amazon.es',
      'amazon.it',
      'amazonses.com',
      'marketplace.amazon.fr',
    ],
  },
  {
    name: 'Google',
    keywords: ['google', 'gmail', 'google drive'],
    domains: ['google.com', 'gmail.com', 'googlemail.com', 'youtube.com'],
  },
  { name: 'Netflix', keywords: ['netflix'], domains: ['netflix.com', 'mailer.netflix.com'] },
  {
    name: 'Facebook',
    keywords: ['facebook', 'meta', 'instagram', 'whatsapp'],
    domains: ['facebook.com', 'facebookmail.com', 'meta.com', 'instagram.com', 'whatsapp.com'],
  },
  { name: 'DHL', keywords: ['dhl'], domains: ['dhl.com', 'dhl.de', 'dhl.fr', 'dpdhl.com'] },
  { name: 'UPS', keywords: ['ups'], domains: ['ups.com'] },
  { name: 'FedEx', keywords: ['fedex'], domains: ['fedex.com'] },
  {
    name: 'La Poste',
    keywords: ['la poste', 'colissimo', 'chronopost'],
    domains: ['laposte.fr', 'laposte.net', 'colissimo.fr', 'chronopost.fr'],
  },
  { name: 'Chronopost', keywords: ['chronopost'], domains: ['chronopost.fr'] },
  { name: 'Ameli', keywords: ['ameli', 'assurance maladie'], domains: ['ameli.fr', 'assurance-maladie.fr'] },
  {
    name: 'Impots.gouv',
    keywords: ['impots', 'impots.gouv', 'dgfip'],
    domains: ['impots.gouv.fr', 'dgfip.finances.gouv.fr'],
  },
  { name: 'ANTAI', keywords: ['antai'], domains: ['antai.gouv.fr'] },
  { name: 'CAF', keywords: ['caf', 'allocations familiales'], domains: ['caf.fr'] },
  { name: 'Orange', keywords: ['orange'], domains: ['orange.fr', 'orange.com', 'wanadoo.fr'], accessProvider: true },
  { name: 'SFR', keywords: ['sfr'], domains: ['sfr.fr'], accessProvider: true },
  { name: 'Free', keywords: ['free mobile', 'freebox'], domains: ['free.fr', 'freetelecom.fr'], accessProvider: true },
  { name: 'Bouygues Telecom', keywords: ['bouygues'], domains: ['bouyguestelecom.fr'], accessProvider: true },
  {
    name: 'Crédit Agricole',
    keywords: ['credit agricole', 'crédit agricole'],
    domains: ['credit-agricole.fr', 'ca-mail.fr'],
  },
  {
    name: 'BNP Paribas',
    keywords: ['bnp', 'bnp paribas'],
    domains: ['bnpparibas.com', 'bnpparibas.net', 'mabanque.bnpparibas'],
  },
  {
    name: 'Société Générale',
    keywords: ['societe generale', 'société générale'],
    domains: ['societegenerale.fr', 'socgen.com'],
  },
  { name: 'Banque Populaire', keywords: ['banque populaire'], domains: ['banquepopulaire.fr'] },
  { name: 'Wells Fargo', keywords: ['wells fargo', 'wellsfargo'], domains: ['wellsfargo.com'] },
  {
    name: 'Bank of America',
    keywords: ['bank of america', 'bankofamerica'],
    domains: ['bankofamerica.com', 'bofa.com'],
  },
  { name: 'Chase', keywords: ['chase'], domains: ['chase.com', 'jpmorgan.com'] },
  { name: 'Citibank', keywords: ['citibank', 'citi'], domains: ['citi.com', 'citibank.com'] },
  { name: 'HSBC', keywords: ['hsbc'], domains: ['hsbc.com', 'hsbc.co.uk', 'hsbc.fr'] },
  // More of the banks phishing most often impersonates (2026-12-06: a Capital One phish built from the bank's
  // own newsletter, every link to capitalone.com, put that domain in the intel feed from one report). Keywords
  // are the brands' distinctive names only: "Lloyds" alone is also a pharmacy, "Discover" and "Visa" words.
  { name: 'Capital One', keywords: ['capital one', 'capitalone'], domains: ['capitalone.com'] },
  {
    name: 'American Express',
    keywords: ['american express', 'americanexpress', 'amex'],
    domains: ['americanexpress.com', 'aexp.com'],
  },
  { name: 'U.S. Bank', keywords: ['u.s. bank', 'usbank'], domains: ['usbank.com'] },
  { name: 'Navy Federal Credit Union', keywords: ['navy federal'], domains: ['navyfederal.org'] },
  { name: 'USAA', keywords: ['usaa'], domains: ['usaa.com'] },
  { name: 'Barclays', keywords: ['barclays'], domains: ['barclays.com', 'barclays.co.uk'] },
  { name: 'NatWest', keywords: ['natwest'], domains: ['natwest.com'] },
  {
    name: 'Lloyds Bank',
    keywords: ['lloyds bank', 'lloyds tsb'],
    domains: ['lloydsbank.com', 'lloydsbank.co.uk', 'lloydstsb.com'],
  },
  { name: 'Santander', keywords: ['santander'], domains: ['santander.com', 'santander.co.uk', 'santander.com.br'] },
  { name: 'eBay', keywords: ['ebay'], domains: ['ebay.com', 'ebay.fr', 'ebay.de', 'ebay.co.uk'] },
  { name: 'Docusign', keywords: ['docusign'], domains: ['docusign.com', 'docusign.net'] },
  { name: 'Dropbox', keywords: ['dropbox'], domains: ['dropbox.com', 'dropboxmail.com'] },
  { name: 'Adobe', keywords: ['adobe'], domains: ['adobe.com', 'adobesign.com'] },
  { name: 'LinkedIn', keywords: ['linkedin'], domains: ['linkedin.com'] },
  { name: 'Coinbase', keywords: ['coinbase'], domains: ['coinbase.com'] },
  { name: 'Binance', keywords: ['binance'], domains: ['binance.com'] },
  { name: 'MetaMask', keywords: ['metamask'], domains: ['metamask.io'] },
  { name: 'Norton', keywords: ['norton', 'norton 360'], domains: ['norton.com', 'nortonlifelock.com', 'gen.digital'] },
  { name: 'McAfee', keywords: ['mcafee'], domains: ['mcafee.com'] },
  { name: 'Geek Squad', keywords: ['geek squad', 'geeksquad'], domains: ['geeksquad.com', 'bestbuy.com'] },
  { name: 'IRS', keywords: ['irs', 'internal revenue service'], domains: ['irs.gov'] },
  { name: 'USPS', keywords: ['usps', 'postal service'], domains: ['usps.com', 'usps.gov'] },
  { name: 'Royal Mail', keywords: ['royal mail', 'royalmail'], domains: ['royalmail.com', 'royalmail.co.uk'] },
  { name: 'Walmart', keywords: ['walmart'], domains: ['walmart.com'] },
  { name: 'Costco', keywords: ['costco'], domains: ['costco.com'] },
  { name: 'AT&T', keywords: ['at&t', 'att'], domains: ['att.com', 'att.net'], accessProvider: true },
  { name: 'Verizon', keywords: ['verizon'], domains: ['verizon.com', 'verizonwireless.com'], accessProvider: true },
  { name: 'Yahoo', keywords: ['yahoo'], domains: ['yahoo.com', 'yahoo.fr', 'yahoo-inc.com'] },
  { name: 'WeTransfer', keywords: ['wetransfer'], domains: ['wetransfer.com'] },
  { name: 'Zoom', keywords: ['zoom'], domains: ['zoom.us', 'zoom.com'] },
  { name: 'Spotify', keywords: ['spotify'], domains: ['spotify.com'] },
  {
    name: 'Steam',
    keywords: ['steam support', 'steam community', 'steampowered'],
    domains: ['steampowered.com', 'steamcommunity.com'],
  },
];
