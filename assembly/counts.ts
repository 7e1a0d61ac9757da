// buildCounts: the sparse topic-action count table n_{k,w} from assignments, one row per action.

export const ERROR_CAPACITY: i32 = -1;     // rowTopics / rowCounts too short for the non-zeros
export const ERROR_WORD_TOKENS: i32 = -2;  // wordTokens lists a position whose token is another action

/**
 * Writes rowOffsets [V+1], rowTopics / rowCounts [capacity] (topics ascending within a row), topicTotals [K];
 * returns nnz or a negative error code. `scratch` is countsScratchBytes(K): per-topic counters i32 [K], the row's
 * touched topics i32 [K], then a bit set u64 [ceil(K / 64)] of the same topics.
 * Ranges of wordTokens and topics are checked by the caller.
 */
export function countsScratchBytes(K: i32): usize {
  return (<usize>K << 3) + (<usize>((K + 63) >> 6) << 3);
}

export function buildCounts(tokens: usize, wordOffsets: usize, V: i32, wordTokens: usize, topics: usize,
  K: i32, rowOffsets: usize, rowTopics: usize, rowCounts: usize, capacity: i32, topicTotals: usize,
  scratch: usize): i32 {
  const counters = scratch;
  const touched = scratch + (<usize>K << 2);
  const present = scratch + (<usize>K << 3);
  const words = (K + 63) >> 6;
  memory.fill(counters, 0, <usize>K << 2);
  memory.fill(present, 0, <usize>words << 3);
  memory.fill(topicTotals, 0, <usize>K << 2);
  let nnz = 0;
  store<i32>(rowOffsets, 0);
  for (let w = 0; w < V; w++) {
    const begin = load<i32>(wordOffsets + (<usize>w << 2));
    const end = load<i32>(wordOffsets + (<usize>(w + 1) << 2));
    let distinct = 0;
    for (let i = begin; i < end; i++) {
      const position = load<i32>(wordTokens + (<usize>i << 2));
      if (load<i32>(tokens + (<usize>position << 2)) != w) return ERROR_WORD_TOKENS;
      const k = load<i32>(topics + (<usize>position << 2));
      const at = counters + (<usize>k << 2);
      const count = load<i32>(at);
      if (count == 0) store<i32>(touched + (<usize>(distinct++) << 2), k);
      store<i32>(at, count + 1);
    }
    if (nnz + distinct > capacity) return ERROR_CAPACITY;
    // Ascending order: an insertion sort for rows so short that it costs less than a scan of the bit set
    // (distinct^2 / 4 <= K / 64), else the bit set of the row's topics scanned word by word; either way a row
    // costs O(distinct + K / 64) and the table never O(V K).
    if (distinct * distinct <= words * 4) {
      for (let i = 1; i < distinct; i++) {
        const value = load<i32>(touched + (<usize>i << 2));
        let j = i - 1;
        while (j >= 0 && load<i32>(touched + (<usize>j << 2)) > value) {
          store<i32>(touched + (<usize>(j + 1) << 2), load<i32>(touched + (<usize>j << 2)));
          j--;
        }
        store<i32>(touched + (<usize>(j + 1) << 2), value);
      }
      for (let i = 0; i < distinct; i++) nnz = emit(load<i32>(touched + (<usize>i << 2)), counters, rowTopics, rowCounts, topicTotals, nnz);
    } else {
      for (let i = 0; i < distinct; i++) {
        const k = load<i32>(touched + (<usize>i << 2));
        const at = present + (<usize>(k >> 6) << 3);
        store<u64>(at, load<u64>(at) | (<u64>1 << <u64>(k & 63)));
      }
      for (let word = 0; word < words; word++) {
        const at = present + (<usize>word << 3);
        let bits = load<u64>(at);
        if (bits == 0) continue;
        store<u64>(at, 0);
        while (bits != 0) {
          nnz = emit((word << 6) + <i32>ctz(bits), counters, rowTopics, rowCounts, topicTotals, nnz);
          bits &= bits - 1;
        }
      }
    }
    store<i32>(rowOffsets + (<usize>(w + 1) << 2), nnz);
  }
  return nnz;
}

/** Appends topic k's count of the row as entry nnz, clears its counter; returns nnz + 1. */
// @ts-ignore: decorator
@inline function emit(k: i32, counters: usize, rowTopics: usize, rowCounts: usize, topicTotals: usize, nnz: i32): i32 {
  const at = counters + (<usize>k << 2);
  const count = load<i32>(at);
  store<i32>(at, 0);
  store<i32>(rowTopics + (<usize>nnz << 2), k);
  store<i32>(rowCounts + (<usize>nnz << 2), count);
  const totalAt = topicTotals + (<usize>k << 2);
  store<i32>(totalAt, load<i32>(totalAt) + count);
  return nnz + 1;
}

/** n_{k,w}: binary search of topic k in action w's row (ascending topics); 0 when absent. */
// @ts-ignore: decorator
@inline export function countOf(rowOffsets: usize, rowTopics: usize, rowCounts: usize, w: i32, k: i32): i32 {
  let low = load<i32>(rowOffsets + (<usize>w << 2));
  let high = load<i32>(rowOffsets + (<usize>(w + 1) << 2)) - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const topic = load<i32>(rowTopics + (<usize>middle << 2));
    if (topic == k) return load<i32>(rowCounts + (<usize>middle << 2));
    if (topic < k) low = middle + 1; else high = middle - 1;
  }
  return 0;
}

/**
 * phi_{k,w} of one action w for every topic into out (f64 [K]): beta / (n_k + V beta) everywhere, then
 * (n_{k,w} + beta) / (n_k + V beta) at the row's non-zero counts. inverseTotals (f64 [K]) holds
 * 1 / (n_k + V beta). The twin of native phiColumn (native/counts.cc), shared by the exact draw and the filter.
 */
export function phiColumn(out: usize, K: i32, beta: f64, inverseTotals: usize, rowTopics: usize, rowCounts: usize,
  rowBegin: i32, rowEnd: i32): void {
  for (let k = 0; k < K; k++) store<f64>(out + (<usize>k << 3), beta * load<f64>(inverseTotals + (<usize>k << 3)));
  for (let e = rowBegin; e < rowEnd; e++) {
    const k = load<i32>(rowTopics + (<usize>e << 2));
    store<f64>(out + (<usize>k << 3), (<f64>load<i32>(rowCounts + (<usize>e << 2)) + beta) * load<f64>(inverseTotals + (<usize>k << 3)));
  }
}
