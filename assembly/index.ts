// The WebAssembly kernel module: every export works on pointers into linear memory that the TypeScript wrapper
// (src/kernels/wasm.ts) allocates; nothing here allocates. Mirrors native/ one file per concern.

export { randomStream, randomTopics, checksum } from './rng';
export { buildCounts, countsScratchBytes, countRowsRange, countRowsScratchBytes, compactCountRows } from './counts';
export { aliasRowsRange, buildDenseAlias } from './alias';
export { countHashSlots, countHashLayout, countHashRange } from './count_hash';
export { idsInRange, countsValid, finiteNonNegative, rowsAscending } from './validate';
export { lstmSteps, topicTransitions } from './lstm_cell';
export { sweepRange, sweepScratchBytes } from './sweep';
export { trainSharedBytes, trainBlockBytes, trainPrepare, trainBlocksRange, trainFinish } from './lstm_train';
export { transitionTable, contextFeatures, contextScratchBytes, kmeans, kmeansScratchBytes } from './cluster';
export { filterRange, filterToken, nextMixture, filterScratchBytes, filterTokenScratchBytes } from './likelihood';
export * from './limits';
export * from './layout';

/** First free byte after the module's static data: where the wrapper's allocator may start. */
export function heapBase(): usize {
  return __heap_base;
}
