import { ROWS_HASH_ROWS, ROWS_HASH_SLOTS, ROWS_ROW_COUNTS, ROWS_ROW_OFFSETS, ROWS_ROW_TOPICS } from './layout';

// Per-action open-addressing hash tables of n_{k,w} for the sweep's phi lookups: one probe (usually one cache
// line) per lookup where a binary search over a 1000-entry row took ~10 dependent, badly predicted loads.
// Same layout and hash as native/sweep.cc; rebuilt once per sweep from the contract's sparse rows (O(V + nnz)).

/** Multiplicative (Fibonacci) hash of a topic to a slot of a 2^(32 - shift)-slot table. */
// @ts-ignore: decorator
@inline export function hashSlot(topic: i32, shift: i32): u32 {
  return (<u32>topic * 0x9E3779B1) >>> <u32>shift;
}

/** log2 of the slots of a row with `length` non-zeros: the smallest power of two >= 2 length (at most half full). */
// @ts-ignore: decorator
@inline function slotBits(length: i32): i32 {
  let bits = 1;
  while ((<i64>1 << bits) < (<i64>length << 1)) bits++;
  return bits;
}

// Slots [0, 2) form an always-empty table shared by actions without non-zeros, so lookups need no length test.
const EMPTY_SLOTS: i32 = 2;

/** Total slots of all rows' tables, or -1 when they exceed 2^31 (the wrapper then reports the failure). */
export function countHashSlots(rowOffsets: usize, V: i32): i32 {
  let total: i64 = EMPTY_SLOTS;
  for (let w = 0; w < V; w++) {
    const length = load<i32>(rowOffsets + (<usize>(w + 1) << 2)) - load<i32>(rowOffsets + (<usize>w << 2));
    if (length > 0) total += <i64>1 << slotBits(length);
    if (total > <i64>i32.MAX_VALUE) return -1;
  }
  return <i32>total;
}

// Built as countHashLayout (O(V), one thread) then countHashRange over ranges of actions (any number of threads):
// hashRows i32 [V][2] (first slot of the row's table, 32 - log2(its slots)) and hashSlots i32 [slots][2] (topic k
// or -1 when empty, n_{k,w}); hashSlots holds countHashSlots(...) slots.

/** hashRows of every action (where its table starts, its shift) and the shared empty table: O(V). */
export function countHashLayout(rowOffsets: usize, V: i32, hashRows: usize, hashSlots: usize): void {
  memory.fill(hashSlots, 0xFF, <usize>EMPTY_SLOTS << 3);
  let next: i32 = EMPTY_SLOTS;
  for (let w = 0; w < V; w++) {
    const length = load<i32>(rowOffsets + (<usize>(w + 1) << 2)) - load<i32>(rowOffsets + (<usize>w << 2));
    if (length == 0) {
      store<i32>(hashRows + (<usize>w << 3), 0);
      store<i32>(hashRows + (<usize>w << 3), 31, 4); // 2 slots
      continue;
    }
    const bits = slotBits(length);
    store<i32>(hashRows + (<usize>w << 3), next);
    store<i32>(hashRows + (<usize>w << 3), 32 - bits, 4);
    next += 1 << bits;
  }
}

/** The tables of actions [first, last) at the places countHashLayout gave them (block: layout.ts ROWS_*). */
export function countHashRange(params: usize, scratch: usize, first: i32, last: i32): void {
  const rowOffsets = load<usize>(params + ROWS_ROW_OFFSETS);
  const rowTopics = load<usize>(params + ROWS_ROW_TOPICS);
  const rowCounts = load<usize>(params + ROWS_ROW_COUNTS);
  const hashRows = load<usize>(params + ROWS_HASH_ROWS);
  const hashSlots = load<usize>(params + ROWS_HASH_SLOTS);
  for (let w = first; w < last; w++) {
    const begin = load<i32>(rowOffsets + (<usize>w << 2));
    const end = load<i32>(rowOffsets + (<usize>(w + 1) << 2));
    if (end == begin) continue;
    const next = load<i32>(hashRows + (<usize>w << 3));
    const shift = load<i32>(hashRows + (<usize>w << 3), 4);
    const table = hashSlots + (<usize>next << 3);
    const mask: u32 = 0xFFFFFFFF >>> <u32>shift;
    // Empty slots: topic -1 (all bytes 0xFF); the count of an empty slot is never read.
    memory.fill(table, 0xFF, <usize>(mask + 1) << 3);
    for (let i = begin; i < end; i++) {
      const k = load<i32>(rowTopics + (<usize>i << 2));
      let slot = hashSlot(k, shift);
      while (load<i32>(table + (<usize>slot << 3)) >= 0) slot = (slot + 1) & mask;
      store<i32>(table + (<usize>slot << 3), k);
      store<i32>(table + (<usize>slot << 3), load<i32>(rowCounts + (<usize>i << 2)), 4);
    }
  }
}

/** n_{k,w} from action w's hash table; 0 when absent (tables are at most half full, so probes end quickly). */
// @ts-ignore: decorator
@inline export function hashedCount(hashRows: usize, hashSlots: usize, w: i32, k: i32): i32 {
  const row = hashRows + (<usize>w << 3);
  const shift = load<i32>(row, 4);
  const table = hashSlots + (<usize>load<i32>(row) << 3);
  const mask: u32 = 0xFFFFFFFF >>> <u32>shift;
  let slot = hashSlot(k, shift);
  let count = 0;
  // at most one pass over the table: a table the kernel built always has an empty slot, but one read through an
  // action id that the caller overwrote during an asynchronous call (arrays in linear memory are read in place)
  // may not, and the worker must still finish
  for (let probes: u32 = 0; probes <= mask; probes++) {
    const topic = load<i32>(table + (<usize>slot << 3));
    if (topic == k) { count = load<i32>(table + (<usize>slot << 3), 4); break; }
    if (topic < 0) break;
    slot = (slot + 1) & mask;
  }
  return count;
}
