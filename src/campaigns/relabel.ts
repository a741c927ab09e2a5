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
import { addFacts, refreshStanding } from './campaign-store.ts';

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
  for (let i = 0; i < rest.length; i += 500) {
    const autos = await db
      .selectFrom('classifications')
      .select(['sha256', 'category'])
      .where('sha256', 'in', rest.slice(i, i + 500))
      .execute();
    for (const r of autos) out.set(r.sha256, r.category);
  }
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

export interface CampaignRelabelResult {
  /** The campaign relabelled (a merged id's survivor). */
  campaignId: string;
  category: Category;
  /** The relabels made, one per message whose category in force was another. */
  relabelled: RelabelResult[];
  /** Messages already of that category, left as they were. */
  unchanged: number;
  /** Every report of the relabelled messages (what the web index shows again). */
  reportIds: string[];
}

/**
 * Relabels every message of a campaign (a merged id stands for its survivor) that is not yet of
 * `category`: the analyst's decision, after reading the member reports, that the campaign is one
 * thing — typically a commercial campaign the classifier called scam in a few copies, which the
 * gates hold for the mix. Each message is relabelled on its earliest report exactly as one relabel
 * is (recorded, audited, training data; the campaign's standing follows), then the whole is audited
 * once as `campaign.relabel`. Messages already of that category are left alone, so a run stopped
 * half-way is finished by running it again. Refuses a campaign of more than
 * {@link MAX_CAMPAIGN_RELABEL} messages.
 */
export async function relabelCampaign(
  db: Kysely<Database>,
  campaignId: string,
  category: string,
  actor: string,
): Promise<CampaignRelabelResult> {
  if (!isCategory(category)) throw new AppError('BAD_REQUEST', `Unknown category ${JSON.stringify(category)}.`);
  const row = await db
    .selectFrom('campaigns')
    .select(['id', 'merged_into'])
    .where('id', '=', campaignId)
    .executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', 'No such campaign.');
  const root = row.merged_into ?? row.id;
  const ids = [
    root,
    ...(await db.selectFrom('campaigns').select('id').where('merged_into', '=', root).execute()).map((r) => r.id),
  ];
  const members: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('campaign_messages')
      .select('sha256')
      .where('campaign_id', 'in', ids.slice(i, i + 500))
      .limit(MAX_CAMPAIGN_RELABEL + 1 - members.length)
      .execute();
    members.push(...rows.map((r) => r.sha256));
    if (members.length > MAX_CAMPAIGN_RELABEL) break;
  }
  if (members.length > MAX_CAMPAIGN_RELABEL)
    throw new AppError(
      'BAD_REQUEST',
      `Campaign ${root} has more than ${MAX_CAMPAIGN_RELABEL} messages: relabel its reports one by one, or re-cluster \
first.`,
    );
  const current = await currentCategories(db, members);
  const differing = members.filter((sha) => current.get(sha) !== category).sort();
  // Each message on its earliest report (any report of a message relabels the message).
  const reportOf = new Map<string, string>();
  for (let i = 0; i < differing.length; i += 500) {
    const rows = await db
      .selectFrom('reports')
      .select(['id', 'message_sha256'])
      .where('message_sha256', 'in', differing.slice(i, i + 500))
      .orderBy('id')
      .execute();
    for (const r of rows) if (!reportOf.has(r.message_sha256)) reportOf.set(r.message_sha256, r.id);
  }
  const relabelled: RelabelResult[] = [];
  for (const sha of differing) {
    const reportId = reportOf.get(sha);
    if (reportId !== undefined) relabelled.push(await relabelReport(db, reportId, category, actor));
  }
  const reportIds: string[] = [];
  const shas = relabelled.map((r) => r.sha256);
  for (let i = 0; i < shas.length; i += 500) {
    const rows = await db
      .selectFrom('reports')
      .select('id')
      .where('message_sha256', 'in', shas.slice(i, i + 500))
      .execute();
    reportIds.push(...rows.map((r) => r.id));
  }
  await writeAudit(db, {
    actor,
    action: 'campaign.relabel',
    subject: `campaign:${root}`,
    ip: null,
    detail: { to: category, relabelled: relabelled.length, unchanged: members.length - differing.length },
  });
  return { campaignId: root, category, relabelled, unchanged: members.length - differing.length, reportIds };
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
  const campaignId = member.merged_into ?? member.id;
  if (from) {
    await db
      .updateTable('campaign_facts')
      .set((eb) => ({ count: eb('count', '-', 1) }))
      .where('campaign_id', '=', campaignId)
      .where('kind', '=', 'category')
      .where('value', '=', from)
      .execute();
    await db
      .deleteFrom('campaign_facts')
      .where('campaign_id', '=', campaignId)
      .where('kind', '=', 'category')
      .where('count', '<=', 0)
      .execute();
  }
  await addFacts(db, campaignId, [{ kind: 'category', value: to }], at);
  await refreshStanding(db, campaignId);
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
 * The training examples `npm run train` adds from analyst relabels: the latest relabel of each
 * message whose evidence is still stored, re-analysed offline with the training clock (features
 * must not depend on today's DNS), labelled with the model class of the category (`other` has
 * none and is left out). Ordered by message hash, so training stays reproducible.
 */
export async function relabelTrainingExamples(db: Kysely<Database>, clock: Date): Promise<RelabelExample[]> {
  const ports = offlinePorts(clock);
  const settings = defaultAnalysisSettings();
  const out: RelabelExample[] = [];
  for (const r of await latestRelabels(db)) {
    const label = isCategory(r.category) ? modelClassOf(r.category) : null;
    if (!label) continue;
    const raw = await getMessageRaw(db, r.message_sha256);
    if (!raw) continue;
    out.push({ sha256: r.message_sha256, label, analysis: await analyse(raw, { ports, settings }) });
  }
  return out;
}
