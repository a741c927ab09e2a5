/**
 * The human-readable report of an evidence package: one self-contained HTML page rendered from
 * the (already redacted) case summary. Everything taken from messages is hostile, so every value
 * is escaped and the page carries a CSP that forbids scripts and every remote load: opening it
 * never contacts anyone. It is covered by the manifest's hash and thus by the signature.
 */
import type { CaseSummary } from './case-summary.ts';
import type { AppLanguage } from '../../core/languages.ts';
import { caseTitleIn } from '../cases/case-titles.ts';

/** The page's own words, in the languages Spamdesk writes (the recipient authority's, else the region's). */
const WORDS = {
  en: {
    none: 'None.',
    colon: ': ',
    case: 'Case',
    referredTo: 'Referred to',
    by: 'by',
    generated: 'generated',
    target: 'Target',
    category: 'category',
    unclassified: 'unclassified',
    opened: 'opened',
    package: 'Package',
    signed: 'signed with Ed25519 key',
    seeVerify: "see VERIFY.txt. Reporters' identities are redacted throughout.",
    volumes: 'Volumes',
    reportsOf: (r: unknown, m: unknown, a: unknown, b: unknown) =>
      `${r} reports of ${m} distinct messages, from ${a} to ${b} (UTC).`,
    day: 'day (UTC)',
    reports: 'reports',
    channel: 'channel',
    timeline: 'Timeline',
    time: 'time (UTC)',
    event: 'event',
    byCol: 'by',
    traceback: 'Trace-back: where the mail came from',
    originIp: 'origin IP',
    ports: 'source ports',
    asn: 'ASN',
    network: 'network',
    country: 'country',
    rdns: 'reverse DNS',
    indicators: 'Indicators',
    domains: 'Advertised domains',
    domain: 'domain',
    messages: 'messages',
    urls: 'URLs',
    url: 'URL (do not open)',
    resourcesTitle: 'Resources the message makes a mail client fetch (images, style sheets, tracking pixels)',
    resourcesNote:
      'Listed apart from the links: such hosts are often shared infrastructure (image hosts, CDNs) rather than what ' +
      'the spam advertises.',
    host: 'host',
    resourceUrl: 'resource URL (do not open)',
    mentionsTitle: 'Addresses the message only writes in its text',
    mentionsNote:
      'Listed apart from the links: the message’s links go elsewhere, so these are named, not advertised — a ' +
      'phish’s list of real banks, a brand’s legal footer.',
    mentionUrl: 'URL as written (do not open)',
    senders: 'Senders',
    from: 'From address',
    phones: 'Phone numbers and wallets',
    value: 'value',
    findings: 'Findings (compliance and technical)',
    code: 'code',
    severity: 'severity',
    meaning: 'meaning',
    messagesTitle: 'Messages',
    sha: 'SHA-256 (evidence)',
    date: 'date',
    fromCol: 'from',
    subject: 'subject (redacted)',
    origin: 'origin',
  },
  fr: {
    none: 'Aucun.',
    colon: '\u00a0: ',
    case: 'Dossier',
    referredTo: 'Transmis à',
    by: 'par',
    generated: 'établi le',
    target: 'Cible',
    category: 'catégorie',
    unclassified: 'non classé',
    opened: 'ouvert le',
    package: 'Paquet',
    signed: 'signé avec la clé Ed25519',
    seeVerify: 'voir VERIFY.txt. L’identité des signalants est masquée partout.',
    volumes: 'Volumes',
    reportsOf: (r: unknown, m: unknown, a: unknown, b: unknown) =>
      `${r} signalements de ${m} messages distincts, du ${a} au ${b} (UTC).`,
    day: 'jour (UTC)',
    reports: 'signalements',
    channel: 'canal',
    timeline: 'Chronologie',
    time: 'heure (UTC)',
    event: 'événement',
    byCol: 'par',
    traceback: 'Remontée : d’où venait le courriel',
    originIp: 'IP d’origine',
    ports: 'ports source',
    asn: 'AS',
    network: 'réseau',
    country: 'pays',
    rdns: 'DNS inverse',
    indicators: 'Indicateurs',
    domains: 'Domaines promus',
    domain: 'domaine',
    messages: 'messages',
    urls: 'URL',
    url: 'URL (ne pas ouvrir)',
    resourcesTitle:
      'Ressources que le message fait charger par le logiciel de messagerie (images, feuilles de style, ' +
      'pixels espions)',
    resourcesNote:
      'Listées à part des liens : ces hôtes sont souvent une infrastructure partagée (hébergeurs d’images, CDN) ' +
      'plutôt que ce que le spam promeut.',
    host: 'hôte',
    resourceUrl: 'URL de la ressource (ne pas ouvrir)',
    mentionsTitle: 'Adresses que le message écrit seulement dans son texte',
    mentionsNote:
      'Listées à part des liens\u00a0: les liens du message vont ailleurs, ces adresses sont nommées, pas promues — ' +
      'la liste des vraies banques d’un hameçonnage, les mentions légales d’une marque.',
    mentionUrl: 'URL telle qu’écrite (ne pas ouvrir)',
    senders: 'Expéditeurs',
    from: 'Adresse From',
    phones: 'Numéros de téléphone et portefeuilles',
    value: 'valeur',
    findings: 'Constats (conformité et technique)',
    code: 'code',
    severity: 'gravité',
    meaning: 'signification',
    messagesTitle: 'Messages',
    sha: 'SHA-256 (preuve)',
    date: 'date',
    fromCol: 'de',
    subject: 'objet (masqué)',
    origin: 'origine',
  },
} as const;

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function table(headers: string[], rows: unknown[][], none: string = WORDS.en.none): string {
  if (rows.length === 0) return `<p class="none">${escapeHtml(none)}</p>`;
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function renderCaseReportHtml(
  s: CaseSummary,
  pkg: { packageId: string; keyFingerprint: string },
  lang: AppLanguage = 'en',
): string {
  const c = s.case;
  const w = WORDS[lang];
  const title = caseTitleIn(c.title, lang, (x) => x);
  const t = (headers: string[], rows: unknown[][]) => table(headers, rows, w.none);
  // Meanings of findings are kept in English (the analysis catalogue), marked as such in French.
  const v = s.volumes;
  const volumes = w.reportsOf(v.reports, v.distinctMessages, v.firstReportedAt ?? '—', v.lastReportedAt ?? '—');
  const findingHeads = [w.code, w.severity, w.messages, w.meaning].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const meaning = (m: string) =>
    lang === 'en' || m === '' ? escapeHtml(m) : `<span lang="en">${escapeHtml(m)}</span>`;
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${w.case} ${escapeHtml(c.id)} — ${escapeHtml(title)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0 \
1.5em}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left;vertical-align:top;word-break:break-all}th{backgrou\
nd:#eee}.none{color:#666}code{font-size:12px}</style>
</head><body>
<h1>${w.case} ${escapeHtml(c.id)}${w.colon}${escapeHtml(title)}</h1>
<p>${w.referredTo} <strong>${escapeHtml(s.authority.name)}</strong> (${escapeHtml(s.authority.country)}, \
${escapeHtml(s.authority.competence)}) ${w.by} ${escapeHtml(s.instance.org)} (${escapeHtml(s.instance.url)}), \
${w.generated} \
${escapeHtml(s.generatedAt)}.</p>
<p>${w.target}${w.colon}<code>${escapeHtml(c.target.kind)}: ${escapeHtml(c.target.value)}</code> · \
${w.category}${w.colon}${escapeHtml(c.category ?? w.unclassified)} · ${w.opened} ${escapeHtml(c.openedAt)} \
${w.by} ${escapeHtml(c.openedBy)}.</p>
<p>${w.package} <code>${escapeHtml(pkg.packageId)}</code>, ${w.signed} \
<code>${escapeHtml(pkg.keyFingerprint)}</code>; ${escapeHtml(w.seeVerify)}</p>
<h2>${w.volumes}</h2>
<p>${escapeHtml(volumes)}</p>
${t(
  [w.day, w.reports],
  s.volumes.byDay.map((d) => [d.day, d.count]),
)}
${t(
  [w.channel, w.reports],
  s.volumes.byChannel.map((d) => [d.value, d.count]),
)}
<h2>${w.timeline}</h2>
${t(
  [w.time, w.event, w.byCol],
  s.timeline.map((t) => [t.at, t.event, t.by]),
)}
<h2>${w.traceback}</h2>
${t(
  [w.originIp, w.ports, w.asn, w.network, w.country, w.rdns, w.reports],
  s.traceback.map((o) => [o.ip, o.sourcePorts.join(' '), o.asn, o.asName, o.country, o.rdns, o.reports]),
)}
<h2>${w.indicators}</h2>
<h3>${w.domains}</h3>
${t(
  [w.domain, w.messages],
  s.indicators.domains.map((d) => [d.value, d.count]),
)}
<h3>${w.urls}</h3>
${t(
  [w.url, w.messages],
  s.indicators.urls.map((d) => [d.value, d.count]),
)}
<h3>${w.resourcesTitle}</h3>
<p>${w.resourcesNote}</p>
${t(
  [w.host, w.messages],
  s.indicators.resourceHosts.map((d) => [d.value, d.count]),
)}
${t(
  [w.resourceUrl, w.messages],
  s.indicators.resources.map((d) => [d.value, d.count]),
)}
<h3>${w.mentionsTitle}</h3>
<p>${w.mentionsNote}</p>
${t(
  [w.domain, w.messages],
  s.indicators.mentionedDomains.map((d) => [d.value, d.count]),
)}
${t(
  [w.mentionUrl, w.messages],
  s.indicators.mentions.map((d) => [d.value, d.count]),
)}
<h3>${w.senders}</h3>
${t(
  [w.from, w.messages],
  s.indicators.senders.map((d) => [d.value, d.count]),
)}
<h3>${w.phones}</h3>
${t(
  [w.value, w.messages],
  [...s.indicators.phones, ...s.indicators.wallets].map((d) => [d.value, d.count]),
)}
<h2>${w.findings}</h2>
${
  s.findings.length === 0
    ? `<p class="none">${escapeHtml(w.none)}</p>`
    : `<table><thead><tr>${findingHeads}\
</tr></thead><tbody>\n${s.findings
        .map(
          (f) =>
            `<tr><td>${escapeHtml(f.code)}</td><td>${escapeHtml(f.severity)}</td><td>${escapeHtml(f.count)}</td>\
<td>${meaning(f.meaning)}</td></tr>`,
        )
        .join('\n')}\n</tbody></table>`
}
<h2>${w.messagesTitle}</h2>
${t(
  [w.sha, w.date, w.fromCol, w.subject, w.reports, w.origin],
  s.messages.map((m) => [m.sha256, m.date, m.from, m.subject, m.reports, m.origin]),
)}
</body></html>
`;
}
