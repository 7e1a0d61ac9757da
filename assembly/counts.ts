// buildCounts: the sparse topic-action count table n_{k,w} from assignments, one row per action.

export const ERROR_CAPACITY: i32 = -1;     // rowTopics / rowCounts too short for the non-zeros
export const ERROR_WORD_TOKENS: i32 = -2;  // wordTokens lists a position whose token is another action

/**
 * Writes rowOffsets [V+1], rowTopics / rowCounts [capacity] (topics ascending within a row), topicTotals [K];
 * returns nnz or a negative error code. `scratch` is i32 [2K]: per-topic counters, then the row's touched topics.
 * Ranges of wordTokens and topics are checked by the caller.
 */
export function buildCounts(tokens: usize, wordOffsets: usize, V: i32, wordTokens: usize, topics: usize,
  K: i32, rowOffsets: usize, rowTopics: usize, rowCounts: usize, capacity: i32, topicTotals: usize,
  scratch: usize): i32 {
  const counters = scratch;
  const touched = scratch + (<usize>K << 2);
  memory.fill(counters, 0, <usize>K << 2);
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
    // Ascending order: a scan of all K topics when the row touches many, an insertion sort when few,
    // so the cost per row stays below min(K, distinct^2 / 4) and the table never costs O(V K).
    if (distinct * distinct <= K * 4) {
      for (let i = 1; i < distinct; i++) {
        const value = load<i32>(touched + (<usize>i << 2));
        let j = i - 1;
        while (j >= 0 && load<i32>(touched + (<usize>j << 2)) > value) {
          store<i32>(touched + (<usize>(j + 1) << 2), load<i32>(touched + (<usize>j << 2)));
          j--;
        }
        store<i32>(touched + (<usize>(j + 1) << 2), value);
      }
    } else {
      let n = 0;
      for (let k = 0; k < K; k++) {
        if (load<i32>(counters + (<usize>k << 2)) != 0) store<i32>(touched + (<usize>(n++) << 2), k);
      }
    }
    for (let i = 0; i < distinct; i++) {
      const k = load<i32>(touched + (<usize>i << 2));
      const at = counters + (<usize>k << 2);
      const count = load<i32>(at);
      store<i32>(at, 0);
      store<i32>(rowTopics + (<usize>nnz << 2), k);
      store<i32>(rowCounts + (<usize>nnz << 2), count);
      const totalAt = topicTotals + (<usize>k << 2);
      store<i32>(totalAt, load<i32>(totalAt) + count);
      nnz++;
    }
    store<i32>(rowOffsets + (<usize>(w + 1) << 2), nnz);
  }
  return nnz;
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
