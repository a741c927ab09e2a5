/**
 * Starting a worker thread on a TypeScript module. Node 20 workers do not inherit tsx's loader
 * hooks, so a two-line bootstrap loads the module through tsx's own API. The module decides from
 * `workerData` whether it runs as the worker (modules are also imported by the main thread).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startTsWorker(module: URL, workerData: unknown, options: Omit<WorkerOptions, 'eval' | 'workerData'> = {}): Worker {
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${api}).then((m) => m.tsImport(${JSON.stringify(module.href)}, ${JSON.stringify(import.meta.url)}));`;
  return new Worker(bootstrap, { ...options, eval: true, workerData });
}
