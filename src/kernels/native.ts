/**
 * Loads the C++ Node-API addon (build/Release/lla_native.node, built by `npm run build:native`) and presents it
 * as the Kernel interface. The addon validates every argument itself and throws a JS Error on a bad one; this
 * wrapper only adds the allocators and refuses an addon built for an instruction set this CPU lacks.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AliasTables, BuildInfo, CellWeights, CountTables, FilterArgs, Kernel, SweepArgs, SweepResult } from './types.js';

/** The raw exports of lla_native.node (see native/binding.cc). */
interface NativeBinding {
  buildInfo(): BuildInfo;
  cpuSupported(): boolean;
  checksum(values: Int32Array): number;
  randomStream(seed: number, iteration: number, index: number, out: Uint32Array): void;
  randomTopics(offsets: Int32Array, topics: Int32Array, numTopics: number, seed: number): void;
  buildCounts(tokens: Int32Array, wordOffsets: Int32Array, wordTokens: Int32Array, topics: Int32Array,
    numTopics: number, out: CountTables, threads?: number): number;
  buildAlias(counts: CountTables, numTopics: number, beta: number, out: AliasTables, threads?: number): void;
  sweep(args: SweepArgs): Promise<SweepResult>;
  particleFilter(args: FilterArgs): Promise<void>;
  filterStep(args: Parameters<Kernel['filterStep']>[0]): number;
  lstmSteps(weights: CellWeights, inputs: Int32Array, hiddenOut: Float32Array, cellOut: Float32Array): void;
  topicTransitions(offsets: Int32Array, topics: Int32Array, weights: CellWeights, numTopics: number,
    sums: Float64Array, rowCounts: Float64Array): void;
}

const ADDON_PATH = join('build', 'Release', 'lla_native.node');

/** The package root: the nearest folder above this module holding package.json (works from src/ and dist/src/). */
function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(folder, 'package.json')) && existsSync(join(folder, 'native'))) return folder;
    const parent = dirname(folder);
    if (parent === folder) {
      throw new Error(`cannot find the lla package root above ${dirname(fileURLToPath(import.meta.url))}`);
    }
    folder = parent;
  }
}

function checkedLength(length: number, what: string): number {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`lla native ${what}: length must be a whole number >= 0, got ${String(length)}`);
  }
  return length;
}

/** Loads the addon; throws an Error naming the cause when it is missing, unloadable or built for another CPU. */
export function loadNativeKernel(): Kernel {
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
  if (typeof binding.cpuSupported !== 'function' || typeof binding.sweep !== 'function') {
    throw new Error(`the native addon ${file} does not export the lla kernel entry points (a foreign or stale build)`);
  }
  if (!binding.cpuSupported()) {
    throw new Error(`the native addon was built for ${binding.buildInfo().instructionSet}, which this CPU does not ` +
      'support (rebuild it on this machine, or with -DLLA_ISA=baseline)');
  }
  return {
    name: 'native',
    buildInfo: () => binding.buildInfo(),
    allocInt32: (length) => new Int32Array(checkedLength(length, 'allocInt32')),
    allocFloat32: (length) => new Float32Array(checkedLength(length, 'allocFloat32')),
    allocFloat64: (length) => new Float64Array(checkedLength(length, 'allocFloat64')),
    checksum: (values) => binding.checksum(values),
    randomStream: (seed, iteration, index, out) => binding.randomStream(seed, iteration, index, out),
    randomTopics: (offsets, topics, numTopics, seed) => binding.randomTopics(offsets, topics, numTopics, seed),
    buildCounts: (tokens, wordOffsets, wordTokens, topics, numTopics, out, threads) =>
      binding.buildCounts(tokens, wordOffsets, wordTokens, topics, numTopics, out, threads),
    buildAlias: (counts, numTopics, beta, out, threads) => binding.buildAlias(counts, numTopics, beta, out, threads),
    // async so that an argument error becomes a rejected Promise, as for any other failure of the call
    sweep: async (args) => binding.sweep(args),
    particleFilter: async (args) => binding.particleFilter(args),
    filterStep: (args) => binding.filterStep(args),
    lstmSteps: (weights, inputs, hiddenOut, cellOut) => binding.lstmSteps(weights, inputs, hiddenOut, cellOut),
    topicTransitions: (offsets, topics, weights, numTopics, sums, rowCounts) =>
      binding.topicTransitions(offsets, topics, weights, numTopics, sums, rowCounts),
  };
}
