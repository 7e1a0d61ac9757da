/**
 * Loads the C++ Node-API addon (build/Release/lla_native.node, built by `npm run build:native`) and presents it
 * as the Kernel interface. Before each call the arguments are checked against the kernel limits (limits.ts, the
 * same checks as the WASM backend's); the addon then validates every argument itself and throws a JS Error on a
 * bad one. This wrapper adds the allocators and refuses an addon built for an instruction set this CPU lacks.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { kernelArgumentChecks, type BuiltLimits } from './limits.js';
import type { Kernel } from './types.js';
import { packageRoot } from '../package-info.js';

/** The raw exports of lla_native.node (see native/binding.cc): the kernel entry points of the contract with the
 * same signatures, plus the CPU check; the allocators are this wrapper's. */
type NativeBinding = Omit<Kernel, 'name' | 'allocInt32' | 'allocFloat32' | 'allocFloat64'> & {
  cpuSupported(): boolean;
  limits(): BuiltLimits;
};

/** The native kernel, with the limits its C++ checks were compiled with (native/limits.h; tests compare them). */
export interface NativeKernel extends Kernel {
  builtLimits(): BuiltLimits;
}

const ADDON_PATH = join('build', 'Release', 'lla_native.node');

function checkedLength(length: number, what: string): number {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`lla native ${what}: length must be a whole number >= 0, got ${String(length)}`);
  }
  return length;
}

/** Loads the addon; throws an Error naming the cause when it is missing, unloadable or built for another CPU. */
export function loadNativeKernel(): NativeKernel {
  const root = packageRoot();
  const file = join(root, ADDON_PATH);
  if (!existsSync(file)) throw new Error(`the native addon ${file} does not exist (it was never built)`);
  let binding: NativeBinding;
  try {
    binding = createRequire(join(root, 'package.json'))(file) as NativeBinding;
  } catch (error) {
    const cause = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`the native addon ${file} failed to load: ${cause}`);
  }
  if (
    typeof binding.cpuSupported !== 'function' ||
    typeof binding.sweep !== 'function' ||
    typeof binding.limits !== 'function'
  ) {
    throw new Error(`the native addon ${file} does not export the lla kernel entry points (a foreign or stale build)`);
  }
  if (!binding.cpuSupported()) {
    throw new Error(
      `the native addon was built for ${binding.buildInfo().instructionSet}, which this CPU does not ` +
        'support (rebuild it on this machine, or with -DLLA_ISA=baseline)',
    );
  }
  const check = kernelArgumentChecks('lla native');
  return {
    name: 'native',
    buildInfo: () => binding.buildInfo(),
    builtLimits: () => binding.limits(),
    allocInt32: (length) => new Int32Array(checkedLength(length, 'allocInt32')),
    allocFloat32: (length) => new Float32Array(checkedLength(length, 'allocFloat32')),
    allocFloat64: (length) => new Float64Array(checkedLength(length, 'allocFloat64')),
    checksum: (values) => binding.checksum(values),
    randomStream: (seed, iteration, index, out) => {
      check.randomStream(seed, iteration, index, out);
      binding.randomStream(seed, iteration, index, out);
    },
    randomTopics: (offsets, topics, numTopics, seed) => {
      check.randomTopics(offsets, topics, numTopics, seed);
      binding.randomTopics(offsets, topics, numTopics, seed);
    },
    buildCounts: (tokens, wordOffsets, wordTokens, topics, numTopics, out, threads) => {
      check.buildCounts(tokens, wordOffsets, wordTokens, topics, numTopics, out, threads);
      return binding.buildCounts(tokens, wordOffsets, wordTokens, topics, numTopics, out, threads);
    },
    buildAlias: (counts, numTopics, beta, out, threads) => {
      check.buildAlias(counts, numTopics, beta, out, threads);
      binding.buildAlias(counts, numTopics, beta, out, threads);
    },
    // async so that an argument error becomes a rejected Promise, as for any other failure of the call
    sweep: async (args) => {
      check.sweep(args);
      return binding.sweep(args);
    },
    particleFilter: async (args) => {
      check.particleFilter(args);
      return binding.particleFilter(args);
    },
    filterStep: (args) => {
      check.filterStep(args);
      return binding.filterStep(args);
    },
    lstmSteps: (weights, inputs, hiddenOut, cellOut) => {
      check.lstmSteps(weights, inputs, hiddenOut, cellOut);
      binding.lstmSteps(weights, inputs, hiddenOut, cellOut);
    },
    topicTransitions: (offsets, topics, weights, numTopics, sums, rowCounts) => {
      check.topicTransitions(offsets, topics, weights, numTopics, sums, rowCounts);
      binding.topicTransitions(offsets, topics, weights, numTopics, sums, rowCounts);
    },
    lstmTrain: async (args) => {
      check.lstmTrain(args);
      return binding.lstmTrain(args);
    },
    transitionTable: (offsets, topics, numTopics, smoothing, out, order) => {
      check.transitionTable(offsets, topics, numTopics, smoothing, out, order);
      binding.transitionTable(offsets, topics, numTopics, smoothing, out, order);
    },
    contextFeatures: (tokens, offsets, vocabularySize, dimensions, seed, features, threads) => {
      check.contextFeatures(tokens, offsets, vocabularySize, dimensions, seed, features, threads);
      binding.contextFeatures(tokens, offsets, vocabularySize, dimensions, seed, features, threads);
    },
    kmeans: (points, dimensions, weights, clusters, iterations, seed, labels, threads) => {
      check.kmeans(points, dimensions, weights, clusters, iterations, seed, labels, threads);
      return binding.kmeans(points, dimensions, weights, clusters, iterations, seed, labels, threads);
    },
  };
}
