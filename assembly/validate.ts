// Argument checks over whole arrays, for the wrapper (src/kernels/wasm.ts): the same conditions as the TypeScript
// checks of src/kernels/wasm-validate.ts, run on arrays already in linear memory. A check over a 400k-token corpus
// took ~1 ms per array in JavaScript and a few percent of that here; it ran several times per E-step iteration.
// Each returns 1 when every value passes and 0 otherwise: the wrapper then runs its TypeScript check, which names
// the first bad value.

/** 1 when every values[i] (i32 [count]) is in [0, limit). */
export function idsInRange(values: usize, count: i32, limit: i32): i32 {
  // as unsigned, a negative id is >= any limit: one compare per lane
  const limits = i32x4.splat(limit);
  let outside = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    outside = v128.or(outside, i32x4.ge_u(v128.load(values + (<usize>i << 2)), limits));
  }
  if (v128.any_true(outside)) return 0;
  for (; i < count; i++) {
    if (<u32>load<i32>(values + (<usize>i << 2)) >= <u32>limit) return 0;
  }
  return 1;
}

/**
 * 1 when sparse count rows over V actions and K topics are well formed: rowOffsets i32 [V+1] starts at 0 and never
 * decreases, no row holds more than K entries, rowTopics ascend within a row and stay below K, every rowCounts
 * entry is > 0, every topicTotals i32 [K] entry is >= 0. The wrapper checks the array lengths first.
 */
export function countsValid(rowOffsets: usize, rowTopics: usize, rowCounts: usize, topicTotals: usize, V: i32,
  K: i32): i32 {
  if (load<i32>(rowOffsets) != 0) return 0;
  for (let w = 0; w < V; w++) {
    const begin = load<i32>(rowOffsets + (<usize>w << 2));
    const end = load<i32>(rowOffsets + (<usize>(w + 1) << 2));
    if (end < begin || end - begin > K) return 0;
    let previous = -1;
    for (let i = begin; i < end; i++) {
      const k = load<i32>(rowTopics + (<usize>i << 2));
      if (k <= previous || k >= K) return 0;
      if (load<i32>(rowCounts + (<usize>i << 2)) <= 0) return 0;
      previous = k;
    }
  }
  for (let k = 0; k < K; k++) {
    if (load<i32>(topicTotals + (<usize>k << 2)) < 0) return 0;
  }
  return 1;
}

/** 1 when every values[i] (f64 [count]) is finite and >= 0. */
export function finiteNonNegative(values: usize, count: i32): i32 {
  for (let i = 0; i < count; i++) {
    const value = load<f64>(values + (<usize>i << 3));
    if (!(value >= 0 && value < Infinity)) return 0;
  }
  return 1;
}
