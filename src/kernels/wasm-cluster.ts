/**
 * The initialisation's kernels of the WASM backend (native/cluster.*): the hmm's transition table, and the
 * context features and weighted k-means of the clustering start, behind the Kernel interface. Called by
 * WasmKernel (wasm.ts) with what it owns (WasmCalls).
 */
import { transitionCells } from './types.js';
import { checkContextFeatures, checkKMeans, checkTransitionTable } from './wasm-arguments.js';
import { withScope } from './wasm-memory.js';
import type { WasmCalls } from './wasm-tables.js';

export function transitionTableWasm(
  host: WasmCalls,
  offsets: Int32Array,
  topics: Int32Array,
  numTopics: number,
  smoothing: number,
  out: Float64Array,
  order = 1,
): void {
  const D = checkTransitionTable(host.checks, offsets, topics, numTopics, out, order);
  withScope(host.linear, (scope) => {
    host.wasm.transitionTable(
      scope.bind(offsets),
      D,
      scope.bind(topics),
      numTopics,
      order,
      smoothing,
      scope.bind(out, true),
      scope.scratch(8 * transitionCells(numTopics, order)),
    );
    scope.finish();
  });
}

// one thread here: the features never depend on `threads`
export function contextFeaturesWasm(
  host: WasmCalls,
  tokens: Int32Array,
  offsets: Int32Array,
  vocabularySize: number,
  dimensions: number,
  seed: number,
  features: Float32Array,
  _threads?: number,
): void {
  const D = checkContextFeatures(host.checks, tokens, offsets, vocabularySize, dimensions, features);
  withScope(host.linear, (scope) => {
    host.wasm.contextFeatures(
      scope.bind(tokens),
      tokens.length,
      scope.bind(offsets),
      D,
      vocabularySize,
      dimensions,
      BigInt(seed),
      scope.bind(features, true),
      scope.scratch(host.wasm.contextScratchBytes(tokens.length, vocabularySize, dimensions), false),
    );
    scope.finish();
  });
}

// one thread here: the labels never depend on `threads`
export function kmeansWasm(
  host: WasmCalls,
  points: Float32Array,
  dimensions: number,
  weights: Float64Array,
  clusters: number,
  iterations: number,
  seed: number,
  labels: Int32Array,
  _threads?: number,
): number {
  const n = checkKMeans(points, dimensions, weights, labels);
  return withScope(host.linear, (scope) => {
    const objective = host.wasm.kmeans(
      scope.bind(points),
      n,
      dimensions,
      scope.bind(weights),
      clusters,
      iterations,
      BigInt(seed),
      scope.bind(labels, true),
      scope.scratch(host.wasm.kmeansScratchBytes(n, dimensions, clusters), false),
    );
    scope.finish();
    return objective;
  });
}
