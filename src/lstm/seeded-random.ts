/**
 * A small seeded generator for the LSTM side (weight initialisation, the order in which training visits
 * sequences). Kept in JS, not TF.js's random ops, so initial weights are identical on every TF.js backend.
 * Mulberry32-style 32-bit mixing: plenty for initialisation and shuffling, not used by the samplers (those use
 * the SplitMix64 streams of src/kernels/types.ts).
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // fold in a constant so that seeds 0 and 1 do not start from nearly equal states
    this.state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
  }

  /** the generator's whole state (a uint32), to save in a checkpoint and continue the same stream later */
  get state32(): number {
    return this.state;
  }

  /** continues the stream from a state read with `state32` */
  static fromState(state: number): SeededRandom {
    if (!Number.isInteger(state) || state < 0 || state > 0xffffffff) {
      throw new RangeError(
        `SeededRandom.fromState: the state must be a uint32, got ${state}; pass a value read from state32`,
      );
    }
    const random = new SeededRandom(0);
    random.state = state >>> 0;
    return random;
  }

  /** uniform 32-bit unsigned integer */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** uniform in [0, 1) */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** uniform integer in [0, n) */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher-Yates shuffle in place */
  shuffle(values: Int32Array): void {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = values[i]!;
      values[i] = values[j]!;
      values[j] = t;
    }
  }
}
