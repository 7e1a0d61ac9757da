/**
 * The tables the kernels read and write, allocated in kernel memory (so the WASM backend reads them in place),
 * once for every driver: the SEM loop (src/train/), evaluation, inference and the sampler benchmark.
 */
import type { AliasTables, CountTables, Kernel } from './types.js';

/** Token positions grouped by action, ascending within each action: the kernel's buildCounts index. */
export function groupTokensByAction(
  tokens: Int32Array,
  vocabularySize: number,
  alloc: (n: number) => Int32Array,
): { wordOffsets: Int32Array; wordTokens: Int32Array } {
  // wordOffsets: [V+1] where action w's token positions start in wordTokens; wordTokens: [T] positions
  const wordOffsets = alloc(vocabularySize + 1);
  for (let t = 0; t < tokens.length; t++) wordOffsets[tokens[t] + 1]++;
  for (let w = 0; w < vocabularySize; w++) wordOffsets[w + 1] += wordOffsets[w];
  const cursor = Int32Array.from(wordOffsets.subarray(0, vocabularySize));
  const wordTokens = alloc(tokens.length);
  for (let t = 0; t < tokens.length; t++) wordTokens[cursor[tokens[t]]++] = t;
  return { wordOffsets, wordTokens };
}

/** Count tables for V actions and K topics with room for `capacity` non-zeros (at least one). */
export function allocCounts(kernel: Kernel, vocabularySize: number, numTopics: number, capacity: number): CountTables {
  return {
    rowOffsets: kernel.allocInt32(vocabularySize + 1),
    rowTopics: kernel.allocInt32(Math.max(1, capacity)),
    rowCounts: kernel.allocInt32(Math.max(1, capacity)),
    topicTotals: kernel.allocInt32(numTopics),
  };
}

/** Alias tables aligned with count tables of `capacity` non-zeros (at least one). */
export function allocAlias(kernel: Kernel, vocabularySize: number, numTopics: number, capacity: number): AliasTables {
  return {
    sparseProb: kernel.allocFloat32(Math.max(1, capacity)),
    sparseAlias: kernel.allocInt32(Math.max(1, capacity)),
    sparseMass: kernel.allocFloat64(vocabularySize),
    denseProb: kernel.allocFloat32(numTopics),
    denseAlias: kernel.allocInt32(numTopics),
    denseMass: kernel.allocFloat64(1),
  };
}

/** Copy `source` into a kernel-allocated array. */
export function toKernelInt32(kernel: Kernel, source: Int32Array): Int32Array {
  const target = kernel.allocInt32(source.length);
  target.set(source);
  return target;
}

/** Copy count tables held in plain arrays (e.g. loaded from a model file) into kernel memory. */
export function countsInKernel(kernel: Kernel, counts: CountTables): CountTables {
  const copy = allocCounts(kernel, counts.rowOffsets.length - 1, counts.topicTotals.length, counts.rowTopics.length);
  copy.rowOffsets.set(counts.rowOffsets);
  copy.rowTopics.set(counts.rowTopics);
  copy.rowCounts.set(counts.rowCounts);
  copy.topicTotals.set(counts.topicTotals);
  return copy;
}

/** Count tables cut to their `nonZeros` entries, in plain arrays (a sampler's buffers are sized for the worst case). */
export function compactCounts(counts: CountTables, nonZeros: number): CountTables {
  return {
    rowOffsets: Int32Array.from(counts.rowOffsets),
    rowTopics: counts.rowTopics.slice(0, nonZeros),
    rowCounts: counts.rowCounts.slice(0, nonZeros),
    topicTotals: Int32Array.from(counts.topicTotals),
  };
}
