/**
 * MinHash signatures over word shingles and their locality-sensitive band keys (Broder 1997;
 * Leskovec, Rajaraman & Ullman, "Mining of Massive Datasets" ch. 3). Two texts with Jaccard
 * similarity J share at least one band with probability 1 − (1 − J^ROWS)^BANDS: with 16 bands of
 * 4 rows that is 0.999 at J = 0.8, 0.98 at J = 0.6 and 0.12 at J = 0.3, so a band hit is a cheap
 * candidate test, confirmed by the signature estimate of J.
 */

/** Words per shingle. Three keeps short texts (SMS) usable while still ordering words. */
export const SHINGLE_SIZE = 3;
/** A multiple of four: {@link minhash} takes the permutations four at a time. */
export const NUM_HASHES = 64;
export const BANDS = 16;
export const ROWS = NUM_HASHES / BANDS;
/** Fixed seed: signatures must be identical across processes, machines and releases. */
const SEED = 0x5eed_ca11;

/** murmur3's 32-bit finaliser: a cheap, well-mixed permutation of 32-bit integers. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string, finalised with fmix32. */
export function hashString(s: string, seed = SEED): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

const SALTS: Uint32Array = (() => {
  const out = new Uint32Array(NUM_HASHES);
  let x = SEED;
  for (let i = 0; i < NUM_HASHES; i++) {
    x = fmix32(x + 0x9e3779b9);
    out[i] = x;
  }
  return out;
})();

/**
 * {@link hashString} of `tokens[from..from+SHINGLE_SIZE)` joined by single spaces, without building
 * the joined string (a look-up hashes a few hundred shingles; the strings were most of its cost).
 */
function shingleHash(tokens: readonly string[], from: number): number {
  let h = (0x811c9dc5 ^ SEED) >>> 0;
  for (let k = from; k < from + SHINGLE_SIZE; k++) {
    if (k > from) {
      h ^= 0x20;
      h = Math.imul(h, 0x01000193);
    }
    const t = tokens[k];
    for (let i = 0; i < t.length; i++) {
      h ^= t.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return fmix32(h);
}

/**
 * Hashes of the distinct shingles of a token list (tokens themselves when fewer than a shingle), in
 * ascending order: a sorted typed array rather than a `Set` of numbers above 2^30, which V8 boxes
 * one by one (the order does not matter to {@link minhash}).
 */
export function shingleHashes(tokens: readonly string[]): Uint32Array {
  if (tokens.length === 0) return new Uint32Array(0);
  if (tokens.length < SHINGLE_SIZE) return Uint32Array.of(hashString(tokens.join(' ')));
  const all = new Uint32Array(tokens.length - SHINGLE_SIZE + 1);
  for (let i = 0; i < all.length; i++) all[i] = shingleHash(tokens, i);
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[n++] = all[i];
  return all.subarray(0, n);
}

/** {@link SALTS} as signed 32-bit integers (what `^` gives anyway). */
const SALTS_I32: Int32Array = Int32Array.from(SALTS, (v) => v | 0);
/** Flipping the top bit maps unsigned order onto signed order: minima are taken on small integers. */
const TOP = 0x80000000 | 0;

/** `fmix32(x) ^ TOP` as a signed integer: {@link fmix32} without leaving the small-integer range. */
function mixSigned(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16) ^ TOP;
}

/**
 * The MinHash signature: for each of NUM_HASHES salted permutations, the minimum over shingles of
 * `fmix32(shingle ^ salt)` (unsigned). Computed four permutations per pass over the shingles, each
 * minimum kept in a local as a signed integer (top bit flipped, the same order): 1.7× faster than
 * a pass per shingle updating the typed array, with the same signature (minhash.test.ts).
 */
export function minhash(shingles: Uint32Array): Uint32Array {
  const sig = new Uint32Array(NUM_HASHES);
  const n = shingles.length;
  for (let i = 0; i < NUM_HASHES; i += 4) {
    const s0 = SALTS_I32[i];
    const s1 = SALTS_I32[i + 1];
    const s2 = SALTS_I32[i + 2];
    const s3 = SALTS_I32[i + 3];
    let m0 = 0x7fffffff;
    let m1 = 0x7fffffff;
    let m2 = 0x7fffffff;
    let m3 = 0x7fffffff;
    for (let s = 0; s < n; s++) {
      const x = shingles[s];
      const a = mixSigned(x ^ s0);
      if (a < m0) m0 = a;
      const b = mixSigned(x ^ s1);
      if (b < m1) m1 = b;
      const c = mixSigned(x ^ s2);
      if (c < m2) m2 = c;
      const d = mixSigned(x ^ s3);
      if (d < m3) m3 = d;
    }
    sig[i] = (m0 ^ TOP) >>> 0;
    sig[i + 1] = (m1 ^ TOP) >>> 0;
    sig[i + 2] = (m2 ^ TOP) >>> 0;
    sig[i + 3] = (m3 ^ TOP) >>> 0;
  }
  return sig;
}

/** Estimated Jaccard similarity: the share of positions where two signatures agree. */
export function similarity(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * One integer key per band: the band's index in the high bits and a 32-bit hash of its rows below,
 * so keys of different bands never collide and fit a SQL bigint (< 2^53).
 */
export function bandKeys(sig: Uint32Array): number[] {
  const keys: number[] = [];
  for (let b = 0; b < BANDS; b++) {
    let h = (SEED ^ b) >>> 0;
    for (let r = 0; r < ROWS; r++) h = fmix32(((h ^ sig[b * ROWS + r]) + r) >>> 0);
    keys.push(b * 2 ** 32 + h);
  }
  return keys;
}

/** Signature ↔ bytes (little-endian uint32) for storage. */
export function signatureToBytes(sig: Uint32Array): Buffer {
  const buf = Buffer.alloc(sig.length * 4);
  for (let i = 0; i < sig.length; i++) buf.writeUInt32LE(sig[i], i * 4);
  return buf;
}

export function signatureFromBytes(buf: Uint8Array): Uint32Array {
  const out = new Uint32Array(Math.floor(buf.length / 4));
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.readUInt32LE(i * 4);
  return out;
}
