/**
 * The intel build in a worker thread of its own (`build-service.ts` starts it): its own database
 * connection, its own V8 heap limit. A build reads every publishable campaign and works out every
 * object of every collection (10–14 s at 20,000 campaigns, 49 s and ~1.5 GB of heap at 50,000 on a
 * 2-core machine, bench/RESULTS.md 2026-12-05). On the background process's main thread a build was
 * one turn of its event loop (SQLite answers synchronously), so every pipeline stage waited for all of
 * it, and a build too big for that thread's heap aborted the whole process. Here it holds up only what
 * waits for the write lock while its publication writes, and running out of heap ends this thread
 * alone (the service reports it and carries on).
 *
 * Protocol: the parent posts `{ t: 'build', id }`; the thread answers `{ t: 'built', id, summary }`
 * or `{ t: 'failed', id, message }`. `{ t: 'close' }` closes the connection and ends the thread
 * after the build in hand. Requests are taken one at a time, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Config } from '../../core/config.ts';
import type { Database } from '../../db/schema.ts';
import { openDatabase } from '../../db/dialect.ts';
import { adoptFilesInForce, type FileRead } from '../../core/file-problems.ts';
import { buildIntel, type BuildSummary } from './build.ts';

/** Marks the thread's `workerData`: this module acts only when started as the build thread. */
export const BUILD_THREAD_ROLE = 'spamdesk-intel-build-thread';

/**
 * What the parent passes: the configuration (plain data), the operator files as the parent has them in
 * force (the actions policy and trusted relays it builds with, not the files as they may be now) and
 * the connection's page cache.
 */
export interface BuildThreadData {
  role: typeof BUILD_THREAD_ROLE;
  config: Config;
  files: Record<string, FileRead>;
  cacheKib: number;
}

export type BuildRequest = { t: 'build'; id: number } | { t: 'close' };
export type BuildReply =
  | { t: 'built'; id: number; summary: BuildSummary }
  | { t: 'failed'; id: number; message: string };

const data = workerData as BuildThreadData | undefined;
if (parentPort && data?.role === BUILD_THREAD_ROLE) {
  const port = parentPort;
  adoptFilesInForce(data.files);
  let db: Kysely<Database> | null = null;
  // One request at a time, in order: two builds in one heap would need twice its room.
  let queue = Promise.resolve();
  port.on('message', (m: BuildRequest) => {
    if (m?.t === 'close') {
      queue = queue.then(async () => {
        await db?.destroy();
        db = null;
        port.close();
      });
      return;
    }
    if (m?.t !== 'build') return;
    queue = queue.then(async () => {
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
      port.postMessage(reply);
    });
  });
}
