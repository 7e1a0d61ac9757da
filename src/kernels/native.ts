/**
 * Loads the C++ Node-API addon (build/Release/lla_native.node, built by `npm run build:native`) and presents it
 * as the Kernel interface. The addon validates every argument itself and throws a JS Error on a bad one; this
 * wrapper only adds the allocators and refuses an addon built for an instruction set this CPU lacks.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Kernel } from './types.js';
import { packageRoot } from '../package-info.js';

/** The raw exports of lla_native.node (see native/binding.cc): the kernel entry points of the contract with the
 * same signatures, plus the CPU check; the allocators are this wrapper's. */
type NativeBinding = Omit<Kernel, 'name' | 'allocInt32' | 'allocFloat32' | 'allocFloat64'> & { cpuSupported(): boolean };

const ADDON_PATH = join('build', 'Release', 'lla_native.node');

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
    lstmTrain: async (args) => binding.lstmTrain(args),
  };
}
