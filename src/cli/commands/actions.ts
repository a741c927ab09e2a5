/**
 * Commands of the actions area: `outbox` (list, inspect, requeue (alias retry), flush), `cases` (list, show,
 * refer, verify-package), `authority`, `partner`, `operator`, `isp digest`, `sender`.
 */
import fs from 'node:fs';
import { Resolver } from 'node:dns/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { cliActor, configFrom, fail, withSettings } from '../options.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { closeContext, createContext, type AppContext } from '../../app/context.ts';
import { isAppError } from '../../core/errors.ts';
import { COMPETENCES } from '../../actions/action-policy.ts';
import {
  getOutboxEntry,
  isOutboxState,
  listOutbox,
  outboxCounts,
  retryAllDead,
  retryEntry,
} from '../../actions/outbox/outbox.ts';
import { drainOutbox } from '../../actions/outbox/delivery.ts';
import { closeTransports } from '../../actions/outbox/transports.ts';
import { deliveryOptions } from '../../actions/actions-service.ts';
import { caseHistory, caseReports, getCase, type CaseListItem } from '../../actions/cases/cases.ts';
import { CaseFilter, CasePaging, allCases, listCasePage } from '../../actions/cases/case-list.ts';
import { createAuthority, listAuthorities } from '../../actions/cases/authorities.ts';
import { listPartners, registerPartner, setPartnerUrl } from '../../actions/exchange/partners.ts';
import { listReferrals, referCase } from '../../actions/referrals/referrals.ts';
import { autoRefer } from '../../actions/actions-jobs.ts';
import { verifyEvidencePackage } from '../../actions/referrals/evidence-package.ts';
import { listOperators, registerOperator } from '../../actions/isp/operators.ts';
import { runIspDigests } from '../../actions/isp/isp-digests.ts';
import {
  addSenderIdentity,
  listSenders,
  registerSender,
  verifySenderIdentity,
} from '../../actions/fbl/sender-feedback.ts';

/** Opens the context, runs `fn`, closes; AppErrors become a one-line CLI message. */
async function withCtx(cmd: Command, fn: (ctx: AppContext) => Promise<void>): Promise<void> {
  const ctx = await createContext(configFrom(cmd));
  try {
    await fn(ctx);
  } catch (e) {
    if (isAppError(e)) fail(e.message);
    throw e;
  } finally {
    closeTransports();
    await closeContext(ctx);
  }
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}
function json(v: unknown): void {
  out(JSON.stringify(v, null, 2));
}

function registerOutbox(program: Command): void {
  const outbox = program.command('outbox').description('Inspect and retry what leaves the platform (mail, webhooks).');
  withSettings(outbox.command('list').description('List outbox entries, newest first, with counts per state.'))
    .option('--state <state>', 'queued | sending | sent | dead')
    .option('--limit <n>', 'how many', '50')
    .action(async (o: { state?: string; limit: string }, cmd: Command) => {
      if (o.state && !isOutboxState(o.state)) fail(`unknown state "${o.state}" (queued, sending, sent, dead)`, 2);
      await withCtx(cmd, async (ctx) => {
        const c = await outboxCounts(ctx.db);
        out(`queued ${c.queued}  sending ${c.sending}  sent ${c.sent}  dead ${c.dead}`);
        for (const e of await listOutbox(ctx.db, { state: o.state, limit: Number(o.limit) })) {
          out(
            `${e.id}  ${e.state.padEnd(7)} ${e.channel.padEnd(7)} tries ${e.attempts}/${e.max_attempts}  \
${e.destination}  ${e.description}${e.last_error ? `  [${e.last_error.slice(0, 120)}]` : ''}`,
          );
        }
      });
    });
  withSettings(outbox.command('inspect').description('Show one entry; --raw prints the exact bytes that are sent.'))
    .argument('<id>')
    .option('--raw', 'print the stored body (the whole mail or the webhook body)')
    .action(async (id: string, o: { raw?: boolean }, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        const e = await getOutboxEntry(ctx.db, id);
        if (!e) fail(`no outbox entry ${id}`);
        await writeAudit(ctx.db, {
          actor: cliActor(),
          action: o.raw ? 'outbound.inspect-raw' : 'outbound.inspect',
          subject: `outbox:${id}`,
          detail: { sha256: e.body_sha256, destination: e.destination },
        });
        if (o.raw) {
          process.stdout.write(e.body);
          return;
        }
        const { body, ...rest } = e;
        json({ ...rest, size: body.length });
      });
    });
  withSettings(
    outbox
      .command('requeue')
      .alias('retry')
      .description('Queue a dead entry again, due now with fresh attempts (or every dead one with --all-dead).'),
  )
    .argument('[id]')
    .option('--all-dead', 'retry every dead entry')
    .action(async (id: string | undefined, o: { allDead?: boolean }, cmd: Command) => {
      if (!id && !o.allDead) fail('give an entry id or --all-dead', 2);
      await withCtx(cmd, async (ctx) => {
        if (o.allDead) {
          out(`queued again: ${await retryAllDead(ctx.db)}`);
          return;
        }
        if (!id || !(await retryEntry(ctx.db, id))) fail(`${id} is not a queued or dead entry`);
        out(`queued again: ${id}`);
      });
    });
  withSettings(outbox.command('flush').description('Deliver everything due now, then exit.')).action(
    async (_o, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        const r = await drainOutbox(deliveryOptions(ctx));
        out(`claimed ${r.claimed}, sent ${r.sent}, to retry ${r.retried}, dead ${r.dead}`);
      });
    },
  );
}

function registerCases(program: Command): void {
  const cases = program.command('cases').description('Cases and referrals to authorities.');
  withSettings(
    cases
      .command('list')
      .description(
        'List cases, newest first: one page (--limit, default 50) and the --cursor of the next one on stderr, ' +
          'or every case with --all.',
      ),
  )
    .option('--state <state>', 'open | needs_review | referred | closed | merged')
    .option('--target-kind <kind>', 'campaign | sender_domain | advertised_domain | origin_network')
    .option('--target <value>', 'the target (campaign id, domain, AS number)')
    .option('--category <category>')
    .option('--rule <name>', 'the rule that opened the case, or "manual"')
    .option('--authority <id>', 'cases referred to this authority')
    .option('--from <day>', 'opened on or after (YYYY-MM-DD)')
    .option('--to <day>', 'opened on or before (YYYY-MM-DD)')
    .option('--limit <n>', 'cases per page (at most 1000)')
    .option('--cursor <id>', 'the page after this cursor (printed at the end of the previous page)')
    .option('--all', 'every case, page after page')
    .option('--json', 'one JSON object per line')
    .action(async (o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const filter = CaseFilter.safeParse({
        state: o.state,
        targetKind: o.targetKind,
        target: o.target,
        category: o.category,
        rule: o.rule,
        authority: o.authority,
        from: o.from,
        to: o.to,
      });
      const paging = CasePaging.safeParse({ cursor: o.cursor, limit: o.limit });
      const problems = [...(filter.error?.issues ?? []), ...(paging.error?.issues ?? [])];
      if (!filter.success || !paging.success || problems.length > 0)
        fail(problems.map((i) => `--${String(i.path[0] ?? '')}: ${i.message}`).join('; '), 2);
      const print = (c: CaseListItem) =>
        o.json
          ? out(JSON.stringify(c))
          : out(
              `${c.id}  ${c.state.padEnd(12)} ${String(c.report_count).padStart(6)} reports  ${c.category ?? '-'}  \
${c.target_kind}:${c.target_value}  ${c.title}`,
            );
      await withCtx(cmd, async (ctx) => {
        if (o.all) {
          for await (const c of allCases(ctx.db, filter.data)) print(c);
          return;
        }
        const page = await listCasePage(ctx.db, filter.data, paging.data);
        for (const c of page.cases) print(c);
        if (page.next) process.stderr.write(`more: spamdesk cases list --cursor ${page.next} (or --all)\n`);
      });
    });
  withSettings(cases.command('show').description('A case: target, reports, history, referrals.'))
    .argument('<id>')
    .action(async (id: string, _o, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        await writeAudit(ctx.db, {
          actor: cliActor(),
          action: 'case.view',
          subject: `case:${id}`,
          detail: { via: 'cli' },
        });
        json({
          case: await getCase(ctx.db, id),
          reports: (await caseReports(ctx.db, id)).length,
          history: await caseHistory(ctx.db, id),
          referrals: await listReferrals(ctx.db, { caseId: id }),
        });
      });
    });
  withSettings(
    cases.command('refer').description('Refer a case to an authority (or route it by competence without --authority).'),
  )
    .argument('<id>')
    .option('--authority <authorityId>')
    .action(async (id: string, o: { authority?: string }, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        if (o.authority) json(await referCase(ctx, id, o.authority, 'cli'));
        else json({ referrals: await autoRefer(ctx, id) });
      });
    });
  cases
    .command('verify-package')
    .description('Verify an evidence package: signatures, every hash, nothing unlisted (exit 1 on any problem).')
    .argument('<zip>')
    .option(
      '--public-key <file>',
      'trusted public key (PEM), or the instance’s key list (JSON of GET /api/v1/actions/public-key: retired keys ' +
        'verify packages made while they were valid); default: the key inside, check its fingerprint',
    )
    .action(async (file: string, o: { publicKey?: string }) => {
      let zip: Buffer;
      try {
        zip = fs.readFileSync(file);
      } catch (e) {
        fail(`${file}: ${(e as Error).message}`);
      }
      const trusted = o.publicKey ? fs.readFileSync(o.publicKey, 'utf8') : undefined;
      const keyProblems: string[] = [];
      let pem = trusted;
      // The instance's published key list (GET /api/v1/actions/public-key, saved as JSON): the key
      // the manifest names, and the package must have been made while that key was valid.
      if (trusted?.trimStart().startsWith('{')) {
        const listed = z
          .object({
            keys: z.array(
              z.object({
                fingerprint: z.string(),
                publicKeyPem: z.string(),
                validFrom: z.string(),
                validUntil: z.string().nullable(),
              }),
            ),
          })
          .safeParse(JSON.parse(trusted));
        if (!listed.success) fail(`${o.publicKey}: not a key list (the JSON of GET /api/v1/actions/public-key)`, 2);
        const named = (await verifyEvidencePackage(zip)).manifest;
        const k = listed.data.keys.find((x) => x.fingerprint === named?.instance.keyFingerprint);
        if (!k)
          keyProblems.push(
            `the package names key ${named?.instance.keyFingerprint ?? '?'}, which the instance does not publish`,
          );
        else if (named && (named.createdAt < k.validFrom || (k.validUntil !== null && named.createdAt > k.validUntil)))
          keyProblems.push(
            `the package was made ${named.createdAt}, outside its key's validity (${k.validFrom} – \
${k.validUntil ?? 'now'})`,
          );
        pem = k?.publicKeyPem ?? '';
      }
      const v = await verifyEvidencePackage(zip, pem);
      const problems = [...keyProblems, ...v.problems];
      out(
        `${file}: ${problems.length === 0 ? 'OK' : 'INVALID'}; key fingerprint ${v.keyFingerprint ?? '?'}; messages \
checked ${v.messagesChecked}`,
      );
      for (const p of problems) out(`  - ${p}`);
      if (problems.length > 0) process.exit(1);
    });
}

function registerRegistries(program: Command): void {
  const authority = program.command('authority').description('Authorities that receive referrals.');
  withSettings(authority.command('add').description('Register an authority.'))
    .requiredOption('--name <name>')
    .requiredOption('--country <CC>')
    .requiredOption('--competence <c>', COMPETENCES.join(' | '))
    .requiredOption('--contact-kind <kind>', 'email | webhook | partner')
    .requiredOption('--contact <addressOrUrl>')
    .option('--redacted-only', 'send redacted copies only (originals withheld, hashes kept); the default for a partner')
    .option('--originals', 'send the originals too (they name the reporter); a partner needs --legal-basis')
    .option(
      '--legal-basis <text>',
      'why it may receive originals: statute, agreement or order (recorded, and quoted in the audit log of each ' +
        'package)',
    )
    .option('--user <userId>', 'the account that acknowledges referrals for it')
    .option('--monthly-report', 'mail it the monthly report on the first day of each month')
    .action(
      async (
        o: {
          monthlyReport?: boolean;
          name: string;
          country: string;
          competence: string;
          contactKind: string;
          contact: string;
          redactedOnly?: boolean;
          originals?: boolean;
          legalBasis?: string;
          user?: string;
        },
        cmd: Command,
      ) => {
        if (o.redactedOnly && o.originals) fail('--redacted-only and --originals contradict each other', 2);
        const competence = z.enum(COMPETENCES).safeParse(o.competence);
        if (!competence.success) fail(`--competence must be one of ${COMPETENCES.join(', ')}`, 2);
        const contactKind = z.enum(['email', 'webhook', 'partner']).safeParse(o.contactKind);
        if (!contactKind.success) fail('--contact-kind must be email, webhook or partner', 2);
        await withCtx(cmd, async (ctx) => {
          const a = await createAuthority(ctx.db, {
            name: o.name,
            country: o.country,
            competence: competence.data,
            contactKind: contactKind.data,
            contact: o.contact,
            evidenceMode: o.redactedOnly ? 'redacted-only' : o.originals ? 'original-and-redacted' : undefined,
            legalBasis: o.legalBasis ?? null,
            userId: o.user ?? null,
            monthlyReport: o.monthlyReport === true,
          });
          out(`${a.id}  ${a.name}  (${a.evidence_mode})`);
        });
      },
    );
  const partner = program
    .command('partner')
    .description('Partner platforms whose signed referrals this instance accepts (POST /api/v1/exchange/referrals).');
  withSettings(
    partner
      .command('add')
      .description(
        'Register a partner by its Ed25519 public key (its GET /api/v1/actions/public-key; confirm the fingerprint ' +
          'out of band).',
      ),
  )
    .requiredOption('--name <name>')
    .requiredOption('--country <CC>')
    .requiredOption('--public-key <file.pem>')
    .option('--url <baseUrl>', 'its base URL, where this instance sends status messages about its referrals')
    .action(async (o: { name: string; country: string; publicKey: string; url?: string }, cmd: Command) => {
      let pem: string;
      try {
        pem = fs.readFileSync(o.publicKey, 'utf8');
      } catch (e) {
        fail(`${o.publicKey}: ${(e as Error).message}`, 2);
      }
      await withCtx(cmd, async (ctx) => {
        const p = await registerPartner(ctx.db, {
          name: o.name,
          country: o.country,
          publicKeyPem: pem,
          url: o.url ?? null,
        });
        out(`${p.id}  ${p.name} (${p.country})  key ${p.key_fingerprint}${p.url ? `  ${p.url}` : ''}`);
      });
    });
  withSettings(
    partner
      .command('set-url')
      .description('Set (or clear, with "none") the base URL where this instance answers a partner.'),
  )
    .argument('<partnerId>')
    .argument('<baseUrl>')
    .action(async (id: string, url: string, _o, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        const value = url === 'none' ? null : url;
        await setPartnerUrl(ctx.db, id, value);
        await writeAudit(ctx.db, {
          actor: cliActor(),
          action: 'partner.url',
          subject: `partner:${id}`,
          detail: { url: value },
        });
        out(`${id}  ${value ?? '(no URL)'}`);
      });
    });
  withSettings(partner.command('list').description('List partners.')).action(async (_o, cmd: Command) => {
    await withCtx(cmd, async (ctx) => {
      for (const p of await listPartners(ctx.db))
        out(
          `${p.id}  ${p.disabled_at ? 'disabled' : 'enabled '} ${p.country} ${p.key_fingerprint}  ${p.name}  \
${p.url ?? '(no URL)'}`,
        );
    });
  });
  withSettings(authority.command('list').description('List authorities.')).action(async (_o, cmd: Command) => {
    await withCtx(cmd, async (ctx) => {
      for (const a of await listAuthorities(ctx.db))
        out(
          `${a.id}  ${a.active ? 'active  ' : 'inactive'} ${a.country} ${a.competence.padEnd(20)} \
${a.contact_kind.padEnd(8)} ${a.contact}  ${a.name}`,
        );
    });
  });
  const operator = program.command('operator').description('Network operators receiving ISP alerts.');
  withSettings(operator.command('add').description('Register a network operator and its ASNs.'))
    .requiredOption('--name <name>')
    .requiredOption('--abuse <address>')
    .option('--format <f>', 'xarf | arf', 'xarf')
    .option('--asn <n...>', 'AS numbers')
    .option('--opt-out', 'never send it alerts')
    .option('--user <userId>', 'the account that sees its alerts')
    .action(
      async (
        o: { name: string; abuse: string; format: string; asn?: string[]; optOut?: boolean; user?: string },
        cmd: Command,
      ) => {
        if (o.format !== 'xarf' && o.format !== 'arf') fail('--format must be xarf or arf', 2);
        await withCtx(cmd, async (ctx) => {
          const op = await registerOperator(ctx.db, {
            name: o.name,
            abuseAddress: o.abuse,
            format: o.format === 'arf' ? 'arf' : 'xarf',
            asns: (o.asn ?? []).map(Number),
            optedOut: o.optOut ?? false,
            userId: o.user ?? null,
          });
          out(`${op.id}  ${op.name}`);
        });
      },
    );
  withSettings(operator.command('list').description('List operators.')).action(async (_o, cmd: Command) => {
    await withCtx(cmd, async (ctx) => {
      for (const op of await listOperators(ctx.db))
        out(
          `${op.id}  ${op.format.padEnd(4)} ${op.opted_out ? 'OPTED-OUT ' : ''}${op.abuse_address}  \
AS${op.asns.join(',AS')}  ${op.name}`,
        );
    });
  });
  const isp = program.command('isp').description('ISP alerts about infected or abused machines.');
  withSettings(isp.command('digest').description('Build and queue the ISP digests due now.')).action(
    async (_o, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        json(await runIspDigests(ctx.db, ctx.config, ctx.logger));
      });
    },
  );
  const sender = program.command('sender').description('Legitimate senders in the feedback loop.');
  withSettings(sender.command('add').description('Register a sender.'))
    .requiredOption('--name <name>')
    .requiredOption('--feedback <address>', 'where ARF reports go')
    .option('--user <userId>')
    .action(async (o: { name: string; feedback: string; user?: string }, cmd: Command) => {
      await withCtx(cmd, async (ctx) =>
        out((await registerSender(ctx.db, { name: o.name, feedbackAddress: o.feedback, userId: o.user ?? null })).id),
      );
    });
  withSettings(sender.command('claim').description('Claim a domain or IP; prints the TXT record to publish.'))
    .argument('<senderId>')
    .option('--domain <domain>')
    .option('--ip <ip>')
    .action(async (id: string, o: { domain?: string; ip?: string }, cmd: Command) => {
      if (!o.domain === !o.ip) fail('give exactly one of --domain or --ip', 2);
      await withCtx(cmd, async (ctx) => {
        const r = await addSenderIdentity(ctx.db, id, o.domain ? 'domain' : 'ip', o.domain ?? o.ip ?? '');
        out(`${r.id}: publish  ${r.txtName}. IN TXT "${r.txtValue}"  then run: spamdesk sender verify ${r.id}`);
      });
    });
  withSettings(sender.command('verify').description('Look the TXT proof up in DNS.'))
    .argument('<identityId>')
    .action(async (id: string, _o, cmd: Command) => {
      await withCtx(cmd, async (ctx) =>
        json(await verifySenderIdentity(ctx.db, new Resolver({ timeout: 5000, tries: 2 }), id)),
      );
    });
  withSettings(sender.command('list').description('List senders and their identities.')).action(
    async (_o, cmd: Command) => {
      await withCtx(cmd, async (ctx) => json(await listSenders(ctx.db)));
    },
  );
}

export function registerActions(program: Command): void {
  registerOutbox(program);
  registerCases(program);
  registerRegistries(program);
}
