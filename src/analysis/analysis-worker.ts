/**
 * Body of one analysis worker thread (see `pool.ts`): builds the ports once, then analyses the
 * messages it is sent, one at a time. The pool terminates the thread when a message runs over
 * time, which is what makes the time bound real for CPU-bound work.
 */
import v8 from 'node:v8';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { analyse, asTruncated, boundedPrefixEnd } from './analyse.ts';
import { installConcatBlob } from './concat-blob.ts';
import { sharedClockMs } from './shared-clock.ts';
import { offlinePorts } from './offline-ports.ts';
import { siblingModule } from '../core/ts-worker.ts';
import { adoptFilesInForce, type FileRead } from '../core/file-problems.ts';
import { stagesFor, type AnalysisProfile } from './registry.ts';
import { DEFAULT_MAX_TEXT, type AnalysisPorts, type AnalysisSettings, type ReporterStatement } from './stage.ts';
import { headOf, type Analysis, type AnalysisHead } from './analysis-schema.ts';

export interface WorkerInit {
  settings: AnalysisSettings;
  /** ISO time: a fixed clock (tests, fuzzing); otherwise the real one. */
  fixedNow: string | null;
  /** Use offline ports even when `ports/index.ts` provides live ones (tests, benchmarks). */
  offline: boolean;
  /** URL of the pool's reducer module (see `PoolOptions.reducer`), or null. */
  reducer: string | null;
  /** Second argument of every `reduce` call (see `PoolOptions.reducerData`). */
  reducerData?: unknown;
  /** The operator files as the parent has them in force (`core/file-problems.ts`): the thread reads no other. */
  files?: Record<string, FileRead>;
}

export interface WorkerTask {
  id: number;
  raw: Uint8Array;
  reporter: ReporterStatement | null;
  /** The reporter's learned mail hosts (trace-back). */
  mailhosts?: string[];
  /** The reporter's own mail domains (trace-back, live MX rule). */
  recipientDomains?: string[];
  /** The reporter's own addresses when the report is their redirect (trace-back). */
  resentBy?: string[];
  profile: AnalysisProfile;
  /**
   * `true`: send back the reducer's result and the record without its sections, rather than the
   * whole record; `'alongside'`: the whole record and the reducer's result.
   */
  reduce?: boolean | 'alongside';
}

/** Asks a thread what its heap holds (Node 20's Worker has no getHeapStatistics()). */
export interface MemoryRequest {
  memory: true;
}

/** One analysis thread's memory, measured inside it. */
export interface ThreadMemory {
  /** V8 heap of the thread: `v8.getHeapStatistics()` (bytes). */
  heap: v8.HeapInfo;
  /** Young generation: the new space's committed size (bytes). */
  newSpaceBytes: number;
  /** `process.memoryUsage()` `external` and `arrayBuffers` seen from the thread (bytes). */
  external: number;
  arrayBuffers: number;
}

function threadMemory(): ThreadMemory {
  const mem = process.memoryUsage();
  const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return {
    heap: v8.getHeapStatistics(),
    newSpaceBytes: space?.physical_space_size ?? 0,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
  };
}

type Reducer = (a: Analysis) => unknown;

/**
 * The pool's reducer: the `reduce` export of the module it named, loaded once per thread, called
 * with the pool's `reducerData`. One that throws gives no result (`undefined`) for that message:
 * the caller does the work itself, and the thread goes on with the next message.
 */
async function loadReducer(init: WorkerInit): Promise<Reducer | null> {
  if (!init.reducer) return null;
  const mod: unknown = await import(init.reducer);
  if (typeof mod === 'object' && mod !== null && 'reduce' in mod && typeof mod.reduce === 'function') {
    const fn: unknown = mod.reduce;
    return (a) => {
      try {
        return typeof fn === 'function' ? fn(a, init.reducerData) : null;
      } catch {
        return undefined;
      }
    };
  }
  throw new Error(`${init.reducer} exports no reduce()`);
}

/** The trace-back helper's adapters, when present: `ports/index.ts` exports `createPorts(settings)`. */
async function loadPorts(init: WorkerInit): Promise<AnalysisPorts> {
  const offline = offlinePorts(init.fixedNow ? new Date(init.fixedNow) : undefined);
  if (init.offline) return offline;
  try {
    const mod: unknown = await import(siblingModule('./ports/index.ts', import.meta.url).href);
    if (typeof mod === 'object' && mod !== null && 'createPorts' in mod && typeof mod.createPorts === 'function') {
      const ports: unknown = await mod.createPorts(init.settings);
      if (
        typeof ports === 'object' &&
        ports !== null &&
        'dns' in ports &&
        'asn' in ports &&
        'abuse' in ports &&
        'clock' in ports
      ) {
        return { ...(ports as AnalysisPorts), clock: offline.clock };
      }
    }
  } catch {
    // No adapters yet, or they failed to load: analyse offline (DNS-dependent checks say so).
  }
  return offline;
}

// postal-mime's part joining without Node's Blob round trip (see concat-blob.ts): analysis threads only.
if (!isMainThread) installConcatBlob();

const WARM_UP_MESSAGE = Buffer.from(
  [
    'Received: from mx.example.net (mx.example.net [198.51.100.7]) by in.example.org with ESMTPS id 1; Mon, 2 Jan ' +
      '2006 15:04:05 +0000',
    'Received: from client (host.example.com [8.8.8.8]) by mx.example.net with ESMTP id 2; Mon, 2 Jan 2006 15:04:04 ' +
      '+0000',
    'From: "Warm Up" <warm@example.com>',
    'To: x@example.org',
    'Subject: warm-up',
    'Date: Mon, 2 Jan 2006 15:04:05 +0000',
    'Message-ID: <warm@example.com>',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Call +33 6 12 34 56 78, see <a href="https://bit.ly/x">example.com</a></p>',
    '',
  ].join('\r\n'),
);

const port = parentPort;
if (port) {
  const init = workerData as WorkerInit;
  adoptFilesInForce(init.files);
  const portsReady = loadPorts(init);
  const reducerReady = loadReducer(init);
  // Warm up (lazy data such as the ASN tables, JIT) on a synthetic message, then tell the pool
  // this thread is ready: its time bound starts only with the first real message.
  void portsReady
    .then((ports) => analyse(WARM_UP_MESSAGE, { ports, settings: { ...init.settings, dnsMode: 'offline' } }))
    .then(async (a) => (await reducerReady)?.(a))
    .catch(() => undefined)
    .finally(() => port.postMessage({ ready: true }));
  // One message at a time, in the order received: the pool sends the next one early so this
  // thread never waits for it, and times each from when the previous one was reported.
  const tasks: WorkerTask[] = [];
  let draining = false;
  const drain = async (): Promise<void> => {
    draining = true;
    const ports = await portsReady;
    const reducer = await reducerReady.catch(() => null);
    for (let task = tasks.shift(); task !== undefined; task = tasks.shift()) {
      const t0 = performance.now();
      const opts = {
        ports,
        settings: init.settings,
        reporter: task.reporter,
        mailhosts: task.mailhosts ?? [],
        recipientDomains: task.recipientDomains ?? [],
        resentBy: task.resentBy ?? [],
        stages: stagesFor(task.profile),
      };
      // A large message is first analysed up to its bound (headers and the first part), which the
      // pool keeps in case the whole one runs past the time bound (padding, hostile MIME).
      const end = boundedPrefixEnd(task.raw, init.settings.maxTextBytes ?? DEFAULT_MAX_TEXT);
      const reduce = task.reduce && reducer ? reducer : null;
      // The record's head only (the pool gives it empty sections: nothing to clone), unless the caller
      // wants the record whole beside the reducer's result, or the reducer gave nothing: then the
      // caller does the work itself, from the whole record.
      const sent = (a: Analysis, reduced: unknown): Analysis | AnalysisHead =>
        task.reduce === 'alongside' || reduced === undefined ? a : headOf(a);
      if (end !== null) {
        const part = await analyse(task.raw.subarray(0, end), opts);
        const whole = { sha256: createHash('sha256').update(task.raw).digest('hex'), size: task.raw.length };
        const partial = asTruncated(
          part,
          whole,
          end,
          'the whole message ran past the time bound (SPAMDESK_ANALYSIS_TIMEOUT_MS)',
        );
        const reducedPart = reduce ? reduce(partial) : undefined;
        port.postMessage(
          reduce
            ? { id: task.id, partial: sent(partial, reducedPart), reduced: reducedPart }
            : { id: task.id, partial },
        );
      }
      const analysis = await analyse(task.raw, opts);
      // The analysis's own duration (the metric), without the reducer's work for a later stage.
      const durationMs = performance.now() - t0;
      // A reduced task sends back what its caller needs (a look-up: the fingerprint), not the whole record to clone.
      const reduced = reduce ? reduce(analysis) : undefined;
      const done = { id: task.id, durationMs, finishedAt: sharedClockMs() };
      port.postMessage(reduce ? { ...done, analysis: sent(analysis, reduced), reduced } : { ...done, analysis });
    }
    draining = false;
  };
  port.on('message', (task: WorkerTask | MemoryRequest) => {
    // A memory request is answered between messages (what this thread's heap holds: issue 15).
    if ('memory' in task) {
      port.postMessage({ memory: threadMemory() });
      return;
    }
    tasks.push(task);
    if (!draining) void drain();
  });
}
