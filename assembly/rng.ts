// SplitMix64 streams, bit-identical to the contract in src/kernels/types.ts (and native/rng.h).
// One stream is live per WebAssembly instance at a time (each worker thread has its own instance), so the
// state is a module global: the fastest form in wasm and never shared between threads.

const GOLDEN: u64 = 0x9E3779B97F4A7C15;
const MULTIPLIER_1: u64 = 0xBF58476D1CE4E5B9;
const MULTIPLIER_2: u64 = 0x94D049BB133111EB;
// 2^-53: maps the top 53 bits of a draw to [0, 1).
const TWO_POW_MINUS_53: f64 = 1.1102230246251565e-16;

let state: u64 = 0;

// @ts-ignore: decorator
@inline function finalize(z: u64): u64 {
  z = (z ^ (z >> 30)) * MULTIPLIER_1;
  z = (z ^ (z >> 27)) * MULTIPLIER_2;
  return z ^ (z >> 31);
}

export function mix(x: u64): u64 {
  return finalize(x + GOLDEN);
}

/** Start stream(seed, iteration, index). */
export function seedStream(seed: u64, iteration: u64, index: u64): void {
  state = mix(mix(mix(seed) ^ iteration) ^ index);
}

// @ts-ignore: decorator
@inline export function nextRandom(): u64 {
  state += GOLDEN;
  return finalize(state);
}

// @ts-ignore: decorator
@inline export function uniform(): f64 {
  return <f64>(nextRandom() >> 11) * TWO_POW_MINUS_53;
}

// @ts-ignore: decorator
@inline export function below(n: u32): u32 {
  return <u32>(((nextRandom() >> 32) * <u64>n) >> 32);
}

/** Vose alias draw over n slots (n > 0); `prob` f32 [n], `alias` i32 [n], `ownTopics` i32 [n] (slot ids). */
// @ts-ignore: decorator
@inline export function aliasDraw(prob: usize, alias: usize, ownTopics: usize, n: i32): i32 {
  const u = uniform() * <f64>n;
  const slot = <i32>u;
  if (u - <f64>slot < <f64>load<f32>(prob + (<usize>slot << 2))) {
    return ownTopics == 0 ? slot : load<i32>(ownTopics + (<usize>slot << 2));
  }
  return load<i32>(alias + (<usize>slot << 2));
}

/** randomStream entry: the high 32 bits of the first `count` draws of stream(seed, iteration, index). */
export function randomStream(seed: u64, iteration: u64, index: u64, out: usize, count: i32): void {
  seedStream(seed, iteration, index);
  for (let i = 0; i < count; i++) {
    store<u32>(out + (<usize>i << 2), <u32>(nextRandom() >> 32));
  }
}

/** randomTopics entry: z[t] = below(K) from stream(seed, 0xFFFFFFFF, d) for the tokens of sequence d. */
export function randomTopics(offsets: usize, sequences: i32, topics: usize, numTopics: i32, seed: u64): void {
  for (let d = 0; d < sequences; d++) {
    seedStream(seed, 0xFFFFFFFF, <u64>d);
    const end = load<i32>(offsets + (<usize>(d + 1) << 2));
    for (let t = load<i32>(offsets + (<usize>d << 2)); t < end; t++) {
      store<i32>(topics + (<usize>t << 2), <i32>below(<u32>numTopics));
    }
  }
}

/** FNV-1a over 32-bit values, as the contract defines it (whole values, not bytes). */
export function checksum(values: usize, count: i32): u32 {
  let hash: u32 = 2166136261;
  for (let i = 0; i < count; i++) {
    hash = (hash ^ load<u32>(values + (<usize>i << 2))) * 16777619;
  }
  return hash;
}
