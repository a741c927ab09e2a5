/**
 * What a look-up needs of a message: its fingerprint's signature, band keys and strong links. The
 * look-up threads compute it (this module is the pool's reducer: `reduce` runs in the thread, on
 * the analysis it just made), so the thread that answers HTTP neither clones the whole analysis
 * record (≈ 9 KB per corpus message) nor normalises and hashes its text.
 */
import type { Analysis } from '../analysis/analysis-schema.ts';
import { fingerprintOf, type Fingerprint, type Link } from './fingerprint.ts';

/** The part of a {@link Fingerprint} a look-up matches on. */
export type LookupPrint = Pick<Fingerprint, 'kind' | 'signature' | 'bands' | 'links' | 'tokenCount'>;

/** The look-up part of the message's fingerprint (exactly {@link fingerprintOf}'s). */
export function reduce(a: Analysis): LookupPrint {
  const fp = fingerprintOf(a);
  return { kind: fp.kind, signature: fp.signature, bands: fp.bands, links: fp.links, tokenCount: fp.tokenCount };
}

const isLink = (l: unknown): l is Link =>
  typeof l === 'object' && l !== null && 'kind' in l && 'value' in l && typeof l.value === 'string';

/** True when `x` (a look-up thread's answer) has the shape of a {@link LookupPrint}. */
export function isLookupPrint(x: unknown): x is LookupPrint {
  return (
    typeof x === 'object' &&
    x !== null &&
    'kind' in x &&
    (x.kind === 'email' || x.kind === 'sms') &&
    'signature' in x &&
    (x.signature === null || x.signature instanceof Uint32Array) &&
    'bands' in x &&
    Array.isArray(x.bands) &&
    x.bands.every((b) => typeof b === 'number') &&
    'links' in x &&
    Array.isArray(x.links) &&
    x.links.every(isLink) &&
    'tokenCount' in x &&
    typeof x.tokenCount === 'number'
  );
}
