/**
 * The words of the monthly report in each language it is written in. The report is rendered
 * below the web layer (it is printed to PDF and mailed by the actions area), so its words live
 * here rather than in the web catalogue; the page around it (`monthly.*` in `web/locales`) is the
 * web's. French and English, typed so a missing French word does not compile.
 */
export const MONTHLY_LABELS_EN = {
  title: 'Monthly report',
  period: 'From {from} to {to} (UTC)',
  generated: 'Generated {at}',
  summary: 'Summary',
  reports: 'Reports received',
  historical: 'of which imported archives',
  casesOpened: 'Cases opened',
  casesNotReferred: 'of which not referred yet',
  referrals: 'Referrals to authorities',
  ispAlerts: 'ISP alerts',
  median: 'Median time from a report to its referral',
  medianValue: '{hours} hours (over {n} reports)',
  medianNone: 'no report was referred this month',
  byCategory: 'Reports by category',
  byChannel: 'Reports by channel',
  byCountry: 'Reports by origin country',
  topCampaigns: 'Top 50 campaigns',
  topSenderDomains: 'Top 50 sender domains',
  authorities: 'Cases per authority',
  operators: 'ISP alerts per network operator',
  colCategory: 'Category',
  colChannel: 'Channel',
  colCountry: 'Country',
  colCampaign: 'Campaign',
  colDomain: 'Sender domain',
  colReports: 'Reports',
  colAuthority: 'Authority',
  colCompetence: 'Competence',
  colOpened: 'Opened',
  colReferred: 'Referred',
  colClosed: 'Closed',
  colOperator: 'Operator',
  colNetworks: 'Networks',
  colAlerts: 'Alerts',
  colHandled: 'Handled',
  none: 'Nothing this month.',
  unknown: 'unknown',
  data_protection: 'Data protection',
  consumer_protection: 'Consumer protection',
  cybercrime: 'Cybercrime',
  telecom_regulator: 'Telecom regulator',
  definitions:
    'Reports count in the month the platform received them. Cases opened: opened this month and referred to ' +
    'that authority since; referred and closed: this month. The median is taken over the reports first ' +
    'referred this month.',
} as const;

export type MonthlyLabelKey = keyof typeof MONTHLY_LABELS_EN;
export type MonthlyLabels = Record<MonthlyLabelKey, string>;

export const MONTHLY_LABELS_FR: MonthlyLabels = {
  title: 'Rapport mensuel',
  period: 'Du {from} au {to} (UTC)',
  generated: 'Établi le {at}',
  summary: 'Synthèse',
  reports: 'Signalements reçus',
  historical: 'dont archives importées',
  casesOpened: 'Dossiers ouverts',
  casesNotReferred: 'dont pas encore transmis',
  referrals: 'Transmissions aux autorités',
  ispAlerts: 'Alertes aux FAI',
  median: 'Délai médian entre un signalement et sa transmission',
  medianValue: '{hours} heures (sur {n} signalements)',
  medianNone: 'aucun signalement transmis ce mois-ci',
  byCategory: 'Signalements par catégorie',
  byChannel: 'Signalements par canal',
  byCountry: "Signalements par pays d'origine",
  topCampaigns: 'Les 50 premières campagnes',
  topSenderDomains: "Les 50 premiers domaines d'expéditeur",
  authorities: 'Dossiers par autorité',
  operators: 'Alertes FAI par opérateur de réseau',
  colCategory: 'Catégorie',
  colChannel: 'Canal',
  colCountry: 'Pays',
  colCampaign: 'Campagne',
  colDomain: "Domaine d'expéditeur",
  colReports: 'Signalements',
  colAuthority: 'Autorité',
  colCompetence: 'Compétence',
  colOpened: 'Ouverts',
  colReferred: 'Transmis',
  colClosed: 'Clos',
  colOperator: 'Opérateur',
  colNetworks: 'Réseaux',
  colAlerts: 'Alertes',
  colHandled: 'Traitées',
  none: 'Rien ce mois-ci.',
  unknown: 'inconnu',
  data_protection: 'Protection des données',
  consumer_protection: 'Protection des consommateurs',
  cybercrime: 'Cybercriminalité',
  telecom_regulator: 'Régulateur des télécommunications',
  definitions:
    'Les signalements sont comptés le mois où la plateforme les a reçus. Dossiers ouverts : ouverts ce mois-ci ' +
    'et transmis depuis à cette autorité ; transmis et clos : ce mois-ci. La médiane porte sur les signalements ' +
    'transmis pour la première fois ce mois-ci.',
};

export const MONTHLY_LABELS = { en: MONTHLY_LABELS_EN, fr: MONTHLY_LABELS_FR } as const;
export type MonthlyLocale = keyof typeof MONTHLY_LABELS;

export function isMonthlyLocale(v: unknown): v is MonthlyLocale {
  return v === 'en' || v === 'fr';
}

/** The words for a competence of `action-policy.ts`, or the raw value for one this version does not know. */
export function competenceWords(l: MonthlyLabels, c: string): string {
  return c === 'data_protection' || c === 'consumer_protection' || c === 'cybercrime' || c === 'telecom_regulator'
    ? l[c]
    : c;
}

/** Fills `{name}` placeholders. */
export function fill(s: string, params: Record<string, string | number>): string {
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (Object.hasOwn(params, k) ? String(params[k]) : m));
}
