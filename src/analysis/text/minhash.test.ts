import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NUM_HASHES, SHINGLE_SIZE, hashString, minhash, shingleHashes } from './minhash.ts';
import { normaliseText } from './normalise.ts';

test('shingle hashes are the distinct hashes of the words joined by spaces, so stored signatures stay valid', () => {
  const words = [
    'été',
    'offer',
    '#',
    'x',
    'ünïcode',
    '日本語',
    'a',
    'email',
    'url',
    'example.com',
    'z',
    'été',
    'offer',
    '#',
  ];
  const expected = new Set<number>();
  for (let i = 0; i + SHINGLE_SIZE <= words.length; i++)
    expected.add(hashString(words.slice(i, i + SHINGLE_SIZE).join(' ')));
  assert.deepEqual(shingleHashes(words), Uint32Array.from([...expected].sort((a, b) => a - b)));
  assert.deepEqual(shingleHashes(['two', 'words']), Uint32Array.of(hashString('two words')));
  assert.deepEqual(shingleHashes([]), new Uint32Array(0));
});

/** murmur3's finaliser and the salts, as the signature's definition states them (the test's oracle). */
function fmix(h: number): number {
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
const SALTS = (() => {
  const out: number[] = [];
  let x = 0x5eed_ca11;
  for (let i = 0; i < NUM_HASHES; i++) {
    x = fmix(x + 0x9e3779b9);
    out.push(x);
  }
  return out;
})();
/** Each permutation's unsigned minimum over the shingles, one at a time. */
const oracle = (shingles: Uint32Array): number[] =>
  SALTS.map((salt) => shingles.reduce((m, x) => Math.min(m, fmix((x ^ salt) >>> 0)), 0xffffffff));

test('the signature is, for each salted permutation, the unsigned minimum over the shingles', () => {
  let x = 7;
  const next = () => (x = fmix(x + 0x9e3779b9));
  const sets: Uint32Array[] = [
    new Uint32Array(0),
    Uint32Array.of(0),
    Uint32Array.of(0xffffffff),
    Uint32Array.of(0x7fffffff, 0x80000000),
  ];
  for (let k = 0; k < 300; k++) sets.push(Uint32Array.from({ length: 1 + ((k * 37) % 700) }, next));
  for (const s of sets) assert.deepEqual([...minhash(s)], oracle(s), `${s.length} shingles`);
});

test('signatures stay those already stored (computed by the previous implementation)', () => {
  const tokens = normaliseText(
    'Congratulations! You have won a brand new iPhone 17. Claim your prize at ' +
      'https://prize.example.com/claim?id=12345 before Friday. Reply to win@prize.example.com.',
  ).tokens;
  assert.deepEqual([...minhash(shingleHashes(tokens))], GOLDEN_TEXT);
  // One shingle: minima with the top bit set.
  assert.deepEqual([...minhash(shingleHashes(['two', 'words']))], GOLDEN_ONE_SHINGLE);
});

const GOLDEN_TEXT = [
  117711840, 166711586, 151597973, 189591736, 65729665, 13673591, 24550995, 1120813469, 49040995, 68484270, 95512097,
  160892080, 497289568, 447117287, 311245367, 80689675, 349726217, 17927539, 1143118, 123088863, 621966779, 966090447,
  134826433, 104703465, 428971330, 4762887, 361123190, 47226281, 101788775, 583334542, 281101776, 440517350, 43739049,
  116856491, 64972116, 138184149, 82598948, 750885920, 751891405, 13399883, 234813975, 26191674, 317392743, 445720917,
  88533095, 270029553, 274389878, 4358769, 385582984, 218851063, 92108787, 109277204, 129494259, 8059860, 57801822,
  479453767, 31262022, 322103581, 735461, 71051244, 65695210, 283197868, 59602057, 282560090,
];
const GOLDEN_ONE_SHINGLE = [
  774075970, 3694545020, 858673714, 1339447746, 1226099203, 3023637700, 1055425318, 4268054028, 4263404522, 3575652365,
  3583758506, 360774302, 900193967, 587497034, 2639493659, 1897993777, 4136206474, 2113269156, 93468814, 865490540,
  3006853765, 259380768, 1097965147, 2909939699, 1220137496, 2139558667, 1317202527, 1870208956, 30939356, 1178123537,
  2398441207, 638757089, 556532440, 2988431818, 2540394277, 4020926174, 74861371, 4201039607, 617802835, 2010680277,
  3025283626, 3310376572, 3653656064, 1354480914, 1099095496, 60299562, 3382515450, 173310864, 3431882168, 1070928880,
  1877130794, 2954564998, 2351219337, 400865369, 4100664278, 3485381519, 2781615291, 3653476195, 2466862834, 306856819,
  912835501, 3392143255, 2391200169, 3989591288,
];
