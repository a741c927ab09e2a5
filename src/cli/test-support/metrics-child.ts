/**
 * A stand-in for the background child in `background-child.test.ts`: says it is ready as the real
 * one does, answers the parent's metrics requests through {@link attachToParent} with a registry of
 * one gauge, the number of registry reads it made. With the argument `throw-first`, its first read
 * throws before returning a promise. On SIGUSR2 it exits with 134, as a process V8 aborted does
 * (for tests where a real SIGABRT could leave a core file). With `operator-file=PATH` it first takes
 * the parent's operator files ({@link operatorFilesFromParent}, as `serve` does) unless `no-ask` is given,
 * and a gauge `operator_file_v` gives the `v` of that JSON file as this process has it in force.
 */
import { Gauge, Registry } from 'prom-client';
import { readFileInForce, readJsonFile } from '../../core/file-problems.ts';
import { attachToParent, CHILD_READY, operatorFilesFromParent } from '../background-child.ts';

let throwFirst = process.argv.includes('throw-first');
const registry = new Registry();
const reads = new Gauge({ name: 'reads', help: 'Registry reads so far.', registers: [registry] });
attachToParent(
  () => undefined,
  () => process.exit(0),
  () => {
    reads.inc();
    if (throwFirst) {
      throwFirst = false;
      throw new Error('the first read fails at once');
    }
    return registry.getMetricsAsJSON();
  },
);
const operatorFile = process.argv.find((a) => a.startsWith('operator-file='))?.slice('operator-file='.length);
if (operatorFile !== undefined) {
  if (!process.argv.includes('no-ask')) await operatorFilesFromParent();
  const read = readJsonFile(operatorFile, readFileInForce);
  const v = 'json' in read ? Number((read.json as { v?: unknown }).v) : -1;
  new Gauge({ name: 'operator_file_v', help: 'The file as in force here.', registers: [registry] }).set(v);
}
process.on('SIGUSR2', () => process.exit(134));
process.stdout.write(`${JSON.stringify({ msg: CHILD_READY })}\n`);
