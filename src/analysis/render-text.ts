/**
 * An analysis as plain text for a terminal (`spamdesk show`): what the message is, where it came
 * from (the trace-back explained step by step), whether it authenticates, what it points at, what
 * the rules say, and every finding with its evidence.
 */
import type { Analysis, Finding } from './analysis-schema.ts';

const SEVERITY_ORDER: Record<Finding['severity'], number> = { high: 0, medium: 1, low: 2, info: 3 };

function line(label: string, value: string | number | null | undefined): string {
  return `  ${label.padEnd(14)} ${value === null || value === undefined || value === '' ? '—' : String(value)}`;
}

function section(title: string): string {
  return `\n${title}\n${'─'.repeat(title.length)}`;
}

/** Removes terminal control characters from hostile text before it reaches a terminal. */
export function safe(s: string, max = 300): string {
  const cleaned = s
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips control and bidi characters on purpose
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '�')
    .replace(/\s*\n\s*/g, ' ⏎ ');
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}

export function renderAnalysisText(a: Analysis, header: string[] = []): string {
  const out: string[] = [...header];
  const p = a.parse;
  out.push(section('Message'));
  out.push(line('kind', a.kind));
  out.push(line('sha256', a.sha256));
  out.push(line('subject', p.subject === null ? null : safe(p.subject)));
  out.push(line('from', p.from.map((m) => safe(m.name ? `${m.name} <${m.address}>` : m.address)).join(', ')));
  out.push(line('reply-to', p.replyTo.map((m) => safe(m.address)).join(', ')));
  out.push(line('return-path', p.returnPath === null ? null : safe(p.returnPath)));
  out.push(line('date', p.date ? safe(p.date.raw) : null));
  out.push(line('message-id', p.messageId === null ? null : safe(p.messageId)));
  out.push(
    line(
      'attachments',
      p.attachments.length === 0
        ? 'none'
        : p.attachments
            .map(
              (x) => `${safe(x.filename ?? '(unnamed)', 80)} [${x.declaredType}→${x.sniffedType ?? '?'}, ${x.size} B]`,
            )
            .join('; '),
    ),
  );
  out.push(line('analysed', `${a.analysedAt} by analyser ${a.analyserVersion}`));
  if (a.error) out.push(line('ERROR', `${a.error.code}: ${safe(a.error.message)}`));

  out.push(section('Trace-back (where it came from)'));
  if (a.traceback.steps.length === 0) out.push('  (no trace-back recorded)');
  a.traceback.steps.forEach((s, i) => {
    out.push(`  ${String(i + 1).padStart(2)}. ${safe(s, 500)}`);
  });
  for (const h of a.traceback.hops) {
    const from = [h.fromHelo, h.fromRdns, h.fromIp ? `[${h.fromIp}]` : null].filter(Boolean).join(' ');
    out.push(
      `     hop ${h.index}${h.trusted ? ' (trusted)' : ''}: from ${safe(from || '?', 120)} by \
${safe(h.byHost ?? '?', 80)}${h.protocol ? ` with ${h.protocol}` : ''}${h.date ? `; ${safe(h.date, 60)}` : ''}`,
    );
  }
  const o = a.traceback.origin;
  out.push(
    line('origin', o ? `${o.ip} (IPv${o.ipVersion}, hop ${o.hopIndex}): ${safe(o.reason, 300)}` : 'not determined'),
  );
  const e = a.enrichment.origin;
  if (e) {
    out.push(
      line(
        'network',
        `${e.asn === null ? 'AS?' : `AS${e.asn}`} ${e.asName ?? ''} ${e.country ? `(${e.country})` : ''}`.trim(),
      ),
    );
    out.push(line('reverse DNS', e.rdns));
    out.push(line('abuse contact', e.abuseContacts.map((c) => `${c.address} (${c.source})`).join(', ')));
  }

  out.push(section('Authentication'));
  out.push(
    line(
      'SPF',
      `${a.auth.spf.result}${a.auth.spf.domain ? ` for ${a.auth.spf.domain}` : ''}${
        a.auth.spf.clientIp ? ` from ${a.auth.spf.clientIp}` : ''
      }`,
    ),
  );
  out.push(
    line(
      'DKIM',
      a.auth.dkim.length === 0
        ? 'no signature'
        : a.auth.dkim.map((d) => `${d.result} d=${d.domain ?? '?'} s=${d.selector ?? '?'}`).join('; '),
    ),
  );
  out.push(
    line(
      'DMARC',
      `${a.auth.dmarc.result}${a.auth.dmarc.domain ? ` for ${a.auth.dmarc.domain}` : ''}${
        a.auth.dmarc.policy ? ` (p=${a.auth.dmarc.policy})` : ''
      }`,
    ),
  );
  out.push(line('ARC', `${a.auth.arc.result} (${a.auth.arc.instances} set(s))`));
  const rx = a.auth.receiver;
  out.push(
    line(
      'receiver said',
      rx ? `${safe(rx.authservId, 80)}: ${rx.results.map((r) => `${r.method}=${r.result}`).join(' ')}` : null,
    ),
  );

  const ind = a.indicators;
  out.push(section('Indicators'));
  out.push(
    line(
      'sender',
      `${safe(ind.sender.displayName ?? '', 80)} <${safe(ind.sender.from ?? '?', 120)}>${
        ind.sender.mismatches.length ? `  mismatches: ${ind.sender.mismatches.join(', ')}` : ''
      }`,
    ),
  );
  if (ind.sender.impersonatedBrand) out.push(line('impersonates', ind.sender.impersonatedBrand));
  out.push(line('URLs', ind.urls.length));
  for (const u of ind.urls.slice(0, 30))
    out.push(
      `     ${u.shortener ? '[shortener] ' : ''}${safe(u.url, 200)}  (${u.source}, ${u.registrableDomain ?? u.host})`,
    );
  if (ind.urls.length > 30) out.push(`     … ${ind.urls.length - 30} more`);
  out.push(
    line(
      'e-mail',
      ind.emails
        .slice(0, 20)
        .map((x) => safe(x, 100))
        .join(', '),
    ),
  );
  out.push(line('phones', ind.phones.map((x) => `${x.e164}${x.region ? ` (${x.region})` : ''}`).join(', ')));
  out.push(line('wallets', ind.wallets.map((w) => `${w.currency} ${w.address}`).join(', ')));

  const c = a.compliance;
  out.push(section('Compliance (Directive 2002/58/EC art. 13, seed 004 §1)'));
  out.push(line('sender', c.senderConcealed ? 'CONCEALED OR DISGUISED' : 'identified'));
  out.push(
    line(
      'opt-out',
      `${c.optOut.status}${c.optOut.oneClick ? ' (RFC 8058 one-click)' : ''}${
        c.optOut.listUnsubscribe.length ? `: ${c.optOut.listUnsubscribe.map((u) => safe(u, 120)).join(', ')}` : ''
      }`,
    ),
  );
  out.push(
    line('consent', `${c.consent.stated}${c.consent.statement ? ` — “${safe(c.consent.statement, 200)}”` : ''}`),
  );

  out.push(section(`Findings (${a.findings.length})`));
  const sorted = [...a.findings].sort((x, y) => SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity]);
  for (const f of sorted) {
    const ev = Object.entries(f.evidence)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}: ${safe(String(v), 160)}`)
      .join('; ');
    out.push(
      `  [${f.severity.toUpperCase().padEnd(6)}] ${f.code} — ${safe(f.message, 300)}${
        ev ? `\n             evidence: ${ev}` : ''
      }`,
    );
  }
  return `${out.join('\n')}\n`;
}
