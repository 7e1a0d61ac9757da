/**
 * The seeded generator of `lla generate` and of the benchmark's random LSTM weights: SFC32 (Chris Doty-Humphrey's
 * small fast counting generator, 128-bit state, 32-bit arithmetic), seeded by hashing the seed. Plain 32-bit JS
 * arithmetic keeps it fast and identical on every platform; it is not one of the sampler's SplitMix64 streams,
 * which only the kernels need to reproduce bit for bit.
 */
export class GeneratorRandom {
  private a: number;
  private b: number;
  private c: number;
  private counter: number;
  /** a second normal deviate from the last Box-Muller pair, or NaN */
  private spareNormal = Number.NaN;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`random seed ${seed} is not a whole number >= 0: pass a non-negative integer seed`);
    }
    // split the (up to 53-bit) seed into two 32-bit halves and spread them over the state with a murmur-style mix
    const low = seed >>> 0;
    const high = Math.floor(seed / 4294967296) >>> 0;
    this.a = mix32(low ^ 0x9e3779b9);
    this.b = mix32(high ^ 0x85ebca6b ^ this.a);
    this.c = mix32(this.b ^ 0xc2b2ae35);
    this.counter = 1;
    // the first outputs of a freshly seeded SFC32 are correlated with the seed: discard them
    for (let i = 0; i < 15; i += 1) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.counter) | 0;
    this.counter = (this.counter + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** uniform in [0, 1) with 53 random bits */
  uniform(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** uniform integer in [0, n) */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** standard normal deviate (Box-Muller, polar form) */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const value = this.spareNormal;
      this.spareNormal = Number.NaN;
      return value;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const scale = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * scale;
    return u * scale;
  }

  /** Gamma(shape, 1) deviate (Marsaglia and Tsang; shape < 1 through the U^(1/shape) boost) */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new Error(`gamma shape ${shape} must be positive`);
    if (shape < 1) {
      const boost = Math.pow(1 - this.uniform(), 1 / shape);
      return this.gamma(shape + 1) * boost;
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** a Dirichlet(concentration, ..., concentration) draw of the given size */
  dirichlet(size: number, concentration: number): Float64Array {
    const out = new Float64Array(size);
    let total = 0;
    for (let i = 0; i < size; i += 1) {
      out[i] = this.gamma(concentration);
      total += out[i]!;
    }
    if (total === 0) {
      // every gamma draw underflowed (tiny concentration): the limit is a point mass on a uniform coordinate
      out[this.below(size)] = 1;
      return out;
    }
    for (let i = 0; i < size; i += 1) out[i]! /= total;
    return out;
  }

  /** a uniformly random permutation of 0..n-1 */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i += 1) out[i] = i;
    for (let i = n - 1; i > 0; i -= 1) {
      const j = this.below(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}

/** murmur3's 32-bit finaliser: a bijective avalanche mix */
function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
