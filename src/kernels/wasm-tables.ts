/**
 * The count and alias tables of the WASM backend (native/counts.*, native/alias.*): buildCounts and buildAlias
 * behind the Kernel interface, and the per-call tables a sweep or a filter builds from the counts (the n_{k,w}
 * hash tables, the inverse topic totals). Called by WasmKernel (wasm.ts) with what it owns (WasmCalls).
 */
import type { AliasTables, CountTables } from './types.js';
import { checkBuildAlias, checkBuildCounts } from './wasm-arguments.js';
import { type CallScope, type LinearMemory, withScope } from './wasm-memory.js';
import { BlockWriter, ROWS, type WasmExports } from './wasm-layout.js';
import type { WasmScheduler } from './wasm-schedule.js';
import { type ContentChecks, fail, wordIndexProblem } from './wasm-validate.js';

/** What the WASM calls use of their WasmKernel: its memory, the module's exports, the content checks, the threads. */
export interface WasmCalls {
  readonly linear: LinearMemory;
  readonly memory: WebAssembly.Memory;
  readonly wasm: WasmExports;
  readonly checks: ContentChecks;
  readonly scheduler: WasmScheduler;
}

export function buildCountsWasm(
  host: WasmCalls,
  tokens: Int32Array,
  wordOffsets: Int32Array,
  wordTokens: Int32Array,
  topics: Int32Array,
  numTopics: number,
  out: CountTables,
  threads?: number,
): number {
  const K = numTopics;
  const { T, V, capacity } = checkBuildCounts(host.checks, tokens, wordOffsets, wordTokens, topics, K, out);
  // several threads write each range of rows where its tokens start, so they need room for T entries
  const parts = capacity >= T ? host.scheduler.rowThreads(threads ?? 1, T) : 1;
  const nnz = withScope(host.linear, (scope) => {
    if (parts > 1) {
      const params = scope.scratch(ROWS.bytes);
      new BlockWriter(host.memory.buffer, params, ROWS.bytes)
        .pointer(ROWS.tokens, scope.bind(tokens))
        .pointer(ROWS.wordOffsets, scope.bind(wordOffsets))
        .pointer(ROWS.wordTokens, scope.bind(wordTokens))
        .pointer(ROWS.assignments, scope.bind(topics))
        .int(ROWS.topics, K)
        .int(ROWS.vocabulary, V)
        .pointer(ROWS.rowOffsets, scope.bind(out.rowOffsets, true))
        .pointer(ROWS.rowTopics, scope.bind(out.rowTopics, true))
        .pointer(ROWS.rowCounts, scope.bind(out.rowCounts, true));
      const { boundaries, scratch } = host.scheduler.runRowRanges(
        scope,
        'countRowsRange',
        params,
        parts,
        host.wasm.countRowsScratchBytes(K),
        V,
        (w) => wordOffsets[w],
      );
      const error = host.linear.view(Int32Array, params + ROWS.error, 1)[0];
      if (error !== 0) return error;
      const result = host.wasm.compactCountRows(params, scope.bind(boundaries), boundaries.length - 1);
      // topic totals: the sum of every participant's (at the start of its scratch; zero if it never joined)
      const totals = out.topicTotals;
      totals.fill(0);
      for (const start of scratch) {
        const partial = host.linear.view(Int32Array, start, K);
        for (let k = 0; k < K; k++) totals[k] += partial[k];
      }
      scope.finish();
      return result;
    }
    const result = host.wasm.buildCounts(
      scope.bind(tokens),
      scope.bind(wordOffsets),
      V,
      scope.bind(wordTokens),
      scope.bind(topics),
      K,
      scope.bind(out.rowOffsets, true),
      scope.bind(out.rowTopics, true),
      scope.bind(out.rowCounts, true),
      capacity,
      scope.bind(out.topicTotals, true),
      scope.scratch(host.wasm.countsScratchBytes(K)),
    );
    if (result >= 0) scope.finish();
    return result;
  });
  if (nnz === -1) {
    fail(
      'buildCounts',
      `out.rowTopics/out.rowCounts hold ${capacity} entries, fewer than the non-zero counts: allocate T = ${T}`,
    );
  }
  if (nnz === -2) fail('buildCounts', wordIndexProblem(tokens, wordOffsets, wordTokens));
  return nnz;
}

export function buildAliasWasm(
  host: WasmCalls,
  counts: CountTables,
  numTopics: number,
  beta: number,
  out: AliasTables,
  threads?: number,
): void {
  const K = numTopics;
  const { V, nnz } = checkBuildAlias(host.checks, counts, K, out);
  withScope(host.linear, (scope) => {
    const params = scope.scratch(ROWS.bytes);
    const topicTotals = scope.bind(counts.topicTotals);
    new BlockWriter(host.memory.buffer, params, ROWS.bytes)
      .pointer(ROWS.rowOffsets, scope.bind(counts.rowOffsets))
      .pointer(ROWS.rowTopics, scope.bind(counts.rowTopics))
      .pointer(ROWS.rowCounts, scope.bind(counts.rowCounts))
      .pointer(ROWS.topicTotals, topicTotals)
      .int(ROWS.topics, K)
      .int(ROWS.vocabulary, V)
      .float64(ROWS.beta, beta)
      .pointer(ROWS.sparseProb, scope.bind(out.sparseProb, true))
      .pointer(ROWS.sparseAlias, scope.bind(out.sparseAlias, true))
      .pointer(ROWS.sparseMass, scope.bind(out.sparseMass, true));
    const { scratch } = host.scheduler.runRowRanges(
      scope,
      'aliasRowsRange',
      params,
      host.scheduler.rowThreads(threads ?? 1, nnz + V),
      16 * K,
      V,
      (w) => counts.rowOffsets[w] + w,
    );
    host.wasm.buildDenseAlias(
      topicTotals,
      V,
      K,
      beta,
      scope.bind(out.denseProb, true),
      scope.bind(out.denseAlias, true),
      scope.bind(out.denseMass, true),
      scratch[0],
    );
    scope.finish();
  });
}

/** n_{k,w} hash tables for the sweep's phi lookups (assembly/count_hash.ts), rebuilt per call: O(V + nnz). */
export function buildCountHash(
  host: WasmCalls,
  scope: CallScope,
  pointers: { rowOffsets: number; rowTopics: number; rowCounts: number },
  rowOffsets: Int32Array,
  V: number,
  nnz: number,
  threads: number,
): { rows: number; slots: number } {
  const slotCount = host.wasm.countHashSlots(pointers.rowOffsets, V);
  if (slotCount < 0) fail('sweep', 'the count hash tables exceed 2^31 slots: use fewer topics or a smaller corpus');
  // every row header and slot is written by the build: no zero fill (it cost ~0.5 ms per sweep on the event log)
  const rows = scope.scratch(8 * V, false);
  const slots = scope.scratch(8 * slotCount, false);
  host.wasm.countHashLayout(pointers.rowOffsets, V, rows, slots);
  const params = scope.scratch(ROWS.bytes);
  new BlockWriter(host.memory.buffer, params, ROWS.bytes)
    .pointer(ROWS.rowOffsets, pointers.rowOffsets)
    .pointer(ROWS.rowTopics, pointers.rowTopics)
    .pointer(ROWS.rowCounts, pointers.rowCounts)
    .pointer(ROWS.hashRows, rows)
    .pointer(ROWS.hashSlots, slots);
  host.scheduler.runRowRanges(
    scope,
    'countHashRange',
    params,
    host.scheduler.rowThreads(threads, nnz + V),
    0,
    V,
    (w) => rowOffsets[w] + w,
  );
  return { rows, slots };
}

/** 1 / (n_k + V beta) for every topic, computed once per call (f64 [K]). */
export function inverseTotals(
  host: WasmCalls,
  scope: CallScope,
  topicTotals: Int32Array,
  V: number,
  beta: number,
): number {
  const K = topicTotals.length;
  const start = scope.scratch(8 * K);
  const view = host.linear.view(Float64Array, start, K);
  for (let k = 0; k < K; k++) view[k] = 1 / (topicTotals[k] + V * beta);
  return start;
}
