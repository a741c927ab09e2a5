/**
 * `spamdesk exchange`: answer the partner that referred a case (acknowledge, ask for more, close;
 * signed and sent through the outbox), list a partner's requests for more, approve them (a
 * follow-up package answers) or decline them. Every decision is audited. See docs/exchange.md.
 */
import type { Command } from 'commander';
import { cliActor, configFrom, fail, withSettings } from '../options.ts';
import { closeContext, createContext, type AppContext } from '../../app/context.ts';
import { isAppError } from '../../core/errors.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { closeTransports } from '../../actions/outbox/transports.ts';
import {
  CLOSE_OUTCOMES,
  REQUEST_KINDS,
  referralStatusHistory,
  sendPartnerStatus,
  type CloseOutcome,
  type RequestKind,
} from '../../actions/exchange/status.ts';
import {
  REQUEST_STATES,
  approveExchangeRequest,
  declineExchangeRequest,
  listExchangeRequests,
} from '../../actions/exchange/requests.ts';

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

interface AnswerOptions {
  status: string;
  note?: string;
  outcome?: string;
  kind?: string;
  question?: string;
  referral?: string;
  competence?: string;
  legalBasis?: string;
}

/** Checks the answer's options as the API does; exits 2 with the reason otherwise. */
function answerInput(o: AnswerOptions) {
  const statuses = ['acknowledged', 'more-requested', 'closed'] as const;
  const status = statuses.find((s) => s === o.status);
  if (!status) fail(`--status must be one of ${statuses.join(', ')}`, 2);
  const outcome = CLOSE_OUTCOMES.find((x) => x === o.outcome);
  if (status === 'closed' && !outcome) fail(`--outcome must be one of ${CLOSE_OUTCOMES.join(', ')}`, 2);
  if (status !== 'closed' && o.outcome) fail('--outcome goes with --status closed only', 2);
  const kind = REQUEST_KINDS.find((k) => k === o.kind);
  if (status === 'more-requested' && (!kind || !o.question?.trim()))
    fail(`--status more-requested needs --kind (${REQUEST_KINDS.join(' | ')}) and --question`, 2);
  if (status !== 'more-requested' && (o.kind || o.question)) fail('--kind and --question go with more-requested', 2);
  return {
    status,
    note: o.note ?? null,
    outcome: outcome as CloseOutcome | undefined,
    request: kind && o.question ? { kind: kind as RequestKind, question: o.question.trim() } : undefined,
    referralId: o.referral,
    competence: o.competence ?? null,
    legalBasis: o.legalBasis ?? null,
  };
}

export function registerExchange(program: Command): void {
  const exchange = program
    .command('exchange')
    .description('Partners answer back: status messages to a partner, its requests for more (approve, decline).');
  withSettings(
    exchange
      .command('answer')
      .description('Answer the partner that referred a case here (signed; sent through the outbox).'),
  )
    .argument('<caseId>')
    .requiredOption('--status <s>', 'acknowledged | more-requested | closed')
    .option('--note <text>')
    .option('--outcome <o>', CLOSE_OUTCOMES.join(' | '))
    .option('--kind <k>', `with more-requested: ${REQUEST_KINDS.join(' | ')}`)
    .option('--question <text>', 'with more-requested: what is asked')
    .option('--referral <id>', 'the package answered (default: the latest the partner sent for the case)')
    .option('--competence <text>', 'this authority’s competence, as the CNSA procedure asks')
    .option('--legal-basis <text>', 'the legal basis this authority acts on')
    .action(async (caseId: string, o: AnswerOptions, cmd: Command) => {
      const input = answerInput(o);
      await withCtx(cmd, async (ctx) => {
        const actor = cliActor();
        const r = await ctx.db.transaction().execute(async (trx) => {
          const sent = await sendPartnerStatus(trx, ctx.config, caseId, input, actor);
          await writeAudit(trx, {
            actor,
            action: 'exchange.status.send',
            subject: `case:${caseId}`,
            detail: { ...sent, status: input.status, outcome: input.outcome ?? null, request: input.request ?? null },
          });
          return sent;
        });
        out(`${r.messageId}  ${input.status} for referral ${r.referralId}  (outbox ${r.outboxId})`);
      });
    });
  withSettings(exchange.command('requests').description('Partners’ requests for more, newest first.'))
    .option('--state <s>', REQUEST_STATES.join(' | '), 'pending')
    .option('--case <caseId>')
    .action(async (o: { state: string; case?: string }, cmd: Command) => {
      if (!(REQUEST_STATES as readonly string[]).includes(o.state))
        fail(`--state must be one of ${REQUEST_STATES.join(', ')}`, 2);
      await withCtx(cmd, async (ctx) => {
        let before: string | undefined;
        do {
          const page = await listExchangeRequests(ctx.db, { state: o.state, caseId: o.case, before, limit: 200 });
          for (const r of page.requests)
            out(`${r.id}  ${r.state.padEnd(8)} ${r.kind.padEnd(15)} case ${r.case_id}  ${r.question.slice(0, 80)}`);
          before = page.next ?? undefined;
        } while (before);
      });
    });
  withSettings(exchange.command('approve').description('Approve a request: a follow-up package answers it (audited).'))
    .argument('<requestId>')
    .option('--legal-basis <text>', 'for originals: the statute, agreement or order they are handed over on')
    .option('--note <text>')
    .action(async (id: string, o: { legalBasis?: string; note?: string }, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        const r = await approveExchangeRequest(ctx, id, cliActor(), {
          legalBasis: o.legalBasis ?? null,
          note: o.note ?? null,
        });
        out(`${r.requestId}  approved: follow-up referral ${r.referralId} (outbox ${r.outboxId})`);
      });
    });
  withSettings(exchange.command('decline').description('Decline a request (audited; nothing is sent).'))
    .argument('<requestId>')
    .option('--note <text>')
    .action(async (id: string, o: { note?: string }, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        await declineExchangeRequest(ctx.db, id, cliActor(), { note: o.note ?? null });
        out(`${id}  declined`);
      });
    });
  withSettings(exchange.command('statuses').description('Status messages of a referral, oldest first.'))
    .argument('<referralId>')
    .action(async (id: string, _o, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        for (const s of await referralStatusHistory(ctx.db, id)) {
          const what = `${s.status}${s.outcome ? ` (${s.outcome})` : ''}`;
          const asks = s.request ? `  asks ${s.request.kind}: ${s.request.question}` : '';
          const note = s.note ? `  — ${s.note}` : '';
          out(`${s.at}  ${s.direction === 'in' ? 'from' : 'to  '} ${s.receiver.name}  ${what}${asks}${note}`);
        }
      });
    });
}
