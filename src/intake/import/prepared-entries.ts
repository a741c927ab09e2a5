/**
 * Import entries made ready for storage: read, split, checked to be e-mail, hashed and compressed.
 *
 * A bulk import is one long pipeline — read → split → check → hash → compress → insert — and
 * better-sqlite3 runs the last step on the main thread. So on a machine with a second core
 * everything before the insert runs in a worker thread ({@link preparedEntriesThreaded}): the
 * worker hands over batches of compressed evidence in one transferred buffer (no copy) and the raw
 * bytes never reach the main thread. At most {@link MAX_BATCHES_AHEAD} batches are ahead of the
 * importer, so memory stays bounded whatever the size of the source. {@link preparedEntries} is
 * the same pipeline on the calling thread (one core, or a caller that wants no thread).
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../core/errors.ts';
import { startTsWorker } from '../../core/ts-worker.ts';
import { assertEmailMessage } from '../../evidence/message-check.ts';
import { prepareMessageAsync, type PreparedMessage } from '../../evidence/store.ts';
import { readAllEntries, type SourceFile } from './sources.ts';
import type { MboxFormat } from './mbox.ts';

/** At most this much of a malformed entry is kept (dead-letter table). */
export const MAX_PROBLEM_RAW_BYTES = 1024 * 1024;
/** A batch is handed over at this many entries or this many bytes of evidence, whichever first. */
const BATCH_ENTRIES = 256;
const BATCH_BYTES = 4 * 1024 * 1024;
/** Batches the worker may prepare before the importer has taken them. */
export const MAX_BATCHES_AHEAD = 3;

export interface ReadOptions {
  maxMessageBytes: number;
  mboxFormat: MboxFormat;
}

/** One entry: ready to store (`message`), or a problem with (up to 1 MB of) its bytes. */
export type PreparedEntry =
  | { origin: string; envelope?: string; message: PreparedMessage; problem?: undefined }
  | { origin: string; problem: string; raw: Buffer | null; message?: undefined };

export interface EntryProgress {
  /** Bytes of source read so far. */
  onBytes?: (n: number) => void;
  /** A file was started. */
  onFile?: () => void;
  /** The preparation thread handed over a batch (not yet taken): observes how far it runs ahead. */
  onBatchArrived?: () => void;
}

/** Checks and prepares one source entry. */
async function prepareEntry(e: {
  raw: Buffer | null;
  origin: string;
  envelope?: string;
  problem?: string;
}): Promise<PreparedEntry> {
  if (!e.raw || e.problem)
    return {
      origin: e.origin,
      problem: e.problem ?? 'unreadable entry',
      raw: e.raw ? e.raw.subarray(0, MAX_PROBLEM_RAW_BYTES) : null,
    };
  try {
    assertEmailMessage(e.raw);
  } catch (err) {
    if (err instanceof AppError)
      return { origin: e.origin, problem: err.message, raw: e.raw.subarray(0, MAX_PROBLEM_RAW_BYTES) };
    throw err;
  }
  const message = await prepareMessageAsync(e.raw, 'email');
  return e.envelope === undefined ? { origin: e.origin, message } : { origin: e.origin, envelope: e.envelope, message };
}

/** The pipeline on the calling thread. */
export async function* preparedEntries(
  files: SourceFile[],
  opts: ReadOptions & EntryProgress,
): AsyncGenerator<PreparedEntry> {
  for await (const e of readAllEntries(files, { ...opts, onFile: () => opts.onFile?.() })) yield await prepareEntry(e);
}

// ---- the worker ------------------------------------------------------------------------------

interface ThreadData extends ReadOptions {
  role: 'spamdesk-import-prepare';
  files: SourceFile[];
}

/**
 * An entry on the wire: its bytes (evidence, or a problem's raw) are `[offset, offset + length)` of the batch buffer.
 */
type WireEntry =
  | { origin: string; envelope?: string; sha256: string; size: number; codec: string; offset: number; length: number }
  | { origin: string; problem: string; offset: number; length: number };

type FromThread =
  | { batch: WireEntry[]; buffer: ArrayBuffer; bytes: number; files: number }
  | { done: true }
  | { error: string };

const data = workerData as ThreadData | undefined;
if (parentPort && data?.role === 'spamdesk-import-prepare') {
  const port = parentPort;
  let credits = MAX_BATCHES_AHEAD;
  let wake: (() => void) | null = null;
  port.on('message', (m: 'credit') => {
    if (m !== 'credit') return;
    credits++;
    wake?.();
    wake = null;
  });
  let entries: PreparedEntry[] = [];
  let pendingBytes = 0;
  let bytesRead = 0;
  let filesStarted = 0;
  const flush = async () => {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
    const parts = entries.map((e) => (e.message ? e.message.content : (e.raw ?? Buffer.alloc(0))));
    const buffer = new ArrayBuffer(parts.reduce((n, b) => n + b.length, 0));
    const view = new Uint8Array(buffer);
    let offset = 0;
    const batch: WireEntry[] = entries.map((e, i) => {
      const b = parts[i];
      view.set(b, offset);
      const at = offset;
      offset += b.length;
      if (e.message) {
        const m = e.message;
        return {
          origin: e.origin,
          ...(e.envelope === undefined ? {} : { envelope: e.envelope }),
          sha256: m.sha256,
          size: m.size,
          codec: m.codec,
          offset: at,
          length: b.length,
        };
      }
      return { origin: e.origin, problem: e.problem, offset: at, length: e.raw ? b.length : -1 };
    });
    port.postMessage({ batch, buffer, bytes: bytesRead, files: filesStarted } satisfies FromThread, [buffer]);
    entries = [];
    pendingBytes = 0;
    bytesRead = 0;
    filesStarted = 0;
  };
  void (async () => {
    try {
      for await (const e of readAllEntries(data.files, {
        ...data,
        onBytes: (n) => (bytesRead += n),
        onFile: () => filesStarted++,
      })) {
        const p = await prepareEntry(e);
        entries.push(p);
        pendingBytes += p.message ? p.message.content.length : (p.raw?.length ?? 0);
        if (entries.length >= BATCH_ENTRIES || pendingBytes >= BATCH_BYTES) await flush();
      }
      if (entries.length > 0 || bytesRead > 0 || filesStarted > 0) await flush();
      port.postMessage({ done: true } satisfies FromThread);
    } catch (e) {
      port.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies FromThread);
    }
    port.close();
  })();
}

/** True when a preparation thread can run beside the importer (a second core). */
export function preparationThreadPays(): boolean {
  return os.availableParallelism() > 1;
}

/** The pipeline in a worker thread; the importer receives prepared entries in order. */
export async function* preparedEntriesThreaded(
  files: SourceFile[],
  opts: ReadOptions & EntryProgress,
): AsyncGenerator<PreparedEntry> {
  // A small young generation: the thread's garbage is short-lived chunk and zlib buffers, and the
  // default semi-spaces alone held ~30 MB of peak memory in a 300 MB mbox import.
  const worker = startTsWorker(
    new URL(import.meta.url),
    {
      role: 'spamdesk-import-prepare',
      files,
      maxMessageBytes: opts.maxMessageBytes,
      mboxFormat: opts.mboxFormat,
    } satisfies ThreadData,
    {
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    },
  );
  const inbox: FromThread[] = [];
  let wake: (() => void) | null = null;
  const arrive = (m: FromThread) => {
    if ('batch' in m) opts.onBatchArrived?.();
    inbox.push(m);
    wake?.();
    wake = null;
  };
  worker.on('message', arrive);
  worker.on('error', (e) => arrive({ error: e.stack ?? e.message }));
  worker.on('exit', (code) => arrive({ error: `import preparation thread exited (${code}) before it finished` }));
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
      const m = inbox.shift() as FromThread;
      if ('done' in m) return;
      if ('error' in m) {
        throw new Error(`import preparation thread failed: ${m.error}`);
      }
      for (let i = 0; i < m.files; i++) opts.onFile?.();
      if (m.bytes > 0) opts.onBytes?.(m.bytes);
      for (const w of m.batch) {
        if ('problem' in w)
          yield {
            origin: w.origin,
            problem: w.problem,
            raw: w.length < 0 ? null : Buffer.from(m.buffer, w.offset, w.length),
          };
        else {
          const message: PreparedMessage = {
            sha256: w.sha256,
            kind: 'email',
            size: w.size,
            codec: w.codec,
            content: Buffer.from(m.buffer, w.offset, w.length),
          };
          yield w.envelope === undefined
            ? { origin: w.origin, message }
            : { origin: w.origin, envelope: w.envelope, message };
        }
      }
      worker.postMessage('credit');
    }
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
