/**
 * Starting a worker thread on one of our modules, whether the code runs as TypeScript (tests,
 * development: tsx) or compiled to JavaScript (`dist/`, what the `spamdesk` command runs).
 *
 * Node 20 workers do not inherit tsx's loader hooks, so a TypeScript module is started through a
 * two-line bootstrap that loads it with tsx's own API; a compiled module is started directly. The
 * module decides from `workerData` whether it runs as the worker (modules are also imported by the
 * main thread).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The module `name` (written `./x.ts`) beside the module at `base` (its `import.meta.url`), in the
 * form the running code has: `x.ts` under tsx, `x.js` in the compiled `dist/`.
 */
export function siblingModule(name: string, base: string): URL {
  const url = new URL(name, base);
  if (new URL(base).pathname.endsWith('.js')) url.pathname = url.pathname.replace(/\.ts$/, '.js');
  return url;
}

/** A worker thread on `module` (a `.ts` file through tsx, a `.js` file directly). */
export function startTsWorker(
  module: URL,
  workerData: unknown,
  options: Omit<WorkerOptions, 'eval' | 'workerData'> = {},
): Worker {
  if (!module.pathname.endsWith('.ts')) return new Worker(module, { ...options, workerData });
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${api}).then((m) => m.tsImport(${JSON.stringify(module.href)}, \
${JSON.stringify(import.meta.url)}));`;
  return new Worker(bootstrap, { ...options, eval: true, workerData });
}
