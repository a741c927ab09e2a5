/**
 * French of the error messages people read: the registry's default messages and the specific
 * ones thrown at intake, on the web pages and by the API. The machine code (`error`) never
 * changes; only `message` is translated, for a browser page in French or an API client that sends
 * `Accept-Language: fr`. Templates use {@link textTranslator}'s parameters (`{~x}` is translated too).
 *
 * Conventions: espace fine insécable (U+202F) before `;` `?` `!`, espace insécable (U+00A0)
 * before `:` and inside « ».
 */
import { ERRORS } from './errors.ts';
import { textTranslator, type TextLang, type TextTemplate } from './text-templates.ts';

/** The default message of each registered code. */
const DEFAULTS: Record<keyof typeof ERRORS, string> = {
  EMPTY_MESSAGE: 'Le message est vide.',
  NOT_AN_EMAIL: 'Ces octets ne forment pas un courriel.',
  MESSAGE_TOO_LARGE: 'Le message dépasse la taille maximale configurée.',
  BAD_REQUEST: 'La requête est mal formée.',
  UNSUPPORTED_MEDIA_TYPE: 'Type de contenu non pris en charge.',
  UNAUTHENTICATED: 'Authentification requise.',
  INVALID_TOKEN: 'Le jeton d’API est inconnu ou révoqué.',
  FORBIDDEN: 'Votre rôle ne permet pas cette action.',
  NOT_FOUND: 'Introuvable.',
  CONFLICT: 'Conflit avec l’état actuel.',
  TOO_EARLY: 'Trop tôt\u00a0: un message précédent manque\u202f; réessayez plus tard.',
  RATE_LIMITED: 'Trop de requêtes\u202f; ralentissez.',
  NO_ATTACHED_MESSAGE: 'Aucun message joint n’a été trouvé.',
  ANALYSIS_BOUND: 'Le message n’a pas pu être analysé dans les limites de temps et de mémoire configurées.',
  UNAVAILABLE: 'Le service s’arrête ou est surchargé\u202f; réessayez plus tard.',
  INTERNAL: 'Erreur interne.',
};

/** Specific messages (English exactly as thrown, with its parameters). */
const SPECIFIC: TextTemplate[] = [
  // intake: is it a message at all (evidence/message-check.ts)
  {
    en: 'The bytes are not an e-mail message: the header block holds {n} binary control characters.',
    fr: 'Ces octets ne forment pas un courriel\u00a0: le bloc d’en-têtes contient {n} caractères de contrôle binaires.',
  },
  {
    en:
      'The bytes are not an e-mail message: they do not start with a header field (`Name: value`). Send the full ' +
      'source of the message, headers included.',
    fr:
      'Ces octets ne forment pas un courriel\u00a0: ils ne commencent pas par un champ d’en-tête (`Nom: valeur`). ' +
      'Envoyez le code source complet du message, en-têtes compris.',
  },
  {
    en:
      'The bytes are not an e-mail message: the header block has none of From, To, Subject, Date, Received, ' +
      'Message-ID.',
    fr:
      'Ces octets ne forment pas un courriel\u00a0: le bloc d’en-têtes ne contient aucun des champs From, To, ' +
      'Subject, Date, Received, Message-ID.',
  },
  // intake: HTTP uploads (intake/http, web/errors.ts)
  { en: '{file}: {~message}', fr: '{file}\u00a0: {~message}' },
  { en: '{file}: larger than {n} bytes.', fr: '{file}\u00a0: plus de {n} octets.' },
  {
    en: 'The message is larger than the configured limit of {n} bytes.',
    fr: 'Le message dépasse la taille maximale configurée de {n} octets.',
  },
  {
    en: 'The message {file} is larger than the configured limit of {n} bytes.',
    fr: 'Le message {file} dépasse la taille maximale configurée de {n} octets.',
  },
  { en: 'The upload is larger than {n} bytes in total.', fr: 'L’envoi dépasse {n} octets au total.' },
  {
    en: 'The upload holds no file: send the messages as file parts (e.g. `-F file=@spam.eml`).',
    fr:
      'L’envoi ne contient aucun fichier\u00a0: envoyez les messages comme parties fichier ' +
      '(p.\u00a0ex. `-F file=@spam.eml`).',
  },
  {
    en: 'Send message/rfc822, multipart/form-data or application/json.',
    fr: 'Envoyez du message/rfc822, du multipart/form-data ou de l’application/json.',
  },
  {
    en: 'Idempotency-Key must be 1–{max} printable ASCII characters without spaces.',
    fr: 'Idempotency-Key doit compter de 1 à {max} caractères ASCII imprimables, sans espace.',
  },
  {
    en:
      'Too many large messages are being received at once (memory budget {bytes} bytes); nothing was stored, retry ' +
      'in {n} s.',
    fr:
      'Trop de messages volumineux arrivent en même temps (budget mémoire de {bytes} octets)\u202f; rien n’a été ' +
      'enregistré, réessayez dans {n}\u00a0s.',
  },
  {
    en: 'The multipart/form-data body is malformed or cut short ({reason}); send it again whole.',
    fr: 'Le corps multipart/form-data est mal formé ou tronqué ({reason})\u202f; renvoyez-le en entier.',
  },
  {
    en: 'The report form is sent as multipart/form-data.',
    fr: 'Le formulaire de signalement s’envoie en multipart/form-data.',
  },
  { en: 'The request body ended early.', fr: 'Le corps de la requête s’est arrêté trop tôt.' },
  { en: 'Malformed multipart body: {reason}.', fr: 'Corps multipart mal formé\u00a0: {reason}.' },
  { en: 'sha256 must be 64 lower-case hex digits.', fr: 'sha256 doit compter 64 chiffres hexadécimaux en minuscules.' },
  // intake: SMS
  {
    en: 'receivedAt: not a date (use ISO 8601).',
    fr: 'receivedAt\u00a0: ce n’est pas une date (utilisez l’ISO 8601).',
  },
  { en: 'reporterNumber: not a phone number.', fr: 'reporterNumber\u00a0: ce n’est pas un numéro de téléphone.' },
  { en: 'The SMS gateway must present an API token.', fr: 'La passerelle SMS doit présenter un jeton d’API.' },
  { en: 'Send JSON or form-encoded fields.', fr: 'Envoyez du JSON ou des champs de formulaire encodés.' },
  { en: 'sender must not be empty.', fr: 'sender ne doit pas être vide.' },
  { en: 'sender is longer than 64 characters.', fr: 'sender dépasse 64 caractères.' },
  { en: 'The SMS text is longer than {n} characters.', fr: 'Le texte du SMS dépasse {n} caractères.' },
  // web: requests, pages, accounts
  {
    en: 'The form token (CSRF) is missing or wrong; reload the page and try again.',
    fr: 'Le jeton du formulaire (CSRF) manque ou est erroné\u202f; rechargez la page et réessayez.',
  },
  { en: 'No route {method} {path}.', fr: 'Aucune route {method} {path}.' },
  { en: 'Your role ({role}) may not {method} {path}.', fr: 'Votre rôle ({role}) ne permet pas {method} {path}.' },
  { en: 'Authorization header must be `Bearer <token>`.', fr: 'L’en-tête Authorization doit être `Bearer <jeton>`.' },
  { en: 'No such report.', fr: 'Ce signalement n’existe pas.' },
  { en: 'No such message.', fr: 'Ce message n’existe pas.' },
  { en: 'No such campaign.', fr: 'Cette campagne n’existe pas.' },
  { en: 'Unknown category {category}.', fr: 'Catégorie inconnue {category}.' },
  {
    en: 'Campaign {id} has more than {n} messages: relabel its reports one by one, or re-cluster first.',
    fr:
      'La campagne {id} compte plus de {n} messages\u00a0: reclassez ses signalements un par un, ou regroupez à ' +
      'nouveau d’abord.',
  },
  {
    en: 'before: not a cursor this list gave (use the previous page’s next).',
    fr: 'before\u00a0: ce curseur ne vient pas de cette liste (reprenez le next de la page précédente).',
  },
  { en: 'No such token.', fr: 'Ce jeton n’existe pas.' },
  { en: 'No such active account.', fr: 'Aucun compte actif de ce nom.' },
  { en: 'No such dead letter.', fr: 'Ce rebut n’existe pas.' },
  { en: 'No such report in your networks.', fr: 'Aucun signalement de ce nom dans vos réseaux.' },
  {
    en: 'No open alert with this id in your networks.',
    fr: 'Aucune alerte ouverte de cet identifiant dans vos réseaux.',
  },
  { en: 'No authority is attached to your account.', fr: 'Aucune autorité n’est rattachée à votre compte.' },
  { en: 'Unknown role {role}.', fr: 'Rôle inconnu\u00a0: {role}.' },
  {
    en: 'The password must have at least {n} characters.',
    fr: 'Le mot de passe doit compter au moins {n} caractères.',
  },
  { en: 'The password must have at most {n} characters.', fr: 'Le mot de passe doit compter au plus {n} caractères.' },
  {
    en: '"{email}" is not a valid e-mail address.',
    fr: '«\u00a0{email}\u00a0» n’est pas une adresse électronique valide.',
  },
  { en: 'Nothing was kept of this entry.', fr: 'Rien n’a été conservé de cette entrée.' },
  {
    en: 'Nothing was kept of this entry; fix the source and import it again.',
    fr: 'Rien n’a été conservé de cette entrée\u202f; corrigez la source et importez-la de nouveau.',
  },
  {
    en: 'This dead letter was already retried or dismissed.',
    fr: 'Ce rebut a déjà été relancé ou écarté.',
  },
  {
    en: 'Entries from {source} cannot be stored again from here.',
    fr: 'Les entrées venant de {source} ne peuvent pas être enregistrées de nouveau d’ici.',
  },
  {
    en: 'Only the first megabyte of this entry was kept; import the source again instead.',
    fr: 'Seul le premier mégaoctet de cette entrée a été conservé\u202f; importez plutôt la source de nouveau.',
  },
  {
    en: 'Only queued or dead entries can be retried.',
    fr: 'Seules les entrées en attente ou abandonnées peuvent être relancées.',
  },
  // webhook and partner URLs (actions/outbox/transports.ts), shown after the field's name
  { en: 'not a URL', fr: 'ce n’est pas une URL' },
  { en: 'credentials in the URL are not allowed', fr: 'les identifiants dans l’URL ne sont pas permis' },
  {
    en: 'only https:// (or http:// to loopback) is allowed',
    fr: 'seul https:// (ou http:// vers une adresse de bouclage) est permis',
  },
  {
    en: 'plain http:// is allowed only to a loopback address',
    fr: 'http:// en clair n’est permis que vers une adresse de bouclage',
  },
  // actions API (src/actions: cases, referrals, authorities, operators, senders, partners, exchange)
  { en: 'No authority {id}.', fr: 'Aucune autorité {id}.' },
  {
    en: 'The monthly report is sent by e-mail only; this authority has no e-mail contact.',
    fr: 'Le rapport mensuel n’est envoyé que par courriel\u202f; cette autorité n’a pas de contact par courriel.',
  },
  { en: 'No case {id}.', fr: 'Aucun dossier {id}.' },
  { en: 'Case {id} was merged into {into}.', fr: 'Le dossier {id} a été fusionné dans {into}.' },
  { en: 'Case {id} was itself merged into {into}.', fr: 'Le dossier {id} a lui-même été fusionné dans {into}.' },
  { en: 'Case {id} is already merged.', fr: 'Le dossier {id} est déjà fusionné.' },
  {
    en: 'publicKeyPem must be an Ed25519 public key in PEM (SPKI): {detail}',
    fr: 'publicKeyPem doit être une clé publique Ed25519 au format PEM (SPKI)\u00a0: {detail}',
  },
  {
    en: 'This key is already registered for partner {name} ({id}).',
    fr: 'Cette clé est déjà enregistrée pour le partenaire {name} ({id}).',
  },
  { en: 'No partner {id}.', fr: 'Aucun partenaire {id}.' },
  {
    en: 'The referral does not follow referral-v1: {*problems}',
    fr: 'La saisine ne suit pas referral-v1\u00a0: {*problems}',
  },
  {
    en: 'package.keyFingerprint is not the key that signed the request.',
    fr: 'package.keyFingerprint n’est pas la clé qui a signé la requête.',
  },
  {
    en: 'The package does not hash to package.sha256 (or its size differs).',
    fr: 'L’empreinte du paquet n’est pas package.sha256 (ou sa taille diffère).',
  },
  {
    en: 'The evidence package does not verify: {*problems}',
    fr: 'Le paquet de preuves ne se vérifie pas\u00a0: {*problems}',
  },
  {
    en: 'The manifest names another package or case than the body.',
    fr: 'Le manifeste nomme un autre paquet ou un autre dossier que le corps.',
  },
  { en: 'The package carries no message.', fr: 'Le paquet ne contient aucun message.' },
  {
    en: 'Message {sha} has neither an original nor a redacted copy in the package.',
    fr: 'Le message {sha} n’a ni original ni copie expurgée dans le paquet.',
  },
  { en: 'before: a cursor as returned in `next`.', fr: 'before\u00a0: un curseur tel que renvoyé dans `next`.' },
  { en: 'No exchange request {id}.', fr: 'Aucune demande d’échange {id}.' },
  { en: 'Request {id} was already {state}.', fr: 'La demande {id} est déjà dans l’état {state}.' },
  { en: 'The partner closed this referral meanwhile.', fr: 'Le partenaire a clos cette saisine entre-temps.' },
  { en: 'Request {id} was decided meanwhile.', fr: 'La demande {id} a été tranchée entre-temps.' },
  {
    en: 'The partner of case {id} is no longer registered.',
    fr: 'Le partenaire du dossier {id} n’est plus enregistré.',
  },
  {
    en: 'Partner {name} has no registered URL to answer to: register it (spamdesk partner set-url).',
    fr: 'Le partenaire {name} n’a pas d’URL enregistrée où répondre\u00a0: enregistrez-la (spamdesk partner set-url).',
  },
  { en: 'Cannot send {status}: {reason}.', fr: 'Impossible d’envoyer {status}\u00a0: {reason}.' },
  { en: 'The status is not valid: {*problems}', fr: 'Le statut n’est pas valide\u00a0: {*problems}' },
  {
    en: 'X-Spamdesk-Key-Fingerprint does not name a registered partner of this instance.',
    fr: 'X-Spamdesk-Key-Fingerprint ne désigne aucun partenaire enregistré de cette instance.',
  },
  {
    en: "X-Spamdesk-Signature does not verify over the body with {name}'s key.",
    fr: 'X-Spamdesk-Signature ne se vérifie pas sur le corps avec la clé de {name}.',
  },
  { en: 'The body is not JSON.', fr: 'Le corps n’est pas du JSON.' },
  {
    en: 'The status message does not follow status-v1: {*problems}',
    fr: 'Le message de statut ne suit pas status-v1\u00a0: {*problems}',
  },
  {
    en: 'Message id {id} was already received with another content.',
    fr: 'L’identifiant de message {id} a déjà été reçu avec un autre contenu.',
  },
  {
    en: 'This instance sent no referral {referral} of case {id}.',
    fr: 'Cette instance n’a envoyé aucune saisine {referral} du dossier {id}.',
  },
  { en: 'Referral {referral} was not sent to {name}.', fr: 'La saisine {referral} n’a pas été envoyée à {name}.' },
  {
    en: 'Refused: the referral is closed; a {status} status cannot follow.',
    fr: 'Refusé\u00a0: la saisine est close\u202f; un statut {status} ne peut plus suivre.',
  },
  {
    en: 'Refused: status {seq} of this referral was already received.',
    fr: 'Refusé\u00a0: le statut {seq} de cette saisine a déjà été reçu.',
  },
  {
    en: 'Refused: status {seq} arrived before status {expected} of this referral; send it again later.',
    fr:
      'Refusé\u00a0: le statut {seq} est arrivé avant le statut {expected} de cette saisine\u202f; ' +
      'renvoyez-le plus tard.',
  },
  {
    en: 'Refused: status {seq} of this referral was received meanwhile.',
    fr: 'Refusé\u00a0: le statut {seq} de cette saisine a été reçu entre-temps.',
  },
  {
    en: 'The referral changed meanwhile; send the status again.',
    fr: 'La saisine a changé entre-temps\u202f; renvoyez le statut.',
  },
  { en: '{value} is not an IP address.', fr: '{value} n’est pas une adresse IP.' },
  {
    en: '{value} is not a registrable domain (register example.com, not a sub-domain or a public suffix).',
    fr:
      '{value} n’est pas un domaine enregistrable (enregistrez example.com, pas un sous-domaine ni un ' +
      'suffixe public).',
  },
  { en: 'kind must be domain or ip.', fr: 'kind doit valoir domain ou ip.' },
  { en: 'No sender {id}.', fr: 'Aucun expéditeur {id}.' },
  { en: 'No identity {id}.', fr: 'Aucune identité {id}.' },
  { en: 'AS{asn} already belongs to operator {id}.', fr: 'L’AS{asn} appartient déjà à l’opérateur {id}.' },
  { en: 'No operator {id}.', fr: 'Aucun opérateur {id}.' },
  { en: 'abuseAddress: must be an e-mail address', fr: 'abuseAddress\u00a0: doit être une adresse électronique' },
  { en: 'language: one of {list}, or null', fr: 'language\u00a0: l’une des valeurs {list}, ou null' },
  { en: '{asn} is not an AS.', fr: '{asn} n’est pas un numéro d’AS.' },
  { en: "AS{asn} is not one of operator {id}'s.", fr: 'L’AS{asn} n’appartient pas à l’opérateur {id}.' },
  {
    en: 'month must be YYYY-MM, got "{month}".',
    fr: 'month doit être de la forme AAAA-MM, reçu «\u00a0{month}\u00a0».',
  },
  { en: 'No referral {id}.', fr: 'Aucune saisine {id}.' },
  { en: 'The case has no reports to refer.', fr: 'Le dossier ne contient aucun signalement à transmettre.' },
  {
    en: 'Case {id} was merged into {into}; refer that one.',
    fr: 'Le dossier {id} a été fusionné dans {into}\u202f; transmettez celui-là.',
  },
  { en: 'Authority {name} is inactive.', fr: 'L’autorité {name} est inactive.' },
  { en: 'This referral is closed.', fr: 'Cette saisine est close.' },
  { en: 'Some report ids do not exist.', fr: 'Certains identifiants de signalement n’existent pas.' },
  { en: 'Send the referral as application/json.', fr: 'Envoyez la saisine en application/json.' },
  { en: 'Send the status message as application/json.', fr: 'Envoyez le message de statut en application/json.' },
  { en: 'state must be one of {list}.', fr: 'state doit valoir l’une des valeurs {list}.' },
  { en: 'No such outbox entry.', fr: 'Cette entrée de la file d’envoi n’existe pas.' },
  {
    en: 'A sender registration must belong to a user account.',
    fr: 'L’enregistrement d’un expéditeur doit appartenir à un compte utilisateur.',
  },
];

for (const [code, def] of Object.entries(ERRORS)) {
  SPECIFIC.push({ en: def.message, fr: DEFAULTS[code as keyof typeof ERRORS] });
}

export const ERROR_TEXTS: readonly TextTemplate[] = SPECIFIC;

const translate = textTranslator(ERROR_TEXTS);

/**
 * The message in the reader's language: the French template when one matches, else the English
 * message as thrown (a machine detail such as a schema path is better read as written than lost).
 */
export function errorMessageIn(message: string, lang: TextLang): string {
  return translate(message, lang) ?? message;
}
