/**
 * The jobs of the actions area (named, with their payloads and next steps, in `app/pipeline.ts`):
 * - `actions-report` {reportId, sha256, campaignId}: the last step of the pipeline. Records the
 *   report's facts, applies the case rules, queues sender feedback; auto-referrals of newly opened
 *   cases are queued as `actions-refer` jobs in the same transaction, so nothing is lost between,
 *   due `cases.referDelayMinutes` later, so the package carries the burst that opened the case.
 * - `actions-refer` {caseId}: routes a case to the competent authorities and refers it.
 * - `actions-refer-update` {caseId}: sends an updated package to each authority that received the
 *   case before reports joined it (`cases.referUpdates`; queued by `actions-report`).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { AppContext } from '../evidence/context.ts';
import type { HandOn, JobWork, TypedJob } from '../workers/handlers.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { analysesMovedSince, getLatestAnalyses } from '../analysis/repository.ts';
import { policyFor, type ActionPolicy } from './action-policy.ts';
import { caseGate } from './gates.ts';
import type { CaseRow } from '../db/actions-tables.ts';
import { factsFrom, saveFacts } from './report-facts.ts';
import { applyCaseRules, lockCaseTargets, type CampaignFamilies, type RuleOutcome } from './cases/case-rules.ts';
import { routeCase } from './cases/authorities.ts';
import { addCaseEvent, getCase, setCaseState } from './cases/cases.ts';
import { referCase } from './referrals/referrals.ts';
import { campaignCategories, loadAnalyses } from './sources.ts';
import { forgetAnalyses } from '../analysis/recent-analyses.ts';
import { queueSenderFeedback } from './fbl/sender-feedback.ts';
import { notifyOutbox } from './outbox/delivery.ts';
import { currentCategories } from '../campaigns/relabel.ts';

/** A case to refer, or whose referrals to update. */
export interface CaseRef {
  caseId: string;
}

/** Where the actions area hands on what it decides to do later (`app/pipeline.ts` makes them jobs). */
export interface ActionsNext {
  /** Refer a newly opened case at `runAt`. */
  refer: HandOn<CaseRef>;
  /** Send updated packages of a referred case at `runAt`. */
  referUpdate: HandOn<CaseRef>;
  /** True while an update of the case waits to run (it will carry later reports too). */
  referUpdateQueued(db: Kysely<Database>, p: CaseRef): Promise<boolean>;
}

export interface ProcessOutcome extends RuleOutcome {
  feedback: number;
}

/** One report of a batch, read and worked out before the batch's transaction. */
interface PreparedFacts {
  facts: ReturnType<typeof factsFrom>;
  historical: boolean;
}

/** What the facts of a batch's reports are worked out from, read for the whole batch at once. */
interface BatchReads {
  reports: Map<string, { received_at: string; historical: unknown }>;
  /** Category of each campaign (after a merge, its survivor's). */
  campaignCategories: Map<string, string | null>;
  /** Category in force of each message (the latest relabel, else the automatic one). */
  messageCategories: Map<string, string>;
}

/** Reads what a batch's facts need: a few statements for the batch, not five per report. */
async function readBatch(
  ctx: AppContext,
  ps: readonly { reportId: string; sha256: string; campaignId: string | null }[],
): Promise<BatchReads> {
  const reports = new Map<string, { received_at: string; historical: unknown }>();
  const ids = [...new Set(ps.map((p) => p.reportId))];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await ctx.db
      .selectFrom('reports')
      .select(['id', 'received_at', 'historical'])
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) reports.set(r.id, r);
  }
  const campaignIds = ps.flatMap((p) => (p.campaignId ? [p.campaignId] : []));
  return {
    reports,
    // A campaign that cannot be read leaves the report's campaign category unknown, as before.
    campaignCategories: await campaignCategories(ctx.db, campaignIds).catch(() => new Map<string, string | null>()),
    messageCategories: await currentCategories(
      ctx.db,
      ps.map((p) => p.sha256),
    ),
  };
}

/** The facts of one report (nothing written), from what {@link readBatch} read. */
function prepareFacts(
  reads: BatchReads,
  p: { reportId: string; sha256: string; campaignId: string | null },
  analysis: Analysis | null,
  policy: ActionPolicy,
): PreparedFacts {
  const report = reads.reports.get(p.reportId);
  if (!report) throw new Error(`report ${p.reportId} does not exist`);
  const category = p.campaignId ? (reads.campaignCategories.get(p.campaignId) ?? null) : null;
  const messageCategory = reads.messageCategories.get(p.sha256) ?? null;
  const historical = Number(report.historical) === 1;
  const facts = factsFrom(
    {
      reportId: p.reportId,
      sha256: p.sha256,
      receivedAt: report.received_at,
      campaignId: p.campaignId,
      category,
      messageCategory,
      historical,
      analysis,
    },
    policy,
  );
  return { facts, historical };
}

/** The writes of one report, inside the caller's transaction (`trx`). */
async function applyFacts(
  trx: Kysely<Database>,
  ctx: AppContext,
  { facts, historical }: PreparedFacts,
  policy: ActionPolicy,
  next: ActionsNext,
  families: CampaignFamilies,
): Promise<ProcessOutcome> {
  await saveFacts(trx, facts);
  const rules = await applyCaseRules(trx, facts, policy, new Date(), families);
  // Referred after the burst has had time to join the case (the job runs then, not now).
  const referAt = new Date(Date.now() + policy.cases.referDelayMinutes * 60_000);
  if (policy.cases.autoRefer) for (const caseId of rules.opened) await next.refer(trx, { caseId }, referAt);
  if (policy.cases.autoRefer && policy.cases.referUpdates && !historical) {
    for (const caseId of rules.joined)
      if (!rules.opened.includes(caseId)) await scheduleReferralUpdate(trx, caseId, referAt, next);
  }
  // Feedback about mail from an archive would reach a sender about mail it sent years ago.
  const feedback = policy.fbl.enabled && !historical ? await queueSenderFeedback(trx, ctx.config, facts) : 0;
  return { ...rules, feedback };
}

/**
 * Everything the actions area does for one report, given its analysis (the job handler loads it;
 * tests may pass one computed with their own ports).
 */
export async function processReport(
  ctx: AppContext,
  p: { reportId: string; sha256: string; campaignId: string | null },
  analysis: Analysis | null,
  next: ActionsNext,
): Promise<ProcessOutcome> {
  const [outcome] = await processReports(ctx, [{ p, analysis }], next);
  return outcome;
}

/**
 * What `processReport` does, for a batch of reports: the reads first, then every report's writes in
 * its order in ONE transaction (one commit on SQLite instead of one per report). Each report's case
 * rules see the reports before it in the same transaction, as they saw them committed before, so
 * the batch decides what one report at a time decided. One report that fails fails the batch
 * (nothing of it is written); the runner then runs its jobs one at a time.
 */
export async function processReports(
  ctx: AppContext,
  batch: readonly {
    p: { reportId: string; sha256: string; campaignId: string | null };
    analysis: Analysis | null;
  }[],
  next: ActionsNext,
): Promise<ProcessOutcome[]> {
  if (batch.length === 0) return [];
  const policy = policyFor(ctx.config);
  const reads = await readBatch(
    ctx,
    batch.map((one) => one.p),
  );
  const first = batch.map(({ p, analysis }) => prepareFacts(reads, p, analysis, policy));
  const outcomes = await ctx.db.transaction().execute(async (trx) => {
    // A message traced again since its analysis was read (a retrace in another loop or process):
    // its facts made again from the new record, under the message's lock, before the cases' locks.
    const moved = await analysesMovedSince(
      trx,
      batch.flatMap(({ p, analysis }) => (analysis ? [{ sha256: p.sha256, analysedAt: analysis.analysedAt }] : [])),
    );
    const latest = moved.size > 0 ? await getLatestAnalyses(trx, [...moved]) : null;
    const prepared = batch.map(({ p }, i) => {
      const a = latest?.get(p.sha256);
      return a ? prepareFacts(reads, p, a, policy) : first[i];
    });
    const families = await lockCaseTargets(
      trx,
      prepared.map((one) => one.facts),
    );
    const out: ProcessOutcome[] = [];
    for (const one of prepared) out.push(await applyFacts(trx, ctx, one, policy, next, families));
    return out;
  });
  if (outcomes.some((o) => o.feedback > 0)) notifyOutbox();
  return outcomes;
}

/** Routes a case by its category and refers it to every matching authority not yet referred. */
export async function autoRefer(ctx: AppContext, caseId: string): Promise<string[]> {
  const policy = policyFor(ctx.config);
  const c = await getCase(ctx.db, caseId);
  if (c.state !== 'open' && c.state !== 'referred') return [];
  if (!(await passesGate(ctx.db, c, policy, 'referral'))) return [];
  const authorities = await routeCase(ctx.db, c.category, policy);
  if (authorities.length === 0) {
    await addCaseEvent(ctx.db, caseId, 'rule:routing', 'not-routed', {
      category: c.category,
      reason: 'no active authority has a matching competence',
    });
    return [];
  }
  const already = new Set(
    (await ctx.db.selectFrom('action_referrals').select('authority_id').where('case_id', '=', caseId).execute()).map(
      (r) => r.authority_id,
    ),
  );
  const out: string[] = [];
  for (const a of authorities) {
    if (already.has(a.id)) continue;
    out.push((await referCase(ctx, caseId, a.id, 'rule:routing')).referralId);
  }
  return out;
}

/**
 * Queues an updated referral of a case that was referred before this report joined it — once:
 * while an update is queued, later reports ride along with it.
 */
async function scheduleReferralUpdate(
  db: Kysely<Database>,
  caseId: string,
  at: Date,
  next: ActionsNext,
): Promise<void> {
  const referred = await db
    .selectFrom('action_referrals')
    .select('id')
    .where('case_id', '=', caseId)
    .limit(1)
    .executeTakeFirst();
  if (!referred) return; // its first referral will carry this report
  if (!(await next.referUpdateQueued(db, { caseId }))) await next.referUpdate(db, { caseId }, at);
}

/**
 * Sends an updated package to each authority whose latest referral of the case is older than
 * reports that joined it since (not to one that closed its referral, nor to an inactive one), at
 * most once per `cases.referUpdateIntervalHours`; an authority not yet due is retried when it is.
 */
export async function updateReferrals(
  ctx: AppContext,
  caseId: string,
  next: ActionsNext,
  now = new Date(),
): Promise<string[]> {
  const policy = policyFor(ctx.config);
  const c = await getCase(ctx.db, caseId);
  if (c.state !== 'referred') return [];
  if (!(await passesGate(ctx.db, c, policy, 'referral update'))) return [];
  const referrals = await ctx.db
    .selectFrom('action_referrals')
    .select(['authority_id', 'state', 'created_at'])
    .where('case_id', '=', caseId)
    .orderBy('created_at', 'desc')
    .execute();
  const latest = new Map<string, (typeof referrals)[number]>();
  for (const r of referrals) if (!latest.has(r.authority_id)) latest.set(r.authority_id, r);
  const out: string[] = [];
  let retryAt: number | null = null;
  for (const [authorityId, r] of latest) {
    if (r.state === 'closed') continue;
    const authority = await ctx.db
      .selectFrom('action_authorities')
      .select('active')
      .where('id', '=', authorityId)
      .executeTakeFirst();
    if (!authority?.active) continue;
    const joined = await ctx.db
      .selectFrom('action_case_reports')
      .select('report_id')
      .where('case_id', '=', caseId)
      .where('added_at', '>', r.created_at)
      .limit(1)
      .executeTakeFirst();
    if (!joined) continue;
    const due = Date.parse(r.created_at) + policy.cases.referUpdateIntervalHours * 3_600_000;
    if (due > now.getTime()) {
      retryAt = Math.min(retryAt ?? due, due);
      continue;
    }
    out.push((await referCase(ctx, caseId, authorityId, 'rule:update')).referralId);
  }
  if (retryAt !== null) await next.referUpdate(ctx.db, { caseId }, new Date(retryAt));
  return out;
}

/**
 * Checks the gates before an automatic send; a case that fails them is put in `needs_review` with
 * the reasons in its history, for an analyst to refer or close by hand.
 */
async function passesGate(db: Kysely<Database>, c: CaseRow, policy: ActionPolicy, what: string): Promise<boolean> {
  const verdict = await caseGate(db, c, policy);
  if (verdict.ok) return true;
  await db.transaction().execute(async (trx) => {
    await addCaseEvent(trx, c.id, 'rule:gates', 'held', { what, reasons: verdict.reasons });
    await setCaseState(trx, c.id, 'needs_review', 'rule:gates', { reasons: verdict.reasons });
  });
  return false;
}

/** Runs each job on its own; a failing job is retried alone. */
async function perJob<P>(jobs: TypedJob<P>[], run: (p: P) => Promise<unknown>): Promise<Map<string, Error>> {
  const errors = new Map<string, Error>();
  for (const j of jobs) {
    try {
      await run(j.data);
    } catch (e) {
      errors.set(j.id, e instanceof Error ? e : new Error(String(e)));
    }
  }
  return errors;
}

/** `actions-report`: the last step of the pipeline, a batch of reports in one transaction. */
export function actionsReportWork(
  next: ActionsNext,
): JobWork<{ reportId: string; sha256: string; campaignId?: string | null }, AppContext> {
  return {
    batchSize: 50,
    async run(jobs, ctx) {
      const shas = jobs.map((j) => j.data.sha256);
      const analyses = await loadAnalyses(ctx.db, [...new Set(shas)], ctx.config);
      await processReports(
        ctx,
        jobs.map((j) => ({
          p: { reportId: j.data.reportId, sha256: j.data.sha256, campaignId: j.data.campaignId ?? null },
          analysis: analyses.get(j.data.sha256) ?? null,
        })),
        next,
      );
      // The last stage that reads them: this process's records of these messages can go.
      forgetAnalyses(shas);
      return undefined;
    },
  };
}

/** `actions-refer-update`: updated packages for a referred case. */
export function actionsReferUpdateWork(next: ActionsNext): JobWork<CaseRef, AppContext> {
  return {
    batchSize: 2,
    run: (jobs, ctx) => perJob(jobs, (p) => updateReferrals(ctx, p.caseId, next)),
  };
}

/** `actions-refer`: routes a newly opened case and refers it. */
export function actionsReferWork(): JobWork<CaseRef, AppContext> {
  return {
    batchSize: 2,
    run: (jobs, ctx) => perJob(jobs, (p) => autoRefer(ctx, p.caseId)),
  };
}
