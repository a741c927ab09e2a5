/**
 * The campaigns area's work for one analysed report: classify the message (rules + text model),
 * place it in a campaign, store both, and hand the report on to the actions area — all in one
 * transaction, so a crash leaves either everything or nothing (and the job is retried).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { analysesMovedSince, getLatestAnalyses } from '../analysis/repository.ts';
import { nowIso } from '../core/ids.ts';
import type { HandOn } from '../workers/handlers.ts';
import type { Classifier, Verdict } from '../analysis/classify/classify.ts';
import { automaticCategories, relabelledCategories } from './relabel.ts';
import { moveCategoryCount } from './campaign-store.ts';
import { fingerprintOf, type Fact, type Fingerprint } from './fingerprint.ts';
import { identityOfReport, Redactor, type ReporterIdentity } from '../evidence/redact.ts';
import { ingestFingerprint, type Placement } from './cluster.ts';
import { takePrepared } from './thread-prepare.ts';
import { LOCK_CLASS, lockNames } from '../db/xact-locks.ts';
import { messageLockName } from './message-lock.ts';

/** A message's own name among the cluster keys (`message-lock.ts`): its placement takes it. */
export { messageLockName };

/** The names a placement locks: the message, its LSH band keys and its strong links. */
export function clusterLockNames(fp: Fingerprint): string[] {
  return [
    messageLockName(fp.sha256),
    ...fp.bands.map((b) => `b:${b}`),
    ...fp.links.map((l) => `l:${l.kind}:${l.value}`),
  ];
}

/** A report placed in a campaign, handed on to the actions area (`actions-report` in app/pipeline.ts). */
export interface PlacedReport {
  reportId: string;
  sha256: string;
  campaignId: string | null;
}

export interface ProcessedReport {
  verdict: Verdict;
  placement: Placement;
}

/** Stores the automatic classification of a message (replacing an older one). */
export async function saveClassification(db: Kysely<Database>, sha256: string, v: Verdict, at: string): Promise<void> {
  const row = {
    sha256,
    category: v.category,
    confidence: v.confidence,
    reasons: JSON.stringify(v.reasons),
    model_version: v.model.version,
    classified_at: at,
  };
  await db
    .insertInto('classifications')
    .values(row)
    .onConflict((oc) =>
      oc.column('sha256').doUpdateSet({
        category: row.category,
        confidence: row.confidence,
        reasons: row.reasons,
        model_version: row.model_version,
        classified_at: row.classified_at,
      }),
    )
    .execute();
}

/**
 * A campaign's story is shown to authorities: its facts are recorded without the reporter's
 * identity (a personalised subject "Léa Martin, votre compte…", the recipient's own number or
 * domain), which also groups personalised subjects as one.
 */
export async function withoutReporter(
  db: Kysely<Database>,
  reportId: string,
  analysis: Analysis,
  fp: Fingerprint,
  /** The report's reporter identity when already read (a batch reads them at once). */
  identity?: ReporterIdentity,
): Promise<Fingerprint> {
  return { ...fp, facts: factsWithoutReporter(fp.facts, analysis, identity ?? (await identityOfReport(db, reportId))) };
}

/** Story facts without the reporter's identity nor the message's recipients' (see {@link withoutReporter}). */
export function factsWithoutReporter(facts: readonly Fact[], analysis: Analysis, identity: ReporterIdentity): Fact[] {
  const recipients = [...analysis.parse.to, ...analysis.parse.cc];
  const redactor = new Redactor(identity, {
    addresses: recipients.map((m) => m.address),
    names: recipients.map((m) => m.name).filter(Boolean),
  });
  const out: Fact[] = [];
  for (const f of facts) {
    if (f.kind === 'subject' || f.kind === 'sender') out.push({ kind: f.kind, value: redactor.string(f.value) });
    // A domain or number of the reporter's own is not the campaign's: left out.
    else if (f.kind === 'domain' || f.kind === 'phone') {
      if (redactor.string(f.value) === f.value) out.push(f);
    } else out.push(f);
  }
  return out;
}

/** One report of a batch, with what was worked out for it before the batch's transaction. */
export interface PreparedReport {
  reportId: string;
  sha256: string;
  seenAt: string;
  /** The analysis record it was prepared from (its `analysedAt`). */
  analysedAt: string;
  verdict: Verdict;
  fp: Fingerprint;
}

/**
 * Classifies one report's message and makes its fingerprint without the reporter: the work of a
 * placement that needs no lock (reads only), done before the batch's transaction. The
 * classification and fingerprint the analysis thread made beside this record are taken when there
 * are some (thread-prepare.ts: the same functions on the same record).
 */
export async function prepareReport(
  db: Kysely<Database>,
  classifier: Classifier,
  job: { reportId: string; sha256: string; seenAt: string },
  analysis: Analysis,
  identity?: ReporterIdentity,
): Promise<PreparedReport> {
  const made = takePrepared(analysis);
  const verdict = made?.verdict ?? classifier.classify(analysis);
  const fp = await withoutReporter(db, job.reportId, analysis, made?.fp ?? fingerprintOf(analysis), identity);
  return { ...job, analysedAt: analysis.analysedAt, verdict, fp };
}

/**
 * The batch as the analyses stored now make it (in the batch's transaction, before the placement's
 * locks): a report whose message was traced again since it was prepared is prepared again from the
 * new record, so the campaign never counts an origin a retrace has already moved past
 * (`analysesMovedSince`).
 */
async function withLatestAnalyses(
  trx: Kysely<Database>,
  reports: readonly PreparedReport[],
  classifier: Classifier,
): Promise<readonly PreparedReport[]> {
  const moved = await analysesMovedSince(trx, reports);
  if (moved.size === 0) return reports;
  const latest = await getLatestAnalyses(trx, [...moved]);
  const out: PreparedReport[] = [];
  for (const r of reports) {
    const a = moved.has(r.sha256) ? latest.get(r.sha256) : null;
    out.push(a ? await prepareReport(trx, classifier, r, a) : r);
  }
  return out;
}

/**
 * Stores and places a batch of prepared reports, in their order, and hands each on — in ONE
 * transaction (on SQLite one commit for the batch, not one per report). Each placement sees the
 * ones before it in the same transaction, exactly as when each had its own, so the batch gives the
 * campaigns one-at-a-time gives. The locks of every report are taken first, in one sorted order
 * (xact-locks.ts), so two processes never wait on each other in a circle. A report that fails
 * fails the whole batch (nothing of it is stored); the runner then runs its jobs one at a time.
 */
export async function placeReports(
  db: Kysely<Database>,
  prepared: readonly PreparedReport[],
  placed: HandOn<PlacedReport>,
  classifier: Classifier,
): Promise<Placement[]> {
  if (prepared.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    const reports = await withLatestAnalyses(trx, prepared, classifier);
    await lockNames(
      trx,
      LOCK_CLASS.clusterKey,
      reports.flatMap((r) => clusterLockNames(r.fp)),
    );
    // The category in force is an analyst's latest relabel, else the verdict just saved: the
    // relabels of the whole batch read once, under the batch's locks, and the verdicts stored before
    // it (what a message reported again was counted under).
    const shas = reports.map((r) => r.sha256);
    const relabelled = await relabelledCategories(trx, shas);
    const stored = await automaticCategories(
      trx,
      shas.filter((sha) => !relabelled.has(sha)),
    );
    const out: Placement[] = [];
    for (const r of reports) {
      const counted = relabelled.get(r.sha256) ?? stored.get(r.sha256) ?? null;
      await saveClassification(trx, r.sha256, r.verdict, nowIso());
      stored.set(r.sha256, r.verdict.category);
      const category = relabelled.get(r.sha256) ?? r.verdict.category;
      const placement = await ingestFingerprint(trx, r.fp, { seenAt: r.seenAt, category });
      // A message reported again whose verdict changed since it was counted (its record traced again
      // after its reporter's mail hosts were learned, a retrained model): its unit in the campaign's
      // category counts moves with it, so the standing the actions gates read is the messages' own.
      if (placement.via === 'repeat' && counted !== null && counted !== category)
        await moveCategoryCount(trx, placement.campaignId, counted, category, r.seenAt);
      await placed(trx, { reportId: r.reportId, sha256: r.sha256, campaignId: placement.campaignId });
      out.push(placement);
    }
    return out;
  });
}

/**
 * Classifies and clusters one report's message and hands it on (`placed`, in the same transaction).
 * `seenAt` is the report's reception time (the campaign's story is in reporting time, not
 * processing time).
 */
export async function processReport(
  db: Kysely<Database>,
  classifier: Classifier,
  job: { reportId: string; sha256: string; seenAt: string },
  analysis: Analysis,
  placed: HandOn<PlacedReport>,
): Promise<ProcessedReport> {
  const prepared = await prepareReport(db, classifier, job, analysis);
  const [placement] = await placeReports(db, [prepared], placed, classifier);
  return { verdict: prepared.verdict, placement };
}
