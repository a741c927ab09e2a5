/**
 * Where the campaigns area reads a message's Analysis: the record the analysis area stored (the
 * one the worker produced, so classification sees exactly the features training saw), or — when
 * none is stored (a report analysed before storage existed) — the same pure analysis re-run on the
 * stored evidence with offline ports. Clustering and the text features read only fields that do
 * not depend on the network, so both give the same fingerprint and the same features.
 */
import type { AppContext } from '../evidence/context.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { analysisSettingsFrom } from '../analysis/settings.ts';
import { latestAnalyses } from '../analysis/recent-analyses.ts';
import { getMessageRaw } from '../evidence/store.ts';

export async function analysisOf(ctx: AppContext, sha256: string): Promise<Analysis | null> {
  return (await analysesOf(ctx, [sha256])).get(sha256) ?? null;
}

/**
 * The Analysis of each message (absent: no evidence either), read for a batch at once; a record
 * this process has just stored is taken as it is rather than parsed again (recent-analyses.ts).
 */
export async function analysesOf(ctx: AppContext, sha256s: readonly string[]): Promise<Map<string, Analysis>> {
  const out = await latestAnalyses(ctx.db, sha256s);
  for (const sha of new Set(sha256s)) {
    if (out.has(sha)) continue;
    const raw = await getMessageRaw(ctx.db, sha);
    if (raw) out.set(sha, await analyse(raw, { ports: offlinePorts(), settings: analysisSettingsFrom(ctx.config) }));
  }
  return out;
}
