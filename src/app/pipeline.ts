/**
 * The pipeline as data: the one place where job names exist. Each job has its payload schema, the
 * area work that runs it, and the jobs it hands on to. Areas never name a job: they receive a
 * {@link HandOn} callback (called inside their transaction) and this file decides what it becomes.
 * In the spirit of IntelMQ's `runtime.yaml`, but typed: a payload that does not match its schema
 * fails the job (it is retried, then parked as `dead`), and a renamed job fails to compile.
 *
 *   report stored ─► analyse-report ─► campaign-report ─► actions-report ─┬─► actions-refer
 *   (evidence, FIRST_JOB)                                                 └─► actions-refer-update ⟲
 */
import { policyFor } from '../actions/action-policy.ts';
import { reanalysedCommitted, reanalysedStored } from './reanalysed.ts';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { AppContext } from '../evidence/context.ts';
import type { HandOn, JobHandler, JobWork, TypedJob } from '../workers/handlers.ts';
import { enqueueJob } from '../workers/jobs.ts';
import { analysisArea } from '../analysis/area.ts';
import { campaignsArea } from '../campaigns/area.ts';
import { actionsArea } from '../actions/area.ts';
import type { ActionsNext } from '../actions/actions-jobs.ts';

const ReportRef = z.object({ reportId: z.string().min(1).max(64), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const CaseRef = z.object({ caseId: z.string().min(1) });

/** Every job and its payload. */
export const PAYLOADS = {
  /** A newly stored report (enqueued by the report writer in the report's own transaction). */
  'analyse-report': ReportRef,
  /** A report whose analysis is stored. */
  'campaign-report': ReportRef,
  /** A report classified and placed in a campaign (`campaignId` null: in none). */
  'actions-report': ReportRef.extend({ campaignId: z.string().nullable().optional() }),
  /** A newly opened case to route and refer (`cases.autoRefer`). */
  'actions-refer': CaseRef,
  /** A referred case that reports joined since (`cases.referUpdates`). */
  'actions-refer-update': CaseRef,
} as const;

export type JobName = keyof typeof PAYLOADS;
export type Payload<N extends JobName> = z.infer<(typeof PAYLOADS)[N]>;

/** The job every newly stored report becomes; the report writer enqueues it with the report. */
export const FIRST_JOB: JobName = 'analyse-report';

/** Enqueues a job after checking its payload (in the caller's transaction when `db` is one). */
export async function enqueue<N extends JobName>(
  db: Kysely<Database>,
  name: N,
  payload: Payload<N>,
  runAt?: Date,
): Promise<string> {
  return enqueueJob(db, name, PAYLOADS[name].parse(payload), runAt);
}

export function handOn<N extends JobName>(name: N): HandOn<Payload<N>> {
  return async (db, payload, runAt) => {
    await enqueue(db, name, payload, runAt);
  };
}

/** What the actions area hands on: its own follow-up jobs. */
export const ACTIONS_NEXT: ActionsNext = {
  refer: handOn('actions-refer'),
  referUpdate: handOn('actions-refer-update'),
  async referUpdateQueued(db, p) {
    const payload = JSON.stringify(PAYLOADS['actions-refer-update'].parse(p));
    const queued = await db
      .selectFrom('jobs')
      .select('id')
      .where('kind', '=', 'actions-refer-update')
      .where('state', '=', 'queued')
      .where('payload', '=', payload)
      .limit(1)
      .executeTakeFirst();
    return queued !== undefined;
  },
};

interface Step<N extends JobName> {
  /** The area's work for this job, given where its results go. */
  work: () => JobWork<Payload<N>, AppContext>;
  /** The jobs it may hand on to (documentation, checked by pipeline.test.ts). */
  next: readonly JobName[];
  /** Its jobs are taken in intake order, each once every earlier report is through this stage. */
  inOrderBehind?: JobName;
}

/** The flow, in order. */
export const PIPELINE: { [N in JobName]: Step<N> } = {
  'analyse-report': {
    // Each record's classification and fingerprint are made in the analysis thread beside it.
    work: () =>
      analysisArea.jobs.analyseReport(
        handOn('campaign-report'),
        campaignsArea.jobs.campaignPrepareAlongside(),
        // Messages traced again after a learning pass: what the campaigns' stories, the lists, alerts,
        // cases and the workbench index show follows (reanalysed.ts).
        {
          stored: (trx, changes, ctx) => reanalysedStored(trx, changes, policyFor(ctx.config)),
          committed: (analyses, ctx) => reanalysedCommitted(ctx.db, analyses),
        },
      ),
    next: ['campaign-report'],
  },
  'campaign-report': {
    work: () => campaignsArea.jobs.campaignReport(handOn('actions-report')),
    next: ['actions-report'],
    // A campaign is founded by the first of its messages placed: placing in intake order makes the
    // campaigns a function of the stream, not of which analysis or which process finished first.
    inOrderBehind: 'analyse-report',
  },
  'actions-report': {
    work: () => actionsArea.jobs.actionsReport(ACTIONS_NEXT),
    next: ['actions-refer', 'actions-refer-update'],
  },
  'actions-refer': { work: () => actionsArea.jobs.actionsRefer(), next: [] },
  'actions-refer-update': {
    work: () => actionsArea.jobs.actionsReferUpdate(ACTIONS_NEXT),
    next: ['actions-refer-update'],
  },
};

/** The handler of one job: parses each payload against the job's schema, then runs the area's work. */
export function jobHandler<N extends JobName>(name: N): JobHandler<AppContext> {
  const step: Step<N> = PIPELINE[name];
  const work = step.work();
  const schema = PAYLOADS[name];
  return {
    kind: name,
    ...(work.batchSize === undefined ? {} : { batchSize: work.batchSize }),
    ...(step.inOrderBehind === undefined ? {} : { inOrderBehind: step.inOrderBehind }),
    async run(jobs, ctx) {
      const errors = new Map<string, Error>();
      const typed: TypedJob<Payload<N>>[] = [];
      for (const job of jobs) {
        const parsed = parsePayload(schema, job.payload);
        if (parsed.success) typed.push({ ...job, data: parsed.data as Payload<N> });
        else errors.set(job.id, new Error(`bad ${name} payload: ${parsed.error}`));
      }
      if (typed.length > 0) {
        const more = await work.run(typed, ctx);
        if (more) for (const [id, e] of more) errors.set(id, e);
      }
      return errors;
    },
    ...(work.close ? { close: () => work.close?.() ?? Promise.resolve() } : {}),
  };
}

function parsePayload(
  schema: z.ZodType,
  payload: string,
): { success: true; data: unknown } | { success: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { success: false, error: `not JSON: ${payload.slice(0, 200)}` };
  }
  const r = schema.safeParse(json);
  return r.success
    ? { success: true, data: r.data }
    : { success: false, error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}

/** Every job's handler, in the order of the flow (what `spamdesk serve` runs). */
export function jobHandlers(): JobHandler<AppContext>[] {
  return (Object.keys(PIPELINE) as JobName[]).map((name) => jobHandler(name));
}
