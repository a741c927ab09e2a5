/**
 * The SQLite commit thread. better-sqlite3 is synchronous: on the main thread every COMMIT's
 * fsync (`synchronous=FULL`, ~6 ms on a virtual disk) would freeze the event loop, so no request
 * could be read while the previous group commits and groups would stay small. Here the commits
 * run on their own connection in a worker thread while the main thread keeps reading and hashing
 * the next group. The thread also compresses the evidence (only messages not stored yet), so bulk
 * import and HTTP intake use both cores. WAL mode lets the main connection read meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/dialect.ts';
import { compressNewEvidence, storeUnits, toWireError, type CommitResponse, type WireUnit } from './store-units.ts';
import { unpackRaw } from './wire-raw.ts';

export interface CommitThreadData {
  /** Marks the worker as this thread (other areas' workers may import the writer too). */
  role?: 'spamdesk-commit-thread';
  path: string;
  synchronous: 'FULL' | 'NORMAL' | 'EXTRA';
}

export interface CommitRequest {
  id: number;
  units: WireUnit[];
  /** The raw bytes of the units' hashed messages, packed by `packRaw`. */
  raw: ArrayBuffer;
  /** The job each new report becomes (see `ReportWriterOptions.nextJob`). */
  nextJob: string | null;
}

const data = workerData as CommitThreadData | undefined;
if (parentPort && data?.role === 'spamdesk-commit-thread') {
  const port = parentPort;
  // A small page cache: this connection only appends (evidence, reports, jobs) and looks keys up
  // by index; the big cache belongs to the connection that serves reads.
  // The write lock is asked for every millisecond while the pipeline's transactions hold it (`lockPoll`): SQLite's
  // own busy handler woke up to 100 ms after it came free (this thread's transactions, lock wait included: p99 61 ms
  // with it, 38 ms asking every millisecond; bench/RESULTS.md, 2026-12-07).
  const db = openDatabase(
    { dialect: 'sqlite', path: data.path },
    { synchronous: data.synchronous, cacheKib: 16384, lockPoll: { everyMs: 1 } },
  );
  // One request at a time: SQLite has one writer anyway, and order keeps dedup look-ups exact.
  let queue = Promise.resolve();
  port.on('message', (msg: CommitRequest | 'close') => {
    if (msg === 'close') {
      queue = queue.then(async () => {
        await db.destroy();
        port.close();
      });
      return;
    }
    queue = queue.then(async () => {
      try {
        // Compression first, outside the transaction: the write lock is held only for inserts.
        const units = await compressNewEvidence(db, unpackRaw(msg.units, msg.raw));
        const ok = await db.transaction().execute((trx) => storeUnits(trx, units, msg.nextJob));
        port.postMessage({ id: msg.id, ok } satisfies CommitResponse);
      } catch (e) {
        port.postMessage({ id: msg.id, error: toWireError(e) } satisfies CommitResponse);
      }
    });
  });
}
