// buildCounts: the sparse topic-action count table n_{k,w} from assignments, one row per action.

import { ROWS_ASSIGNMENTS, ROWS_ERROR, ROWS_ROW_COUNTS, ROWS_ROW_OFFSETS, ROWS_ROW_TOPICS, ROWS_TOKENS, ROWS_TOPICS,
  ROWS_WORD_OFFSETS, ROWS_WORD_TOKENS } from './layout';

export const ERROR_CAPACITY: i32 = -1;     // rowTopics / rowCounts too short for the non-zeros
// wordTokens lists a position whose token is another action (the wrapper checks that rows ascend: validate.ts)
export const ERROR_WORD_TOKENS: i32 = -2;

/** Scratch bytes of one count rebuild (countRows). */
export function countsScratchBytes(K: i32): usize {
  return (<usize>K << 3) + (<usize>((K + 63) >> 6) << 3);
}

/**
 * Writes rowOffsets [V+1], rowTopics / rowCounts [capacity] (topics ascending within a row), topicTotals [K];
 * returns nnz or a negative error code. `scratch` is countsScratchBytes(K). Ranges of wordTokens and topics are
 * checked by the caller. One thread; countRowsRange is the parallel form.
 */
export function buildCounts(tokens: usize, wordOffsets: usize, V: i32, wordTokens: usize, topics: usize,
  K: i32, rowOffsets: usize, rowTopics: usize, rowCounts: usize, capacity: i32, topicTotals: usize,
  scratch: usize): i32 {
  memory.fill(topicTotals, 0, <usize>K << 2);
  store<i32>(rowOffsets, 0);
  return countRows(tokens, wordOffsets, wordTokens, topics, K, 0, V, rowOffsets, rowTopics, rowCounts, capacity,
    topicTotals, scratch);
}

/** Scratch of one countRowsRange participant: its topic totals i32 [K], then countsScratchBytes(K). */
export function countRowsScratchBytes(K: i32): usize {
  return totalsBytes(K) + countsScratchBytes(K);
}

/** Bytes of a participant's topic totals, i32 [K] rounded up to 16. */
// @ts-ignore: decorator
@inline function totalsBytes(K: i32): usize {
  return (<usize>K << 2) + 15 & ~15;
}

/**
 * One range of a parallel count rebuild (block: layout.ts ROWS_*): the rows of actions [first, end) are written
 * from entry wordOffsets[first] on (a range's rows never hold more entries than it has tokens, so ranges never
 * overlap), each row's end relative to that entry into rowOffsets[w+1], and topic totals added into the
 * participant's totals at the start of `scratch` (countRowsScratchBytes). compactCountRows then moves the ranges
 * together. Needs row capacity T.
 */
export function countRowsRange(params: usize, scratch: usize, first: i32, end: i32): void {
  const K = load<i32>(params + ROWS_TOPICS);
  const wordOffsets = load<usize>(params + ROWS_WORD_OFFSETS);
  const base = <usize>load<i32>(wordOffsets + (<usize>first << 2)) << 2;
  const capacity = load<i32>(wordOffsets + (<usize>end << 2)) - load<i32>(wordOffsets + (<usize>first << 2));
  const written = countRows(load<usize>(params + ROWS_TOKENS), wordOffsets, load<usize>(params + ROWS_WORD_TOKENS),
    load<usize>(params + ROWS_ASSIGNMENTS), K, first, end, load<usize>(params + ROWS_ROW_OFFSETS),
    load<usize>(params + ROWS_ROW_TOPICS) + base, load<usize>(params + ROWS_ROW_COUNTS) + base, capacity, scratch,
    scratch + totalsBytes(K));
  if (written < 0) store<i32>(params + ROWS_ERROR, written);
}

/**
 * After every range of `boundaries` (i32 [chunks+1] first action of each range) ran countRowsRange: moves the ranges'
 * entries down to be contiguous, makes rowOffsets absolute, and returns nnz.
 */
export function compactCountRows(params: usize, boundaries: usize, chunks: i32): i32 {
  const wordOffsets = load<usize>(params + ROWS_WORD_OFFSETS);
  const rowOffsets = load<usize>(params + ROWS_ROW_OFFSETS);
  const rowTopics = load<usize>(params + ROWS_ROW_TOPICS);
  const rowCounts = load<usize>(params + ROWS_ROW_COUNTS);
  let nnz = 0;
  store<i32>(rowOffsets, 0);
  for (let c = 0; c < chunks; c++) {
    const first = load<i32>(boundaries + (<usize>c << 2));
    const end = load<i32>(boundaries + (<usize>(c + 1) << 2));
    if (end <= first) continue;
    const base = load<i32>(wordOffsets + (<usize>first << 2));
    const written = load<i32>(rowOffsets + (<usize>end << 2));
    // in range order a range's destination never overlaps a later range's entries (memory.copy is a memmove)
    if (nnz != base) {
      memory.copy(rowTopics + (<usize>nnz << 2), rowTopics + (<usize>base << 2), <usize>written << 2);
      memory.copy(rowCounts + (<usize>nnz << 2), rowCounts + (<usize>base << 2), <usize>written << 2);
    }
    for (let w = first + 1; w <= end; w++) {
      const at = rowOffsets + (<usize>w << 2);
      store<i32>(at, load<i32>(at) + nnz);
    }
    nnz += written;
  }
  return nnz;
}

/**
 * Rows of actions [first, end) written back to back into rowTopics / rowCounts (at most `capacity` entries), each
 * row's end (entries so far) into rowOffsets[w+1], topic totals added into totals i32 [K]. Returns the entries
 * written or a negative error code. `scratch` is countsScratchBytes(K): per-topic counters i32 [K], the row's
 * touched topics i32 [K], then a bit set u64 [ceil(K / 64)] of the same topics.
 */
function countRows(tokens: usize, wordOffsets: usize, wordTokens: usize, topics: usize, K: i32, first: i32, last: i32,
  rowOffsets: usize, rowTopics: usize, rowCounts: usize, capacity: i32, topicTotals: usize, scratch: usize): i32 {
  const counters = scratch;
  const touched = scratch + (<usize>K << 2);
  const present = scratch + (<usize>K << 3);
  const words = (K + 63) >> 6;
  memory.fill(counters, 0, <usize>K << 2);
  memory.fill(present, 0, <usize>words << 3);
  let nnz = 0;
  for (let w = first; w < last; w++) {
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
