/**
 * Bulk import: every entry of every source becomes a report (channel `import`), keyed on its
 * content so that importing the same source twice adds nothing. Malformed entries are reported
 * with file and line/offset, parked in the dead-letter table, and the import goes on.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { newId, nowIso } from '../../core/ids.ts';
import type { ReportWriter } from '../../evidence/report-writer.ts';
import { listSourceFiles } from './sources.ts';
import {
  MAX_PROBLEM_RAW_BYTES,
  preparationThreadPays,
  preparedEntries,
  preparedEntriesThreaded,
} from './prepared-entries.ts';
import type { MboxFormat } from './mbox.ts';

/** Reports in flight at once: enough for the writer to fill large group commits. */
export const IMPORT_WINDOW = 1024;
/** SQLite page cache for an import's connection, KiB: it appends and probes keys (see cli import). */
export const IMPORT_CACHE_KIB = 16 * 1024;
/** Evidence bytes in flight at once, so a source of huge messages still runs in bounded memory. */
export const IMPORT_WINDOW_BYTES = 64 * 1024 * 1024;

export interface ImportOptions {
  maxMessageBytes: number;
  mboxFormat?: MboxFormat;
  note?: string | null;
  /**
   * The mail is current (a mailbox exported today, a partner's live feed): its reports may trigger
   * automatic actions like any other. Default false: an import is an archive, and its reports are
   * marked historical (kept, analysed, clustered, counted at their own time, never acted on alone).
   */
  live?: boolean;
  /** Called with (bytesRead, totalBytes) as the import goes. */
  onProgress?: (bytes: number, total: number) => void;
  /** Called for every malformed or skipped entry. */
  onProblem?: (origin: string, problem: string) => void;
  /**
   * Read, check, hash and compress in a worker thread while this one stores (see
   * prepared-entries.ts). Default: when the machine has a second core.
   */
  prepareThread?: boolean;
}

export interface ImportSummary {
  files: number;
  entries: number;
  added: number;
  alreadyPresent: number;
  malformed: number;
  bytes: number;
  seconds: number;
}

/**
 * Imports every entry of the given files and directories. Each entry is its own report (one bad
 * entry never takes others with it); entries are keyed on their content (`import:<sha256>`), so a
 * second run over the same sources adds nothing. Problems go to `dead_letters` (once per origin)
 * and to `onProblem`; only a storage failure aborts the import.
 */
export async function importPaths(
  db: Kysely<Database>,
  writer: ReportWriter,
  paths: string[],
  opts: ImportOptions,
): Promise<ImportSummary> {
  const started = process.hrtime.bigint();
  const summary: ImportSummary = {
    files: 0,
    entries: 0,
    added: 0,
    alreadyPresent: 0,
    malformed: 0,
    bytes: 0,
    seconds: 0,
  };
  const problem = async (origin: string, reason: string, raw: Buffer | null) => {
    summary.malformed++;
    opts.onProblem?.(origin, reason);
    const known = await db
      .selectFrom('dead_letters')
      .select('id')
      .where('source', '=', 'import')
      .where('origin', '=', origin)
      .where('retried_at', 'is', null)
      .executeTakeFirst();
    if (known) return;
    await db
      .insertInto('dead_letters')
      .values({
        id: newId(),
        source: 'import',
        reason,
        origin,
        payload: raw ? raw.subarray(0, MAX_PROBLEM_RAW_BYTES) : null,
        created_at: nowIso(),
        retried_at: null,
      })
      .execute();
  };
  const listingProblems: [string, string][] = [];
  const files = await listSourceFiles(paths, (o, p) => listingProblems.push([o, p]));
  for (const [o, p] of listingProblems) await problem(o, p, null);
  const total = files.reduce((n, f) => n + f.size, 0);
  const inFlight = new Set<Promise<void>>();
  let bytesInFlight = 0;
  let slotFreed: (() => void) | null = null;
  let firstError: unknown = null;

  const source = (opts.prepareThread ?? preparationThreadPays()) ? preparedEntriesThreaded : preparedEntries;
  // Whatever ends the loop (a storage error, a failed preparation thread), the reports already
  // handed to the writer are waited for, so the caller never sees the import over while they are not.
  try {
    for await (const entry of source(files, {
      maxMessageBytes: opts.maxMessageBytes,
      mboxFormat: opts.mboxFormat ?? 'mboxrd',
      onFile: () => summary.files++,
      onBytes: (n) => {
        summary.bytes += n;
        opts.onProgress?.(summary.bytes, total);
      },
    })) {
      summary.entries++;
      if (entry.problem !== undefined) {
        await problem(entry.origin, entry.problem, entry.raw);
        continue;
      }
      const size = entry.message.content.length;
      bytesInFlight += size;
      const p: Promise<void> = writer
        .submitOne({
          prepared: entry.message,
          channel: 'import',
          historical: opts.live !== true,
          note: opts.note ?? null,
          dedupKey: (sha) => `import:${sha}`,
          context: entry.envelope ? { origin: entry.origin, envelope: entry.envelope } : { origin: entry.origin },
        })
        .then(
          (r) => {
            if (r.duplicate) summary.alreadyPresent++;
            else summary.added++;
          },
          (e: unknown) => {
            firstError ??= e;
          },
        )
        .finally(() => {
          bytesInFlight -= size;
          inFlight.delete(p);
          slotFreed?.();
          slotFreed = null;
        });
      inFlight.add(p);
      // Not Promise.race(inFlight): every race call attaches a reaction to each of the ~1,000
      // pending promises, and those pile up until they settle (tens of MB at full speed).
      while (inFlight.size >= IMPORT_WINDOW || bytesInFlight >= IMPORT_WINDOW_BYTES)
        await new Promise<void>((r) => (slotFreed = r));
      if (firstError) break;
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
  if (firstError) throw firstError;
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}
