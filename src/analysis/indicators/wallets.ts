/**
 * Cryptocurrency wallet addresses in text (extortion and investment scams ask to pay into them).
 * Where the address format has a checksum computable with node:crypto, it is verified, so random
 * tokens of the right shape are not reported: Base58Check (double SHA-256: BTC, LTC, DOGE, TRX,
 * BCH legacy) and Bech32/Bech32m (BIP 173, BIP 350: BTC and LTC segwit). Ethereum (EIP-55 uses
 * Keccak-256, not in node:crypto) and Monero are recognised by shape only.
 */
import { createHash } from 'node:crypto';

export interface Wallet {
  currency: string;
  address: string;
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_INDEX = new Map([...B58].map((c, i) => [c, i]));

/** Base58 → bytes, or null on a character outside the alphabet. */
export function base58Decode(s: string): Uint8Array | null {
  const bytes: number[] = [0];
  for (const ch of s) {
    const v = B58_INDEX.get(ch);
    if (v === undefined) return null;
    let carry = v;
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (let k = 0; k < s.length && s[k] === '1'; k++) bytes.push(0);
  return Uint8Array.from(bytes.reverse());
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** Version byte of a valid Base58Check string, or null. */
export function base58CheckVersion(s: string): number | null {
  const b = base58Decode(s);
  if (!b || b.length < 5) return null;
  const payload = b.subarray(0, b.length - 4);
  const check = sha256(sha256(payload));
  for (let i = 0; i < 4; i++) if (check[i] !== b[b.length - 4 + i]) return null;
  return payload[0];
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i];
  }
  return chk >>> 0;
}

/** True when `s` is a valid Bech32 (BIP 173) or Bech32m (BIP 350) string with human part `hrp`. */
export function bech32Valid(s: string, hrp: string): boolean {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return false;
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || lower.slice(0, sep) !== hrp || lower.length - sep < 7 || lower.length > 90) return false;
  const data: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const v = BECH32.indexOf(c);
    if (v < 0) return false;
    data.push(v);
  }
  const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
  const pm = polymod([...expanded, ...data]);
  return pm === 1 || pm === 0x2bc830a3;
}

interface Rule {
  currency: string;
  shape: RegExp;
  valid: (s: string) => boolean;
}

const versionIn = (versions: number[]) => (s: string) => {
  const v = base58CheckVersion(s);
  return v !== null && versions.includes(v);
};

const RULES: readonly Rule[] = [
  { currency: 'BTC', shape: /^[13][1-9A-HJ-NP-Za-km-z]{25,34}$/, valid: versionIn([0x00, 0x05]) },
  { currency: 'BTC', shape: /^(bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}$/, valid: (s) => bech32Valid(s, 'bc') },
  { currency: 'LTC', shape: /^[LM][1-9A-HJ-NP-Za-km-z]{26,33}$/, valid: versionIn([0x30, 0x32]) },
  { currency: 'LTC', shape: /^(ltc1|LTC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}$/, valid: (s) => bech32Valid(s, 'ltc') },
  { currency: 'DOGE', shape: /^D[1-9A-HJ-NP-Za-km-z]{33}$/, valid: versionIn([0x1e]) },
  { currency: 'TRX', shape: /^T[1-9A-HJ-NP-Za-km-z]{33}$/, valid: versionIn([0x41]) },
  { currency: 'ETH', shape: /^0x[0-9a-fA-F]{40}$/, valid: (s) => !/^0x0{40}$/.test(s) },
  { currency: 'XMR', shape: /^[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}$/, valid: (s) => base58Decode(s) !== null },
];

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * The tokens `/[0-9A-Za-z]{26,106}/g` would match, found in one pass without a regular
 * expression (which retried from every character of every shorter word): each run of ASCII
 * letters and digits, cut into pieces of 106 while at least 26 remain.
 */
function* walletTokens(text: string): Generator<string> {
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isAlnum(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n && isAlnum(text.charCodeAt(j))) j++;
    for (let s = i; j - s >= 26; s += 106) yield text.slice(s, Math.min(s + 106, j));
    i = j;
  }
}

/** Wallet addresses in `text` (whitespace/punctuation-separated tokens of 26–106 characters). */
export function findWallets(text: string, max: number): Wallet[] {
  const out: Wallet[] = [];
  if (out.length >= max) return out;
  const seen = new Set<string>();
  for (const t of walletTokens(text)) {
    if (seen.has(t)) continue;
    for (const r of RULES) {
      if (r.shape.test(t) && r.valid(t)) {
        seen.add(t);
        out.push({ currency: r.currency, address: t });
        break;
      }
    }
    if (out.length >= max) break;
  }
  return out;
}
