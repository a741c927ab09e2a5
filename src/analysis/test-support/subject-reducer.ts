/**
 * A pool reducer for the pool's tests: gives back the record's subject and the pool's data, and
 * throws for a message whose subject contains `data.boom`.
 */
import type { Analysis } from '../analysis-schema.ts';

export function reduce(a: Analysis, data: { boom: string }): { subject: string | null; data: unknown } {
  if (a.parse.subject?.includes(data.boom)) throw new Error(`reducer fails on purpose: ${a.parse.subject}`);
  return { subject: a.parse.subject, data };
}
