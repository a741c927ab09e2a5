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
import { getLatestAnalysis } from '../analysis/repository.ts';
import { getMessageRaw } from '../evidence/store.ts';

export async function analysisOf(ctx: AppContext, sha256: string): Promise<Analysis | null> {
  const stored = await getLatestAnalysis(ctx.db, sha256);
  if (stored) return stored;
  const raw = await getMessageRaw(ctx.db, sha256);
  if (!raw) return null;
  return analyse(raw, { ports: offlinePorts(), settings: analysisSettingsFrom(ctx.config) });
}
