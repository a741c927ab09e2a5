/**
 * The intel build in a worker thread of its own (`build-service.ts` starts it): its own database
 * connection, its own V8 heap limit. A build reads every publishable campaign and works out every
 * object of every collection (10–14 s at 20,000 campaigns, 49 s and ~1.5 GB of heap at 50,000 on a
 * 2-core machine, bench/RESULTS.md 2026-12-05): run on the background process's main thread it held
 * up the pipeline's stages for seconds at a time, and a build too big for that thread's heap would
 * abort the whole process. Here it blocks no other work, and running out of heap ends this thread
 * alone (the service reports it and carries on).
 *
 * Protocol: the parent posts `{ t: 'build', id }`; the thread answers `{ t: 'built', id, summary }`
 * or `{ t: 'failed', id, message }`. One build at a time (the service never asks for two).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Config } from '../../core/config.ts';
import type { Database } from '../../db/schema.ts';
import { openDatabase } from '../../db/dialect.ts';
import { buildIntel, type BuildSummary } from './build.ts';

/** What the parent passes: the configuration (plain data) and the connection's page cache. */
export interface BuildThreadData {
  config: Config;
  cacheKib: number;
}

export type BuildRequest = { t: 'build'; id: number };
export type BuildReply =
  | { t: 'built'; id: number; summary: BuildSummary }
  | { t: 'failed'; id: number; message: string };

const data = workerData as BuildThreadData;
let db: Kysely<Database> | null = null;

parentPort?.on('message', (m: BuildRequest) => {
  if (m?.t !== 'build') return;
  void (async () => {
    let reply: BuildReply;
    try {
      db ??= openDatabase(data.config.database, {
        synchronous: data.config.sqliteSynchronous,
        cacheKib: data.cacheKib,
        poolSize: 2,
      });
      reply = { t: 'built', id: m.id, summary: await buildIntel(db, data.config) };
    } catch (e) {
      reply = { t: 'failed', id: m.id, message: e instanceof Error ? e.message : String(e) };
    }
    parentPort?.postMessage(reply);
  })();
});
