/**
 * One build of every intel collection: read what may be published once (`sources.ts`), then per
 * collection build its STIX objects and MISP events and write what changed (`store.ts`).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Config } from '../../core/config.ts';
import { policyFor, type ActionPolicy } from '../../actions/action-policy.ts';
import { trustTableFor } from '../../analysis/stages/traceback/trust.ts';
import { buildExclusions, verifiedSenderIdentities } from './exclusions.ts';
import { readSources, type SourceSnapshot } from './sources.ts';
import { listCollections, type CollectionSpec } from './collections.ts';
import { stixObjectsFor, type Producer } from './stix.ts';
import { mispEventsFor } from './misp.ts';
import { publishCollection, type PublishResult } from './store.ts';
import { instanceNamespace } from './stix-ids.ts';
import { ABUSIVE_CATEGORIES } from '../../campaigns/campaign-store.ts';

/** Held campaigns a build summary names (with their reasons); `held` counts them all. */
export const HELD_LISTED = 20;

export interface BuildSummary {
  campaigns: number;
  held: number;
  /**
   * The first {@link HELD_LISTED} held campaigns by id, each with why the gates hold it: what an operator
   * reads when a campaign does not reach the feeds (`spamdesk intel build`, the service's log).
   */
  heldCampaigns: { campaignId: string; reasons: string[] }[];
  refused: Record<string, number>;
  collections: Record<string, PublishResult & { objects: number; events: number }>;
  ms: number;
}

export function producerOf(policy: ActionPolicy): Producer {
  return {
    namespace: instanceNamespace(policy.instance.domain),
    org: policy.instance.org,
    contact: policy.instance.contact,
    originValidDays: policy.isp.maxOriginAgeDays,
  };
}

/** What may be published now, read once for every collection. */
export async function snapshotFor(db: Kysely<Database>, config: Config): Promise<SourceSnapshot> {
  const policy = policyFor(config);
  const exclusions = buildExclusions({
    trust: trustTableFor(config.intakeHosts, config.trustedRelaysFile ?? null),
    senders: await verifiedSenderIdentities(db),
    instanceDomain: policy.instance.domain,
  });
  return readSources(db, policy, exclusions);
}

/**
 * A cheap fingerprint of everything a build reads: when it has not moved since the last build,
 * the build service skips the rebuild. Counted at the end of the pipeline (the actions facts are
 * written after classification and clustering), plus relabels, campaigns, verified senders and the
 * collections' settings. What it cannot see (a re-clustering, a changed policy file) the periodic
 * full rebuild and `spamdesk intel build` pick up.
 */
export async function sourceSignature(db: Kysely<Database>): Promise<string> {
  const facts = await db
    .selectFrom('action_report_facts')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('created_at').as('last')])
    .executeTakeFirst();
  const relabels = await db
    .selectFrom('relabels')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  const campaigns = await db
    .selectFrom('campaigns')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  const senders = await db
    .selectFrom('action_sender_identities')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('verified_at', 'is not', null)
    .executeTakeFirst();
  const collections = await db
    .selectFrom('intel_collections')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('updated_at').as('last')])
    .executeTakeFirst();
  return JSON.stringify([
    Number(facts?.n ?? 0),
    facts?.last ?? null,
    Number(relabels?.n ?? 0),
    Number(campaigns?.n ?? 0),
    Number(senders?.n ?? 0),
    Number(collections?.n ?? 0),
    collections?.last ?? null,
  ]);
}

/**
 * Campaigns a build may publish at most: not merged, of an abusive category (the gates and liveness
 * may hold some back). What a build's size and duration grow with.
 */
export async function publishableCampaigns(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('campaigns')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('merged_into', 'is', null)
    .where('category', 'in', [...ABUSIVE_CATEGORIES])
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Rebuilds every collection (or the named ones). */
export async function buildIntel(
  db: Kysely<Database>,
  config: Config,
  opts: { collections?: CollectionSpec[]; now?: Date } = {},
): Promise<BuildSummary> {
  const started = Date.now();
  const producer = producerOf(policyFor(config));
  const snapshot = await snapshotFor(db, config);
  const collections = opts.collections ?? (await listCollections(db));
  const out: BuildSummary['collections'] = {};
  for (const spec of collections) {
    const objects = stixObjectsFor(snapshot, spec, producer);
    const events = mispEventsFor(snapshot, spec, producer);
    const r = await publishCollection(db, spec.id, objects, events, opts.now ?? new Date());
    out[spec.alias] = { ...r, objects: objects.length, events: events.length };
  }
  return {
    campaigns: snapshot.campaigns.length,
    held: snapshot.held.length,
    heldCampaigns: snapshot.held
      .slice()
      .sort((a, b) => (a.campaignId < b.campaignId ? -1 : a.campaignId > b.campaignId ? 1 : 0))
      .slice(0, HELD_LISTED),
    refused: Object.fromEntries(snapshot.refused),
    collections: out,
    ms: Date.now() - started,
  };
}
