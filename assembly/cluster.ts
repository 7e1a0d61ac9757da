// The initialisation that sees dynamics (`--init hmm:N`, contract in src/kernels/types.ts), as native/cluster.cc:
// the smoothed first-order transition table of sampled topics, and the context-clustering start (every action
// described by the actions next to it, those descriptions clustered by weighted k-means). One thread; the wrapper
// passes the scratch.

import { seedStream, nextRandom, uniform } from './rng';
import { matVec } from './lstm_cell';

const CONTEXT_ITERATION: u64 = 0xFFFFFFFE;
const KMEANS_ITERATION: u64 = 0xFFFFFFFD;

// @ts-ignore: decorator
@inline function align16(x: usize): usize { return (x + 15) & ~15; }

/** out f64 [(K+1)^order][K]: (the times a row's context is followed by k + smoothing) / (row total + K smoothing),
 * the context z_{t-1} (order 1) or (z_{t-2}, z_{t-1}) (order 2), K the begin symbol. `scratch` is f64 as out (the
 * counts). */
export function transitionTable(offsets: usize, sequences: i32, topics: usize, K: i32, order: i32, smoothing: f64,
  out: usize, scratch: usize): void {
  const rows = order == 2 ? <usize>(K + 1) * <usize>(K + 1) : <usize>(K + 1);
  memory.fill(scratch, 0, (rows * <usize>K) << 3);
  for (let d = 0; d < sequences; d++) {
    let previous = K;
    let beforePrevious = K;
    const end = load<i32>(offsets + (<usize>(d + 1) << 2));
    for (let t = load<i32>(offsets + (<usize>d << 2)); t < end; t++) {
      const topic = load<i32>(topics + (<usize>t << 2));
      const row = order == 2 ? <usize>beforePrevious * <usize>(K + 1) + <usize>previous : <usize>previous;
      const at = scratch + ((row * <usize>K + <usize>topic) << 3);
      store<f64>(at, load<f64>(at) + 1);
      beforePrevious = previous;
      previous = topic;
    }
  }
  for (let j: usize = 0; j < rows; j++) {
    const row = scratch + ((j * <usize>K) << 3);
    let total: f64 = 0;
    for (let k = 0; k < K; k++) total += load<f64>(row + (<usize>k << 3));
    const scale = 1.0 / (total + <f64>K * smoothing);
    const target = out + ((j * <usize>K) << 3);
    for (let k = 0; k < K; k++) store<f64>(target + (<usize>k << 3), (load<f64>(row + (<usize>k << 3)) + smoothing) * scale);
  }
}

/** Scratch bytes of contextFeatures: neighbours i32 [2T], positionOffsets i32 [V+1], fill i32 [V], positions i32
 * [T], signs u64 [V][words], counts i32 [V], touched i32 [V]. */
export function contextScratchBytes(T: i32, V: i32, dimensions: i32): usize {
  const words = <usize>((dimensions + 63) >> 6);
  return align16(<usize>T << 3) + align16(<usize>(V + 1) << 2) + align16(<usize>V << 2) + align16(<usize>T << 2)
    + align16(<usize>V * words << 3) + align16(<usize>V << 2) * 2;
}

/** features f32 [V][2 dimensions]: per action the projected Hellinger-normalised next- and previous-action
 * distributions (types.ts). */
export function contextFeatures(tokens: usize, T: i32, offsets: usize, sequences: i32, V: i32, dimensions: i32,
  seed: u64, features: usize, scratch: usize): void {
  const words = (dimensions + 63) >> 6;
  const neighbours = scratch;                                    // [2][T] the action after / before, -1 at an end
  const positionOffsets = neighbours + align16(<usize>T << 3);   // [V+1]
  const fill = positionOffsets + align16(<usize>(V + 1) << 2);   // [V]
  const positions = fill + align16(<usize>V << 2);               // [T] grouped by action, ascending
  const signs = positions + align16(<usize>T << 2);              // [V][words]
  const counts = signs + align16(<usize>V * <usize>words << 3);  // [V] zero between actions
  const touched = counts + align16(<usize>V << 2);               // [V]
  memory.fill(neighbours, 0xFF, <usize>T << 3);
  for (let d = 0; d < sequences; d++) {
    const end = load<i32>(offsets + (<usize>(d + 1) << 2));
    for (let t = load<i32>(offsets + (<usize>d << 2)); t + 1 < end; t++) {
      store<i32>(neighbours + (<usize>t << 2), load<i32>(tokens + (<usize>(t + 1) << 2)));
      store<i32>(neighbours + (<usize>(T + t + 1) << 2), load<i32>(tokens + (<usize>t << 2)));
    }
  }
  memory.fill(positionOffsets, 0, <usize>(V + 1) << 2);
  for (let t = 0; t < T; t++) {
    const at = positionOffsets + (<usize>(load<i32>(tokens + (<usize>t << 2)) + 1) << 2);
    store<i32>(at, load<i32>(at) + 1);
  }
  for (let w = 0; w < V; w++) {
    const at = positionOffsets + (<usize>w << 2);
    store<i32>(at, load<i32>(at, 4) + load<i32>(at), 4);
  }
  memory.copy(fill, positionOffsets, <usize>V << 2);
  for (let t = 0; t < T; t++) {
    const at = fill + (<usize>load<i32>(tokens + (<usize>t << 2)) << 2);
    const slot = load<i32>(at);
    store<i32>(positions + (<usize>slot << 2), t);
    store<i32>(at, slot + 1);
  }
  for (let b = 0; b < V; b++) {
    seedStream(seed, CONTEXT_ITERATION, <u64>b);
    for (let i = 0; i < words; i++) store<u64>(signs + ((<usize>b * <usize>words + <usize>i) << 3), nextRandom());
  }
  memory.fill(counts, 0, <usize>V << 2);
  for (let a = 0; a < V; a++) {
    const first = load<i32>(positionOffsets + (<usize>a << 2));
    const last = load<i32>(positionOffsets + (<usize>(a + 1) << 2));
    for (let side = 0; side < 2; side++) {
      const out = features + ((<usize>a * 2 + <usize>side) * <usize>dimensions << 2);
      memory.fill(out, 0, <usize>dimensions << 2);
      const neighbour = neighbours + (<usize>(side * T) << 2);
      let touchedCount = 0;
      let total = 0;
      for (let i = first; i < last; i++) {
        const b = load<i32>(neighbour + (<usize>load<i32>(positions + (<usize>i << 2)) << 2));
        if (b < 0) continue;
        const at = counts + (<usize>b << 2);
        const count = load<i32>(at);
        if (count == 0) {
          store<i32>(touched + (<usize>touchedCount << 2), b);
          touchedCount++;
        }
        store<i32>(at, count + 1);
        total++;
      }
      for (let i = 0; i < touchedCount; i++) {
        const b = load<i32>(touched + (<usize>i << 2));
        const at = counts + (<usize>b << 2);
        const weight = <f32>Math.sqrt(<f64>load<i32>(at) / <f64>total);
        store<i32>(at, 0);
        const bits = signs + ((<usize>b * <usize>words) << 3);
        for (let j = 0; j < dimensions; j++) {
          const set = ((load<u64>(bits + (<usize>(j >> 6) << 3)) >> <u64>(j & 63)) & 1) != 0;
          const target = out + (<usize>j << 2);
          store<f32>(target, load<f32>(target) + (set ? weight : -weight));
        }
      }
    }
  }
}

/** sum_j (x_j - c_j)^2 over n floats in four lanes. */
function squaredDistance(x: usize, c: usize, n: i32): f32 {
  let lanes = f32x4.splat(0);
  const vectorEnd = n & ~3;
  let j = 0;
  for (; j < vectorEnd; j += 4) {
    const difference = f32x4.sub(v128.load(x + (<usize>j << 2)), v128.load(c + (<usize>j << 2)));
    lanes = f32x4.add(lanes, f32x4.mul(difference, difference));
  }
  let sum = (f32x4.extract_lane(lanes, 0) + f32x4.extract_lane(lanes, 1))
    + (f32x4.extract_lane(lanes, 2) + f32x4.extract_lane(lanes, 3));
  for (; j < n; j++) {
    const difference = load<f32>(x + (<usize>j << 2)) - load<f32>(c + (<usize>j << 2));
    sum += difference * difference;
  }
  return sum;
}

/** The index where the running sum of mass f64 [n] passes u (the last positive one in the rounding gap). */
function drawByMass(mass: usize, n: i32, u: f64): i32 {
  let cumulative: f64 = 0;
  let lastPositive = 0;
  for (let i = 0; i < n; i++) {
    const value = load<f64>(mass + (<usize>i << 3));
    if (value <= 0) continue;
    cumulative += value;
    lastPositive = i;
    if (u < cumulative) return i;
  }
  return lastPositive;
}

/** Scratch bytes of kmeans: centres f32 [K][D], mass, nearest and two trial distances f64 [n] each, norms f32 [K],
 * sums f64 [K][D], members f64 [K], products f32 [K]. */
export function kmeansScratchBytes(n: i32, D: i32, K: i32): usize {
  return align16(<usize>K * <usize>D << 2) + align16(<usize>n << 3) * 4 + align16(<usize>K << 2)
    + align16(<usize>K * <usize>D << 3) + align16(<usize>K << 3) + align16(<usize>K << 2);
}

/** Weighted k-means (types.ts): labels i32 [n]; returns the weighted sum of squared distances. */
export function kmeans(points: usize, n: i32, D: i32, weights: usize, K: i32, iterations: i32, seed: u64,
  labels: usize, scratch: usize): f64 {
  const rowBytes = <usize>D << 2;
  const centres = scratch;
  const mass = centres + align16(<usize>K * rowBytes);
  const nearest = mass + align16(<usize>n << 3);
  let best = nearest + align16(<usize>n << 3);   // and trial after it: [n] each
  const norms = best + 2 * align16(<usize>n << 3);
  const sums = norms + align16(<usize>K << 2);
  const members = sums + align16(<usize>K * <usize>D << 3);
  const products = members + align16(<usize>K << 3);
  // greedy k-means++, as native/cluster.cc: the first centre by weight; each next one the best of `candidates`
  // points drawn by weight x squared distance to the nearest centre so far (the least weighted potential after it)
  const candidates = 2 + <i32>Math.log(<f64>K);
  seedStream(seed, KMEANS_ITERATION, 0);
  let totalWeight: f64 = 0;
  for (let i = 0; i < n; i++) totalWeight += load<f64>(weights + (<usize>i << 3));
  let chosen = drawByMass(weights, n, uniform() * totalWeight);
  memory.copy(centres, points + <usize>chosen * rowBytes, rowBytes);
  for (let i = 0; i < n; i++) {
    store<f64>(nearest + (<usize>i << 3), <f64>squaredDistance(points + <usize>i * rowBytes, centres, D));
  }
  let trial = best + align16(<usize>n << 3);
  for (let k = 1; k < K; k++) {
    let total: f64 = 0;
    for (let i = 0; i < n; i++) {
      const value = load<f64>(weights + (<usize>i << 3)) * load<f64>(nearest + (<usize>i << 3));
      store<f64>(mass + (<usize>i << 3), value);
      total += value;
    }
    let bestPotential: f64 = Infinity;
    for (let c = 0; c < candidates; c++) {
      // every point sits on a centre (more clusters than distinct points): draw by weight
      const candidate = total > 0 ? drawByMass(mass, n, uniform() * total) : drawByMass(weights, n, uniform() * totalWeight);
      let potential: f64 = 0;
      for (let i = 0; i < n; i++) {
        const distance = <f64>squaredDistance(points + <usize>i * rowBytes, points + <usize>candidate * rowBytes, D);
        const closest = min(load<f64>(nearest + (<usize>i << 3)), distance);
        store<f64>(trial + (<usize>i << 3), closest);
        potential += load<f64>(weights + (<usize>i << 3)) * closest;
      }
      if (potential < bestPotential) {
        bestPotential = potential;
        chosen = candidate;
        const swap = best;
        best = trial;
        trial = swap;
      }
    }
    memory.copy(centres + <usize>k * rowBytes, points + <usize>chosen * rowBytes, rowBytes);
    memory.copy(nearest, best, <usize>n << 3);
  }
  // Lloyd rounds: the nearest centre by |c|^2 - 2 x.c (|x|^2 is the same for every centre)
  memory.fill(labels, 0xFF, <usize>n << 2);
  for (let round = 0; round < iterations; round++) {
    for (let k = 0; k < K; k++) {
      const centre = centres + <usize>k * rowBytes;
      store<f32>(norms + (<usize>k << 2), dotSelf(centre, D));
    }
    let changed = 0;
    for (let i = 0; i < n; i++) {
      matVec(centres, points + <usize>i * rowBytes, 0, K, D, products);
      let best = 0;
      let bestScore: f32 = load<f32>(norms) - 2 * load<f32>(products);
      for (let k = 1; k < K; k++) {
        const score = load<f32>(norms + (<usize>k << 2)) - 2 * load<f32>(products + (<usize>k << 2));
        if (score < bestScore) {
          bestScore = score;
          best = k;
        }
      }
      if (load<i32>(labels + (<usize>i << 2)) != best) changed++;
      store<i32>(labels + (<usize>i << 2), best);
    }
    if (changed == 0) break;
    memory.fill(sums, 0, <usize>K * <usize>D << 3);
    memory.fill(members, 0, <usize>K << 3);
    for (let i = 0; i < n; i++) {
      const label = load<i32>(labels + (<usize>i << 2));
      const weight = load<f64>(weights + (<usize>i << 3));
      const sum = sums + (<usize>label * <usize>D << 3);
      const point = points + <usize>i * rowBytes;
      for (let j = 0; j < D; j++) {
        const at = sum + (<usize>j << 3);
        store<f64>(at, load<f64>(at) + weight * <f64>load<f32>(point + (<usize>j << 2)));
      }
      const at = members + (<usize>label << 3);
      store<f64>(at, load<f64>(at) + weight);
    }
    for (let k = 0; k < K; k++) {
      const weight = load<f64>(members + (<usize>k << 3));
      if (weight <= 0) continue; // an empty cluster keeps its centre
      const sum = sums + (<usize>k * <usize>D << 3);
      const centre = centres + <usize>k * rowBytes;
      for (let j = 0; j < D; j++) store<f32>(centre + (<usize>j << 2), <f32>(load<f64>(sum + (<usize>j << 3)) / weight));
    }
  }
  let objective: f64 = 0;
  for (let i = 0; i < n; i++) {
    const label = load<i32>(labels + (<usize>i << 2));
    objective += load<f64>(weights + (<usize>i << 3))
      * <f64>squaredDistance(points + <usize>i * rowBytes, centres + <usize>label * rowBytes, D);
  }
  return objective;
}

/** |x|^2 over n floats. */
function dotSelf(x: usize, n: i32): f32 {
  let sum: f32 = 0;
  for (let j = 0; j < n; j++) {
    const value = load<f32>(x + (<usize>j << 2));
    sum += value * value;
  }
  return sum;
}
