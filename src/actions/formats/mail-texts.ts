/**
 * The human words of every mail the actions area sends — the referral covering mail, the ISP
 * abuse digests and the readable part of their ARF reports, the complaint feedback to senders — in
 * each language the application writes (issue 18: the recipient's language, one language per
 * mail, never a bilingual subject). Machine-readable parts (ARF `message/feedback-report`, X-ARF
 * JSON, CSV headers, the package) are not here and never translated.
 *
 * Templates take `{name}` parameters; numbers are formatted for the reader by {@link mailText}.
 * French typography: espace insécable (U+00A0) before `:`, espace fine insécable (U+202F) before `;`.
 */
import type { AppLanguage } from '../../core/languages.ts';
import { formatInteger } from '../../core/text-templates.ts';

const NB = '\u00a0';
const NNB = '\u202f';

export const MAIL_TEXTS = {
  en: {
    'referral.subject': '[Spamdesk referral] Case {caseId}: {title}',
    'referral.heading': 'Case {caseId}: {title}',
    'referral.refers': '{org} refers this case to {authority} ({competence}).',
    'referral.volumes': '{reports} reports of {messages} messages, {from} to {to} (UTC).',
    'referral.package': 'The attached evidence package ({file}) has SHA-256 {sha256}.',
    'referral.signed': "Its manifest is signed with Ed25519 key {fingerprint}; the instance's keys are at {url}.",
    'referral.readme': 'report.html inside the package is the readable report; VERIFY.txt explains the checks.',
    'referral.answer':
      'Referral id: {id}. Please acknowledge, ask for more or close it in the web app or through the API.',
    'competence.data_protection': 'data protection',
    'competence.consumer_protection': 'consumer protection',
    'competence.cybercrime': 'cybercrime',
    'competence.telecom_regulator': 'telecom regulator',
    'isp.summary':
      '{n} IP address(es) in your network(s) sent spam reported to {org} between {from} and {to} (UTC), from ' +
      'subscriber lines, with signs of infected machines. One row per IP in digest.csv (UTC times, source ports ' +
      "where known). Reporters' identities are redacted. Please mark alerts handled in the web app.",
    'isp.subject.xarf': '[X-ARF] Abuse digest: {n} infected host(s)',
    'isp.subject.arf': 'Abuse digest: {n} infected host(s) (ARF reports follow)',
    'arf.subject': 'Abuse report: spam sent from {ip} (infected or abused host)',
    'arf.describe':
      '{reports} spam report(s) received about mail sent from {ip} between {from} and {to}, in {campaigns} ' +
      'campaign(s). Signals of an infected or abused machine: {signals}.',
    'arf.noSignals': 'none',
    'arf.incidents': 'Incidents (UTC time, IP, source port):',
    'fbl.subject': 'Complaint about your mail ({matched})',
    'fbl.text':
      'A recipient reported this message, sent from your registered {matched}, as unwanted. The ' +
      "recipient's address has been removed; find the recipient through your own per-recipient identifiers " +
      '(Message-ID, VERP, list headers) and stop mailing them.',
    'fbl.kind.domain': 'domain {value}',
    'fbl.kind.ip': 'IP address {value}',
  },
  fr: {
    'referral.subject': `[Spamdesk – saisine] Dossier {caseId}${NB}: {title}`,
    'referral.heading': `Dossier {caseId}${NB}: {title}`,
    'referral.refers': '{org} vous transmet ce dossier, {authority} ({competence}).',
    'referral.volumes': `{reports}${NB}signalements de {messages}${NB}messages, du {from} au {to} (UTC).`,
    'referral.package': `Le paquet de preuves joint ({file}) a pour empreinte SHA-256 {sha256}.`,
    'referral.signed':
      `Son manifeste est signé avec la clé Ed25519 {fingerprint}${NNB}; les clés de l’instance sont publiées ` +
      `à l’adresse {url}.`,
    'referral.readme':
      'Le fichier report.html du paquet est le rapport ' + `lisible${NNB}; VERIFY.txt explique les vérifications.`,
    'referral.answer':
      `Identifiant de la saisine${NB}: {id}. Merci d’en accuser réception, de demander un complément ou de la ` +
      'clore dans l’application web ou par l’API.',
    'competence.data_protection': 'protection des données',
    'competence.consumer_protection': 'protection des consommateurs',
    'competence.cybercrime': 'cybercriminalité',
    'competence.telecom_regulator': 'régulation des télécommunications',
    'isp.summary':
      `{n}${NB}adresse(s) IP de votre ou vos réseaux ont envoyé des spams signalés à {org} entre le {from} et le ` +
      `{to} (UTC), depuis des lignes d’abonnés, avec des signes de machines infectées. Une ligne par adresse IP ` +
      `dans digest.csv (heures UTC, ports source quand ils sont connus). L’identité des signaleurs est masquée. ` +
      'Merci de marquer les alertes traitées dans l’application web.',
    'isp.subject.xarf': `[X-ARF] Synthèse d’abus${NB}: {n}${NB}machine(s) infectée(s)`,
    'isp.subject.arf': `Synthèse d’abus${NB}: {n}${NB}machine(s) infectée(s) (rapports ARF à suivre)`,
    'arf.subject': `Signalement d’abus${NB}: spam envoyé depuis {ip} (machine infectée ou détournée)`,
    'arf.describe':
      `{reports}${NB}signalement(s) de spam reçu(s) au sujet de courriels envoyés depuis {ip} entre le {from} et ` +
      `le {to}, dans {campaigns}${NB}campagne(s). Signes d’une machine infectée ou détournée${NB}: {signals}.`,
    'arf.noSignals': 'aucun',
    'arf.incidents': `Incidents (heure UTC, adresse IP, port source)${NB}:`,
    'fbl.subject': 'Plainte au sujet de vos envois ({matched})',
    'fbl.text':
      `Un destinataire a signalé ce message, envoyé depuis votre {matched} enregistré(e), comme indésirable. ` +
      `L’adresse du destinataire a été retirée${NNB}; retrouvez-le grâce à vos propres identifiants par ` +
      'destinataire (Message-ID, VERP, en-têtes de liste) et cessez de lui écrire.',
    'fbl.kind.domain': 'domaine {value}',
    'fbl.kind.ip': 'adresse IP {value}',
  },
} as const satisfies Record<AppLanguage, Record<string, string>>;

export type MailTextKey = keyof (typeof MAIL_TEXTS)['en'];

/**
 * One text of {@link MAIL_TEXTS} in `lang` with its parameters put in: numbers are formatted for the
 * reader (`1 234` in French), strings kept as written.
 */
export function mailText(lang: AppLanguage, key: MailTextKey, params: Record<string, string | number> = {}): string {
  const template: string = MAIL_TEXTS[lang][key];
  return template.replace(/\{(\w+)\}/g, (m, name: string) => {
    if (!Object.hasOwn(params, name)) return m;
    const v = params[name];
    return typeof v === 'number' ? formatInteger(v, lang) : v;
  });
}

/** A competence's name in the mail's language (the stored value when this version does not know it). */
export function competenceName(lang: AppLanguage, competence: string): string {
  const key = `competence.${competence}`;
  return isMailTextKey(key) ? mailText(lang, key) : competence;
}

function isMailTextKey(k: string): k is MailTextKey {
  return Object.hasOwn(MAIL_TEXTS.en, k);
}
