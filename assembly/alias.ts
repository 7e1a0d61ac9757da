// The word proposals of SPEC 3.1 as Vose alias tables, O(nnz + K) memory.

import { ROWS_BETA, ROWS_ROW_COUNTS, ROWS_ROW_OFFSETS, ROWS_ROW_TOPICS, ROWS_SPARSE_ALIAS, ROWS_SPARSE_MASS,
  ROWS_SPARSE_PROB, ROWS_TOPICS, ROWS_TOPIC_TOTALS, ROWS_VOCABULARY } from './layout';

/**
 * Vose's construction over n slots with weights f64 [n] (overwritten with scaled probabilities).
 * Slot i's own topic is ownTopics[i] (or i when ownTopics is 0); alias receives topic ids.
 * `small` / `large` are i32 [n] work lists.
 */
function vose(weights: usize, n: i32, total: f64, ownTopics: usize, prob: usize, alias: usize,
  small: usize, large: usize): void {
  const scale = <f64>n / total;
  let smallCount = 0, largeCount = 0;
  for (let i = 0; i < n; i++) {
    const at = weights + (<usize>i << 3);
    const p = load<f64>(at) * scale;
    store<f64>(at, p);
    if (p < 1.0) store<i32>(small + (<usize>(smallCount++) << 2), i);
    else store<i32>(large + (<usize>(largeCount++) << 2), i);
  }
  while (smallCount > 0 && largeCount > 0) {
    const s = load<i32>(small + (<usize>(--smallCount) << 2));
    const l = load<i32>(large + (<usize>(--largeCount) << 2));
    const ps = load<f64>(weights + (<usize>s << 3));
    store<f32>(prob + (<usize>s << 2), <f32>ps);
    store<i32>(alias + (<usize>s << 2), ownTopics == 0 ? l : load<i32>(ownTopics + (<usize>l << 2)));
    const pl = (load<f64>(weights + (<usize>l << 3)) + ps) - 1.0;
    store<f64>(weights + (<usize>l << 3), pl);
    if (pl < 1.0) store<i32>(small + (<usize>(smallCount++) << 2), l);
    else store<i32>(large + (<usize>(largeCount++) << 2), l);
  }
  // Leftovers are 1 up to rounding: they keep their own topic.
  while (largeCount > 0) {
    const l = load<i32>(large + (<usize>(--largeCount) << 2));
    store<f32>(prob + (<usize>l << 2), 1.0);
    store<i32>(alias + (<usize>l << 2), ownTopics == 0 ? l : load<i32>(ownTopics + (<usize>l << 2)));
  }
  while (smallCount > 0) {
    const s = load<i32>(small + (<usize>(--smallCount) << 2));
    store<f32>(prob + (<usize>s << 2), 1.0);
    store<i32>(alias + (<usize>s << 2), ownTopics == 0 ? s : load<i32>(ownTopics + (<usize>s << 2)));
  }
}

// The word proposals are built as aliasRowsRange over ranges of actions (any number of threads) then
// buildDenseAlias. Scratch of both: f64 [K] then i32 [K] then i32 [K] (a row never holds more than K entries).

/** The sparse alias rows and masses of actions [first, end) (block: layout.ts ROWS_*). */
export function aliasRowsRange(params: usize, scratch: usize, first: i32, end: i32): void {
  const rowOffsets = load<usize>(params + ROWS_ROW_OFFSETS);
  const rowTopics = load<usize>(params + ROWS_ROW_TOPICS);
  const rowCounts = load<usize>(params + ROWS_ROW_COUNTS);
  const topicTotals = load<usize>(params + ROWS_TOPIC_TOTALS);
  const V = load<i32>(params + ROWS_VOCABULARY);
  const K = load<i32>(params + ROWS_TOPICS);
  const beta = load<f64>(params + ROWS_BETA);
  const sparseProb = load<usize>(params + ROWS_SPARSE_PROB);
  const sparseAlias = load<usize>(params + ROWS_SPARSE_ALIAS);
  const sparseMass = load<usize>(params + ROWS_SPARSE_MASS);
  const weights = scratch;
  const small = scratch + (<usize>K << 3);
  const large = small + (<usize>K << 2);
  const vocabularyBeta = <f64>V * beta;
  for (let w = first; w < end; w++) {
    const begin = load<i32>(rowOffsets + (<usize>w << 2));
    const n = load<i32>(rowOffsets + (<usize>(w + 1) << 2)) - begin;
    let total: f64 = 0;
    for (let i = 0; i < n; i++) {
      const entry = <usize>(begin + i) << 2;
      const k = load<i32>(rowTopics + entry);
      const weight = <f64>load<i32>(rowCounts + entry) / (<f64>load<i32>(topicTotals + (<usize>k << 2)) + vocabularyBeta);
      store<f64>(weights + (<usize>i << 3), weight);
      total += weight;
    }
    store<f64>(sparseMass + (<usize>w << 3), total);
    if (n > 0) {
      const offset = <usize>begin << 2;
      vose(weights, n, total, rowTopics + offset, sparseProb + offset, sparseAlias + offset, small, large);
    }
  }
}

/** The dense alias table over beta / (n_k + V beta) and its mass. */
export function buildDenseAlias(topicTotals: usize, V: i32, K: i32, beta: f64, denseProb: usize, denseAlias: usize,
  denseMass: usize, scratch: usize): void {
  const weights = scratch;
  const small = scratch + (<usize>K << 3);
  const large = small + (<usize>K << 2);
  const vocabularyBeta = <f64>V * beta;
  let total: f64 = 0;
  for (let k = 0; k < K; k++) {
    const weight = beta / (<f64>load<i32>(topicTotals + (<usize>k << 2)) + vocabularyBeta);
    store<f64>(weights + (<usize>k << 3), weight);
    total += weight;
  }
  store<f64>(denseMass, total);
  vose(weights, K, total, 0, denseProb, denseAlias, small, large);
}
