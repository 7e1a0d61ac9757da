/**
 * The held-out split (SPEC section 4): a fraction of sequences chosen from the seed alone, so every model with
 * the same seed and corpus is evaluated on the same sequences. Each sequence gets a 32-bit key from
 * (seed, index); the round(F * D) smallest keys (ties by index) are held out.
 */

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit. */
function finalise32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export function splitKey(seed: number, index: number): number {
  const seedLow = seed >>> 0;
  const seedHigh = Math.floor(seed / 2 ** 32) >>> 0;
  return finalise32(finalise32(finalise32(seedLow ^ 0x5bd1e995) ^ seedHigh) ^ finalise32(index + 0x27d4eb2f));
}

export interface Split {
  /** train: ascending sequence indices used for training */
  train: Int32Array;
  /** test: ascending sequence indices held out */
  test: Int32Array;
}

export function holdoutSplit(sequenceCount: number, fraction: number, seed: number): Split {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`holdout fraction must be in [0, 1), got ${fraction}`);
  const heldOut = Math.round(fraction * sequenceCount);
  // keep at least one training sequence: a split that leaves nothing to train on is useless
  const testCount = Math.min(heldOut, Math.max(0, sequenceCount - 1));
  const keys = new Float64Array(sequenceCount);
  for (let d = 0; d < sequenceCount; d++) keys[d] = splitKey(seed, d) * 2 ** 21 + (d % 2 ** 21);
  const order = Array.from({ length: sequenceCount }, (_, d) => d).sort((a, b) => keys[a] - keys[b] || a - b);
  const isTest = new Uint8Array(sequenceCount);
  for (let i = 0; i < testCount; i++) isTest[order[i]] = 1;
  const train = new Int32Array(sequenceCount - testCount);
  const test = new Int32Array(testCount);
  let trainCursor = 0;
  let testCursor = 0;
  for (let d = 0; d < sequenceCount; d++) {
    if (isTest[d]) test[testCursor++] = d;
    else train[trainCursor++] = d;
  }
  return { train, test };
}
