/**
 * The human-readable report of an evidence package: one self-contained HTML page rendered from
 * the (already redacted) case summary. Everything taken from messages is hostile, so every value
 * is escaped and the page carries a CSP that forbids scripts and every remote load: opening it
 * never contacts anyone. It is covered by the manifest's hash and thus by the signature.
 */
import type { CaseSummary } from './case-summary.ts';

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function table(headers: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '<p class="none">None.</p>';
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function renderCaseReportHtml(s: CaseSummary, pkg: { packageId: string; keyFingerprint: string }): string {
  const c = s.case;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Case ${escapeHtml(c.id)} — ${escapeHtml(c.title)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0 \
1.5em}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left;vertical-align:top;word-break:break-all}th{backgrou\
nd:#eee}.none{color:#666}code{font-size:12px}</style>
</head><body>
<h1>Case ${escapeHtml(c.id)}: ${escapeHtml(c.title)}</h1>
<p>Referred to <strong>${escapeHtml(s.authority.name)}</strong> (${escapeHtml(s.authority.country)}, \
${escapeHtml(s.authority.competence)}) by ${escapeHtml(s.instance.org)} (${escapeHtml(s.instance.url)}), generated \
${escapeHtml(s.generatedAt)}.</p>
<p>Target: <code>${escapeHtml(c.target.kind)}: ${escapeHtml(c.target.value)}</code> · category: \
${escapeHtml(c.category ?? 'unclassified')} · opened ${escapeHtml(c.openedAt)} by ${escapeHtml(c.openedBy)}.</p>
<p>Package <code>${escapeHtml(pkg.packageId)}</code>, signed with Ed25519 key \
<code>${escapeHtml(pkg.keyFingerprint)}</code>; see VERIFY.txt. Reporters' identities are redacted throughout.</p>
<h2>Volumes</h2>
<p>${escapeHtml(s.volumes.reports)} reports of ${escapeHtml(s.volumes.distinctMessages)} distinct messages, from \
${escapeHtml(s.volumes.firstReportedAt ?? '—')} to ${escapeHtml(s.volumes.lastReportedAt ?? '—')} (UTC).</p>
${table(
  ['day (UTC)', 'reports'],
  s.volumes.byDay.map((d) => [d.day, d.count]),
)}
${table(
  ['channel', 'reports'],
  s.volumes.byChannel.map((d) => [d.value, d.count]),
)}
<h2>Timeline</h2>
${table(
  ['time (UTC)', 'event', 'by'],
  s.timeline.map((t) => [t.at, t.event, t.by]),
)}
<h2>Trace-back: where the mail came from</h2>
${table(
  ['origin IP', 'source ports', 'ASN', 'network', 'country', 'reverse DNS', 'reports'],
  s.traceback.map((o) => [o.ip, o.sourcePorts.join(' '), o.asn, o.asName, o.country, o.rdns, o.reports]),
)}
<h2>Indicators</h2>
<h3>Advertised domains</h3>
${table(
  ['domain', 'messages'],
  s.indicators.domains.map((d) => [d.value, d.count]),
)}
<h3>URLs</h3>
${table(
  ['URL (do not open)', 'messages'],
  s.indicators.urls.map((d) => [d.value, d.count]),
)}
<h3>Resources the message makes a mail client fetch (images, style sheets, tracking pixels)</h3>
<p>Listed apart from the links: such hosts are often shared infrastructure (image hosts, CDNs) rather than what the \
spam advertises.</p>
${table(
  ['host', 'messages'],
  s.indicators.resourceHosts.map((d) => [d.value, d.count]),
)}
${table(
  ['resource URL (do not open)', 'messages'],
  s.indicators.resources.map((d) => [d.value, d.count]),
)}
<h3>Senders</h3>
${table(
  ['From address', 'messages'],
  s.indicators.senders.map((d) => [d.value, d.count]),
)}
<h3>Phone numbers and wallets</h3>
${table(
  ['value', 'messages'],
  [...s.indicators.phones, ...s.indicators.wallets].map((d) => [d.value, d.count]),
)}
<h2>Findings (compliance and technical)</h2>
${table(
  ['code', 'severity', 'messages', 'meaning'],
  s.findings.map((f) => [f.code, f.severity, f.count, f.meaning]),
)}
<h2>Messages</h2>
${table(
  ['SHA-256 (evidence)', 'date', 'from', 'subject (redacted)', 'reports', 'origin'],
  s.messages.map((m) => [m.sha256, m.date, m.from, m.subject, m.reports, m.origin]),
)}
</body></html>
`;
}
