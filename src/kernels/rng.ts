/**
 * TypeScript BigInt reference of the SplitMix64 random streams defined in src/kernels/types.ts. Slow (BigInt):
 * it exists so that tests can check both kernel backends bit for bit, never for production sampling.
 */
const MASK = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/** Stream "iterations" of the contract for randomTopics and the particle filter. */
export const RANDOM_TOPICS_ITERATION = 0xffffffff;
export const FILTER_ITERATION_BASE = 0x80000000;

function scramble(value: bigint): bigint {
  let z = value;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return z ^ (z >> 31n);
}

/** mix(x) of the contract: the SplitMix64 finaliser after adding the golden gamma. */
export function mix(value: bigint): bigint {
  return scramble((value + GOLDEN_GAMMA) & MASK);
}

function toU64(value: number | bigint, name: string): bigint {
  const big = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (big < 0n || big > MASK)
    throw new RangeError(`rng: ${name} must be a whole number in [0, 2^64), got ${String(value)}`);
  return big;
}

export class ReferenceStream {
  private state: bigint;

  constructor(seed: number | bigint, iteration: number | bigint, index: number | bigint) {
    this.state = mix(mix(mix(toU64(seed, 'seed')) ^ toU64(iteration, 'iteration')) ^ toU64(index, 'index'));
  }

  /** next(): the full 64-bit draw. */
  next(): bigint {
    this.state = (this.state + GOLDEN_GAMMA) & MASK;
    return scramble(this.state);
  }

  /** the high 32 bits of next() (what randomStream reports). */
  nextHigh32(): number {
    return Number(this.next() >> 32n);
  }

  /** f64 in [0, 1) from the top 53 bits. */
  uniform(): number {
    return Number(this.next() >> 11n) * 2 ** -53;
  }

  /** integer in [0, n): (high 32 bits * n) >>> 32. */
  below(n: number): number {
    return Number(((this.next() >> 32n) * BigInt(n)) >> 32n);
  }
}
