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

/**
 * 1 when the positions of every row of a word index strictly ascend: wordTokens i32 [T], row w is
 * wordTokens[wordOffsets[w] .. wordOffsets[w+1]) (wordOffsets i32 [V+1], checked by the wrapper). The index is
 * compared with itself shifted by one, four lanes at a time; a drop is allowed only where a non-empty row starts,
 * so the drops everywhere are counted and compared with those at row starts. On the event log this pass takes
 * 0.07 ms; a compare inside the count's gather loop had cost ~0.3 ms of a 1.6 ms rebuild.
 */
export function rowsAscending(wordOffsets: usize, V: i32, wordTokens: usize, T: i32): i32 {
  let lanes = i32x4.splat(0);  // minus the drops seen by each lane (a true compare is -1)
  let i = 1;
  for (; i + 4 <= T; i += 4) {
    const here = v128.load(wordTokens + (<usize>i << 2));
    const before = v128.load(wordTokens + (<usize>(i - 1) << 2));
    lanes = i32x4.add(lanes, i32x4.le_s(here, before));
  }
  let drops = -(i32x4.extract_lane(lanes, 0) + i32x4.extract_lane(lanes, 1) + i32x4.extract_lane(lanes, 2) +
    i32x4.extract_lane(lanes, 3));
  for (; i < T; i++) {
    if (load<i32>(wordTokens + (<usize>i << 2)) <= load<i32>(wordTokens + (<usize>(i - 1) << 2))) drops++;
  }
  for (let w = 0; w < V; w++) {
    const begin = load<i32>(wordOffsets + (<usize>w << 2));
    // each non-empty row's start is counted once (empty rows share their start with the next row)
    if (begin > 0 && load<i32>(wordOffsets + (<usize>(w + 1) << 2)) > begin &&
      load<i32>(wordTokens + (<usize>begin << 2)) <= load<i32>(wordTokens + (<usize>(begin - 1) << 2))) drops--;
  }
  return drops == 0 ? 1 : 0;
}

/** 1 when every values[i] (f64 [count]) is finite and >= 0. */
export function finiteNonNegative(values: usize, count: i32): i32 {
  for (let i = 0; i < count; i++) {
    const value = load<f64>(values + (<usize>i << 3));
    if (!(value >= 0 && value < Infinity)) return 0;
  }
  return 1;
}
