/** Shared by the LSTM tests: weights of Glorot scale everywhere, the kernel backends by name, array differences. */
import * as assert from 'uvu/assert';
import { SeededRandom } from '../../src/lstm/seeded-random.js';
import { PARAMETER_ORDER, parameterShapes, type LstmParameters, type NetworkShape } from '../../src/lstm/weights.js';
import { loadKernel } from '../../src/kernels/loader.js';
import { loadWasmKernel } from '../../src/kernels/wasm.js';
import type { Kernel } from '../../src/kernels/types.js';

/** Glorot-scale values for every parameter, biases included (so that every path of a check is exercised). */
export function glorotScaleParameters(shape: NetworkShape, seed: number): LstmParameters {
  const random = new SeededRandom(seed);
  const shapes = parameterShapes(shape);
  const out: Record<string, Float32Array> = {};
  for (const name of PARAMETER_ORDER) {
    const [rows, columns] = shapes[name];
    const limit = Math.sqrt(6 / (shape.hidden + columns)) * (name === 'recurrentKernel' ? 2 : 1);
    const values = new Float32Array(rows * columns);
    for (let i = 0; i < values.length; i++) values[i] = (2 * random.uniform() - 1) * limit;
    out[name] = values;
  }
  return { shape, ...(out as Omit<LstmParameters, 'shape'>) };
}

/** The largest |a[i] - b[i]| (the arrays must have one length). */
export function largestDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length, 'compared arrays differ in length');
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** A kernel backend: native, WASM (shared memory, worker threads) or WASM over a plain memory (one thread). */
export type BackendLabel = 'native' | 'wasm' | 'wasm-plain';

const loaded = new Map<BackendLabel, Kernel | string>();

/** The kernel of `label`, asserted to be that backend; a string (why) when it cannot load. */
export async function kernelBackend(label: BackendLabel): Promise<Kernel | string> {
  if (!loaded.has(label)) {
    try {
      const kernel =
        label === 'wasm-plain' ? await loadWasmKernel({ shared: false }) : await loadKernel({ backend: label });
      loaded.set(label, kernel);
    } catch (error) {
      loaded.set(label, (error as Error).message.split('\n')[0]!);
    }
  }
  const kernel = loaded.get(label)!;
  if (typeof kernel !== 'string') {
    assert.is(kernel.name, label === 'native' ? 'native' : 'wasm', `${label}: the wrong backend loaded`);
    assert.is(kernel.buildInfo().backend, kernel.name);
    if (label !== 'native') assert.is(kernel.buildInfo().threads, label === 'wasm', `${label}: shared memory`);
  }
  return kernel;
}

/** Says that a test did not run on a backend, and why. */
export function skippedNotice(what: string, label: string, why: string): void {
  console.log(`  NOTICE: ${label} ${what} SKIPPED: the backend did not load: ${why}`);
}

/**
 * `sequences` random sequences of `shortest` .. shortest + spread - 1 inputs below `symbols`, drawn from `random`
 * (offsets first, then the inputs, so a caller may go on drawing its targets from the same generator).
 */
export function randomSequences(
  random: SeededRandom,
  sequences: number,
  shortest: number,
  spread: number,
  symbols: number,
): { offsets: Int32Array; inputs: Int32Array } {
  const offsets = new Int32Array(sequences + 1);
  for (let d = 0; d < sequences; d++) offsets[d + 1] = offsets[d]! + shortest + random.below(spread);
  const inputs = Int32Array.from({ length: offsets[sequences]! }, () => random.below(symbols));
  return { offsets, inputs };
}
