/**
 * The analysis narrative in French: the trace-back steps, the origin's reason, the findings'
 * messages and the reasons inside them, matched against the English the stages write (see
 * `core/text-templates.ts` for why stored analyses are translated at display time rather than
 * re-run). One template per sentence a stage writes; `{~x}` is a fragment translated in turn.
 *
 * When a stage changes a sentence, change its template here: `narrative-texts.test.ts` analyses
 * the golden corpus and fails on any sentence no template matches.
 *
 * Terms (docs/web.md, glossary): hop → « saut », relay → « relais », origin → « origine »,
 * trace-back → « remontée de l’origine », reverse DNS → « DNS inverse », abuse contact → « contact
 * abus », opt-out → « désinscription », phishing → « hameçonnage ».
 */
import { textTranslator, type TextLang, type TextTemplate } from '../core/text-templates.ts';

const NB = '\u00a0';
const NNB = '\u202f';

/** Trace-back steps and their fragments (stages/traceback/walk.ts, walk-fallback.ts). */
const TRACEBACK: TextTemplate[] = [
  {
    en: 'The message has no Received header: nothing tells where it came from.',
    fr: `Le message n’a aucun en-tête Received${NB}: rien n’indique d’où il vient.`,
  },
  {
    en: 'Hop 0 was written by {host}, a host of {~relay}, which delivered the message: we believe it.',
    fr: `Le saut 0 a été écrit par {host}, un hôte de {~relay}, qui a remis le message${NB}: nous le croyons.`,
  },
  {
    en:
      'Hop 0 was written by {~host}, the system that delivered the message to the reporter: we believe the topmost ' +
      'header.',
    fr:
      'Le saut 0 a été écrit par {~host}, le système qui a remis le message au signaleur' +
      `${NB}: nous croyons l’en-tête le plus haut.`,
  },
  { en: 'the receiving system', fr: 'le système destinataire' },
  {
    en:
      'Hop {i}: {host} received it from a client its record names by two addresses (what the client sent as its ' +
      'greeting reads as an address too): the client cannot be told, so the walk stops here.',
    fr:
      `Saut {i}${NB}: {host} l’a reçu d’un client que sa note désigne par deux adresses (ce que le client a envoyé ` +
      `comme salutation se lit aussi comme une adresse)${NB}: le client ne peut être déterminé, le parcours s’arrête ` +
      'ici.',
  },
  {
    en: 'Hop {i}: the header could not be read; skipped.',
    fr: `Saut {i}${NB}: l’en-tête est illisible${NNB}; ignoré.`,
  },
  {
    en:
      'Hop {i}: the reporter’s own client fetched the message from its mailbox at {~client} ({protocol} retrieval): ' +
      'not a hand-off, skipped; the mailbox’s server wrote the header below.',
    fr:
      `Saut {i}${NB}: le logiciel du signaleur lui-même a relevé le message dans sa boîte aux lettres chez {~client} ` +
      `(relève {protocol})${NB}: ce n’est pas une transmission, ignoré${NNB}; le serveur de la boîte a écrit ` +
      'l’en-tête du dessous.',
  },
  {
    en: 'Hop {i}: written by {host}, but the hop above says the message came from {sender}: the chain has a gap here.',
    fr:
      `Saut {i}${NB}: écrit par {host}, mais le saut du dessus dit que le message venait de {sender}${NB}: la ` +
      'chaîne présente une lacune ici.',
  },
  {
    en:
      'Hop {i}: the receiver noted that the reverse-DNS name of {~ip} “may be forged” (it does not resolve back to ' +
      'the ' +
      'address); the name is not believed.',
    fr:
      `Saut {i}${NB}: le destinataire a noté que le nom DNS inverse de {~ip} «${NB}peut être falsifié${NB}» (il ne ` +
      `renvoie pas à l’adresse)${NNB}; le nom n’est pas cru.`,
  },
  { en: 'the client', fr: 'le client' },
  { en: 'a host', fr: 'un hôte' },
  { en: 'a trusted host', fr: 'un hôte de confiance' },
  { en: 'an unnamed client', fr: 'un client sans nom' },
  {
    en: 'Hop {i}: {~host} handled the message internally ({protocol}); no sending address here.',
    fr: `Saut {i}${NB}: {~host} a traité le message en interne ({protocol})${NNB}; pas d’adresse d’envoi ici.`,
  },
  {
    en: 'Hop {i}: {~host} handled the message internally; no sending address here.',
    fr: `Saut {i}${NB}: {~host} a traité le message en interne${NNB}; pas d’adresse d’envoi ici.`,
  },
  {
    en:
      'Hop {i}: {~host} received it from {~client}, a {~class} address inside a network we cannot see; skipped, ' +
      'never ' +
      'blamed.',
    fr:
      `Saut {i}${NB}: {~host} l’a reçu de {~client}, une adresse {~class} à l’intérieur d’un réseau que nous ne ` +
      `voyons pas${NNB}; ignorée, jamais mise en cause.`,
  },
  { en: 'private', fr: 'privée' },
  { en: 'loopback', fr: 'de bouclage' },
  { en: 'link-local', fr: 'de lien local' },
  { en: 'documentation', fr: 'de documentation' },
  { en: 'reserved', fr: 'réservée' },
  { en: 'shared', fr: 'partagée (CGNAT)' },
  { en: 'multicast', fr: 'de multidiffusion' },
  { en: 'unspecified', fr: 'non spécifiée' },
  {
    en:
      'Hop {i}: {~host} received it from {~client}; {~relay} is believed ({~why}), so we believe the header it wrote ' +
      'below.{~notes}',
    fr:
      `Saut {i}${NB}: {~host} l’a reçu de {~client}${NNB}; {~relay} est cru ({~why}), donc nous croyons l’en-tête ` +
      'qu’il a écrit en dessous.{~notes}',
  },
  {
    en:
      'Hop {i}: {~host} received it from {~client}; {~relay} is trusted ({~why}), so we believe the header it wrote ' +
      'below.{~notes}',
    fr:
      `Saut {i}${NB}: {~host} l’a reçu de {~client}${NNB}; {~relay} est de confiance ({~why}), donc nous croyons ` +
      'l’en-tête qu’il a écrit en dessous.{~notes}',
  },
  {
    en:
      'Hop {i}: {~host} received it from {~client}. That address is neither a trusted provider’s relay nor a host of ' +
      'the receiving organisation, so it is the origin: the first untrusted hop.{~notes}',
    fr:
      `Saut {i}${NB}: {~host} l’a reçu de {~client}. Cette adresse n’est ni un relais d’un fournisseur de confiance ` +
      `ni un hôte de l’organisation destinataire${NB}: c’est donc l’origine, le premier saut non fiable.{~notes}`,
  },
  { en: ' ({~note}){~more}', fr: ' ({~note}){~more}' },
  { en: ' ({~note})', fr: ' ({~note})' },
  {
    en:
      'the reverse name {name} is under {relay}’s domain but is a consumer-access or generic line name: it earns no ' +
      'trust',
    fr:
      `le nom inverse {name} est sous le domaine de {relay}, mais c’est un nom de ligne d’accès grand public ou ` +
      `générique${NB}: il ne vaut aucune confiance`,
  },
  {
    en:
      'Hop {i}: the client said HELO {helo}, a name of {relay}, but its address does not belong to {relay2}: a ' +
      'forged-looking greeting.',
    fr:
      `Saut {i}${NB}: le client a dit HELO {helo}, un nom de {relay}, mais son adresse n’appartient pas à ` +
      `{relay2}${NB}: une salutation qui semble falsifiée.`,
  },
  {
    en: 'Hop {i} sits below the origin: the sender or earlier relays wrote it, and it proves nothing.',
    fr: `Le saut {i} est sous l’origine${NB}: l’expéditeur ou des relais antérieurs l’ont écrit, il ne prouve rien.`,
  },
  {
    en: 'Hops {i}–{j} sit below the origin: the sender or earlier relays wrote them, and they prove nothing.',
    fr:
      `Les sauts {i} à {j} sont sous l’origine${NB}: l’expéditeur ou des relais antérieurs les ont écrits, ils ne ` +
      'prouvent rien.',
  },
  {
    en: 'Hop {i}: claims {relay} ({host}) but lies below the origin: forged-looking.',
    fr: `Saut {i}${NB}: se réclame de {relay} ({host}) mais se trouve sous l’origine${NB}: semble falsifié.`,
  },
  // why a relay is believed
  {
    en: '{ip} is one of the reporter’s own mail hosts ({net}), learned from earlier reports',
    fr: '{ip} est l’un des serveurs de messagerie du signaleur lui-même ({net}), appris de signalements antérieurs',
  },
  {
    en: '{name} is one of the reporter’s own mail hosts, learned from earlier reports',
    fr: '{name} est l’un des serveurs de messagerie du signaleur lui-même, appris de signalements antérieurs',
  },
  { en: '{ip} is in its internal network {net}', fr: '{ip} est dans son réseau interne {net}' },
  { en: '{ip} is in its network {net}', fr: '{ip} est dans son réseau {net}' },
  { en: '{ip} is in its AS{asn}', fr: '{ip} est dans son AS{asn}' },
  {
    en: 'the receiver found the reverse-DNS name {name}',
    fr: 'le destinataire a trouvé le nom DNS inverse {name}',
  },
  {
    en: 'the believed receiver recorded its reverse name {name}, in the receiving organisation’s domain {domain}',
    fr: 'le destinataire cru a noté son nom inverse {name}, dans le domaine de l’organisation destinataire {domain}',
  },
  {
    en:
      "{ip} is in AS{asn} ({asName}), the network of a relay already believed, an AS that bears the organisation's " +
      'name and is not an access or hosting network',
    fr:
      '{ip} est dans l’AS{asn} ({asName}), le réseau d’un relais déjà cru, un AS qui porte le nom de l’organisation ' +
      'et n’est pas un réseau d’accès ni d’hébergement',
  },
  {
    en:
      'qmail recorded the unverified reverse name {name}, in the receiving organisation’s domain {domain}, and {ip} ' +
      'is in the same /24 as {seen}, an address of that organisation already believed',
    fr:
      'qmail a noté le nom inverse non vérifié {name}, dans le domaine de l’organisation destinataire {domain}, et ' +
      '{ip} est dans le même /24 que {seen}, une adresse de cette organisation déjà crue',
  },
  {
    en:
      'qmail recorded the unverified reverse name {name}, in the receiving organisation’s domain {domain}, and {ip} ' +
      'is in AS{asn} ({asName}), a research and education network whose addresses go only to member institutions, ' +
      'which write their own reverse names',
    fr:
      'qmail a noté le nom inverse non vérifié {name}, dans le domaine de l’organisation destinataire {domain}, et ' +
      '{ip} est dans l’AS{asn} ({asName}), un réseau de recherche et d’enseignement dont les adresses ne vont qu’à ' +
      'des établissements membres, qui écrivent eux-mêmes leurs noms inverses',
  },
  {
    en:
      'the believed receiver recorded its reverse name {name}, under {parent}, whose names belong to different ' +
      'holders (public suffix list), and {~backing}',
    fr:
      'le destinataire cru a noté son nom inverse {name}, sous {parent}, dont les noms appartiennent à des ' +
      'détenteurs différents (liste des suffixes publics), et {~backing}',
  },
  {
    en: '{ip} is in the same /24 as {seen}, an address of that organisation already believed',
    fr: '{ip} est dans le même /24 que {seen}, une adresse de cette organisation déjà crue',
  },
  {
    en:
      '{ip} is in AS{asn} ({asName}), a research and education network whose addresses go only to member ' +
      'institutions, which write their own reverse names',
    fr:
      '{ip} est dans l’AS{asn} ({asName}), un réseau de recherche et d’enseignement dont les adresses ne vont qu’à ' +
      'des établissements membres, qui écrivent eux-mêmes leurs noms inverses',
  },
  {
    en:
      'its reverse name {name} shares only the parent {parent} with the receiving organisation, a name service ' +
      'whose names belong to different holders (public suffix list), and its address does not back it',
    fr:
      'son nom inverse {name} ne partage que le parent {parent} avec l’organisation destinataire, un service de ' +
      'noms dont les noms appartiennent à des détenteurs différents (liste des suffixes publics), et son adresse ne ' +
      'l’appuie pas',
  },
  {
    en:
      'looked up on {date}: its reverse name {name} resolves back to {ip} and is in the receiving organisation’s ' +
      'domain {domain}, and {~backing}',
    fr:
      `consulté le {date}${NB}: son nom inverse {name} renvoie à {ip} et il est dans le domaine de l’organisation ` +
      'destinataire {domain}, et {~backing}',
  },
  {
    en:
      'looked up on {date}: its reverse name {name} resolves back to {ip} and is in the receiving organisation’s ' +
      'domain {domain}',
    fr:
      `consulté le {date}${NB}: son nom inverse {name} renvoie à {ip} et il est dans le domaine de l’organisation ` +
      'destinataire {domain}',
  },
  {
    en:
      'looked up on {date}: {domain}, the reporter’s own mail domain, names {mx} as its mail exchanger (MX) and ' +
      '{mx2} resolves to {ip}: the organisation’s own inbound relay or the gateway it contracts',
    fr:
      `consulté le {date}${NB}: {domain}, le domaine de messagerie du signaleur lui-même, désigne {mx} comme ` +
      `serveur de messagerie (MX) et {mx2} a pour adresse {ip}${NB}: le relais entrant de l’organisation elle-même ` +
      'ou la passerelle qu’elle a mandatée',
  },
  {
    en:
      'looked up on {date}: {domain}, which the believed hops delivered for, names {mx} as its mail exchanger (MX) ' +
      'and {mx2} resolves to {ip}: the organisation’s own inbound relay or the gateway it contracts',
    fr:
      `consulté le {date}${NB}: {domain}, pour lequel les sauts crus ont livré, désigne {mx} comme serveur de ` +
      `messagerie (MX) et {mx2} a pour adresse {ip}${NB}: le relais entrant de l’organisation elle-même ou la ` +
      'passerelle qu’elle a mandatée',
  },
  { en: 'the receiving organisation ({label})', fr: 'l’organisation destinataire ({label})' },
  {
    en: 'the recipient’s forwarding service ({domain})',
    fr: 'le service de réexpédition du destinataire ({domain})',
  },
  {
    en:
      'the believed receiver checked its reverse name {name}, in {domain}, a domain learned from earlier reports as ' +
      'the reporter’s own mail side',
    fr:
      'le destinataire cru a vérifié son nom inverse {name}, dans {domain}, un domaine appris de signalements ' +
      'antérieurs comme celui de la messagerie du signaleur lui-même',
  },
  {
    en:
      'the believed receiver recorded its reverse name {name}, in {domain}, the domain of the reporter’s own address ' +
      '(given by the intake, not by the headers)',
    fr:
      'le destinataire cru a noté son nom inverse {name}, dans {domain}, le domaine de l’adresse du signaleur ' +
      'lui-même (donnée par la réception, non par les en-têtes)',
  },
  {
    en:
      'the believed receiver recorded its reverse name {name}, in {domain}, a forwarding service a recipient sets ' +
      'up for their own mail: the receiving side, never blamed; the header it wrote below names the machine that ' +
      'handed the message to it',
    fr:
      `le destinataire cru a noté son nom inverse {name}, dans {domain}, un service de réexpédition que le ` +
      `destinataire met en place pour son propre courrier${NB}: côté réception, jamais mis en cause${NNB}; ` +
      'l’en-tête qu’il a écrit en dessous nomme la machine qui le lui a remis',
  },
  { en: 'unnamed', fr: 'sans nom' },
  // fallbacks (walk-fallback.ts)
  {
    en: 'The {header} header names {ip}, a non-public address; not used.',
    fr: `L’en-tête {header} nomme {ip}, une adresse non publique${NNB}; non utilisée.`,
  },
  {
    en:
      'The {header} header names {ip}, a relay of this very chain (a receiver’s note about who connected), not a ' +
      'browser; not used.',
    fr:
      'L’en-tête {header} nomme {ip}, un relais de cette même chaîne (une note d’un destinataire sur qui s’est ' +
      `connecté), pas un navigateur${NNB}; non utilisée.`,
  },
  {
    en:
      "The {header} header names {ip}, a relay of this very chain (a receiver's note about who connected), not a " +
      'browser; not used.',
    fr:
      'L’en-tête {header} nomme {ip}, un relais de cette même chaîne (une note d’un destinataire sur qui s’est ' +
      `connecté), pas un navigateur${NNB}; non utilisée.`,
  },
  {
    en:
      "The {header} header names {ip}, but the message was not submitted through that webmail's own service, so " +
      'anyone could have written it; not used.',
    fr:
      'L’en-tête {header} nomme {ip}, mais le message n’a pas été soumis par le service de ce webmail lui-même, ' +
      `n’importe qui a donc pu l’écrire${NNB}; non utilisée.`,
  },
  {
    en:
      "Every relay is believed and the message was submitted through {relay}'s own service; its {header} header " +
      'names the browser’s address {ip}, which is the origin.',
    fr:
      `Chaque relais est cru et le message a été soumis par le service de {relay} lui-même${NNB}; son en-tête ` +
      '{header} nomme l’adresse du navigateur, {ip}, qui est l’origine.',
  },
  {
    en:
      'Every relay is believed: the message entered the mail system at {relay} ({ip}, hop {i}). The sender is an ' +
      'account of {relay2}; its abuse desk is the one to tell.',
    fr:
      `Chaque relais est cru${NB}: le message est entré dans le système de messagerie chez {relay} ({ip}, saut {i}). ` +
      `L’expéditeur est un compte de {relay2}${NNB}; c’est son service abus qu’il faut prévenir.`,
  },
  {
    en:
      'Every hop is on the receiving side: nothing outside handed the message in. The deepest of its machines, {ip} ' +
      "(hop {i}, {~relay}), is where it entered the mail system: it is named, and the receiving organisation's own " +
      'abuse desk is the one to tell.',
    fr:
      `Chaque saut est du côté destinataire${NB}: rien d’extérieur n’a remis le message. La plus profonde de ses ` +
      `machines, {ip} (saut {i}, {~relay}), est l’endroit où il est entré dans le système de messagerie${NB}: elle ` +
      'est nommée, et c’est le service abus de l’organisation destinataire elle-même qu’il faut prévenir.',
  },
  {
    en:
      "Every relay is believed down to {relay}'s outbound relay {ip} (hop {i}), and no Received field below it names " +
      "a client: the provider's sealed ARC set i={n} (d={sealer}, results by {writer}), which the receiving side " +
      'verified (its set i={j}: arc=pass, cv=pass, SPF checked against {ip2}), records that the relaying mailbox ' +
      'received the message from {ip3}, with an SPF pass for {domain}: a relay of {relay2} by its own SPF record; ' +
      "that mailbox's own Received fields were stripped. That relay handed the message to the relaying mailbox; it " +
      "is named, and its provider's abuse desk is the one to tell.",
    fr:
      `Chaque relais est cru jusqu’au relais sortant de {relay}, {ip} (saut {i}), et aucun champ Received du dessous ` +
      `ne nomme de client${NB}: le jeu ARC scellé du fournisseur, i={n} (d={sealer}, résultats par {writer}), que le ` +
      `côté destinataire a vérifié (son jeu i={j}${NB}: arc=pass, cv=pass, SPF vérifié contre {ip2}), note que la ` +
      `boîte qui a relayé le message l’a reçu de {ip3}, avec un SPF réussi pour {domain}${NB}: un relais de ` +
      `{relay2} selon son propre enregistrement SPF${NNB}; les champs Received de cette boîte ont été supprimés. Ce ` +
      `relais a remis le message à la boîte qui l’a relayé${NNB}; il est nommé, et c’est le service abus de son ` +
      'fournisseur qu’il faut prévenir.',
  },
  {
    en:
      'Hop {i}: {host}, a machine of {relay}, took the message in with no outside client recorded (a submission, or ' +
      'the re-sending of a message it received), and the receiving side verified no ARC record sealed by {relay2} of ' +
      'having received it: the fields below were written before {relay3} had the message and prove nothing.',
    fr:
      `Saut {i}${NB}: {host}, une machine de {relay}, a pris le message sans noter de client extérieur (une ` +
      'soumission, ou le renvoi d’un message reçu), et le côté destinataire n’a vérifié aucun enregistrement ARC ' +
      `scellé par {relay2} attestant qu’il l’a reçu${NB}: les champs du dessous ont été écrits avant que {relay3} ` +
      'n’ait le message et ne prouvent rien.',
  },
  {
    en:
      'The message was resent inside the receiving organisation (Resent-From {addr}): its Received fields are ' +
      "{domain}'s own. The original delivery, kept below them as X-Received fields written by {domain2}'s hosts " +
      '(hops {i}–{j}), is walked on. Its origin is shown, not acted on: the resent copy was handed in on the ' +
      'receiving side, and whoever handed it in could have written those fields.',
    fr:
      'Le message a été renvoyé au sein de l’organisation destinataire ' +
      `(Resent-From {addr})${NB}: ses champs Received sont ceux de {domain}. La remise d’origine, gardée en ` +
      'dessous sous forme de champs X-Received écrits par les hôtes de {domain2} (sauts {i} à {j}), est suivie. ' +
      `Son origine est montrée, pas exploitée${NB}: la copie renvoyée a été remise du côté destinataire, et qui ` +
      'l’a remise a pu écrire ces champs.',
  },
  {
    en:
      "The report is the reporter's redirect of the message (Resent-From {addr}): the Received fields above the " +
      "resent block ({n}) record the way from the reporter to this instance and are left out; the message's own " +
      'chain starts below it.',
    fr:
      `Le signalement est la redirection du message par le signaleur (Resent-From {addr})${NB}: les champs ` +
      'Received au-dessus du bloc de renvoi ({n}) notent le chemin du signaleur jusqu’à cette instance et sont ' +
      `laissés de côté${NNB}; la chaîne du message lui-même commence en dessous.`,
  },
  {
    en: 'No hop names a public address outside the trusted relays: no origin can be named.',
    fr: `Aucun saut ne nomme d’adresse publique hors des relais de confiance${NB}: aucune origine ne peut être nommée.`,
  },
  // the origin's reason
  {
    en: 'first untrusted hop: {~host} received it from {~client}',
    fr: `premier saut non fiable${NB}: {~host} l’a reçu de {~client}`,
  },
  { en: '{header} written by trusted webmail {relay}', fr: '{header} écrit par le webmail de confiance {relay}' },
  { en: 'submitted through trusted provider {relay}', fr: 'soumis par le fournisseur de confiance {relay}' },
  { en: 'written inside the receiving side: {~relay}', fr: `écrit du côté destinataire${NB}: {~relay}` },
  {
    en: 'received by a relaying mailbox at {relay}, by its sealed ARC record',
    fr: 'reçu par une boîte qui a relayé le message chez {relay}, selon son enregistrement ARC scellé',
  },
];

/** Findings' messages (every stage). */
const FINDINGS: TextTemplate[] = [
  {
    en: 'The message has no Received header; no trace-back is possible.',
    fr: `Le message n’a aucun en-tête Received${NNB}; aucune remontée de l’origine n’est possible.`,
  },
  { en: 'Received header {i} could not be parsed.', fr: 'L’en-tête Received {i} n’a pas pu être analysé.' },
  {
    en: 'Received header {i} names two client addresses.',
    fr: 'L’en-tête Received {i} nomme deux adresses de client.',
  },
  {
    en:
      '{ip} handed the message to a mailbox at {relay} that relayed it on; recorded only in ' +
      "{relay2}'s sealed ARC set.",
    fr:
      `{ip} a remis le message à une boîte chez {relay} qui l’a relayé${NNB}; noté seulement dans le jeu ARC scellé ` +
      'de {relay2}.',
  },
  {
    en: '{n} Received headers; only the top {max} are traced.',
    fr: `{n}${NB}en-têtes Received${NNB}; seuls les {max} plus hauts sont suivis.`,
  },
  {
    en: 'Hop {i} was written by {host}, not by the client named in hop {j}.',
    fr: 'Le saut {i} a été écrit par {host}, et non par le client nommé au saut {j}.',
  },
  {
    en: 'Hop {i}: HELO {helo} claims {relay} from {ip}, which is not theirs.',
    fr: `Saut {i}${NB}: HELO {helo} se réclame de {relay} depuis {ip}, qui n’est pas à eux.`,
  },
  {
    en: 'Hop {i} below the untrusted origin claims to involve {relay} ({host}); the sender could have written it.',
    fr:
      `Le saut {i}, sous l’origine non fiable, prétend impliquer {relay} ({host})${NNB}; l’expéditeur a pu ` +
      'l’écrire.',
  },
  {
    en: 'Private or reserved addresses skipped, never blamed: {ips}.',
    fr: `Adresses privées ou réservées ignorées, jamais mises en cause${NB}: {ips}.`,
  },
  { en: 'The origin {ip} is an IPv6 address.', fr: 'L’origine {ip} est une adresse IPv6.' },
  {
    en: '{header}: {ip} (written by {relay}) is the origin.',
    fr: `{header}${NB}: {ip} (écrit par {relay}) est l’origine.`,
  },
  {
    en: 'No untrusted hop with a public address was found.',
    fr: 'Aucun saut non fiable avec une adresse publique n’a été trouvé.',
  },
  // authentication
  { en: 'SPF fails for {domain} from {ip}.', fr: 'SPF échoue pour {domain} depuis {ip}.' },
  {
    en: 'SPF soft-fails for {domain} from {ip}.',
    fr: 'SPF échoue partiellement (softfail) pour {domain} depuis {ip}.',
  },
  {
    en: 'The message carries {n} DKIM signatures and {count} ARC seals, more than any sender needs; none was verified.',
    fr:
      `Le message porte {n}${NB}signatures DKIM et {count}${NB}sceaux ARC, plus qu’aucun expéditeur n’en a ` +
      `besoin${NNB}; aucun n’a été vérifié.`,
  },
  { en: 'The message carries no DKIM signature.', fr: 'Le message ne porte aucune signature DKIM.' },
  {
    en: 'DKIM signature of {domain} (s={selector}) does not verify: {result}.',
    fr: `La signature DKIM de {domain} (s={selector}) ne se vérifie pas${NB}: {result}.`,
  },
  { en: 'DMARC fails for {domain} (policy {policy}).', fr: 'DMARC échoue pour {domain} (politique {policy}).' },
  {
    en: 'The ARC chain ({n} instance(s)) is broken: {info}.',
    fr: `La chaîne ARC ({n}${NB}instance(s)) est rompue${NB}: {info}.`,
  },
  { en: '{authserv} recorded at arrival: {results}.', fr: `{authserv} a noté à l’arrivée${NB}: {results}.` },
  {
    en: 'DNS failed during authentication checks ({what}); affected results are temperror, not verdicts.',
    fr:
      `Le DNS a échoué pendant les vérifications d’authentification ({what})${NNB}; les résultats touchés sont des ` +
      'temperror, pas des verdicts.',
  },
  {
    en: 'DNS failed during authentication checks; affected results are temperror, not verdicts.',
    fr:
      `Le DNS a échoué pendant les vérifications d’authentification${NNB}; les résultats touchés sont des ` +
      'temperror, pas des verdicts.',
  },
  // enrichment
  { en: 'Reverse DNS of {ip} failed temporarily.', fr: 'Le DNS inverse de {ip} a échoué temporairement.' },
  { en: 'The origin {ip} has no reverse DNS.', fr: 'L’origine {ip} n’a pas de DNS inverse.' },
  {
    en: 'No abuse contact is known for {ip} (AS{asn}).',
    fr: 'Aucun contact abus n’est connu pour {ip} (AS{asn}).',
  },
  { en: 'No abuse contact is known for {ip}.', fr: 'Aucun contact abus n’est connu pour {ip}.' },
  // sender identity
  {
    en: 'Replies go to {reply}, not to the From domain {from}.',
    fr: 'Les réponses vont à {reply}, et non au domaine From {from}.',
  },
  {
    en: 'The envelope sender is at {rp}, the From at {from}.',
    fr: 'L’expéditeur d’enveloppe est chez {rp}, le From chez {from}.',
  },
  {
    en: 'The display name shows {shown} but the address is {address}.',
    fr: 'Le nom affiché montre {shown}, mais l’adresse est {address}.',
  },
  {
    en: 'The display name names {brand} but the address is at {~domain}.',
    fr: 'Le nom affiché nomme {brand}, mais l’adresse est chez {~domain}.',
  },
  { en: 'an unknown domain', fr: 'un domaine inconnu' },
  // parse
  {
    en: 'Attachment {name} is executable or macro-capable.',
    fr: 'La pièce jointe {name} est exécutable ou peut porter des macros.',
  },
  { en: 'Attachment {name} is an archive.', fr: 'La pièce jointe {name} est une archive.' },
  {
    en: 'Attachment {name} is {sniffed} but declared {declared}.',
    fr: 'La pièce jointe {name} est du {sniffed}, mais déclarée {declared}.',
  },
  {
    en: 'Attachment {part} carries a message: "{subject}".',
    fr: `La pièce jointe {part} contient un message${NB}: «${NB}{subject}${NB}».`,
  },
  { en: 'Sent under the sender id "{sender}".', fr: `Envoyé sous l’identifiant d’expéditeur «${NB}{sender}${NB}».` },
  {
    en: 'The message uses {endings} line endings.',
    fr: 'Le message utilise des fins de ligne {endings}.',
  },
  {
    en: 'Charset "{charset}" is not known; its text may be garbled.',
    fr: `Le jeu de caractères «${NB}{charset}${NB}» est inconnu${NNB}; son texte peut être illisible.`,
  },
  { en: 'The message has no usable From header.', fr: 'Le message n’a pas d’en-tête From utilisable.' },
  { en: 'The message has no Date header.', fr: 'Le message n’a pas d’en-tête Date.' },
  { en: 'The message has no Message-ID header.', fr: 'Le message n’a pas d’en-tête Message-ID.' },
  { en: 'The message has HTML but no plain-text part.', fr: 'Le message a du HTML mais pas de partie en texte brut.' },
  {
    en: 'Attachment {name} is a document carrying VBA macros ({macro}).',
    fr: 'La pièce jointe {name} est un document qui porte des macros VBA ({macro}).',
  },
  {
    en: 'Archive {name} contains {entry}, which runs code when opened.',
    fr: 'L’archive {name} contient {entry}, qui exécute du code à l’ouverture.',
  },
  {
    en: 'Attachment {name} builds a file in the browser: {ev}.',
    fr: `La pièce jointe {name} fabrique un fichier dans le navigateur${NB}: {ev}.`,
  },
  {
    en: 'The HTML body builds a file in the browser: {ev}.',
    fr: `Le corps HTML fabrique un fichier dans le navigateur${NB}: {ev}.`,
  },
  {
    en: 'text{where} of {n} characters cut to {max} (SPAMDESK_ANALYSIS_MAX_TEXT_BYTES)',
    fr: `texte{where} de {n}${NB}caractères coupé à {max} (SPAMDESK_ANALYSIS_MAX_TEXT_BYTES)`,
  },
  {
    en: 'HTML{where} of {n} characters cut to {max} (SPAMDESK_ANALYSIS_MAX_TEXT_BYTES)',
    fr: `HTML{where} de {n}${NB}caractères coupé à {max} (SPAMDESK_ANALYSIS_MAX_TEXT_BYTES)`,
  },
  {
    en: 'message of {n} bytes exceeds the decoded-content bound of {max}',
    fr: `le message de {n}${NB}octets dépasse la limite de contenu décodé de {max}`,
  },
  {
    en: 'decoded-content bound reached; carried message at part {part} not parsed',
    fr: `limite de contenu décodé atteinte${NNB}; le message contenu dans la partie {part} n’est pas analysé`,
  },
  // indicators
  {
    en: 'The HTML has a form posting to {~url}.',
    fr: 'Le HTML contient un formulaire qui envoie vers {~url}.',
  },
  { en: 'this page', fr: 'cette page' },
  {
    en: 'A link shows {shown} but goes to {domain}.',
    fr: 'Un lien affiche {shown}, mais mène à {domain}.',
  },
  { en: '{host} hides the destination of a link.', fr: '{host} masque la destination d’un lien.' },
  { en: 'The URL is written defanged: {url}.', fr: `L’URL est écrite désamorcée${NB}: {url}.` },
  { en: 'A link points at the bare address {host}.', fr: 'Un lien pointe vers l’adresse IP nue {host}.' },
  {
    en: 'A {currency} wallet address appears in the message.',
    fr: 'Une adresse de portefeuille {currency} figure dans le message.',
  },
  { en: '{n} phone number(s) in the message.', fr: `{n}${NB}numéro(s) de téléphone dans le message.` },
  // compliance
  { en: 'The SMS offers no STOP opt-out.', fr: 'Le SMS n’offre pas de désinscription par STOP.' },
  {
    en: 'List-Unsubscribe is present but none of its URIs is usable.',
    fr: 'List-Unsubscribe est présent, mais aucune de ses URI n’est utilisable.',
  },
  {
    en: 'One-click unsubscribe is announced but no https URI is given.',
    fr: 'La désinscription en un clic est annoncée, mais aucune URI https n’est donnée.',
  },
  {
    en: 'No List-Unsubscribe header and no unsubscribe link in the body.',
    fr: 'Ni en-tête List-Unsubscribe ni lien de désinscription dans le corps.',
  },
  {
    en: 'Sender identity concealed or disguised: {*reasons}.',
    fr: `Identité de l’expéditeur dissimulée ou déguisée${NB}: {*reasons}.`,
  },
  { en: 'no From address', fr: 'pas d’adresse From' },
  {
    en: 'From address "{address}" is not a deliverable address',
    fr: `l’adresse From «${NB}{address}${NB}» n’est pas une adresse distribuable`,
  },
  { en: 'display name impersonates {brand}', fr: 'le nom affiché usurpe {brand}' },
  { en: 'display name shows another address', fr: 'le nom affiché montre une autre adresse' },
  { en: 'DMARC fails for {~domain}', fr: 'DMARC échoue pour {~domain}' },
  { en: 'the From domain', fr: 'le domaine From' },
  { en: 'the receiver {authserv} recorded dmarc=fail', fr: 'le destinataire {authserv} a noté dmarc=fail' },
  {
    en: 'The reporter states they never consented to receive this.',
    fr: 'Le signaleur déclare n’avoir jamais consenti à recevoir ce message.',
  },
  { en: 'The reporter states they had consented.', fr: 'Le signaleur déclare avoir consenti.' },
  // pipeline
  { en: 'trusted relays file unusable', fr: 'fichier des relais de confiance inutilisable' },
  {
    en: 'only the first {n} of {total} bytes (headers and the first part) were analysed: {~why}',
    fr: `seuls les {n} premiers octets sur {total} (en-têtes et première partie) ont été analysés${NB}: {~why}`,
  },
  // SPF explanations as mailauth writes them
  {
    en: '{authserv}: {domain} does not designate permitted sender hosts',
    fr: `{authserv}${NB}: {domain} ne désigne pas d’hôtes autorisés à envoyer`,
  },
  {
    en: '{authserv}: domain of {domain} designates {ip} as permitted sender',
    fr: `{authserv}${NB}: le domaine {domain} désigne {ip} comme expéditeur autorisé`,
  },
  {
    en: '{authserv}: domain of {domain} does not designate {ip} as permitted sender',
    fr: `{authserv}${NB}: le domaine {domain} ne désigne pas {ip} comme expéditeur autorisé`,
  },
  { en: 'no origin address to check', fr: 'pas d’adresse d’origine à vérifier' },
];

export const NARRATIVE_TEXTS: readonly TextTemplate[] = [...TRACEBACK, ...FINDINGS];

const translate = textTranslator(NARRATIVE_TEXTS);

/**
 * A sentence of a stored analysis in the reader's language; null when no template knows it (the
 * caller shows the English, marked as such).
 */
export function narrativeIn(text: string, lang: TextLang): string | null {
  return translate(text, lang);
}

/** Labels of the machine notes a hop carries (`Hop.notes`). */
export const HOP_NOTES: Readonly<Record<string, { en: string; fr: string }>> = {
  retrieval: { en: 'mailbox retrieval (POP3/IMAP)', fr: 'relève de boîte aux lettres (POP3/IMAP)' },
  'resent-original': {
    en: 'original delivery of a resent copy (X-Received)',
    fr: 'remise d’origine d’une copie renvoyée (X-Received)',
  },
  'broken-chain': { en: 'gap in the chain', fr: 'lacune dans la chaîne' },
  'address-ambiguous': { en: 'two client addresses', fr: 'deux adresses de client' },
  'forged-looking': { en: 'forged-looking', fr: 'semble falsifié' },
  'rdns-may-be-forged': { en: 'reverse DNS “may be forged”', fr: `DNS inverse «${NB}peut-être falsifié${NB}»` },
  'rdns-unknown': { en: 'reverse DNS unknown', fr: 'DNS inverse inconnu' },
  'rdns-unverified': { en: 'reverse name unverified', fr: 'nom inverse non vérifié' },
  'qmail-name': { en: 'name recorded by qmail', fr: 'nom noté par qmail' },
  'comment-only': { en: 'comment only', fr: 'commentaire seul' },
  'local-submission': { en: 'local submission', fr: 'soumission locale' },
  'webmail-http': { en: 'webmail (HTTP)', fr: 'webmail (HTTP)' },
  'address-private': { en: 'private address', fr: 'adresse privée' },
  'address-loopback': { en: 'loopback address', fr: 'adresse de bouclage' },
  'address-link-local': { en: 'link-local address', fr: 'adresse de lien local' },
  'address-documentation': { en: 'documentation address', fr: 'adresse de documentation' },
  'address-reserved': { en: 'reserved address', fr: 'adresse réservée' },
  'address-shared': { en: 'shared address (CGNAT)', fr: 'adresse partagée (CGNAT)' },
  'address-multicast': { en: 'multicast address', fr: 'adresse de multidiffusion' },
  'address-unspecified': { en: 'unspecified address', fr: 'adresse non spécifiée' },
};

/** A hop note for the reader (the machine name when this version does not know it). */
export function hopNoteIn(note: string, lang: TextLang): string {
  return HOP_NOTES[note]?.[lang] ?? note;
}
