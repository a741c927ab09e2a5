/**
 * A stand-in for the background child in `background-child.test.ts`: says it is ready as the real
 * one does, answers the parent's metrics requests through {@link attachToParent} with a registry of
 * one gauge, the number of registry reads it made.
 */
import { Gauge, Registry } from 'prom-client';
import { attachToParent, CHILD_READY } from '../background-child.ts';

const registry = new Registry();
const reads = new Gauge({ name: 'reads', help: 'Registry reads so far.', registers: [registry] });
attachToParent(
  () => undefined,
  () => process.exit(0),
  () => {
    reads.inc();
    return registry.getMetricsAsJSON();
  },
);
process.stdout.write(`${JSON.stringify({ msg: CHILD_READY })}\n`);
