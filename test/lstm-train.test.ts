/**
 * The fused LSTM trainer of the kernels (kernel entry point lstmTrain, issue 12): on a fixed window with fixed
 * weights its loss and every gradient equal TF.js autograd's, for lla's folded input table and word-lla's gathered
 * embedding rows, with carried states and padded lanes; one call gives the same weights on 1 and 2 threads; bad
 * arguments throw a clear Error. On the native backend, the WASM backend over shared memory (worker threads) and the
 * WASM backend over a plain memory (one thread), each asserted to be the backend that loaded.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type * as tfTypes from '@tensorflow/tfjs';
import { initTf, type Tf } from '../src/lstm/tf-backend.js';
import { createVariables, forwardWindow, gatherRows, outputLogits, type InputPath } from '../src/lstm/network.js';
import { WindowScheduler, type TrainingWindow } from '../src/lstm/sequence-windows.js';
import { SeededRandom } from '../src/lstm/seeded-random.js';
import {
  PARAMETER_ORDER,
  packParameters,
  parameterCount,
  parameterShapes,
  type LstmParameters,
  type NetworkShape,
} from '../src/lstm/weights.js';
import type { WasmKernel } from '../src/kernels/wasm.js';
import type { Kernel, LstmInputPath, LstmTrainArgs } from '../src/kernels/types.js';
import {
  glorotScaleParameters,
  kernelBackend,
  randomSequences,
  skippedNotice,
  type BackendLabel,
} from './helpers/lstm-fixtures.js';

const BACKENDS: BackendLabel[] = ['native', 'wasm', 'wasm-plain'];
const backend = kernelBackend;
const skipped = (label: string, why: string) => skippedNotice('lstmTrain test', label, why);
const randomParameters = glorotScaleParameters;

/** A corpus of `sequences` random sequences (lengths 3..11) over inputs below `symbols` and targets below `outputs`. */
function randomCorpus(sequences: number, symbols: number, outputs: number, seed: number) {
  const random = new SeededRandom(seed);
  const { offsets, inputs } = randomSequences(random, sequences, 3, 9, symbols);
  const targets = Int32Array.from({ length: inputs.length }, () => random.below(outputs));
  return { inputs, targets, offsets };
}

interface Case {
  variant: 'lla' | 'word-lla';
  shape: NetworkShape;
  kernelPath: LstmInputPath;
  tfPath: InputPath;
}

// H = 13 and E = 5 are not multiples of the vector width; B = 11 lanes make a full block of 8 and a partial one
const K = 10;
const V = 30;
const CASES: Case[] = [
  {
    variant: 'lla',
    shape: { inputSymbols: K + 1, embedding: 5, hidden: 13, outputs: K },
    kernelPath: 'table',
    tfPath: 'table',
  },
  {
    variant: 'lla',
    shape: { inputSymbols: K + 1, embedding: 5, hidden: 13, outputs: K },
    kernelPath: 'gather',
    tfPath: 'table',
  },
  {
    variant: 'word-lla',
    shape: { inputSymbols: V + 1, embedding: 5, hidden: 13, outputs: K },
    kernelPath: 'gather',
    tfPath: 'window',
  },
  {
    variant: 'word-lla',
    shape: { inputSymbols: V + 1, embedding: 5, hidden: 13, outputs: K },
    kernelPath: 'table',
    tfPath: 'window',
  },
];
const LANES = 11;
const STEPS = 7;

/**
 * The second window of an evaluation schedule over 17 short sequences: lanes that carry a state in from the first
 * window, lanes that start sequences mid-window, and lanes that run out of data and pad.
 */
function fixedWindow(shape: NetworkShape): TrainingWindow {
  const corpus = randomCorpus(17, shape.inputSymbols - 1, shape.outputs, 5);
  const scheduler = new WindowScheduler(corpus, shape.inputSymbols, LANES, null);
  scheduler.next(STEPS);
  const window = scheduler.next(STEPS);
  assert.ok(window.tokens < window.weight.length, 'the fixed window must hold padding');
  let carried = 0;
  for (let b = 0; b < LANES; b++) if (window.keep[b] === 1) carried++;
  assert.ok(carried > 0, 'the fixed window must carry states in');
  return window;
}

function randomStates(count: number, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: count }, () => random.uniform() - 0.5);
}

/** TF.js autograd on the TF.js network: the window's loss (as SequenceModel minimises it) and the packed gradient. */
async function tfGradient(
  tf: Tf,
  parameters: LstmParameters,
  window: TrainingWindow,
  hidden: Float32Array,
  cell: Float32Array,
  path: InputPath,
): Promise<{ loss: number; gradient: Float32Array }> {
  const shape = parameters.shape;
  const variables = createVariables(tf, parameters);
  const list = PARAMETER_ORDER.map((name) => variables[name]);
  try {
    const B = window.lanes;
    const H = shape.hidden;
    const { value, grads } = tf.variableGrads(() => {
      const forward = forwardWindow(
        tf,
        variables,
        shape,
        window,
        tf.tensor2d(hidden, [B, H]),
        tf.tensor2d(cell, [B, H]),
        path,
      );
      const logProbabilities = tf.logSoftmax(outputLogits(tf, variables, forward.hiddenStates));
      const O = shape.outputs;
      const flat = Int32Array.from(window.targets, (y, n) => n * O + y);
      const column = tf.reshape(logProbabilities, [flat.length * O, 1]) as tfTypes.Tensor2D;
      const picked = tf.reshape(gatherRows(tf, column, tf.tensor1d(flat, 'int32')), [flat.length]);
      return tf.div(
        tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(window.weight)))),
        Math.max(1, window.tokens),
      ) as tfTypes.Scalar;
    }, list);
    const gradient = new Float32Array(parameterCount(shape));
    let at = 0;
    for (const variable of list) {
      const values = (await grads[variable.name]!.data()) as Float32Array;
      gradient.set(values, at);
      at += values.length;
    }
    const loss = (await value.data())[0]!;
    value.dispose();
    for (const tensor of Object.values(grads)) tensor.dispose();
    return { loss, gradient };
  } finally {
    for (const variable of list) variable.dispose();
  }
}

/** Windows of lstmTrain: inputs, targets [N][L][B] (targets -1 where a window pads). */
interface Windows {
  lanes: number;
  steps: number;
  windows: number;
  inputs: Int32Array;
  targets: Int32Array;
}

function asWindows(window: TrainingWindow): Windows {
  return {
    lanes: window.lanes,
    steps: window.steps,
    windows: 1,
    inputs: window.inputs,
    targets: Int32Array.from(window.targets, (y, n) => (window.weight[n] !== 0 ? y : -1)),
  };
}

/** lstmTrain's arguments (kernel-allocated arrays, as a trainer passes them), from a fresh Adam. */
function trainArgs(
  kernel: Kernel,
  shape: NetworkShape,
  path: LstmInputPath,
  windows: Windows,
  parameters: LstmParameters,
  hidden: Float32Array,
  cell: Float32Array,
  threadCount = 1,
): LstmTrainArgs {
  const P = parameterCount(shape);
  const copy = <T extends Int32Array | Float32Array | Float64Array>(
    alloc: (n: number) => T,
    values: ArrayLike<number>,
  ): T => {
    const array = alloc(values.length);
    array.set(values);
    return array;
  };
  return {
    shape,
    inputPath: path,
    lanes: windows.lanes,
    steps: windows.steps,
    windows: windows.windows,
    inputs: copy((n) => kernel.allocInt32(n), windows.inputs),
    targets: copy((n) => kernel.allocInt32(n), windows.targets),
    parameters: copy((n) => kernel.allocFloat32(n), packParameters(parameters)),
    moments: kernel.allocFloat32(2 * P),
    adam: copy((n) => kernel.allocFloat64(n), [0, Math.fround(0.9), Math.fround(0.999)]),
    hiddenState: copy((n) => kernel.allocFloat32(n), hidden),
    cellState: copy((n) => kernel.allocFloat32(n), cell),
    learningRate: 0.01,
    losses: kernel.allocFloat64(windows.windows),
    gradient: kernel.allocFloat32(P),
    threads: threadCount,
  };
}

/** The largest |a - b| over each parameter tensor, relative to the tensor's largest |a|. */
function relativeDifferences(
  shape: NetworkShape,
  reference: Float32Array,
  values: Float32Array,
): Record<string, number> {
  const shapes = parameterShapes(shape);
  const out: Record<string, number> = {};
  let at = 0;
  for (const name of PARAMETER_ORDER) {
    const size = shapes[name][0] * shapes[name][1];
    let worst = 0;
    let scale = 0;
    for (let i = at; i < at + size; i++) {
      worst = Math.max(worst, Math.abs(reference[i]! - values[i]!));
      scale = Math.max(scale, Math.abs(reference[i]!));
    }
    assert.ok(scale > 0, `${name}: the reference gradient is all zero, so the comparison would prove nothing`);
    out[name] = worst / scale;
    at += size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
const gradients = suite('lstmTrain: loss and gradients equal TF.js autograd');

gradients.before(async () => {
  await initTf({ backend: 'wasm' });
});

for (const label of BACKENDS) {
  gradients(
    `${label}: every gradient within 1e-4 of TF.js's (relative to the tensor), lla and word-lla, padded lanes`,
    async () => {
      const kernel = await backend(label);
      if (typeof kernel === 'string') return skipped(label, kernel);
      const tf = (await initTf({ backend: 'wasm' })).tf;
      for (const c of CASES) {
        const parameters = randomParameters(c.shape, 31);
        const window = fixedWindow(c.shape);
        const hidden = randomStates(LANES * c.shape.hidden, 41);
        const cell = randomStates(LANES * c.shape.hidden, 42);
        const reference = await tfGradient(tf, parameters, window, hidden, cell, c.tfPath);
        const args = trainArgs(kernel, c.shape, c.kernelPath, asWindows(window), parameters, hidden, cell);
        await kernel.lstmTrain(args);
        const what = `${label} ${c.variant} (${c.kernelPath})`;
        assert.ok(
          Math.abs(args.losses[0]! - reference.loss) < 1e-5 * reference.loss,
          `${what}: loss ${args.losses[0]} vs TF.js ${reference.loss}`,
        );
        for (const [name, difference] of Object.entries(
          relativeDifferences(c.shape, reference.gradient, args.gradient!),
        )) {
          assert.ok(difference < 1e-4, `${what}: ${name} gradient differs by ${difference} of its largest value`);
        }
        assert.is(args.adam[0], 1, `${what}: one Adam step`);
        assert.is(
          args.adam[1],
          Math.fround(Math.fround(0.9) * Math.fround(0.9)),
          `${what}: beta1Power advanced as a float32 product`,
        );
      }
    },
  );
}

gradients(
  'the comparison can fail: a gradient of another window differs from TF.js by far more than 1e-4',
  async () => {
    const kernel = await backend('wasm');
    if (typeof kernel === 'string') return skipped('wasm', kernel);
    const tf = (await initTf({ backend: 'wasm' })).tf;
    const c = CASES[0]!;
    const parameters = randomParameters(c.shape, 31);
    const window = fixedWindow(c.shape);
    const hidden = randomStates(LANES * c.shape.hidden, 41);
    const reference = await tfGradient(
      tf,
      parameters,
      window,
      hidden,
      randomStates(LANES * c.shape.hidden, 42),
      c.tfPath,
    );
    // other carried cell states: the same window, a different function of the weights
    const args = trainArgs(
      kernel,
      c.shape,
      c.kernelPath,
      asWindows(window),
      parameters,
      hidden,
      randomStates(LANES * c.shape.hidden, 43),
    );
    await kernel.lstmTrain(args);
    const worst = Math.max(...Object.values(relativeDifferences(c.shape, reference.gradient, args.gradient!)));
    assert.ok(worst > 1e-3, `different carried states should change the gradient, worst difference ${worst}`);
  },
);

gradients.run();

// ---------------------------------------------------------------------------------------------------------
const threads = suite('lstmTrain: the same weights for any number of threads');

for (const label of ['native', 'wasm'] as const) {
  threads(
    `${label}: 1 and 2 threads give identical weights, moments and states after 8 windows of 32 lanes`,
    async () => {
      const kernel = await backend(label);
      if (typeof kernel === 'string') return skipped(label, kernel);
      // blocks of a few milliseconds, so that a worker thread has time to join a window's job
      const shape: NetworkShape = { inputSymbols: 21, embedding: 8, hidden: 48, outputs: 20 };
      const B = 32;
      const L = 24;
      const N = 8;
      const random = new SeededRandom(7);
      const inputs = Int32Array.from({ length: N * L * B }, (_, i) => (i % (3 * B) < B ? 20 : random.below(20)));
      const targets = Int32Array.from({ length: N * L * B }, () => random.below(20));
      const run = async (threadCount: number) => {
        const args = trainArgs(
          kernel,
          shape,
          'table',
          { lanes: B, steps: L, windows: N, inputs, targets },
          randomParameters(shape, 3),
          randomStates(B * shape.hidden, 4),
          randomStates(B * shape.hidden, 5),
          threadCount,
        );
        await kernel.lstmTrain(args);
        return args;
      };
      const one = await run(1);
      const same = (two: LstmTrainArgs) => {
        for (const name of [
          'parameters',
          'moments',
          'hiddenState',
          'cellState',
          'losses',
          'gradient',
          'adam',
        ] as const) {
          assert.equal(
            Array.from(two[name]!),
            Array.from(one[name]!),
            `${label}: ${name} differ between 1 and 2 threads`,
          );
        }
      };
      const pool = label === 'wasm' ? (kernel as WasmKernel) : null;
      if (pool === null) {
        same(await run(2));
      } else {
        // a worker joins a window's job only if it wakes while the job is open: on a busy machine it may miss a
        // whole call, so calls repeat until one had a worker's help (each must give the 1-thread weights)
        let joined = false;
        for (let attempt = 0; attempt < 20 && !joined; attempt++) {
          const joinsBefore = pool.threadedJobs.workerJoins;
          same(await run(2));
          joined = pool.threadedJobs.workerJoins > joinsBefore;
          if (!joined) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.ok(joined, 'a worker thread took part in a 2-thread call');
      }
      assert.ok(one.losses[N - 1]! < one.losses[0]!, 'the loss falls over the 8 windows');
    },
  );
}

threads.run();

// ---------------------------------------------------------------------------------------------------------
const badArguments = suite('lstmTrain: bad arguments throw a clear Error, never crash');

for (const label of BACKENDS) {
  badArguments(`${label}: shapes, lengths, ids, learning rate, Adam state and aliasing are refused`, async () => {
    const kernel = await backend(label);
    if (typeof kernel === 'string') return skipped(label, kernel);
    const shape = CASES[0]!.shape;
    const window = fixedWindow(shape);
    const good = () =>
      trainArgs(
        kernel,
        shape,
        'table',
        asWindows(window),
        randomParameters(shape, 1),
        randomStates(LANES * shape.hidden, 2),
        randomStates(LANES * shape.hidden, 3),
      );
    const cases: Array<[string, (args: LstmTrainArgs) => unknown, RegExp]> = [
      ['no object', () => null, /args/],
      ['hidden 0', (a) => ({ ...a, shape: { ...shape, hidden: 0 } }), /hidden/],
      ['one input symbol', (a) => ({ ...a, shape: { ...shape, inputSymbols: 1 } }), /inputSymbols/],
      ['unknown input path', (a) => ({ ...a, inputPath: 'lookup' }), /inputPath/],
      ['inputs too short', (a) => ({ ...a, inputs: a.inputs.subarray(1) }), /inputs/],
      ['inputs as a plain array', (a) => ({ ...a, inputs: Array.from(a.inputs) }), /inputs/],
      [
        'an input id out of range',
        (a) => {
          const inputs = a.inputs.slice();
          inputs[5] = shape.inputSymbols;
          return { ...a, inputs };
        },
        /inputs/,
      ],
      [
        'a negative input id',
        (a) => {
          const inputs = a.inputs.slice();
          inputs[3] = -1;
          return { ...a, inputs };
        },
        /inputs/,
      ],
      [
        'a target id out of range',
        (a) => {
          const targets = a.targets.slice();
          targets[2] = shape.outputs;
          return { ...a, targets };
        },
        /targets/,
      ],
      [
        'a target below -1',
        (a) => {
          const targets = a.targets.slice();
          targets[2] = -2;
          return { ...a, targets };
        },
        /targets/,
      ],
      ['NaN learning rate', (a) => ({ ...a, learningRate: Number.NaN }), /learningRate/],
      ['infinite learning rate', (a) => ({ ...a, learningRate: Number.POSITIVE_INFINITY }), /learningRate/],
      ['zero learning rate', (a) => ({ ...a, learningRate: 0 }), /learningRate/],
      ['parameters too short', (a) => ({ ...a, parameters: new Float32Array(a.parameters.length - 1) }), /parameters/],
      ['moments of one set', (a) => ({ ...a, moments: new Float32Array(a.parameters.length) }), /moments/],
      ['adam as Float32Array', (a) => ({ ...a, adam: new Float32Array(3) }), /adam/],
      ['adam power 1', (a) => ({ ...a, adam: Float64Array.of(0, 1, 0.999) }), /adam/],
      ['adam steps fractional', (a) => ({ ...a, adam: Float64Array.of(0.5, 0.9, 0.999) }), /adam/],
      [
        'hidden state of other lanes',
        (a) => ({ ...a, hiddenState: new Float32Array(a.hiddenState.length + shape.hidden) }),
        /hiddenState/,
      ],
      ['hidden and cell state shared', (a) => ({ ...a, cellState: a.hiddenState }), /share|cellState|hiddenState/],
      ['losses too short', (a) => ({ ...a, losses: new Float64Array(0) }), /losses/],
      ['gradient of other length', (a) => ({ ...a, gradient: new Float32Array(3) }), /gradient/],
      ['negative threads', (a) => ({ ...a, threads: -1 }), /threads/],
      ['fractional lanes', (a) => ({ ...a, lanes: 1.5 }), /lanes/],
      ['windows too many for the arrays', (a) => ({ ...a, windows: 2 }), /inputs|losses/],
    ];
    for (const [what, change, pattern] of cases) {
      const args = good();
      const before = args.parameters.slice();
      let error: unknown;
      try {
        await kernel.lstmTrain(change(args) as LstmTrainArgs);
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof Error, `${label} ${what}: expected an Error, got ${String(error)}`);
      assert.match((error as Error).message, pattern, `${label} ${what}: ${(error as Error).message}`);
      assert.equal(Array.from(args.parameters), Array.from(before), `${label} ${what}: the weights were touched`);
    }
    // the backend still trains correctly afterwards
    const args = good();
    await kernel.lstmTrain(args);
    assert.ok(Number.isFinite(args.losses[0]!) && args.losses[0]! > 0);
  });
}

badArguments.run();
