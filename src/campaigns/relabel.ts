/**
 * Analyst relabels: a person corrects a report's category. Stored with who and when (and the
 * category it replaced), audited, shown in the report view, and read by `npm run train` as
 * training data for the next model.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { newId, nowIso } from '../core/ids.ts';
import { AppError } from '../core/errors.ts';
import { writeAudit } from '../evidence/audit.ts';
import { isCategory, modelClassOf, type Category, type ModelClass } from '../analysis/classify/categories.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { getMessageRaw } from '../evidence/store.ts';
import { addFacts, moveCategoryCount, refreshStanding } from './campaign-store.ts';
import { LOCK_CLASS, lockNames } from '../db/xact-locks.ts';
import { messageLockName } from './message-lock.ts';

export interface RelabelResult {
  id: string;
  reportId: string;
  sha256: string;
  category: Category;
  previousCategory: string | null;
  actor: string;
  at: string;
}

/** The category currently in force for a message: the latest relabel, else the automatic one. */
export async function currentCategory(db: Kysely<Database>, sha256: string): Promise<string | null> {
  return (await currentCategories(db, [sha256])).get(sha256) ?? null;
}

/**
 * The category of the latest relabel of each of these messages (absent: never relabelled), one
 * statement per 500 messages: latest by (`at`, `id`), text compared as both engines order it.
 */
export async function relabelledCategories(
  db: Kysely<Database>,
  sha256s: readonly string[],
): Promise<Map<string, string>> {
  const latest = new Map<string, { at: string; id: string; category: string }>();
  const wanted = [...new Set(sha256s)];
  for (let i = 0; i < wanted.length; i += 500) {
    const rows = await db
      .selectFrom('relabels')
      .select(['message_sha256', 'at', 'id', 'category'])
      .where('message_sha256', 'in', wanted.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const l = latest.get(r.message_sha256);
      if (!l || r.at > l.at || (r.at === l.at && r.id > l.id)) latest.set(r.message_sha256, r);
    }
  }
  return new Map([...latest].map(([sha, l]) => [sha, l.category]));
}

/** The automatic category stored for each of these messages (absent: none), one statement per 500 messages. */
export async function automaticCategories(
  db: Kysely<Database>,
  sha256s: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const wanted = [...new Set(sha256s)];
  for (let i = 0; i < wanted.length; i += 500) {
    const autos = await db
      .selectFrom('classifications')
      .select(['sha256', 'category'])
      .where('sha256', 'in', wanted.slice(i, i + 500))
      .execute();
    for (const r of autos) out.set(r.sha256, r.category);
  }
  return out;
}

/**
 * {@link currentCategory} of each of these messages (absent: none), two statements per 500 messages:
 * the latest relabel, else the automatic category.
 */
export async function currentCategories(
  db: Kysely<Database>,
  sha256s: readonly string[],
): Promise<Map<string, string>> {
  const out = await relabelledCategories(db, sha256s);
  const rest = [...new Set(sha256s)].filter((sha) => !out.has(sha));
  for (const [sha, category] of await automaticCategories(db, rest)) out.set(sha, category);
  return out;
}

/**
 * Relabels the message of a report. `actor` is who did it (a principal label such as
 * `user:…(alice@example.org):analyst`). Throws NOT_FOUND for an unknown report and BAD_REQUEST
 * for an unknown category.
 */
export async function relabelReport(
  db: Kysely<Database>,
  reportId: string,
  category: string,
  actor: string,
): Promise<RelabelResult> {
  if (!isCategory(category)) throw new AppError('BAD_REQUEST', `Unknown category ${JSON.stringify(category)}.`);
  return db.transaction().execute(async (trx) => {
    const report = await trx
      .selectFrom('reports')
      .select(['id', 'message_sha256'])
      .where('id', '=', reportId)
      .executeTakeFirst();
    if (!report) throw new AppError('NOT_FOUND', 'No such report.');
    // The message's placement lock before its category is read: two relabels (or a relabel and a
    // placement) of one message never both count the same move.
    await lockNames(trx, LOCK_CLASS.clusterKey, [messageLockName(report.message_sha256)]);
    const previous = await currentCategory(trx, report.message_sha256);
    const row = {
      id: newId(),
      report_id: report.id,
      message_sha256: report.message_sha256,
      category,
      previous_category: previous,
      actor,
      at: nowIso(),
    };
    await trx.insertInto('relabels').values(row).execute();
    if (previous !== category) await moveCampaignCategory(trx, report.message_sha256, previous, category, row.at);
    await writeAudit(trx, {
      actor,
      action: 'report.relabel',
      subject: `report:${report.id}`,
      ip: null,
      detail: { from: previous, to: category },
    });
    return {
      id: row.id,
      reportId: report.id,
      sha256: report.message_sha256,
      category,
      previousCategory: previous,
      actor,
      at: row.at,
    };
  });
}

/** Most messages one campaign relabel changes (a larger one is relabelled by its reports, or re-clustered first). */
export const MAX_CAMPAIGN_RELABEL = 5000;
/** Messages relabelled per transaction (each chunk's relabels, audit entries and locks commit together). */
const RELABEL_CHUNK = 200;

export interface CampaignRelabelOptions {
  /** Also relabel the messages whose category in force is `legitimate` (default: they are kept). */
  includeLegitimate?: boolean;
  /** Also overwrite what analysts relabelled message by message (default: those are kept). */
  includeRelabelled?: boolean;
  /** Only say what would change. */
  dryRun?: boolean;
  /** The caller's address, for the audit log. */
  ip?: string | null;
}

/** What a campaign relabel changes (or would change), message by message counted. */
export interface CampaignRelabelPlan {
  /** The campaign (a merged id's survivor). */
  campaignId: string;
  category: Category;
  members: number;
  /** Messages to relabel, by the category in force before. */
  change: { from: string | null; messages: number }[];
  /** Already of that category. */
  unchanged: number;
  /** Classified legitimate, kept (without `includeLegitimate`). */
  keptLegitimate: number;
  /** Relabelled by an analyst to another category, kept (without `includeRelabelled`). */
  keptRelabelled: number;
  /** No report left (retention or erasure removed them): no longer counted in the campaign. */
  withoutReport: number;
}

export interface CampaignRelabelResult extends CampaignRelabelPlan {
  /** Messages relabelled by this run. */
  relabelled: number;
  /** Every report of the relabelled messages (what the web index shows again). */
  reportIds: string[];
}

/**
 * Relabels the messages of a campaign (a merged id stands for its survivor) that are not yet of
 * `category`: the analyst's decision, after reading the member reports, that the campaign is one
 * thing — typically a commercial campaign the classifier called scam in a few copies, which the
 * gates hold for the mix. Messages classified legitimate and messages an analyst relabelled one by
 * one are kept unless asked for; `dryRun` only answers the plan. Each message is relabelled on its
 * latest report (the last that retention removes) as one relabel is — recorded, audited, training
 * data — in transactions of {@link RELABEL_CHUNK} messages under their placement locks; then the
 * campaign's category counts are recounted from its messages' categories in force, under its row
 * lock (the campaign row before its counts, as a placement takes them), and its standing follows;
 * the whole is audited once as `campaign.relabel`. A run stopped half-way is finished by running it
 * again (what is done is unchanged, and the recount heals the counts). Refuses a campaign of more
 * than {@link MAX_CAMPAIGN_RELABEL} messages.
 */
export async function relabelCampaign(
  db: Kysely<Database>,
  campaignId: string,
  category: string,
  actor: string,
  opts: CampaignRelabelOptions = {},
): Promise<CampaignRelabelResult> {
  if (!isCategory(category)) throw new AppError('BAD_REQUEST', `Unknown category ${JSON.stringify(category)}.`);
  const row = await db
    .selectFrom('campaigns')
    .select(['id', 'merged_into'])
    .where('id', '=', campaignId)
    .executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', 'No such campaign.');
  const root = row.merged_into ?? row.id;
  const members = await membersOf(db, root);
  if (members.length > MAX_CAMPAIGN_RELABEL)
    throw new AppError(
      'BAD_REQUEST',
      `Campaign ${root} has more than ${MAX_CAMPAIGN_RELABEL} messages: relabel its reports one by one, or re-cluster \
first.`,
    );
  const reportOf = await latestReports(db, members);
  const relabelledTo = await relabelledCategories(db, members);
  const current = await currentCategories(db, members);
  const plan: CampaignRelabelPlan = {
    campaignId: root,
    category,
    members: members.length,
    change: [],
    unchanged: 0,
    keptLegitimate: 0,
    keptRelabelled: 0,
    withoutReport: 0,
  };
  const from = new Map<string | null, number>();
  const todo: string[] = [];
  for (const sha of members) {
    const now = current.get(sha) ?? null;
    if (!reportOf.has(sha)) plan.withoutReport++;
    else if (now === category) plan.unchanged++;
    else if (relabelledTo.has(sha) && opts.includeRelabelled !== true) plan.keptRelabelled++;
    else if (now === 'legitimate' && opts.includeLegitimate !== true) plan.keptLegitimate++;
    else {
      todo.push(sha);
      from.set(now, (from.get(now) ?? 0) + 1);
    }
  }
  plan.change = [...from]
    .map(([f, messages]) => ({ from: f, messages }))
    .sort((a, b) => b.messages - a.messages || String(a.from).localeCompare(String(b.from)));
  if (opts.dryRun === true) return { ...plan, relabelled: 0, reportIds: [] };

  let relabelled = 0;
  const reportIds: string[] = [];
  for (let i = 0; i < todo.length; i += RELABEL_CHUNK) {
    const chunk = todo.slice(i, i + RELABEL_CHUNK);
    const done = await db.transaction().execute(async (trx) => {
      // The placement locks of these messages first (LOCK_CLASS order), then what they protect: a
      // placement, a retrace or another relabel of one of them runs before or after, never beside.
      await lockNames(trx, LOCK_CLASS.clusterKey, chunk.map(messageLockName));
      const before = await currentCategories(trx, chunk);
      const at = nowIso();
      const rows = chunk
        .filter((sha) => before.get(sha) !== category)
        .map((sha) => ({
          id: newId(),
          report_id: reportOf.get(sha) as string,
          message_sha256: sha,
          category,
          previous_category: before.get(sha) ?? null,
          actor,
          at,
        }));
      if (rows.length > 0) await trx.insertInto('relabels').values(rows).execute();
      for (const r of rows)
        await writeAudit(trx, {
          actor,
          action: 'report.relabel',
          subject: `report:${r.report_id}`,
          ip: opts.ip ?? null,
          detail: { from: r.previous_category, to: category, campaign: root },
        });
      return rows.map((r) => r.message_sha256);
    });
    relabelled += done.length;
    if (done.length > 0) reportIds.push(...(await reportsOfMessages(db, done)).map((r) => r.id));
  }
  await recountCategories(db, root);
  await writeAudit(db, {
    actor,
    action: 'campaign.relabel',
    subject: `campaign:${root}`,
    ip: opts.ip ?? null,
    detail: {
      to: category,
      relabelled,
      unchanged: plan.unchanged,
      keptLegitimate: plan.keptLegitimate,
      keptRelabelled: plan.keptRelabelled,
      withoutReport: plan.withoutReport,
    },
  });
  return { ...plan, relabelled, reportIds };
}

/** The messages of a campaign and of the campaigns merged into it (at most one more than the bound). */
async function membersOf(db: Kysely<Database>, root: string): Promise<string[]> {
  const ids = [
    root,
    ...(await db.selectFrom('campaigns').select('id').where('merged_into', '=', root).execute()).map((r) => r.id),
  ];
  const members: string[] = [];
  for (let i = 0; i < ids.length && members.length <= MAX_CAMPAIGN_RELABEL; i += 500) {
    const rows = await db
      .selectFrom('campaign_messages')
      .select('sha256')
      .where('campaign_id', 'in', ids.slice(i, i + 500))
      .orderBy('sha256')
      .limit(MAX_CAMPAIGN_RELABEL + 1 - members.length)
      .execute();
    members.push(...rows.map((r) => r.sha256));
  }
  return members;
}

/** Every report of these messages, with its message. */
async function reportsOfMessages(
  db: Kysely<Database>,
  shas: readonly string[],
): Promise<{ id: string; message_sha256: string }[]> {
  const out: { id: string; message_sha256: string }[] = [];
  for (let i = 0; i < shas.length; i += 500)
    out.push(
      ...(await db
        .selectFrom('reports')
        .select(['id', 'message_sha256'])
        .where('message_sha256', 'in', shas.slice(i, i + 500))
        .execute()),
    );
  return out;
}

/** Each message's latest report (by id, which grows with time): the last one retention removes. */
async function latestReports(db: Kysely<Database>, shas: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of await reportsOfMessages(db, shas)) {
    const known = out.get(r.message_sha256);
    if (known === undefined || r.id > known) out.set(r.message_sha256, r.id);
  }
  return out;
}

/**
 * Recounts a campaign's category counts from its messages' categories in force (a message whose
 * evidence retention removed has none and no longer counts), then its standing. The campaign row is
 * locked first (an update of it), as a placement takes it before the counts, so a message placed
 * meanwhile is counted by one transaction or the other, never lost; counts are written in value order.
 */
export async function recountCategories(db: Kysely<Database>, root: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const at = nowIso();
    await trx.updateTable('campaigns').set({ updated_at: at }).where('id', '=', root).execute();
    const members = await membersOf(trx, root);
    const current = await currentCategories(trx, members);
    const counts = new Map<string, number>();
    for (const sha of members) {
      const c = current.get(sha);
      if (c) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    const existing = await trx
      .selectFrom('campaign_facts')
      .select(['value', 'count'])
      .where('campaign_id', '=', root)
      .where('kind', '=', 'category')
      .execute();
    const values = [...new Set([...existing.map((e) => e.value), ...counts.keys()])].sort();
    for (const value of values) {
      const n = counts.get(value) ?? 0;
      const had = existing.find((e) => e.value === value);
      if (had && Number(had.count) === n) continue;
      if (had && n === 0)
        await trx
          .deleteFrom('campaign_facts')
          .where('campaign_id', '=', root)
          .where('kind', '=', 'category')
          .where('value', '=', value)
          .execute();
      else if (had)
        await trx
          .updateTable('campaign_facts')
          .set({ count: n, last_seen_at: at })
          .where('campaign_id', '=', root)
          .where('kind', '=', 'category')
          .where('value', '=', value)
          .execute();
      else await addFacts(trx, root, [{ kind: 'category', value, count: n }], at);
    }
    await refreshStanding(trx, root);
  });
}

/**
 * A relabel moves its message's unit in its campaign's category counts, so the campaign's majority,
 * purity and legitimate share — which the actions gates read — follow the analyst at once.
 */
async function moveCampaignCategory(
  db: Kysely<Database>,
  sha256: string,
  from: string | null,
  to: string,
  at: string,
): Promise<void> {
  const member = await db
    .selectFrom('campaign_messages as m')
    .innerJoin('campaigns as c', 'c.id', 'm.campaign_id')
    .select(['c.id', 'c.merged_into'])
    .where('m.sha256', '=', sha256)
    .executeTakeFirst();
  if (!member) return;
  await moveCategoryCount(db, member.merged_into ?? member.id, from, to, at);
}

/** The latest relabel of each relabelled message (training data). */
export async function latestRelabels(
  db: Kysely<Database>,
): Promise<{ message_sha256: string; category: string; at: string; actor: string }[]> {
  const rows = await db
    .selectFrom('relabels')
    .select(['message_sha256', 'category', 'at', 'actor', 'id'])
    .orderBy('message_sha256')
    .orderBy('at')
    .orderBy('id')
    .execute();
  const latest = new Map<string, { message_sha256: string; category: string; at: string; actor: string }>();
  for (const r of rows)
    latest.set(r.message_sha256, { message_sha256: r.message_sha256, category: r.category, at: r.at, actor: r.actor });
  return [...latest.values()];
}

/** One analyst relabel turned into a training example for the text model. */
export interface RelabelExample {
  sha256: string;
  label: ModelClass;
  analysis: Analysis;
}

/**
 * Examples kept per campaign and label. A whole-campaign relabel writes one relabel per message, and a campaign is
 * copies of one mailing: 5,000 of them would teach the text model that mailing with the weight of 5,000 messages
 * against the corpus's few thousand, and pull every similar message its way. A few copies teach its words.
 */
export const MAX_RELABEL_EXAMPLES_PER_CAMPAIGN = 20;

/** What {@link relabelTrainingExamples} left out, for the training log. */
export interface RelabelExampleStats {
  /** Relabels past {@link MAX_RELABEL_EXAMPLES_PER_CAMPAIGN} of one campaign and label. */
  capped: number;
}

/** The campaign (a merged one's survivor) of each message that is in one. */
async function campaignsOfMessages(db: Kysely<Database>, sha256s: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < sha256s.length; i += 500) {
    const rows = await db
      .selectFrom('campaign_messages as m')
      .innerJoin('campaigns as c', 'c.id', 'm.campaign_id')
      .select(['m.sha256', 'c.id', 'c.merged_into'])
      .where('m.sha256', 'in', sha256s.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.sha256, r.merged_into ?? r.id);
  }
  return out;
}

/**
 * The training examples `npm run train` adds from analyst relabels: the latest relabel of each
 * message whose evidence is still stored, re-analysed offline with the training clock (features
 * must not depend on today's DNS), labelled with the model class of the category (`other` has
 * none and is left out), at most `perCampaign` (default {@link MAX_RELABEL_EXAMPLES_PER_CAMPAIGN}) per
 * campaign and label, the first by message hash. Ordered by message hash, so training stays reproducible.
 */
export async function relabelTrainingExamples(
  db: Kysely<Database>,
  clock: Date,
  opts: { perCampaign?: number; stats?: RelabelExampleStats } = {},
): Promise<RelabelExample[]> {
  const ports = offlinePorts(clock);
  const settings = defaultAnalysisSettings();
  const perCampaign = opts.perCampaign ?? MAX_RELABEL_EXAMPLES_PER_CAMPAIGN;
  const latest = await latestRelabels(db);
  const campaignOf = await campaignsOfMessages(
    db,
    latest.map((r) => r.message_sha256),
  );
  const taken = new Map<string, number>();
  const out: RelabelExample[] = [];
  for (const r of latest) {
    const label = isCategory(r.category) ? modelClassOf(r.category) : null;
    if (!label) continue;
    const campaign = campaignOf.get(r.message_sha256);
    const key = campaign === undefined ? null : `${campaign}\n${label}`;
    if (key !== null && (taken.get(key) ?? 0) >= perCampaign) {
      if (opts.stats) opts.stats.capped++;
      continue;
    }
    const raw = await getMessageRaw(db, r.message_sha256);
    if (!raw) continue;
    out.push({ sha256: r.message_sha256, label, analysis: await analyse(raw, { ports, settings }) });
    if (key !== null) taken.set(key, (taken.get(key) ?? 0) + 1);
  }
  return out;
}
