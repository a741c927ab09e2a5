/**
 * Body of one analysis worker thread (see `pool.ts`): builds the ports once, then analyses the
 * messages it is sent, one at a time. The pool terminates the thread when a message runs over
 * time, which is what makes the time bound real for CPU-bound work.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { analyse } from './analyse.ts';
import { offlinePorts } from './offline-ports.ts';
import type { AnalysisPorts, AnalysisSettings, ReporterStatement } from './stage.ts';

export interface WorkerInit {
  settings: AnalysisSettings;
  /** ISO time: a fixed clock (tests, fuzzing); otherwise the real one. */
  fixedNow: string | null;
  /** Use offline ports even when `ports/index.ts` provides live ones (tests, benchmarks). */
  offline: boolean;
}

export interface WorkerTask {
  id: number;
  raw: Uint8Array;
  reporter: ReporterStatement | null;
}

/** The trace-back helper's adapters, when present: `ports/index.ts` exports `createPorts(settings)`. */
async function loadPorts(init: WorkerInit): Promise<AnalysisPorts> {
  const offline = offlinePorts(init.fixedNow ? new Date(init.fixedNow) : undefined);
  if (init.offline) return offline;
  try {
    const mod: unknown = await import(new URL('./ports/index.ts', import.meta.url).href);
    if (typeof mod === 'object' && mod !== null && 'createPorts' in mod && typeof mod.createPorts === 'function') {
      const ports: unknown = await mod.createPorts(init.settings);
      if (typeof ports === 'object' && ports !== null && 'dns' in ports && 'asn' in ports && 'abuse' in ports && 'clock' in ports) {
        return { ...(ports as AnalysisPorts), clock: offline.clock };
      }
    }
  } catch {
    // No adapters yet, or they failed to load: analyse offline (DNS-dependent checks say so).
  }
  return offline;
}

const port = parentPort;
if (port) {
  const init = workerData as WorkerInit;
  const portsReady = loadPorts(init);
  // Tell the pool this thread is loaded: its time bound starts only with the first message.
  void portsReady.then(() => port.postMessage({ ready: true }));
  port.on('message', (task: WorkerTask) => {
    void (async () => {
      const ports = await portsReady;
      const t0 = performance.now();
      const analysis = await analyse(task.raw, { ports, settings: init.settings, reporter: task.reporter });
      port.postMessage({ id: task.id, analysis, durationMs: performance.now() - t0 });
    })();
  });
}
